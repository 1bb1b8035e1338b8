"""Every registered estimator from the command line: ``infolens entropy|mi|score|dependence
FILE --method NAME`` with its own options, several inputs per call, standard input, method
options as flags, typos and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import sys
import warnings

import numpy as np
import pytest

from infolens.cli.main import main
from infolens.registry import list_methods

#: Options that keep the trained estimators fast (flag values, and the same as keywords).
FAST = {"mine": {"epochs": 2}, "nwj": {"epochs": 2}, "infonce": {"epochs": 2},
        "compressed": {"n_components": 2}}
TRAINED = ("mine", "nwj", "infonce")


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 16)
    Z = rng.normal(size=(48, 3)) + 3.0 * y[:, None]
    np.save(tmp_path / "Z.npy", Z)
    np.save(tmp_path / "Z2.npy", Z[:, :2] * 2.0)
    np.save(tmp_path / "y.npy", y)
    return tmp_path, Z, y


def _flags(params):
    return [x for k, v in params.items() for x in ("--" + k.replace("_", "-"), str(v))]


@pytest.mark.parametrize("info", list_methods(), ids=lambda m: f"{m.kind}-{m.name}")
def test_every_method_is_reachable_by_kind_and_matches_the_api(info, files, capsys):
    if info.name in TRAINED or "torch" in info.cost:
        pytest.importorskip("torch")
    path, Z, y = files
    params = FAST.get(info.name, {})
    argv = [info.kind, path / "Z.npy", "--method", info.name, "--json"] + _flags(params)
    positional = [Z]
    if info.needs_reference:
        argv += ["--labels", path / "y.npy"]
        positional.append(y)
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    payload = json.loads(out)
    assert payload["measure"] == info.function and np.isfinite(payload["value"])
    if not info.stochastic:
        expected = info.func(*positional, **params)
        assert payload["value"] == pytest.approx(float(expected), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("info", list_methods(), ids=lambda m: f"{m.kind}-{m.name}")
def test_every_method_has_its_own_help(info, capsys):
    with pytest.raises(SystemExit) as exc:
        main([info.kind, "--method", info.name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"parameters of {info.function}" in out
    for name in info.parameters:
        if name in ("return_result", "method", "y_kind") or name in info.renamed:
            continue
        flag = info.cli.get(name) or name.replace("_", "-")
        assert flag.lstrip("-").replace("no-", "").replace("drop-", "") in out, name


def test_kind_help_lists_every_method(capsys):
    for kind in {m.kind for m in list_methods()}:
        with pytest.raises(SystemExit):
            main([kind, "--help"])
        out = capsys.readouterr().out
        for m in list_methods(kind):
            assert f"  {m.name} " in out
        assert "examples:" in out


def test_solver_flag_is_the_spectral_method(files, capsys):
    path, Z, _ = files
    code, out, err = _run(["entropy", path / "Z.npy", "--method", "dse", "--solver", "exact",
                           "--t", "2", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["params"]["t"] == 2


# ------------------------------------------------------------------ method options as flags
def test_method_option_flags_reach_method_options(files, capsys, tmp_path):
    path, Z, _ = files
    code, _, err = _run(["dse", path / "Z.npy", "--n-probes", "1"], capsys)
    assert code == 2 and "n_probes" in err and len(err.strip().splitlines()) == 1
    cache = tmp_path / "cache"
    code, out, err = _run(["dse", path / "Z.npy", "--cache-dir", cache], capsys)
    assert code == 0, err
    assert cache.is_dir() and any(cache.rglob("*"))
    # ase takes --n-neighbors for its kNN graph; the method option becomes --method-n-neighbors
    with pytest.raises(SystemExit):
        main(["ase", "--help"])
    out = capsys.readouterr().out
    assert "--n-neighbors" in out and "--method-n-neighbors" in out
    code, _, err = _run(["dse", path / "Z.npy", "--n-neighbors", "0"], capsys)
    assert code == 2 and "n_neighbors" in err


def test_flags_and_json_method_options_merge(files, capsys):
    path, _, _ = files
    code, _, err = _run(["dse", path / "Z.npy", "--method-options", '{"n_probes": 8}',
                         "--max-batches", "0"], capsys)
    assert code == 2 and "max_batches" in err


# ------------------------------------------------------------------ several inputs, formats
def test_several_files_one_row_each(files, capsys):
    path, Z, _ = files
    import infolens

    values = [infolens.dse(Z), infolens.dse(Z[:, :2] * 2.0)]
    code, out, err = _run(["dse", path / "Z.npy", path / "Z2.npy"], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["file", "DSE", "(bits)"] and len(lines) == 3
    for line, value in zip(lines[1:], values):
        assert f"{value:.4f}" in line
    code, out, _ = _run(["dse", path / "Z.npy", path / "Z2.npy", "--format", "csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [float(r["value"]) for r in rows] == pytest.approx(values, rel=1e-12)
    assert rows[0]["file"].endswith("Z.npy") and rows[0]["unit"] == "bits"
    code, out, _ = _run(["dse", path / "Z.npy", path / "Z2.npy", "--format", "json"], capsys)
    payload = json.loads(out)
    assert [p["value"] for p in payload] == pytest.approx(values, rel=1e-12)


def test_standard_input(files, capsys, monkeypatch):
    path, Z, y = files
    import infolens

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((path / "Z.npy").read_bytes())))
    code, out, err = _run(["dse", "-"], capsys)
    assert code == 0, err and out.startswith(f"DSE = {infolens.dse(Z):.4f}")
    text = "\n".join(",".join(f"{v:.17g}" for v in row) for row in Z) + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, out, err = _run(["dsmi", "-", "--labels", path / "y.npy", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["input"]["file"] == "<stdin>"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    code, _, err = _run(["dse", "-"], capsys)
    assert code == 2 and "standard input" in err
    code, _, err = _run(["dsmi", "-", "--labels", "-"], capsys)
    assert code == 2 and "not both" in err


def test_string_class_labels_in_csv(files, capsys):
    path, Z, y = files
    (path / "words.csv").write_text("label\n" + "\n".join(np.array(["a", "b", "c"])[y]) + "\n")
    code, out_words, err = _run(["mi", path / "Z.npy", "--labels", path / "words.csv",
                                 "--method", "dsmi", "--json"], capsys)
    assert code == 0, err
    code, out_ints, _ = _run(["mi", path / "Z.npy", "--labels", path / "y.npy",
                              "--method", "dsmi", "--json"], capsys)
    assert json.loads(out_words)["value"] == pytest.approx(json.loads(out_ints)["value"])


# ------------------------------------------------------------------ typos and errors
@pytest.mark.parametrize("argv, fragment", [
    (["dse", "Z.npy", "--sigm", "3"], "did you mean --sigma?"),
    (["dse", "Z.npy", "--sigmaa", "3"], "did you mean --sigma?"),
    (["dse", "Z.npy", "--eigenvalues"], "--json"),
    (["dse", "Z.npy", "--json", "--format", "csv"], "disagree"),
    (["dsee", "Z.npy"], "did you mean 'dse'?"),
    (["entropy", "Z.npy", "--method", "kll"], "did you mean 'kl'?"),
    (["entropy", "Z.npy"], "--method"),
    (["mi", "Z.npy", "--method", "ksg"], "--labels"),
    (["dse", "Z.npy", "--t", "1.5"], "--t"),
    (["dse", "Z.npy", "--threads", "0"], "positive integer"),
    (["dse", "Z.npy", "--quiet", "--verbose"], "exclude"),
])
def test_usage_errors_are_one_line_with_a_pointer_to_help(argv, fragment, files, capsys,
                                                          monkeypatch):
    path, _, _ = files
    monkeypatch.chdir(path)
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert fragment in lines[0]
    assert "usage:" not in err


def test_abbreviations_are_refused_everywhere(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "accuracy", "--ou", "x"])
    assert "did you mean --out?" in capsys.readouterr().err


def test_no_scikit_learn_warning_with_vector_reference(files, capsys):
    path, Z, _ = files
    rng = np.random.default_rng(1)
    # three far-apart tight clusters: the kNN graph of Y is disconnected and scikit-learn's
    # spectral embedding warns about it
    Y = np.repeat(rng.normal(size=(3, 2)) * 100, 16, axis=0) + rng.normal(size=(48, 2)) * 1e-3
    np.save(path / "Yv.npy", Y)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        code, out, err = _run(["dsmi", path / "Z.npy", "--labels", path / "Yv.npy",
                               "--y-kind", "vector", "--n-clusters", "3"], capsys)
    assert code == 0, err
    assert err == "" and not [w for w in seen if "sklearn" in (w.filename or "")]
