"""The fast SLQ paths (issue 16): the symmetric float32 operator, adaptive Lanczos steps,
the float32 rounding model, storage planning and exact answers at tiny N."""

import numpy as np
import pytest

import infolens
from infolens.kernels.operators import DenseKernelOperator
from infolens.spectrum.fastop import symmetric_float32_operator
from infolens.spectrum.planning import (
    DENSE32_MIN_N,
    METHOD_OPTIONS,
    SLQ_EXACT_BELOW,
    plan_method,
    stage_costs,
)
from infolens.spectrum.slq import slq_entropy


def blobs(n, d=6, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=3.0, size=(k, d))[rng.integers(0, k, n)] + rng.normal(size=(n, d))


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_symmetric_float32_operator_is_the_diffusion_matrix(alpha):
    X = blobs(700)
    op = symmetric_float32_operator(X, 2.0, alpha)
    ref = DenseKernelOperator(X, 2.0, alpha, dtype=np.float64)
    V = np.random.default_rng(1).normal(size=(700, 5))
    got, want = op.matmat(V), ref.matmat(V)
    assert got.dtype == np.float64 and op.matrix.dtype == np.float32
    # float32 storage: the products agree to a few float32 epsilons of |M| = 1
    assert np.abs(got - want).max() <= 20 * np.finfo(np.float32).eps * np.abs(V).max()
    np.testing.assert_allclose(op.trivial_vector, ref.trivial_vector, atol=1e-12)
    np.testing.assert_allclose(op.matmat(op.trivial_vector[:, None])[:, 0],
                               op.trivial_vector, atol=1e-5)
    np.testing.assert_allclose(op.matrix, op.matrix.T, atol=0)
    assert op.noise_level > 0


class Diagonal:
    def __init__(self, eigs):
        self.n = len(eigs)
        self.eigs = np.asarray(eigs, dtype=float)
        self.trivial_vector = np.eye(self.n)[0]

    def matmat(self, V):
        return self.eigs[:, None] * V


def test_adaptive_steps_stop_early_on_fast_spectra_and_run_on_slow_ones():
    rng = np.random.default_rng(0)
    n = 800
    fast = np.concatenate([[1.0], 0.5 ** np.arange(1, 40), np.zeros(n - 40)])
    slow = np.concatenate([[1.0], rng.uniform(-0.3, 0.9, n - 1)])
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]

    def rotated(eigs):
        M = (Q * eigs) @ Q.T
        op = Diagonal(eigs)
        op.trivial_vector = Q[:, 0].copy()
        op.matmat = lambda V: M @ V
        return op

    a = slq_entropy(rotated(fast), 1, n_probes=8, max_batches=1)
    b = slq_entropy(rotated(slow), 1, n_probes=8, max_batches=1)
    assert a.details["adaptive_steps"] and a.n_steps < b.n_steps
    for est, eigs in ((a, fast), (b, slow)):
        p = np.abs(eigs) / np.abs(eigs).sum()
        p = p[p > 0]
        truth = float(-(p * np.log(p)).sum())
        assert abs(est.entropy - truth) <= 3 * est.standard_error + 1e-6
    fixed = slq_entropy(rotated(slow), 1, n_probes=8, n_steps=5, max_batches=1)
    assert not fixed.details["adaptive_steps"] and fixed.n_steps == 5


def test_float32_rounding_model_covers_the_float32_float64_difference():
    X = blobs(1000, d=10, k=6, seed=2)
    op32 = symmetric_float32_operator(X, 3.0)
    op64 = DenseKernelOperator(X, 3.0, dtype=np.float64)
    for t in (1, 2):
        e32 = slq_entropy(op32, t, n_probes=8, n_steps=15, max_batches=1)
        e64 = slq_entropy(op64, t, n_probes=8, n_steps=15, max_batches=1)
        model = e32.details["precision_error_estimate"]
        assert e64.details["precision_error_estimate"] == 0.0
        assert 0 < model < 1e-3  # the rounding model is small next to 0.01 bits ...
        assert abs(e32.entropy - e64.entropy) <= model  # ... and still covers the change


def test_storage_plan_prefers_float32_from_the_stated_size():
    opts = dict(METHOD_OPTIONS)
    assert plan_method(DENSE32_MIN_N - 1, 64, "slq", "dse", options=opts).storage == "dense"
    assert plan_method(DENSE32_MIN_N, 64, "slq", "dse", options=opts).storage == "dense32"
    assert plan_method(20_000, 64, "slq", "dse", options=opts, precision="float64").storage \
        == "dense32"
    slow, fast = (stage_costs(20_000, 128, "slq", st) for st in ("dense", "dense32"))
    assert fast["probes"] < slow["probes"] and fast["kernel"] == slow["kernel"]
    assert set(stage_costs(4000, 8, "exact")) == {"kernel", "solve"}


@pytest.mark.parametrize("n", [3, 4, 50, SLQ_EXACT_BELOW - 1])
def test_slq_computes_exactly_below_the_stated_size(n):
    X = blobs(n, seed=n)
    slq = infolens.dse(X, method="slq", return_result=True)
    exact = infolens.dse(X, method="exact", return_result=True)
    assert slq.params["method"] == "exact" and slq.value == exact.value
    assert slq.details.get("standard_error") is None


def test_slq_stays_stochastic_from_the_stated_size():
    X = blobs(SLQ_EXACT_BELOW, seed=1)
    r = infolens.dse(X, method="slq", return_result=True)
    assert r.params["method"] == "slq" and r.details["standard_error"] > 0
