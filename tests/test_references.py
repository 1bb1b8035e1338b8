"""Reference variables as users have them: heavy-tailed scalars, and DSMI(A; A) vs DSE(A).

Before the fix, ``dsmi(Z, y, y_kind="scalar")`` cut ``y`` into equal-width bins and raised
on a single-sample tail bin: 11 of 12 Student-t(2) targets at N = 1500 failed.
"""

import numpy as np
import pytest

import infolens
from infolens.measures.conditioning import (
    equal_frequency_bins,
    equal_width_bins,
    merge_small_bins,
)


def _heavy_tailed(seed, n=1500):
    rng = np.random.default_rng(seed)
    y = rng.standard_t(2, size=n)
    Z = np.c_[y + rng.normal(size=n), rng.normal(size=(n, 3))]
    return Z, y


def test_equal_frequency_bins_have_equal_counts_whatever_the_tails():
    y = np.random.default_rng(0).standard_t(2, size=1500)
    counts = np.bincount(equal_frequency_bins(y, 10))
    assert counts.size == 10 and counts.min() == counts.max() == 150
    assert np.bincount(equal_width_bins(y, 10)).min() <= 1      # the reference's bins


def test_merge_small_bins_merges_into_the_smaller_neighbour_with_a_note():
    codes = np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 3])
    y = np.arange(10.0)
    merged, notes = merge_small_bins(codes, y)
    assert np.bincount(merged)[np.bincount(merged) > 0].min() >= 2
    assert merged[3] == 2 and len(notes) == 1 and "bin 1 (1 sample(s)" in notes[0]
    assert merge_small_bins(np.zeros(5, int), y[:5]) == (pytest.approx(np.zeros(5)), [])


@pytest.mark.parametrize("seed", range(12))
def test_heavy_tailed_scalar_targets_never_fail(seed):
    Z, y = _heavy_tailed(seed)
    r = infolens.dsmi(Z, y, y_kind="scalar", n_repeats=2, return_result=True)
    assert np.isfinite(r.value) and r.value > 0.05         # y drives the first coordinate
    assert r.params["y_kind"] == "scalar" and r.details["reference_bins"] == "equal-frequency"
    assert [g["n"] for g in r.details["groups"]] == [150] * 10


@pytest.mark.parametrize("measure", [infolens.asmi, infolens.csmi])
def test_asmi_and_csmi_bin_heavy_tailed_scalars_like_dsmi(measure):
    Z, y = _heavy_tailed(0, n=600)
    r = measure(Z, y, y_kind="scalar", n_repeats=2, return_result=True)
    assert np.isfinite(r.value) and r.params["y_kind"] == "scalar"
    assert r.details["reference_bins"] == "equal-frequency"
    assert np.bincount(r.details["partition"]).tolist() == [60] * 10
    preset = measure(Z, y, y_kind="scalar", n_repeats=2, preset="dse-dsmi", return_result=True)
    assert preset.details["reference_bins"] == "equal-width"
    assert np.bincount(preset.details["partition"]).min() <= 1    # the reference's tail bins


def test_one_sample_bin_matches_the_reference_package(reference):
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(120, 4))
    y = Z[:, 0] + 0.3 * rng.normal(size=120)
    y[7] = 40.0                                            # alone in the top bin
    counts = np.bincount(equal_width_bins(y, 10))
    assert counts[counts > 0].min() == 1
    expected, _ = reference.dsmi.diffusion_spectral_mutual_information(
        Z, y, random_seed=0, n_clusters=10, num_repetitions=3)
    got = infolens.dsmi(Z, y, preset="dse-dsmi", n_repeats=3, random_state=0,
                        return_result=True)
    # The parity preset keeps the reference's equal-width bins and their one-sample tail
    # bin, a zero term (a one-point spectrum has zero entropy), instead of raising.
    assert got.value == pytest.approx(expected, abs=1e-6)
    assert any(g.get("note") == "single-sample bin: zero term" for g in got.details["groups"])


def test_dsmi_subset_error_says_what_it_covers_and_uses_a_t_quantile():
    Z, y = _heavy_tailed(0, n=400)
    r = infolens.dsmi(Z, (y > 0).astype(int), return_result=True)
    lo, hi = r.details["subset_interval_95"]
    assert r.details["standard_error_dof"] == 4
    # t(4) quantile 2.776 instead of the normal 1.960
    assert (hi - lo) / 2 == pytest.approx(2.7764451 * r.standard_error, rel=1e-6)
    assert "not the sampling of the data" in r.details["standard_error_covers"]


# ------------------------------------------------------------------ DSMI(A; A) vs DSE(A)
def _one_blob(n=300, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 3))


def _separated(k=4, per=80, seed=0):
    rng = np.random.default_rng(seed)
    c = np.repeat(np.arange(k), per)
    return rng.normal(size=(k * per, 5)) * 0.3 + 20 * np.eye(5)[c], c


def test_dsmi_of_a_with_itself_as_vectors_is_the_explained_part_not_dse():
    """y_kind="vector": A is clustered into n_clusters groups; DSMI(A; A) counts only the
    entropy between the groups, bounded by sum_c p_c log2 n_c, and stays far below DSE(A)
    on one Gaussian blob (no cluster structure)."""
    A = _one_blob()
    h = infolens.dse(A)
    r = infolens.dsmi(A, A, return_result=True)
    sizes = np.array([g["n"] for g in r.details["groups"]])
    bound = float(np.sum(sizes / sizes.sum() * np.log2(sizes)))
    assert r.params["y_kind"] == "vector"
    assert 0 < r.value < bound and r.value < 0.5 * h


def test_dsmi_of_a_scalar_with_itself_is_below_its_dse():
    a = _one_blob(n=300)[:, 0]
    h = infolens.dse(a[:, None])
    mi = infolens.dsmi(a[:, None], a)
    assert 0 < mi < h


def test_dsmi_of_separated_clusters_with_themselves_equals_dse_at_large_t():
    """The one case of equality: k well-separated clusters at large t, where DSE(A),
    DSMI(A; labels) and DSMI(A; A) all tend to log2 k."""
    B, c = _separated()
    for t in (20,):
        h = infolens.dse(B, t=t, sigma=2.0)
        with pytest.warns(UserWarning):  # sklearn: the kNN graph of separated blobs
            self_mi = infolens.dsmi(B, B, t=t, sigma=2.0, n_clusters=4)
        assert h == pytest.approx(2.0, abs=1e-6)
        assert self_mi == pytest.approx(h, abs=1e-6)
        assert infolens.dsmi(B, c, t=t, sigma=2.0) == pytest.approx(h, abs=1e-6)
    # At t = 1 the within-cluster spread adds to DSE but not to DSMI.
    assert infolens.dse(B, t=1, sigma=2.0) > infolens.dsmi(B, c, t=1, sigma=2.0) + 0.5


def test_dsmi_with_one_label_per_sample_is_refused():
    A = _one_blob(n=50)
    with pytest.raises(infolens.InvalidParameterError, match="at least 2 samples"):
        infolens.dsmi(A, np.arange(50))
