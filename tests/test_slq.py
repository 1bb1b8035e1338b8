"""Stochastic Lanczos quadrature against known spectra."""

import numpy as np
import pytest

from infolens.spectrum.lanczos import block_lanczos
from infolens.spectrum.slq import slq_entropy


class MatrixOperator:
    """A dense symmetric matrix with a known unit eigenvector of eigenvalue 1."""

    def __init__(self, M, trivial_vector):
        self.M = M
        self.n = M.shape[0]
        self.trivial_vector = trivial_vector

    def matmat(self, V):
        return self.M @ V


def entropy_nats(eigenvalues, t, keep_trivial):
    """Ground truth from the eigenvalues; the first one is the trivial 1."""
    lam = np.asarray(eigenvalues, dtype=float)
    if not keep_trivial:
        lam = lam[1:]
    w = np.abs(lam) ** t
    p = w / w.sum()
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def diagonal_operator(eigs):
    n = len(eigs)
    e0 = np.zeros(n)
    e0[0] = 1.0
    return MatrixOperator(np.diag(eigs), e0)


def rotated_operator(eigs, seed=0):
    n = len(eigs)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return MatrixOperator((Q * eigs) @ Q.T, Q[:, 0].copy())


def spectra(n=800):
    rng = np.random.default_rng(3)
    decay = np.concatenate([[1.0], 0.97 ** np.arange(1, n)])
    uniform = np.concatenate([[1.0], rng.uniform(-0.4, 0.9, n - 1)])
    clusters = np.concatenate([[1.0], np.full(9, 0.999), rng.uniform(0, 1e-3, n - 10)])
    tiny = np.concatenate([[1.0], 0.5 ** np.arange(1, 30), np.full(n - 30, 1e-9)])
    return {"decay": decay, "uniform": uniform, "clusters": clusters, "tiny": tiny}


@pytest.mark.parametrize("name", ["decay", "uniform", "clusters", "tiny"])
@pytest.mark.parametrize("t", [1, 3])
@pytest.mark.parametrize("keep", [True, False])
def test_diagonal_spectra_match_exactly(name, t, keep):
    # Rademacher probes have v_i^2 = 1, so on a diagonal matrix only the
    # quadrature and the deflation can err.
    eigs = spectra()[name]
    est = slq_entropy(diagonal_operator(eigs), t, keep_trivial=keep, n_probes=8, n_steps=20)
    truth = entropy_nats(eigs, t, keep)
    assert abs(est.entropy - truth) < 5e-3 * max(truth, 1.0) / np.log(2)
    assert abs(est.entropy - truth) <= 3 * est.standard_error + 2e-3


@pytest.mark.parametrize("name", ["decay", "uniform", "clusters"])
def test_rotated_spectra_within_standard_error(name):
    eigs = spectra(500)[name]
    est = slq_entropy(rotated_operator(eigs), 1, keep_trivial=True, n_probes=16, n_steps=12)
    truth = entropy_nats(eigs, 1, True)
    assert est.standard_error > 0
    assert abs(est.entropy - truth) <= 4 * est.standard_error + 1e-4
    assert abs(est.entropy - truth) < 0.05


def test_dominant_eigenpairs_are_deflated():
    eigs = spectra(500)["clusters"]
    est = slq_entropy(rotated_operator(eigs, 1), 1, n_probes=16, n_steps=10)
    assert est.details["n_deflated"] >= 9
    assert np.allclose(np.sort(est.deflated)[-9:], 0.999, atol=1e-8)


def test_degenerate_eigenspace_larger_than_block_is_not_miscounted():
    # 40 eigenvalues equal to 0.9, block of 8 probes: the Krylov space cannot
    # hold the whole eigenspace, so its Ritz pairs must not be taken as exact.
    n = 400
    eigs = np.concatenate([[1.0], np.full(40, 0.9), np.linspace(0.0, 0.3, n - 41)])
    est = slq_entropy(rotated_operator(eigs, 2), 1, n_probes=8, n_steps=12)
    truth = entropy_nats(eigs, 1, True)
    assert abs(est.entropy - truth) <= 4 * est.standard_error + 1e-3


def test_fixed_seed_gives_common_random_numbers():
    op = rotated_operator(spectra(300)["uniform"])
    a = slq_entropy(op, 2, n_probes=8, n_steps=8, seed=5)
    b = slq_entropy(op, 2, n_probes=8, n_steps=8, seed=5)
    c = slq_entropy(op, 2, n_probes=8, n_steps=8, seed=6)
    assert a.entropy == b.entropy
    assert a.entropy != c.entropy


def test_block_lanczos_projection_is_orthogonal_and_tridiagonal():
    rng = np.random.default_rng(0)
    n, b, m = 200, 4, 6
    A = rng.standard_normal((n, n))
    A = (A + A.T) / 2
    V = rng.standard_normal((n, b))
    T, R0, _ = block_lanczos(lambda X: A @ X, V, m)
    assert T.shape == (m * b, m * b)
    np.testing.assert_allclose(T, T.T, atol=1e-12)
    # block tridiagonal: nothing beyond the first off-diagonal block
    assert np.abs(T[: b, 2 * b:]).max() < 1e-12
    # the top Ritz value interlaces: it cannot exceed the top eigenvalue
    assert np.linalg.eigvalsh(T)[-1] <= np.linalg.eigvalsh(A)[-1] + 1e-10


def test_ritz_values_outside_unit_interval_are_clipped():
    # an operator slightly outside [-1, 1] (rounding in practice) must not
    # give |theta|^t > 1 weights
    eigs = np.concatenate([[1.0], [1.0 + 1e-9, -1.0 - 1e-9], np.linspace(0, 0.5, 197)])
    est = slq_entropy(diagonal_operator(eigs), 1, n_probes=4, n_steps=10)
    truth = entropy_nats(np.clip(eigs, -1, 1), 1, True)
    assert np.isfinite(est.entropy)
    assert abs(est.entropy - truth) < 1e-3


def test_geometric_tail_is_exact_on_a_geometric_sequence():
    from infolens.spectrum.quadrature import MAX_RATE
    from infolens.spectrum.quadrature import geometric_tail as _geometric_tail

    limit, r = 2.0, 0.5
    x = [limit + 3.0 * r**k for k in (10, 9, 8)]  # x0 (latest), x1, x2
    assert _geometric_tail(*x) == pytest.approx(abs(x[0] - limit), rel=1e-9)
    # A stalled sequence is capped at rate MAX_RATE; a converged one gives its last change.
    assert _geometric_tail(1.0, 1.1, 1.2) == pytest.approx(0.1 * MAX_RATE / (1 - MAX_RATE))
    assert _geometric_tail(1.0, 1.0, 1.0) == 0.0
    assert _geometric_tail(1.0, 1.01, 1.01) == pytest.approx(0.01)
