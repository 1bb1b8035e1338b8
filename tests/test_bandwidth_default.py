"""The default bandwidth (``sigma="auto"`` = the ``"knn"`` rule) and its tested guarantees.

* the cluster property: ``k`` well-separated blobs give DSE and DSMI(Z; blob)
  = log2 k at t = 40 (the former median rule gave 0);
* row-order independence: to 1e-12 on the exact path at N = 3000, within the
  reported standard error under SLQ, and the bandwidth itself bit for bit at
  any N (its subsets are chosen by content);
* invariance under ``Z -> c Z + b``;
* duplicated rows are multiplicities: zero distances never set the scale.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

import infolens
from infolens.kernels.bandwidth import (
    BANDWIDTH_RULES,
    DEFAULT_RULE,
    MEDIAN_SAMPLE_SIZE,
    resolve_bandwidth,
)


def _blobs(k, n=1200, d=16, separation=10.0, seed=0):
    """``k`` unit Gaussian blobs with centres ``separation`` apart on the axes."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    centres = np.zeros((k, d))
    centres[np.arange(k), np.arange(k)] = separation
    return centres[y] + rng.standard_normal((n, d)), y


def test_auto_is_the_knn_rule():
    assert DEFAULT_RULE == "knn" and DEFAULT_RULE in BANDWIDTH_RULES
    Z, _ = _blobs(2, n=200)
    res = infolens.dse(Z, return_result=True)
    assert res.params["sigma_rule"] == "knn"
    assert res.params["sigma"] == pytest.approx(resolve_bandwidth(Z, "knn"), rel=1e-12)
    # the reference preset keeps sigma = 10
    assert infolens.dse(Z, preset="dse-dsmi", return_result=True).params["sigma"] == 10.0


def test_knn_rule_definition():
    """sigma = median_i r_k(i) / sqrt(2), k = ceil(2 ln N), on a brute-force oracle."""
    Z = np.random.default_rng(1).normal(size=(300, 5))
    k = int(np.ceil(2 * np.log(300)))
    D = np.sqrt(((Z[:, None] - Z[None]) ** 2).sum(-1))
    np.fill_diagonal(D, np.inf)
    expected = np.median(np.sort(D, axis=1)[:, k - 1]) / np.sqrt(2)
    assert resolve_bandwidth(Z, "knn") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_cluster_property_under_the_default(k):
    Z, y = _blobs(k)
    assert infolens.dse(Z, t=40) == pytest.approx(np.log2(k), abs=1e-2)
    assert infolens.dsmi(Z, y, t=40) == pytest.approx(np.log2(k), abs=1e-2)
    # the former default connected the blobs
    assert infolens.dse(Z, t=40, sigma="median") < 0.01


def test_one_blob_is_one_cluster():
    Z, _ = _blobs(1)
    assert infolens.dse(Z, t=40) < 0.01


def test_row_order_exact_path_n3000():
    Z, _ = _blobs(4, n=3000, seed=2)
    perm = np.random.default_rng(5).permutation(3000)
    a = infolens.dse(Z, method="exact", return_result=True)
    b = infolens.dse(Z[perm], method="exact", return_result=True)
    assert a.params["sigma"] == b.params["sigma"]  # bit for bit
    assert abs(a.value - b.value) <= 1e-12


@pytest.mark.parametrize("rule", ["knn", "median"])
def test_bandwidth_is_a_function_of_the_multiset_of_rows(rule):
    """Above MEDIAN_SAMPLE_SIZE rows the subsets come from the content: bit for bit
    the same bandwidth after any permutation (the former rule moved by 1e-2)."""
    Z = np.random.default_rng(3).normal(size=(MEDIAN_SAMPLE_SIZE + 900, 6))
    ref = resolve_bandwidth(Z, rule)
    for seed in (0, 1):
        perm = np.random.default_rng(seed).permutation(Z.shape[0])
        assert resolve_bandwidth(Z[perm], rule) == ref


def test_row_order_under_slq():
    Z, _ = _blobs(3, n=2500, d=4, seed=6)  # above MEDIAN_SAMPLE_SIZE: subsets by content
    perm = np.random.default_rng(7).permutation(2500)
    a = infolens.dse(Z, method="slq", return_result=True)
    b = infolens.dse(Z[perm], method="slq", return_result=True)
    assert a.params["sigma"] == b.params["sigma"]
    se = np.hypot(a.details["standard_error"], b.details["standard_error"])
    assert abs(a.value - b.value) <= 4 * se + 1e-9


