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

__all__ = ["NumpyBackend", "TorchBackend", "backend_of", "NUMPY"]


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


#: The numpy backend (stateless, shared).
NUMPY = NumpyBackend()


def backend_of(x):
    """The backend of ``x``: torch for a torch tensor (on its device), numpy otherwise."""
    if optional.is_torch_tensor(x):
        return TorchBackend(x.device)
    return NUMPY
