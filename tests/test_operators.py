"""Matrix-free diffusion operators against dense constructions."""

import warnings

import numpy as np
import pytest

import infolens.kernels.operators as ops
from infolens import InvalidParameterError
from infolens.kernels.gaussian import diffusion_operator
from infolens.kernels.operators import DenseKernelOperator, TiledKernelOperator
from infolens.kernels.sparse import SparseKernelOperator, check_kept_mass, knn_search


def data(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * 3.0 + 100.0  # far from the origin on purpose


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("cls", [DenseKernelOperator, TiledKernelOperator])
def test_gaussian_operator_equals_dense_matrix(cls, alpha, monkeypatch):
    monkeypatch.setattr(ops, "TILE_BYTES", 8 * 300 * 37)  # several uneven tiles
    X = data()
    ref = diffusion_operator(X, 2.5, alpha)
    op = cls(X, 2.5, alpha, dtype=np.float64)
    np.testing.assert_allclose(op.to_dense(), ref.matrix, atol=1e-13)
    np.testing.assert_allclose(op.trivial_vector, ref.trivial_vector, atol=1e-13)
    V = np.random.default_rng(1).standard_normal((300, 3))
    np.testing.assert_allclose(op.matmat(V), ref.matrix @ V, atol=1e-12)


def test_float32_operator_is_close_and_chosen_only_when_safe():
    X = data()
    ref = diffusion_operator(X, 2.5)
    assert ops.gaussian_operator(X, 2.5).details["dtype"] == "float64"
    op = ops.gaussian_operator(X, 2.5, precision="float32")
    assert op.details["dtype"] == "float32" and op.noise_level > 0
    np.testing.assert_allclose(op.to_dense(), ref.matrix, atol=2e-6)
    # a bandwidth tiny against the spread of the data: float32 distances would
    # make the exponent wrong, so float64 is used
    assert ops.choose_kernel_dtype(X, 1e-3) is np.float64


def test_trivial_vector_is_an_eigenvector():
    X = data()
    op = TiledKernelOperator(X, 4.0, 0.5, dtype=np.float64)
    v = op.trivial_vector
    np.testing.assert_allclose(op.matvec(v), v, atol=1e-12)


def self_tuning_dense(X, k, kb):
    """Brute-force reference of the sparse kernel: all pairs, then the kNN-union mask."""
    n = X.shape[0]
    D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    order = np.argsort(D, axis=1)[:, 1 : k + 1]
    sig = np.take_along_axis(D, order, axis=1)[:, kb - 1]
    mask = np.zeros((n, n), dtype=bool)
    mask[np.repeat(np.arange(n), k), order.ravel()] = True
    mask |= mask.T
    np.fill_diagonal(mask, True)
    K = np.where(mask, np.exp(-D**2 / np.outer(sig, sig)), 0.0)
    d = K.sum(1)
    return K / np.sqrt(np.outer(d, d)), K


@pytest.mark.parametrize("backend", ["sklearn", "faiss"])
def test_sparse_operator_equals_brute_force(backend):
    if backend == "faiss":
        pytest.importorskip("faiss")
    t = np.linspace(0, 6, 200)
    X = np.c_[np.cos(t), np.sin(t), 0.1 * t] + 0.01 * np.random.default_rng(0).normal(size=(200, 3))
    op = SparseKernelOperator(X, n_neighbors=12, bandwidth_neighbor=4, knn_backend=backend,
                              check_mass=False)
    M, _ = self_tuning_dense(X, 12, 4)
    np.testing.assert_allclose(op.matrix.toarray(), M, atol=1e-6 if backend == "faiss" else 1e-12)
    np.testing.assert_allclose(op.matvec(op.trivial_vector), op.trivial_vector, atol=1e-12)
    assert (abs(op.matrix - op.matrix.T)).max() < 1e-15


def test_kept_mass_is_one_on_the_complete_graph_and_matches_brute_force():
    X = data(120, 3)
    full = SparseKernelOperator(X, n_neighbors=119, bandwidth_neighbor=5, knn_backend="sklearn")
    assert full.kept_mass == pytest.approx(1.0, abs=1e-12)
    part = SparseKernelOperator(X, n_neighbors=10, bandwidth_neighbor=5, knn_backend="sklearn",
                                check_mass=False, mass_sample=120)
    _, K10 = self_tuning_dense(X, 10, 5)
    _, Kall = self_tuning_dense(X, 119, 5)
    assert part.kept_mass == pytest.approx(K10.sum() / Kall.sum(), rel=1e-10)


def test_kept_mass_warns_and_refuses():
    with pytest.raises(InvalidParameterError, match="n_neighbors"):
        check_kept_mass(0.5, 30)
    with pytest.warns(RuntimeWarning, match="row mass"):
        check_kept_mass(0.95, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_kept_mass(0.995, 30)
    noise = np.random.default_rng(0).standard_normal((400, 20))
    with pytest.raises(InvalidParameterError, match="keeps only"):
        SparseKernelOperator(noise, n_neighbors=5, knn_backend="sklearn")


def test_knn_backends_agree():
    pytest.importorskip("faiss")
    X = data(500, 8)
    d1, i1 = knn_search(X, 7, backend="sklearn")
    d2, i2 = knn_search(X, 7, backend="faiss")
    assert (i1 == i2).mean() > 0.99
    np.testing.assert_allclose(d1, d2, rtol=1e-3)
    assert not (i1 == np.arange(500)[:, None]).any()


def test_knn_with_duplicate_points_drops_one_self_entry():
    X = np.repeat(np.arange(20.0)[:, None], 3, axis=0)  # every point three times
    d, i = knn_search(X, 4, backend="sklearn")
    assert d.shape == (60, 4)
    assert (d[:, :2] == 0).all()


# ---------------------------------------------------------------- kernels: one formula each


def test_squared_distances_multiply_by_an_explicit_transposed_copy(monkeypatch):
    """``A @ A.T`` on a view of one buffer takes OpenBLAS's SYRK path, which crashes for
    large float64 inputs (design.md): the right factor must be its own buffer."""
    from infolens.core import backend
    from infolens.kernels.distances import squared_distances

    seen = []
    real = backend.NumpyBackend.transpose_copy

    def spy(self, A):
        out = real(self, A)
        seen.append((A, out))
        return out

    monkeypatch.setattr(backend.NumpyBackend, "transpose_copy", spy)
    X = data(50, 4)
    D2 = squared_distances(X)
    assert seen and all(not np.shares_memory(a, b) and b.flags.c_contiguous for a, b in seen)
    from scipy.spatial.distance import cdist

    np.testing.assert_allclose(D2, cdist(X, X, "sqeuclidean"), rtol=1e-9, atol=1e-9)
    assert np.all(np.diag(D2) == 0.0)


def test_kernels_agree_between_numpy_and_torch():
    torch = pytest.importorskip("torch")
    from infolens.core.backend import TorchBackend
    from infolens.kernels.distances import squared_distances

    X = data(120, 6)
    xp = TorchBackend("cpu")
    np.testing.assert_allclose(xp.to_numpy(squared_distances(torch.tensor(X))),
                               squared_distances(X), rtol=1e-10, atol=1e-8)
    for alpha in (0.0, 0.5):
        ref = diffusion_operator(X, 2.5, alpha)
        got = diffusion_operator(X, 2.5, alpha, xp=xp)
        np.testing.assert_allclose(xp.to_numpy(got.matrix), ref.matrix, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(xp.to_numpy(got.trivial_vector), ref.trivial_vector,
                                   rtol=1e-10)


def test_one_sigma_validation_for_every_caller():
    from infolens.kernels.bandwidth import BANDWIDTH_RULES, check_sigma, resolve_bandwidth

    assert check_sigma(2, "f") == 2.0 and check_sigma("rms", "f") == "rms"
    assert check_sigma("auto", "f", rules=("auto",) + BANDWIDTH_RULES) == "auto"
    for bad in (0, -1.0, float("nan"), float("inf"), True, None, "auto", "bogus"):
        with pytest.raises(InvalidParameterError, match=r"'sigma_y' parameter of f\b"):
            check_sigma(bad, "f", name="sigma_y")
    with pytest.raises(InvalidParameterError, match="'sigma' parameter of g"):
        resolve_bandwidth(data(), -1.0, "g")
