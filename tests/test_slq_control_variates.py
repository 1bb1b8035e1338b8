"""SLQ's control variates: the exact traces of 1, M and M^2 and what they buy."""

import numpy as np
import pytest

from infolens.kernels.operators import DenseKernelOperator, gaussian_operator, square_sums
from infolens.kernels.sparse import sparse_operator
from infolens.spectrum.fastop import symmetric_float32_operator
from infolens.spectrum.slq import probe_space_moments, slq_entropy


def entropy_nats(M, t, keep_trivial, v):
    lam = np.linalg.eigvalsh(M)
    if not keep_trivial:
        lam = np.delete(lam, np.argmin(np.abs(lam - 1.0)))
    w = np.abs(lam) ** t
    p = w[w > 0] / w.sum()
    return float(-(p * np.log(p)).sum())


@pytest.fixture(scope="module")
def noise_operator():
    # Gaussian noise: a dense bulk of small eigenvalues, the spectrum that makes
    # plain Hutchinson probes spread most.
    X = np.random.default_rng(0).normal(size=(900, 24))
    return gaussian_operator(X, 3.0)


def dense_of(op):
    return op.matmat(np.eye(op.n))


@pytest.mark.parametrize("build", ["dense64", "dense32", "symmetric32", "sparse"])
def test_probe_space_moments_are_the_traces_of_the_projected_operator(build):
    X = np.random.default_rng(1).normal(size=(300, 5))
    op = {"dense64": lambda: gaussian_operator(X, 1.5),
          "dense32": lambda: DenseKernelOperator(X, 1.5, dtype=np.float32),
          "symmetric32": lambda: symmetric_float32_operator(X, 1.5),
          "sparse": lambda: sparse_operator(X, n_neighbors=20, check_mass=False)}[build]()
    M = dense_of(op)
    v = op.trivial_vector
    P = np.eye(op.n) - np.outer(v, v)
    PMP = P @ M @ P
    got = probe_space_moments(op)
    np.testing.assert_allclose(got, [np.trace(P), np.trace(PMP), np.sum(PMP * PMP)],
                               rtol=1e-6)


def test_square_sums_weights_rows_and_columns():
    K = np.random.default_rng(2).uniform(size=(50, 50)).astype(np.float32)
    K = K + K.T
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=50)
    M = w[:, None] * K.astype(np.float64) * w[None, :]
    trace, frobenius_sq = square_sums(K, w)
    assert trace == pytest.approx(np.trace(M), rel=1e-12)
    assert frobenius_sq == pytest.approx(np.sum(M * M), rel=1e-12)


def test_operators_without_stored_entries_skip_the_correction():
    X = np.random.default_rng(4).normal(size=(300, 5))
    tiled = gaussian_operator(X, 1.5, storage="tiled")
    assert probe_space_moments(tiled) is None
    est = slq_entropy(tiled, 1, n_probes=8)
    assert est.details["control_variates"] is False


@pytest.mark.parametrize("t", [1, 2, 3])
@pytest.mark.parametrize("keep", [True, False])
def test_corrected_estimate_is_closer_and_within_its_error(noise_operator, t, keep):
    truth = entropy_nats(dense_of(noise_operator), t, keep, noise_operator.trivial_vector)
    plain, corrected = [], []
    for seed in range(5):
        kw = dict(keep_trivial=keep, n_probes=8, seed=seed, max_batches=1)
        plain.append(slq_entropy(noise_operator, t, control_variates=False, **kw))
        corrected.append(slq_entropy(noise_operator, t, **kw))
    err_plain = np.sqrt(np.mean([(e.entropy - truth) ** 2 for e in plain]))
    err_corrected = np.sqrt(np.mean([(e.entropy - truth) ** 2 for e in corrected]))
    assert all(e.details["control_variates"] for e in corrected)
    # at least five times closer (measured 20-40x on the accuracy grid's noise sets)
    assert err_corrected < err_plain / 5
    for e in corrected:
        assert abs(e.entropy - truth) <= 3 * e.standard_error


def test_quadratic_trace_has_no_probe_noise_at_t2(noise_operator):
    # |lambda|^2 of a positive semi-definite operator is a quadratic: the corrected Z is
    # the exact tr M^2 for every probe, so log Z carries no probe spread.
    est = slq_entropy(noise_operator, 2, n_probes=8, max_batches=1)
    M = dense_of(noise_operator)
    assert est.Z == pytest.approx(np.sum(M * M), rel=1e-9)
