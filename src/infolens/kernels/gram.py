"""Gram matrices of the kernel-matrix measures: Gaussian, cosine, linear and labels.

The Gaussian kernel goes through :func:`infolens.kernels.gaussian.affinity_matrix`
(the one Gaussian kernel of the package); the memory of an N x N matrix is
checked by the caller (:func:`infolens.spectrum.planning.check_exact_memory`).
"""

from __future__ import annotations

import numpy as np

from infolens.core.validation import InvalidParameterError
from infolens.core.backend import power_of_two_scaled
from infolens.kernels.bandwidth import unit_scaled_bandwidth
from infolens.kernels.gaussian import affinity_matrix

__all__ = ["KERNELS", "gram_matrix", "label_gram", "row_normalise"]

#: Kernels of the kernel-matrix measures.
KERNELS = ("gaussian", "cosine", "linear")


def gram_matrix(X, kernel, sigma, caller):
    """Kernel matrix of the rows of ``X`` with unit diagonal (gaussian, cosine) or ``X X^T``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    kernel : {"gaussian", "cosine", "linear"}
    sigma : float or {"knn", "median", "rms"}
        Gaussian bandwidth (units of ``X``).
    caller : str

    Returns
    -------
    K : ndarray of shape (n, n)
        The linear kernel is that of ``X`` divided by a power of two (so that
        data at 1e300 does not overflow): normalise it by its trace.
    sigma : float or None
        The resolved Gaussian bandwidth (units of ``X``), None for other kernels.
    """
    if kernel == "gaussian":
        X_unit, s_unit, s = unit_scaled_bandwidth(X, sigma, caller)
        return affinity_matrix(X_unit, s_unit), s
    # Scaled by a power of two: the cosine kernel is unchanged bit for bit and the
    # linear one by a power of two that its trace normalisation removes.
    X = power_of_two_scaled(X)[0]
    F = row_normalise(X) if kernel == "cosine" else X
    return F @ np.ascontiguousarray(F.T), None


def label_gram(codes):
    """The delta kernel ``1[y_i = y_j]`` of integer labels, shape (n, n), float64."""
    return (codes[:, None] == codes[None, :]).astype(np.float64)


def row_normalise(X):
    """Each row of ``X`` divided by its Euclidean norm (all-zero rows are refused)."""
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise InvalidParameterError(
            "The cosine kernel needs every row of Z to be non-zero; got "
            f"{int((norms == 0).sum())} all-zero rows. Drop them or use kernel='gaussian'.")
    return X / norms
