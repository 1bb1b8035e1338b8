"""The stored diffusion operator for SLQ: ``M`` itself, float32, one GEMM per block.

:class:`~infolens.kernels.operators.DenseKernelOperator` stores the kernel
``K`` and applies ``M = diag(w) K diag(w)`` as three steps per product.  For
the long Lanczos runs of SLQ, :func:`symmetric_float32_operator` scales the
stored matrix once, in place, into ``M`` (float32: half the bytes of one pass
over memory, twice the GEMM rate), so a product is one single-precision GEMM
with its result widened to float64.  The rounding of those products is
reported through ``noise_level`` and enters the standard error
(:func:`infolens.spectrum.quadrature.rounding_error`).
"""

from __future__ import annotations

import numpy as np

from infolens.kernels.distances import median_centred, squared_distance_block
from infolens.kernels.gaussian import diffusion_scaling
from infolens.kernels.operators import DenseKernelOperator, square_sums

__all__ = ["NOISE_SCALE", "SymmetricDenseOperator", "symmetric_float32_operator"]

#: Backward error of one float32 product with ``M`` (``|M| = 1``), in units of
#: float32's machine epsilon.  Measured: the largest entry error of a product
#: relative to the largest entry was 8.7 eps32 at N = 5000 (Gaussian blobs,
#: D = 20) and the Frobenius error 3 eps32 at N = 12000 (issue 16);
#: ``tests/test_slq_speed_paths.py`` checks that the model covers the change
#: from float64 storage.
NOISE_SCALE = 8.0

_ROWS = 2048


class SymmetricDenseOperator:
    """``M = diag(w) K diag(w)`` stored as one float32 N x N matrix.

    Attributes
    ----------
    n, trivial_vector, row_sums, w, sigma, alpha, details, noise_level, n_products
        As for :class:`~infolens.kernels.operators.MatrixFreeOperator`.
    matrix : ndarray of shape (n, n), float32
    """

    kind = "dense"

    def __init__(self, base):
        M = _scale_in_place(base.kernel, base.w)
        base.kernel = None
        self.matrix = M
        self.n, self.w, self.trivial_vector = base.n, base.w, base.trivial_vector
        self.row_sums, self.sigma, self.alpha = base.row_sums, base.sigma, base.alpha
        self.details = dict(base.details, scaled="symmetric")
        self.noise_level = NOISE_SCALE * float(np.finfo(M.dtype).eps) \
            if M.dtype == np.float32 else 0.0
        self.n_products = 0

    def trace_moments(self):
        """``(tr M, |M|_F^2)`` of the stored float32 ``M``, accumulated in float64."""
        return square_sums(self.matrix)

    def matmat(self, V, interrupt=None):
        """``M @ V`` (float64 result) for a block ``V`` of shape (n, b)."""
        self.n_products += 1
        out = self.matrix @ np.asarray(V).astype(self.matrix.dtype)
        return out.astype(np.float64)


def symmetric_float32_operator(X, sigma, alpha=0.0, interrupt=None):
    """The Gaussian diffusion operator of ``X`` stored as ``M`` in float32.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    sigma : float
        Bandwidth, units of ``X``.
    alpha : float
        Density-normalisation power.

    Returns
    -------
    SymmetricDenseOperator

    Notes
    -----
    With ``alpha = 0`` the kernel is built once over the upper triangle of
    row tiles (distances by a float64 GEMM, as the other operators do) and
    mirrored: half the GEMM and ``exp`` work of a full build.  ``alpha > 0``
    takes :class:`~infolens.kernels.operators.DenseKernelOperator`'s build.
    """
    if alpha > 0:
        base = DenseKernelOperator(X, sigma, alpha, dtype=np.float32, interrupt=interrupt)
        return SymmetricDenseOperator(base)
    Xc = median_centred(X)  # as every other kernel build: robust to one outlier row
    sq = np.einsum("ij,ij->i", Xc, Xc)
    XT = np.ascontiguousarray(Xc.T)
    n = Xc.shape[0]
    M = np.empty((n, n), dtype=np.float32)
    q = np.zeros(n)
    step = max(1, min(n, _ROWS))
    for start in range(0, n, step):
        stop = min(n, start + step)
        tile = squared_distance_block(Xc[start:stop], sq[start:stop], XT[:, start:], sq[start:],
                                      self_offset=0)
        tile *= -0.5 / float(sigma) ** 2
        # exp in float32 (four times the float64 rate): the argument x is rounded to
        # float32 first, a relative error of at most |x| eps32 / 2 on exp(-|x|), i.e. an
        # absolute error below eps32 / (2e) against the diagonal's 1, inside the products'
        # rounding level NOISE_SCALE * eps32 that the standard error already carries.
        block = M[start:stop, start:]
        block[...] = tile
        np.exp(block, out=block)
        q[start:stop] += block.sum(axis=1, dtype=np.float64)
        q[stop:] += block[:, stop - start:].sum(axis=0, dtype=np.float64)
        M[stop:, start:stop] = block[:, stop - start:].T
        if interrupt is not None:
            interrupt()
    del tile
    w, v, _ = diffusion_scaling(q, 0.0)
    return SymmetricDenseOperator(_Built(M, q, w, v, sigma))


class _Built:
    """The pieces :class:`SymmetricDenseOperator` adopts (the kernel not yet scaled)."""

    def __init__(self, M, q, w, v, sigma):
        self.kernel, self.row_sums, self.w, self.trivial_vector = M, q, w, v
        self.n, self.sigma, self.alpha = M.shape[0], sigma, 0.0
        self.details = {"storage": "dense", "dtype": "float32"}


def _scale_in_place(M, w):
    """``diag(w) M diag(w)`` written over ``M`` in row tiles (no N x N temporary).

    Each entry is multiplied once by ``w_i w_j`` (formed in float64), so a
    symmetric ``M`` stays exactly symmetric.
    """
    rows = max(1, min(M.shape[0], 2**26 // (8 * max(M.shape[0], 1))))
    for start in range(0, M.shape[0], rows):
        block = M[start:start + rows]
        block *= np.multiply.outer(w[start:start + rows], w).astype(M.dtype)
    return M
