"""Matrix-free diffusion operators for large point sets.

Every operator here represents the symmetric diffusion matrix
``M = D^{-1/2} K D^{-1/2}`` of :mod:`infolens.kernels.gaussian` (the eigenvalues of the
Markov matrix ``P = D^{-1} K``) through products
``M @ V`` with blocks of vectors, plus its known trivial eigenvector
``sqrt(degree) / |sqrt(degree)|`` (eigenvalue 1).  Three storage strategies:

``DenseKernelOperator``
    The Gaussian kernel built tile by tile into one N x N buffer (float64, or
    float32 when memory demands): ``8 N^2`` or ``4 N^2`` bytes, one GEMM per
    product.
``TiledKernelOperator``
    The same Gaussian kernel recomputed in row tiles at every product; memory
    ``O(N D + tile)``, never N x N.  Each product costs one pass of
    ``N^2 D`` flops, so it suits few products on data too large to store.
``SparseKernelOperator``
    A *local* kernel truncated on a k-nearest-neighbour graph (a different
    kernel from the global Gaussian, chosen explicitly with
    ``method="sparse"``).  Bandwidths are per point (self-tuning kernel of
    Zelnik-Manor & Perona 2004)::

        K_ij = exp(-d_ij^2 / (sigma_i sigma_j)),  sigma_i = distance from i to
        its ``bandwidth_neighbor``-th nearest neighbour,

    kept for the pairs ``(i, j)`` where ``j`` is among the ``n_neighbors``
    nearest neighbours of ``i`` or ``i`` among those of ``j`` (union, so ``K``
    stays symmetric), with ``K_ii = 1``.  The share of the untruncated row mass
    that the graph keeps is measured on sampled rows: below
    ``KEPT_MASS_WARN`` (0.99) a warning is issued, below ``KEPT_MASS_FLOOR``
    (0.9) the operator is refused, since the truncated kernel then no longer
    approximates the local kernel it names.

Density normalisation with power ``alpha`` multiplies ``K_ij`` by
``(q_i q_j)^-alpha`` with ``q`` the row sums, as in :mod:`infolens.kernels.gaussian`.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from infolens.core.validation import InvalidParameterError

__all__ = [
    "KEPT_MASS_FLOOR",
    "KEPT_MASS_WARN",
    "DenseKernelOperator",
    "SparseKernelOperator",
    "TiledKernelOperator",
    "choose_kernel_dtype",
    "dense_operator_bytes",
    "gaussian_operator",
    "knn_search",
    "sparse_operator",
    "sparse_operator_bytes",
    "tiled_operator_bytes",
]

logger = logging.getLogger("infolens")

#: Kept row mass below which the sparse operator warns.
KEPT_MASS_WARN = 0.99
#: Kept row mass below which the sparse operator is refused.
KEPT_MASS_FLOOR = 0.9
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
        Xc = np.asarray(X, dtype=np.float64)
        Xc = Xc - Xc.mean(axis=0)
        self.X = np.ascontiguousarray(Xc, dtype=self.dtype)
        self.XT = np.ascontiguousarray(self.X.T)
        self.sq = np.einsum("ij,ij->i", self.X, self.X)
        self.scale = self.dtype.type(-0.5 / sigma**2)
        self.n = self.X.shape[0]

    def block(self, start, stop):
        """Kernel rows ``start:stop`` (all columns), shape (stop - start, n)."""
        out = self.X[start:stop] @ self.XT
        out *= -2.0
        out += self.sq[start:stop, None]
        out += self.sq[None, :]
        np.maximum(out, 0.0, out=out)
        rows = np.arange(start, stop)
        out[rows - start, rows] = 0.0
        out *= self.scale
        return np.exp(out, out=out)

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


def _normalisation(row_sums_of, n, alpha):
    """Left/right scaling ``w`` with ``M = diag(w) K diag(w)`` and the trivial vector.

    ``row_sums_of(u)`` must return ``K @ u`` for a vector ``u``.
    """
    ones = np.ones(n)
    q = row_sums_of(ones)
    pre = q**-alpha if alpha > 0 else ones
    degree = pre * row_sums_of(pre) if alpha > 0 else q
    w = pre / np.sqrt(degree)
    v = np.sqrt(degree)
    v /= np.linalg.norm(v)
    return w, v, degree


def _noise_level(n, dtype):
    """Eigenvalue blur of products rounded in ``dtype``: ``eps32`` (0 for float64).

    One float32 product has a relative backward error of order ``eps32``;
    at 6000 x 2048 the float32 and float64 SLQ values differed by 3e-7 bits,
    far inside the proxy this level gives.
    """
    return float(np.finfo(np.float32).eps) if np.dtype(dtype) == np.float32 else 0.0


class _Operator:
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


class DenseKernelOperator(_Operator):
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
            from infolens.core.progress import Progress

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

        def sums(u):
            if np.all(u == 1.0):
                return q
            out = np.empty(n)
            for start in range(0, n, step):
                out[start : start + step] = K[start : start + step].astype(np.float64) @ u
            return out

        w, v, degree = _normalisation(sums, n, alpha)
        # M = diag(w) K diag(w) is applied as w * (K @ (w * V)): no pass over K
        self.kernel = K
        self.row_sums = q
        super().__init__(n, w, v, sigma, alpha)
        self.details = {"storage": "dense", "dtype": np.dtype(dtype).name}
        self.noise_level = _noise_level(n, dtype)

    def matmat(self, V, interrupt=None):
        self.n_products += 1
        W = self.w[:, None] * np.asarray(V, dtype=np.float64)
        out = self.kernel @ W.astype(self.kernel.dtype, copy=False)
        return self.w[:, None] * out


class TiledKernelOperator(_Operator):
    """Normalised Gaussian kernel recomputed in row tiles at every product (never N x N)."""

    kind = "tiled"

    def __init__(self, X, sigma, alpha=0.0, dtype=np.float32, interrupt=None):
        self._rows = _KernelRows(X, sigma, dtype)
        n = self._rows.n
        sums = lambda u: self._rows.matmat(u[:, None], interrupt)[:, 0]  # noqa: E731
        w, v, degree = _normalisation(sums, n, alpha)
        self.row_sums = degree if alpha == 0 else sums(np.ones(n))
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
    cls = DenseKernelOperator if storage == "dense" else TiledKernelOperator
    return cls(X, sigma, alpha, dtype=dtype, interrupt=interrupt)


# --------------------------------------------------------------------------- sparse


def _faiss():
    try:
        import faiss  # noqa: F401
    except ImportError:
        return None
    return faiss


def knn_search(X, k, *, backend="auto", random_state=0):
    """The ``k`` nearest neighbours of every row of ``X`` (itself excluded).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    k : int
    backend : {"auto", "faiss", "sklearn"}
        ``"auto"``: faiss (``pip install faiss-cpu``; exact below 50,000
        points, an HNSW graph with M = 32 above, recall@30 about 0.999) when
        it is installed, scikit-learn's exact ``NearestNeighbors`` otherwise.
        ``benchmarks/bench_knn.py`` holds the benchmark behind this choice.

    Returns
    -------
    distances : ndarray of shape (n, k), float64
        Euclidean distances, ascending per row.
    indices : ndarray of shape (n, k), int64
    """
    n = X.shape[0]
    if backend == "auto":
        backend = "faiss" if _faiss() is not None else "sklearn"
    if backend == "faiss":
        faiss = _faiss()
        if faiss is None:
            raise InvalidParameterError(
                "knn backend 'faiss' needs the faiss-cpu package, which is not installed. "
                "Install it with `pip install faiss-cpu`, or pass knn_backend='sklearn'."
            )
        Xf = np.ascontiguousarray(X - X.mean(axis=0), dtype=np.float32)
        d = Xf.shape[1]
        if n <= 50000:
            index = faiss.IndexFlatL2(d)
        else:
            # HNSW graph: 2x faster than IVF-Flat at recall@30 = 0.999
            # (benchmarks/bench_knn.py, 100k x 128)
            index = faiss.IndexHNSWFlat(d, 32)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = max(64, 2 * (k + 1))
        index.add(Xf)
        D2, idx = index.search(Xf, k + 1)
        D2 = np.maximum(D2.astype(np.float64), 0.0)
        return _drop_self(np.sqrt(D2), idx.astype(np.int64), k)
    if backend != "sklearn":
        raise InvalidParameterError(
            f"knn backend must be one of 'auto', 'faiss', 'sklearn'; got {backend!r}."
        )
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    dist, idx = nn.kneighbors(X)
    return _drop_self(dist, idx.astype(np.int64), k)


def _drop_self(dist, idx, k):
    """Remove each point from its own neighbour list (or the farthest one if absent)."""
    n = idx.shape[0]
    is_self = idx == np.arange(n)[:, None]
    missing = ~is_self.any(axis=1)
    is_self[missing, -1] = True  # duplicates can push self out; drop the farthest then
    keep = ~is_self
    return (dist[keep].reshape(n, k), idx[keep].reshape(n, k))


class SparseKernelOperator(_Operator):
    """Self-tuning local kernel truncated on the symmetrised kNN graph (see module doc).

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix of shape (n, n)
        The normalised ``M``.
    kept_mass : float
        Share of the untruncated kernel row mass kept, over sampled rows.
    """

    kind = "sparse"

    def __init__(self, X, alpha=0.0, *, n_neighbors=30, bandwidth_neighbor=7,
                 knn_backend="auto", mass_sample=1000, random_state=0, interrupt=None,
                 check_mass=True):
        import scipy.sparse

        X = np.asarray(X, dtype=np.float64)
        n = X.shape[0]
        k = int(min(n_neighbors, n - 1))
        kb = int(min(bandwidth_neighbor, k))
        logger.info("sparse kernel: %d-nearest-neighbour search on %d points", k, n)
        dist, idx = knn_search(X, k, backend=knn_backend, random_state=random_state)
        logger.info("sparse kernel: neighbours found; building the operator")
        bad = idx < 0
        if bad.any():
            idx = np.where(bad, np.arange(n)[:, None], idx)
            dist = np.where(bad, np.inf, dist)
        sig = dist[:, kb - 1].copy()
        positive = sig[np.isfinite(sig) & (sig > 0)]
        floor = float(np.min(positive)) if positive.size else 1.0
        sig = np.where(np.isfinite(sig) & (sig > 0), sig, floor)
        rows = np.repeat(np.arange(n), k)
        cols = idx.ravel()
        vals = np.exp(-(dist.ravel() ** 2) / (sig[rows] * sig[cols]))
        vals[~np.isfinite(vals)] = 0.0
        A = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(n, n))
        # union symmetrisation: entries are symmetric where both exist, so max is exact
        K = A.maximum(A.T).tocsr()
        K = K + scipy.sparse.identity(n, format="csr")
        K.sum_duplicates()
        sums = lambda u: np.asarray(K @ u).ravel()  # noqa: E731
        w, v, degree = _normalisation(sums, n, alpha)
        Kd = scipy.sparse.diags(w) @ K @ scipy.sparse.diags(w)
        self.matrix = Kd.tocsr()
        self.bandwidths = sig
        super().__init__(n, w, v, None, alpha)
        kept, kept_low = _kept_mass(X, K, sig, mass_sample, random_state)
        self.kept_mass = kept
        self.details = {
            "storage": "sparse",
            "n_neighbors": k,
            "bandwidth_neighbor": kb,
            "nnz": int(self.matrix.nnz),
            "kept_mass": kept,
            "kept_mass_p01": kept_low,
            "knn_backend": knn_backend if knn_backend != "auto"
            else ("faiss" if _faiss() is not None else "sklearn"),
        }
        if check_mass:
            check_kept_mass(kept, n_neighbors)

    def matmat(self, V, interrupt=None):
        self.n_products += 1
        return np.asarray(self.matrix @ np.asarray(V, dtype=np.float64))


def check_kept_mass(kept, n_neighbors):
    """Warn below ``KEPT_MASS_WARN``, refuse below ``KEPT_MASS_FLOOR``."""
    if kept < KEPT_MASS_FLOOR:
        raise InvalidParameterError(
            f"The sparse local kernel keeps only {kept:.3f} of the kernel row mass on the "
            f"{n_neighbors}-nearest-neighbour graph (floor {KEPT_MASS_FLOOR}); the truncated "
            f"operator would not represent the kernel. Increase n_neighbors (e.g. "
            f"{2 * n_neighbors}), or use method='slq' (global Gaussian kernel)."
        )
    if kept < KEPT_MASS_WARN:
        msg = (f"sparse local kernel keeps {kept:.4f} of the kernel row mass (< "
               f"{KEPT_MASS_WARN}); increase n_neighbors for a closer approximation")
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        logger.warning(msg)


def _kept_mass(X, K, sig, sample, random_state):
    """Kept share of the untruncated self-tuning kernel mass over sampled rows.

    Returns the pooled ratio (sum of kept row sums / sum of full row sums) and
    its 1st percentile over rows.
    """
    n = X.shape[0]
    m = int(min(n, sample))
    rows = np.sort(np.random.default_rng(random_state).choice(n, m, replace=False))
    Xc = X - X.mean(axis=0)
    sq = np.einsum("ij,ij->i", Xc, Xc)
    full = np.zeros(m)
    step = max(1, int(TILE_BYTES // (8 * m)))
    XR = np.ascontiguousarray(Xc[rows])
    for start in range(0, n, step):
        stop = min(n, start + step)
        d2 = XR @ np.ascontiguousarray(Xc[start:stop].T)
        d2 *= -2.0
        d2 += sq[rows, None]
        d2 += sq[None, start:stop]
        np.maximum(d2, 0.0, out=d2)
        d2 /= -(sig[rows, None] * sig[None, start:stop])
        full += np.exp(d2).sum(axis=1)
    kept = np.asarray(K[rows].sum(axis=1)).ravel()
    # the self term is exactly 1 in both; rounding can make kept exceed full slightly
    ratio = np.minimum(kept / full, 1.0)
    return float(min(1.0, kept.sum() / full.sum())), float(np.percentile(ratio, 1))


def sparse_operator(X, alpha=0.0, **kwargs):
    """Build a :class:`SparseKernelOperator` (keyword arguments passed through)."""
    return SparseKernelOperator(X, alpha, **kwargs)


def sparse_operator_bytes(n, d, n_neighbors=30, block=16):
    """Peak bytes of the sparse operator: kNN lists, two CSR copies, data, blocks."""
    nnz = 2 * n * n_neighbors + n
    return 16 * n * n_neighbors * 3 + 3 * 12 * nnz + 8 * n * d + 6 * 8 * n * block


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

    def matmat(self, V, interrupt=None):
        V = np.asarray(V, dtype=np.float64)
        if isinstance(self.base, DenseKernelOperator):
            K = self.base.kernel
            out = (K @ V.astype(K.dtype, copy=False)).astype(np.float64)
        else:
            out = self.base._rows.matmat(V, interrupt)
        return out / self.scale

