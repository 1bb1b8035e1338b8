"""Feature screening: scores agree with the per-pair estimators, p-values, BH, CLI."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import infolens
from infolens.cli.main import main
from infolens.measures.screen import benjamini_hochberg


def _problem(n=300, d=30, outcome="nonlinear", seed=0):
    """Features 0..4 drive the outcome; the rest are noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    signal = (X[:, :5] ** 2 - 1).sum(axis=1) if outcome == "nonlinear" else X[:, :5].sum(axis=1)
    return X, signal + 0.5 * rng.normal(size=n)


def test_kde_scores_are_kde_mi_per_feature():
    X, y = _problem(d=6)
    result = infolens.feature_screen(X, y, grid_size=256, base="e")
    expected = [infolens.kde_mi(X[:, [j]], y, base="e") for j in range(6)]
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)
    labels = (y > np.median(y)).astype(int)
    result = infolens.feature_screen(X, labels, grid_size=64)
    expected = [infolens.kde_mi(X[:, [j]], labels, grid_size=64) for j in range(6)]
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)


def test_pearson_and_ksg_scores_are_their_closed_form_and_estimator():
    X, y = _problem(d=5, outcome="linear")
    r = np.array([np.corrcoef(X[:, j], y)[0, 1] for j in range(5)])
    pearson = infolens.feature_screen(X, y, method="pearson", base="e").scores
    np.testing.assert_allclose(pearson, -0.5 * np.log(1 - r**2), rtol=1e-10)
    ksg = infolens.feature_screen(X, y, method="ksg", base="e").scores
    np.testing.assert_allclose(ksg, [infolens.ksg_mi(X[:, [j]], y, base="e", y_kind="continuous")
                                     for j in range(5)], rtol=1e-12)


def test_binning_is_the_plug_in_of_equal_frequency_bins():
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    labels = (x + rng.normal(size=400) > 0).astype(int)
    score = infolens.feature_screen(x[:, None], labels, method="binning", n_bins=4,
                                    base="e").scores[0]
    bins = np.argsort(np.argsort(x)) * 4 // 400
    p = np.histogram2d(bins, labels, bins=(4, 2))[0] / 400
    expected = np.nansum(p * np.log(p / np.outer(p.sum(1), p.sum(0))))
    assert score == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("method", ["kde", "binning", "ksg"])
def test_nonlinear_signal_is_ranked_first_and_pearson_misses_it(method):
    X, y = _problem()
    top = set(infolens.feature_screen(X, y, method=method).ranking[:5])
    assert len(top & set(range(5))) >= (4 if method == "ksg" else 5)
    assert len(set(infolens.feature_screen(X, y, method="pearson").ranking[:5]) & top) <= 2


def test_binary_outcome_float_coded_is_read_as_labels():
    X, y = _problem(outcome="linear")
    labels = (y > 0).astype(float)
    result = infolens.feature_screen(X, labels)
    assert result.params["y_kind"] == "labels"
    assert set(result.ranking[:5]) == set(range(5))


def test_permutation_p_values_and_benjamini_hochberg():
    X, y = _problem(n=200, d=20)
    result = infolens.feature_screen(X, y, n_permutations=39, fdr=0.1, random_state=0)
    assert np.all(result.p_values[:5] == 1 / 40)
    assert np.all(result.p_values[5:] > 1 / 40 - 1e-12)
    assert result.selected[:5].all() and result.selected.sum() <= 7
    again = infolens.feature_screen(X, y, n_permutations=39, fdr=0.1, random_state=0)
    np.testing.assert_array_equal(result.p_values, again.p_values)


def test_benjamini_hochberg_step_up():
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.5])
    # Sorted 0.01, 0.03, 0.04 meet i * 0.05 / 5 only at i = 1; step-up keeps the largest i.
    np.testing.assert_array_equal(benjamini_hochberg(p, 0.05), [True, False, False, False,
                                                                False])
    np.testing.assert_array_equal(benjamini_hochberg(p, 0.2), [True, True, True, False, False])
    assert not benjamini_hochberg(p, 0.001).any()


def test_top_k_rows_and_threads():
    X, y = _problem(d=12)
    result = infolens.feature_screen(X, y, top_k=3, feature_names=[f"g{j}" for j in range(12)])
    assert result.selected.sum() == 3 and result.selected[result.ranking[:3]].all()
    rows = result.to_rows()
    assert [r["rank"] for r in rows] == list(range(1, 13))
    assert rows[0]["name"] == f"g{rows[0]['index']}" and rows[0]["p_value"] is None
    assert rows[0]["score"] == max(r["score"] for r in rows)
    threaded = infolens.feature_screen(X, y, top_k=3, n_jobs=2)
    np.testing.assert_array_equal(threaded.scores, result.scores)


def test_constant_columns_score_zero_with_one_warning():
    X, y = _problem(d=6)
    X[:, 2] = 3.0
    X[:, 4] = 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = infolens.feature_screen(X, y, n_permutations=3, random_state=0)
    assert len(caught) == 1 and "2 constant feature(s)" in str(caught[0].message)
    assert result.scores[2] == 0 and result.scores[4] == 0 and result.p_values[2] == 1.0
    assert result.scores[0] > 0


@pytest.mark.parametrize("bad, kwargs, match", [
    (lambda X, y: (np.where(np.arange(4) == 1, np.nan, X), y), {}, "finite|NaN"),
    (lambda X, y: (X, np.ones(len(y), dtype=int)), {}, "varies"),
    (lambda X, y: (X[:9], y[:9]), {}, "at least 10"),
    (lambda X, y: (X, np.c_[y, y]), {}, "one outcome"),
    (lambda X, y: (X, y), {"fdr": 0.1}, "n_permutations"),
    (lambda X, y: (X, y), {"feature_names": ["a"]}, "feature_names"),
    (lambda X, y: (X, y), {"method": "mine"}, "'method' parameter"),
    (lambda X, y: (X, y), {"n_jobs": 0}, "n_jobs"),
])
def test_bad_input_is_refused(bad, kwargs, match):
    X, y = _problem(n=50, d=4)
    with pytest.raises(infolens.InvalidParameterError, match=match):
        infolens.feature_screen(*bad(X, y), **kwargs)


def test_command_line(tmp_path, capsys):
    X, y = _problem(n=200, d=8)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    args = ["features", str(tmp_path / "X.npy"), "--target", str(tmp_path / "y.npy")]
    assert main(args + ["--json", "--top-k", "5"]) == 0
    payload = json.loads(capsys.readouterr().out)
    expected = infolens.feature_screen(X, y, top_k=5)
    assert [r["index"] for r in payload["features"]] == expected.ranking.tolist()
    assert payload["n_selected"] == 5 and payload["unit"] == "bits"
    assert main(args + ["--format", "csv", "--method", "pearson"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "rank,index,name,score,p_value,selected" and len(lines) == 9
    assert main(args + ["--permutations", "9", "--fdr", "0.5", "--seed", "1"]) == 0
    assert "8 features, method=kde" in capsys.readouterr().out
    assert main(args + ["--fdr", "0.1"]) == 2
    assert "n_permutations" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["features", "--help"])
    assert exc.value.code == 0 and "--target" in capsys.readouterr().out
