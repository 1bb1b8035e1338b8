"""Matrix-free Gaussian diffusion operators for large point sets.

Every operator here represents the symmetric diffusion matrix
``M = diag(w) K diag(w)`` of :mod:`infolens.kernels.gaussian` (the eigenvalues
of the Markov matrix ``P = D^{-1} K``) through products ``M @ V`` with blocks
of vectors, plus its known trivial eigenvector ``sqrt(degree) / |sqrt(degree)|``
(eigenvalue 1).  Two storage strategies of the global Gaussian kernel:

``DenseKernelOperator``
    The kernel built tile by tile into one N x N buffer (float64, or float32
    when memory demands): ``8 N^2`` or ``4 N^2`` bytes, one GEMM per product.
``TiledKernelOperator``
    The same kernel recomputed in row tiles at every product; memory
    ``O(N D + tile)``, never N x N.  Each product costs one pass of
    ``N^2 D`` flops, so it suits few products on data too large to store.

:class:`AdjacencyOperator` wraps either to give the affinity itself (scaled
into ``[0, 1]``); the local sparse kernel is in :mod:`infolens.kernels.sparse`.
"""

from __future__ import annotations

import numpy as np

from infolens.core.progress import Progress
from infolens.kernels.distances import median_centred, squared_distance_block
from infolens.kernels.gaussian import diffusion_scaling, gaussian_affinity

__all__ = [
    "AdjacencyOperator",
    "DenseKernelOperator",
    "MatrixFreeOperator",
    "TILE_BYTES",
    "TiledKernelOperator",
    "choose_kernel_dtype",
    "dense_operator_bytes",
    "gaussian_operator",
    "tiled_operator_bytes",
]

#: Largest relative error of a kernel entry accepted from float32 arithmetic.
FLOAT32_KERNEL_RTOL = 1e-6
#: Bytes of one tile of kernel rows (bounds the working memory of every pass).
TILE_BYTES = 64 * 2**20

_EPS32 = float(np.finfo(np.float32).eps)


def choose_kernel_dtype(X, sigma, precision="auto"):
    """float32 or float64 for the Gaussian kernel of ``X`` at bandwidth ``sigma``.

    After centring, the squared distance ``|a|^2 + |b|^2 - 2 a.b`` carries an
    absolute rounding error of about ``eps * 4 max|x|^2``; divided by
    ``2 sigma^2`` it is the relative error of the kernel entry.  float32 is
    used when that bound is below ``FLOAT32_KERNEL_RTOL`` (``precision="auto"``).
    """
    if precision == "float64":
        return np.float64
    if precision == "float32":
        return np.float32
    Xc = X - X.mean(axis=0)
    r2 = float(np.max(np.einsum("ij,ij->i", Xc, Xc))) if X.size else 0.0
    bound = _EPS32 * 4.0 * r2 / (2.0 * sigma**2)
    return np.float32 if bound <= FLOAT32_KERNEL_RTOL else np.float64


