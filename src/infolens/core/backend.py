"""A small array backend: the operations the kernels need, for numpy and torch.

The kernels (:mod:`infolens.kernels`) write distances, affinities and the
diffusion normalisation once; the arithmetic operators (``+=``, ``*=``, ``@``,
indexing) already mean the same for numpy arrays and torch tensors, and the
few operations whose spelling differs live here.  Modelled on POT's
``ot/backend.py``, kept to what is used.  torch is only reached through
:mod:`infolens.core.optional`.
"""

from __future__ import annotations

import numpy as np

from infolens.core import optional

__all__ = ["NUMPY", "NumpyBackend", "TorchBackend", "backend_of", "power_of_two_scaled"]


class NumpyBackend:
    """Operations on float64 numpy arrays."""

    name = "numpy"

    def asarray(self, x):
        """``x`` as a float64 array."""
        return np.asarray(x, dtype=np.float64)

    def to_numpy(self, x):
        return np.asarray(x, dtype=np.float64)

    def column_means(self, A):
        """Mean of each column, shape (d,)."""
        return A.mean(axis=0)

    def column_medians(self, A):
        """A median of each column, shape (d,): a centre that one outlier row cannot move."""
        return np.median(A, axis=0)

    def row_sq_norms(self, A):
        """``|a_i|^2`` for every row, shape (n,)."""
        return np.einsum("ij,ij->i", A, A)

    def row_sums(self, A):
        return A.sum(axis=1)

    def transpose_copy(self, A):
        """``A.T`` as its own C-ordered buffer (never a view: see ``squared_distances``)."""
        return np.ascontiguousarray(A.T)

    def clamp_min_(self, A, low):
        """``A = max(A, low)`` in place."""
        np.maximum(A, low, out=A)
        return A

    def fill_diagonal_(self, A, value):
        np.fill_diagonal(A, value)
        return A

    def exp_(self, A):
        """``exp(A)`` in place."""
        return np.exp(A, out=A)

    def sqrt(self, x):
        return np.sqrt(x)

    def norm(self, x):
        return np.linalg.norm(x)

    def outer(self, u, v):
        return np.multiply.outer(u, v)

    def nonzero(self, mask):
        """Row and column indices of the true entries of a 2-D mask."""
        return np.nonzero(mask)


class TorchBackend(NumpyBackend):
    """The same operations on float64 torch tensors on one device."""

    name = "torch"

    def __init__(self, device=None):
        self.torch = optional.torch("the torch backend")
        self.device = device

    def asarray(self, x):
        if isinstance(x, self.torch.Tensor):
            return x.to(dtype=self.torch.float64, device=self.device)
        return self.torch.as_tensor(np.asarray(x, dtype=np.float64), device=self.device)

    def to_numpy(self, x):
        return x.detach().cpu().numpy().astype(np.float64)

    def column_means(self, A):
        return A.mean(dim=0)

    def column_medians(self, A):
        return A.median(dim=0).values

    def row_sq_norms(self, A):
        return (A * A).sum(dim=1)

    def row_sums(self, A):
        return A.sum(dim=1)

    def transpose_copy(self, A):
        return A.T.contiguous()

    def clamp_min_(self, A, low):
        return A.clamp_(min=low)

    def fill_diagonal_(self, A, value):
        return A.fill_diagonal_(value)

    def exp_(self, A):
        return A.exp_()

    def sqrt(self, x):
        return x.sqrt()

    def norm(self, x):
        return self.torch.linalg.vector_norm(x)

    def outer(self, u, v):
        return u[:, None] * v[None, :]

    def nonzero(self, mask):
        return self.torch.nonzero(mask, as_tuple=True)


#: The numpy backend (stateless, shared).
NUMPY = NumpyBackend()


def backend_of(x):
    """The backend of ``x``: torch for a torch tensor (on its device), numpy otherwise."""
    if optional.is_torch_tensor(x):
        return TorchBackend(x.device)
    return NUMPY


def power_of_two_scaled(X, axis=None):
    """``X`` divided by the power of two that brings its largest ``|entry|`` into [0.5, 1).

    Division by a power of two is exact in floating point, so every quantity
    that does not depend on the scale is unchanged bit for bit, while squares
    and products of data at 1e300 or 1e-300 no longer overflow or underflow.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    axis : None or 0, default=None
        ``None``: one power for the whole array; ``0``: one per column.

    Returns
    -------
    X_scaled : ndarray of shape (n, d), float64
    exponent : int or ndarray of shape (d,)
        ``X = X_scaled * 2**exponent``.
    """
    X = np.asarray(X, dtype=np.float64)
    largest = np.max(np.abs(X), axis=axis) if X.size else np.float64(0.0)
    exponent = np.where(largest > 0, np.frexp(largest)[1], 0).astype(np.int64)
    if axis is None:
        exponent = int(exponent)
    return np.ldexp(X, -exponent), exponent