@pytest.mark.parametrize("rule", ["knn", "median", "rms"])
@pytest.mark.parametrize("c,shift", [(1e-3, 10.0), (7.3e4, -3.0), (1e-150, 0.0)])
def test_rules_are_homogeneous(rule, c, shift):
    Z, _ = _blobs(3, n=400, d=6, seed=8)
    b = shift * np.random.default_rng(9).normal(size=6)
    assert resolve_bandwidth(c * Z + c * b, rule) == pytest.approx(
        c * resolve_bandwidth(Z, rule), rel=1e-9)


def test_default_dse_and_dsmi_invariant_under_affine_maps():
    Z, y = _blobs(3, n=300, d=6, seed=10)
    b = np.random.default_rng(11).normal(size=6) * 100
    for c in (1e-4, 3.0e5):
        np.testing.assert_allclose(infolens.dse(c * Z + b), infolens.dse(Z), rtol=1e-9)
        np.testing.assert_allclose(infolens.dsmi(c * Z + b, y), infolens.dsmi(Z, y),
                                   rtol=1e-9)


def _dead_layer(seed=3):
    Z = np.zeros((100, 8))
    Z[80:] = np.maximum(np.random.default_rng(seed).normal(size=(20, 8)), 0)
    return Z


@pytest.mark.parametrize("sigma", ["auto", "median"])
def test_dead_layer_independent_of_order_and_scale(sigma):
    """80 all-zero rows + 20 ReLU rows: the former code ranged over 1.2-4.6 bits."""
    Z = _dead_layer()
    ref = infolens.dse(Z, sigma=sigma)
    for seed in (0, 1, 2):
        P = Z[np.random.default_rng(seed).permutation(100)]
        for c in (1e-3, 1.0, 1e3):
            assert infolens.dse(c * P, sigma=sigma) == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_duplicates_are_multiplicities():
    a, b = np.zeros(3), np.array([3.0, 4.0, 0.0])
    Z = np.vstack([a] + [b] * 20)
    # the only non-zero distance is |a - b| = 5, whatever the copies
    assert resolve_bandwidth(Z, "median") == 5.0
    assert resolve_bandwidth(Z, "knn") == pytest.approx(5.0 / np.sqrt(2), rel=1e-15)
    # copies count as neighbours of the other rows, never as their own
    W = np.vstack([Z, [[0.0, 0.0, 1.0]]])
    assert resolve_bandwidth(W, "knn") > 0
    assert resolve_bandwidth(np.ones((5, 2)), "knn") == 1.0


def test_von_neumann_of_one_row_and_twenty_copies_ignores_order():
    """The former code gave 0.19 vs 2.70 bits after a permutation."""
    rng = np.random.default_rng(1)
    Z = np.vstack([rng.normal(size=(1, 5))] + [10 * rng.normal(size=(1, 5))] * 20)
    ref = infolens.von_neumann_entropy(Z)
    for seed in range(5):
        P = Z[np.random.default_rng(seed).permutation(21)]
        assert infolens.von_neumann_entropy(P) == pytest.approx(ref, abs=1e-12)


def test_median_rule_kept():
    Z = np.random.default_rng(12).normal(size=(150, 4))
    assert resolve_bandwidth(Z, "median") == pytest.approx(np.median(pdist(Z)), rel=1e-12)
    assert infolens.dse(Z, sigma="median", return_result=True).params["sigma_rule"] == "median"


def test_rule_bandwidths_are_remembered_only_for_identical_inputs(monkeypatch):
    import infolens.kernels.bandwidth as bandwidth

    calls = []
    original = bandwidth.resolve_bandwidth

    def counted(X, rule, caller="dse"):
        calls.append(rule)
        return original(X, rule, caller)

    monkeypatch.setattr(bandwidth, "resolve_bandwidth", counted)
    monkeypatch.setattr(bandwidth, "_REMEMBERED", type(bandwidth._REMEMBERED)())
    X = np.random.default_rng(7).normal(size=(120, 4))
    first = bandwidth.unit_scaled_bandwidth(X, "knn", "dse")[1]
    again = bandwidth.unit_scaled_bandwidth(X.copy(), "knn", "dse")[1]
    assert again == first and calls == ["knn"]
    Y = X.copy()
    Y[0, 0] += 1e-9  # one changed entry: computed afresh
    bandwidth.unit_scaled_bandwidth(Y, "knn", "dse")
    bandwidth.unit_scaled_bandwidth(X, "median", "dse")  # another rule: afresh
    assert calls == ["knn", "knn", "median"]
