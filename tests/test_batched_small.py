"""The stacked exact solve of many small point sets (DSMI's classes on a probe set)."""

import numpy as np
import pytest

import infolens
import infolens.measures.diffusion as diffusion
from infolens.kernels.gaussian import diffusion_operator
from infolens.spectrum.batched import BATCH_MAX_N, small_dse_many


def direct_entropy(X, sigma, alpha, t, keep_trivial):
    """Oracle: every eigenvalue of the undeflated matrix, the trivial one found as the
    largest (it is 1)."""
    values = np.linalg.eigvalsh(diffusion_operator(X, sigma, alpha).matrix)
    if not keep_trivial:
        values = values[:-1]
    w = np.abs(values) ** t
    p = w[w > 0] / w.sum()
    return float(-(p * np.log2(p)).sum())


@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("t", [1, 3])
@pytest.mark.parametrize("keep_trivial", [True, False])
def test_stacked_sets_of_mixed_sizes_match_their_own_solves(alpha, t, keep_trivial):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(600, 6))
    subsets = [rng.choice(600, k, replace=False) for k in (2, 3, 17, 40, 41, BATCH_MAX_N)]
    got = small_dse_many(Z, subsets, 1.3, alpha=alpha, t=t, keep_trivial=keep_trivial,
                         log_base=np.log(2.0))
    want = [direct_entropy(Z[rows], 1.3, alpha, t, keep_trivial) for rows in subsets]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_sizes_outside_the_stack_are_refused():
    with pytest.raises(ValueError, match="subsets of 2 to"):
        small_dse_many(np.zeros((5, 3)), [np.array([0])], 1.0, alpha=0.0, t=1,
                       keep_trivial=True, log_base=1.0)


def test_dsmi_on_small_classes_equals_the_one_by_one_path(monkeypatch):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 400)
    Z = rng.normal(size=(10, 16))[labels] + rng.normal(size=(400, 16))
    fast = infolens.dsmi(Z, labels, return_result=True)
    monkeypatch.setattr(diffusion, "BATCH_MAX_N", 1)  # nothing fits: one solve per subset
    slow = infolens.dsmi(Z, labels, return_result=True)
    assert fast.value == pytest.approx(slow.value, abs=1e-10)
    assert fast.params["method"] == slow.params["method"] == "exact"
    for a, b in zip(fast.details["groups"], slow.details["groups"]):
        np.testing.assert_allclose(a["subsets"], b["subsets"], atol=1e-10)


def test_stacks_are_chunked_and_large_sets_go_one_by_one(monkeypatch):
    import infolens.spectrum.batched as batched

    rng = np.random.default_rng(2)
    Z = rng.normal(size=(300, 5))
    subsets = [rng.choice(300, k, replace=False) for k in (5, 30, 60, 7, 90)]
    whole = small_dse_many(Z, subsets, 1.0, alpha=0.0, t=1, keep_trivial=True, log_base=1.0)
    monkeypatch.setattr(batched, "STACK_BYTES", 1)  # one subset per stack
    chunked = small_dse_many(Z, subsets, 1.0, alpha=0.0, t=1, keep_trivial=True, log_base=1.0)
    np.testing.assert_allclose(chunked, whole, atol=1e-12)
    labels = rng.integers(0, 4, 300)
    stacked = infolens.dsmi(Z, labels, return_result=True)
    monkeypatch.setattr(diffusion, "BATCH_MAX_ROWS", 100)  # 300 rows: one by one
    alone = infolens.dsmi(Z, labels, return_result=True)
    assert stacked.value == pytest.approx(alone.value, abs=1e-10)

    monkeypatch.setattr(batched, "BATCH_MAX_ROWS", 10)
    with pytest.raises(ValueError, match="kernel of at most 10 rows"):
        small_dse_many(Z, subsets, 1.0, alpha=0.0, t=1, keep_trivial=True, log_base=1.0)