def _tile_rows(n, dtype):
    return int(max(1, min(n, TILE_BYTES // (np.dtype(dtype).itemsize * max(n, 1)))))


class _KernelRows:
    """Rows of the Gaussian kernel ``exp(-|x_i - x_j|^2 / (2 sigma^2))`` on demand."""

    def __init__(self, X, sigma, dtype):
        self.dtype = np.dtype(dtype)
        self.X = np.ascontiguousarray(median_centred(X), dtype=self.dtype)
        self.XT = np.ascontiguousarray(self.X.T)
        self.sq = np.einsum("ij,ij->i", self.X, self.X)
        self.sigma = float(sigma)  # a Python float keeps float32 tiles in float32
        self.n = self.X.shape[0]

    def block(self, start, stop):
        """Kernel rows ``start:stop`` (all columns), shape (stop - start, n)."""
        out = squared_distance_block(self.X[start:stop], self.sq[start:stop], self.XT, self.sq,
                                     self_offset=start)
        return gaussian_affinity(out, self.sigma, out=out)

    def tiles(self):
        step = _tile_rows(self.n, self.dtype)
        for start in range(0, self.n, step):
            stop = min(self.n, start + step)
            yield start, stop, self.block(start, stop)

    def matmat(self, V, interrupt=None):
        """``K @ V`` in one tiled pass; ``V`` of shape (n, b)."""
        Vd = np.ascontiguousarray(V, dtype=self.dtype)
        out = np.empty((self.n, V.shape[1]), dtype=np.float64)
        for start, stop, tile in self.tiles():
            out[start:stop] = tile @ Vd
            if interrupt is not None:
                interrupt()
        return out


def _noise_level(n, dtype):
    """Eigenvalue blur of products rounded in ``dtype``: ``eps32`` (0 for float64).

    One float32 product has a relative backward error of order ``eps32``;
    at 6000 x 2048 the float32 and float64 SLQ values differed by 3e-7 bits,
    far inside the proxy this level gives.
    """
    return float(np.finfo(np.float32).eps) if np.dtype(dtype) == np.float32 else 0.0


def square_sums(K, weights=None):
    """``tr(D K D)`` and ``|D K D|_F^2`` with ``D = diag(weights)`` (identity when None).

    One pass over ``K`` in row tiles, accumulated in float64 whatever
    ``K``'s dtype: the exact second moment SLQ's control variates need.

    Parameters
    ----------
    K : ndarray of shape (n, n)
    weights : ndarray of shape (n,), optional

    Returns
    -------
    trace, frobenius_sq : float
    """
    n = K.shape[0]
    ws = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64) ** 2
    trace = float(ws @ np.diagonal(K).astype(np.float64))
    total = 0.0
    step = _tile_rows(n, np.float64)
    for start in range(0, n, step):
        tile = K[start:start + step].astype(np.float64)
        tile *= tile
        total += float(ws[start:start + step] @ (tile @ ws))
    return trace, total


class MatrixFreeOperator:
    """Common interface: ``n``, ``trivial_vector``, ``matmat(V)``, ``details``."""

    kind = "operator"

    def __init__(self, n, w, trivial_vector, sigma, alpha):
        self.n = n
        self.w = w
        self.trivial_vector = trivial_vector
        self.sigma = sigma
        self.alpha = alpha
        self.details = {}
        self.n_products = 0

    def matmat(self, V, interrupt=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def matvec(self, v):
        return self.matmat(np.asarray(v, dtype=np.float64)[:, None])[:, 0]

    def to_dense(self):
        """The dense ``M`` (testing and small ``n`` only)."""
        return self.matmat(np.eye(self.n))


class DenseKernelOperator(MatrixFreeOperator):
    """Gaussian kernel ``K`` stored once in an N x N buffer (attribute ``kernel``);
    products apply ``M = diag(w) K diag(w)``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    sigma : float
        Bandwidth, units of ``X``.
    alpha : float
        Density-normalisation power.
    dtype : numpy dtype
        Storage and product precision (entries are computed in float64).
    """

    kind = "dense"

    def __init__(self, X, sigma, alpha=0.0, dtype=np.float32, interrupt=None):
        # Distances and row sums in float64 (the cancellation in
        # |a|^2 + |b|^2 - 2 a.b would bias float32 kernels); only the stored
        # entries are rounded to ``dtype``, an unbiased relative error of eps.
        rows = _KernelRows(X, sigma, np.float64)
        n = rows.n
        step = _tile_rows(n, np.float64)
        if step >= n and np.dtype(dtype) == np.float64:
            K = rows.block(0, n)  # one tile: keep it, no copy
            q = K.sum(axis=1)
        else:
            K = np.empty((n, n), dtype=dtype)
            q = np.empty(n)
            with Progress(-(-n // step), f"kernel n={n}") as bar:
                for start, stop, tile in rows.tiles():
                    K[start:stop] = tile
                    q[start:stop] = tile.sum(axis=1)
                    bar.update()
                    if interrupt is not None:
                        interrupt()
            del tile
        del rows

        def matvec(u):
            out = np.empty(n)
            for start in range(0, n, step):
                out[start : start + step] = K[start : start + step].astype(np.float64) @ u
            return out

        w, v, degree = diffusion_scaling(q, alpha, matvec)
        # M = diag(w) K diag(w) is applied as w * (K @ (w * V)): no pass over K
        self.kernel = K
        self.row_sums = q
        super().__init__(n, w, v, sigma, alpha)
        self.details = {"storage": "dense", "dtype": np.dtype(dtype).name}
        self.noise_level = _noise_level(n, dtype)

    def trace_moments(self):
        """``(tr M, |M|_F^2)`` of the stored operator (one pass over ``K``)."""
        return square_sums(self.kernel, self.w)

    def matmat(self, V, interrupt=None):
        self.n_products += 1
        W = self.w[:, None] * np.asarray(V, dtype=np.float64)
        out = self.kernel @ W.astype(self.kernel.dtype, copy=False)
        return self.w[:, None] * out


class TiledKernelOperator(MatrixFreeOperator):
    """Normalised Gaussian kernel recomputed in row tiles at every product (never N x N)."""

    kind = "tiled"

    def __init__(self, X, sigma, alpha=0.0, dtype=np.float32, interrupt=None):
        self._rows = _KernelRows(X, sigma, dtype)
        n = self._rows.n
        sums = lambda u: self._rows.matmat(u[:, None], interrupt)[:, 0]  # noqa: E731
        q = sums(np.ones(n))
        w, v, degree = diffusion_scaling(q, alpha, sums)
        self.row_sums = q
        super().__init__(n, w, v, sigma, alpha)
        self.details = {"storage": "tiled", "dtype": np.dtype(dtype).name}
        self.noise_level = _noise_level(n, dtype)

    def matmat(self, V, interrupt=None):
        self.n_products += 1
        V = np.asarray(V, dtype=np.float64)
        return self.w[:, None] * self._rows.matmat(self.w[:, None] * V, interrupt)


def dense_operator_bytes(n, d, dtype=np.float32, block=64):
    """Peak bytes of ``DenseKernelOperator`` (matrix, one tile, data, a few blocks)."""
    item = np.dtype(dtype).itemsize
    tile = min(TILE_BYTES, item * n * n)
    return item * n * n + tile + 3 * item * n * d + 6 * 8 * n * block


def tiled_operator_bytes(n, d, dtype=np.float32, block=64):
    """Peak bytes of ``TiledKernelOperator``."""
    item = np.dtype(dtype).itemsize
    tile = min(TILE_BYTES, item * n * n)
    return 2 * tile + 3 * item * n * d + 6 * 8 * n * block


def gaussian_operator(X, sigma, alpha=0.0, *, storage="dense", precision="auto",
                      interrupt=None):
    """Build the Gaussian diffusion operator of ``X`` (``storage`` "dense" or "tiled").

    The dense operator is stored in float64 unless ``precision="float32"``
    (entries computed in float64, stored and multiplied in float32: half the
    memory, but products carry a relative rounding of about
    ``eps32 sqrt(n)``, which blurs eigenvalues below that level; SLQ reports
    its effect as part of the standard error).  Tiles are recomputed in
    float32 only when :func:`choose_kernel_dtype` allows it.
    """
    if storage == "dense":
        dtype = np.float32 if precision == "float32" else np.float64
        return DenseKernelOperator(X, sigma, alpha, dtype=dtype, interrupt=interrupt)
    dtype = choose_kernel_dtype(np.asarray(X, dtype=np.float64), sigma, precision)
    return TiledKernelOperator(X, sigma, alpha, dtype=dtype, interrupt=interrupt)


class AdjacencyOperator:
    """The Gaussian affinity ``K`` itself (no normalisation), divided by its largest
    row sum ``c`` so that its spectrum lies in ``[0, 1]`` (Gershgorin).

    Spectral entropies of normalised ``|lambda|`` do not change under that
    scaling.  Wraps a :class:`DenseKernelOperator` or
    :class:`TiledKernelOperator` built with ``alpha=0``; there is no known
    eigenvector (``trivial_vector`` is None).
    """

    def __init__(self, base):
        self.base = base
        self.n = base.n
        self.trivial_vector = None
        self.scale = float(np.max(base.row_sums))
        self.noise_level = getattr(base, "noise_level", 0.0)
        self.details = dict(base.details, operator="adjacency")

    def trace_moments(self):
        """``(tr, |.|_F^2)`` of ``K / c`` when ``K`` is stored; None for recomputed tiles."""
        if not isinstance(self.base, DenseKernelOperator):
            return None
        trace, frobenius_sq = square_sums(self.base.kernel)
        return trace / self.scale, frobenius_sq / self.scale**2

    def matmat(self, V, interrupt=None):
        V = np.asarray(V, dtype=np.float64)
        if isinstance(self.base, DenseKernelOperator):
            K = self.base.kernel
            out = (K @ V.astype(K.dtype, copy=False)).astype(np.float64)
        else:
            out = self.base._rows.matmat(V, interrupt)
        return out / self.scale

