"""The sparse local kernel: a self-tuning Gaussian truncated on a kNN graph.

A *local* kernel (a different kernel from the global Gaussian, chosen
explicitly with ``method="sparse"``), for hundreds of thousands to millions of
points.  Bandwidths are per point (self-tuning kernel of Zelnik-Manor &
Perona 2004)::

    K_ij = exp(-d_ij^2 / (sigma_i sigma_j)),  sigma_i = distance from i to
    its ``bandwidth_neighbor``-th nearest neighbour,

kept for the pairs ``(i, j)`` where ``j`` is among the ``n_neighbors``
nearest neighbours of ``i`` or ``i`` among those of ``j`` (union, so ``K``
stays symmetric), with ``K_ii = 1``.  The share of the untruncated row mass
that the graph keeps is measured on sampled rows: below ``KEPT_MASS_WARN``
(0.99) a warning is issued, below ``KEPT_MASS_FLOOR`` (0.9) the operator is
refused, since the truncated kernel then no longer approximates the local
kernel it names.  Density normalisation as in :mod:`infolens.kernels.gaussian`.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import scipy.sparse

from infolens.core import optional
from infolens.core.validation import InvalidParameterError
from infolens.kernels.distances import squared_distance_block
from infolens.kernels.gaussian import diffusion_scaling
from infolens.kernels.operators import TILE_BYTES, MatrixFreeOperator

__all__ = [
    "KEPT_MASS_FLOOR",
    "KEPT_MASS_WARN",
    "SparseKernelOperator",
    "check_kept_mass",
    "knn_search",
    "sparse_operator",
    "sparse_operator_bytes",
]

logger = logging.getLogger("infolens")

#: Kept row mass below which the sparse operator warns.
KEPT_MASS_WARN = 0.99
#: Kept row mass below which the sparse operator is refused.
KEPT_MASS_FLOOR = 0.9


def _faiss():
    """The faiss module, or None when it is not installed."""
    try:
        return optional.faiss()
    except ImportError:
        return None


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
    nn = optional.scikit_learn("neighbors").NearestNeighbors(n_neighbors=k + 1).fit(X)
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


class SparseKernelOperator(MatrixFreeOperator):
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
        w, v, degree = diffusion_scaling(sums(np.ones(n)), alpha, sums)
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

    def trace_moments(self):
        """``(tr M, |M|_F^2)`` from the stored entries."""
        return float(self.matrix.diagonal().sum()), float(np.square(self.matrix.data).sum())

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
        d2 = squared_distance_block(XR, sq[rows], np.ascontiguousarray(Xc[start:stop].T),
                                    sq[start:stop])
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
