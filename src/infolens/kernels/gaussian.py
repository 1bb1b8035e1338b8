"""The Gaussian affinity and the diffusion normalisation, for numpy and torch.

Conventions
-----------
The Gaussian kernel is ``exp(-d**2 / (2 * sigma**2))`` on Euclidean distances
``d`` (:mod:`infolens.kernels.bandwidth`); the reference package's constant
prefactor ``1/(sigma*sqrt(2*pi))`` cancels in every measure and is dropped.

Density normalisation with power ``alpha`` (Coifman & Lafon 2006) replaces the
affinity ``G`` by ``G_ij / (q_i q_j)**alpha`` with ``q`` the row sums of ``G``.
The diffusion operator ``P`` is the row-normalised result; its eigenvalues are
those of the symmetric matrix ``M = D^{-1/2} K D^{-1/2}`` (``D`` the row sums of
``K``), applied here as ``M = diag(w) G diag(w)``.  ``M`` has the eigenvector
``sqrt(D)`` with eigenvalue 1 (the *trivial* eigenpair), returned for
analytic deflation.  :func:`diffusion_scaling` is the one place that computes
``w`` and that vector, for dense matrices and matrix-free operators alike.
"""

from __future__ import annotations

import numpy as np

from infolens.core.backend import NUMPY, backend_of
from infolens.kernels.distances import squared_distances

__all__ = [
    "DiffusionOperator",
    "affinity_matrix",
    "diffusion_from_affinity",
    "diffusion_operator",
    "diffusion_scaling",
    "gaussian_affinity",
    "normalise_affinity",
    "reference_float32_affinity",
    "reference_float32_distances",
]


def gaussian_affinity(sq_dist, sigma, out=None, xp=None):
    """``exp(-sq_dist / (2 sigma^2))``, computed in place when ``out is sq_dist``.

    Parameters
    ----------
    sq_dist : array of shape (n, m)
        Squared distances (numpy or torch), squared units of the data.
    sigma : float
        Bandwidth, units of the data.
    out : array, optional
        Where to write (``sq_dist`` itself for in place).
    """
    xp = backend_of(sq_dist) if xp is None else xp
    if out is None:
        out = sq_dist * (-0.5 / sigma**2)
    else:
        if out is not sq_dist:
            out[...] = sq_dist
        out *= -0.5 / sigma**2
    return xp.exp_(out)


def reference_float32_distances(X):
    """Distances as ``dse-dsmi`` gets them for float32 embeddings (scikit-learn's float32
    path): squared distances rounded to float32, square root taken in float32."""
    d2 = squared_distances(np.asarray(X, dtype=np.float64)).astype(np.float32)
    return np.sqrt(d2)


def reference_float32_affinity(X, sigma):
    """``dse-dsmi``'s Gaussian kernel of float32 embeddings, evaluated in float32 (as a
    float64 array of shape (n, n))."""
    d = reference_float32_distances(X)
    return np.exp(-(d * d) / np.float32(2.0 * sigma**2)).astype(np.float64)


def diffusion_scaling(row_sums, alpha, matvec=None, xp=NUMPY):
    """The scaling ``w`` with ``M = diag(w) G diag(w)`` and the trivial vector.

    Parameters
    ----------
    row_sums : array of shape (n,)
        Row sums ``q = G 1`` of the affinity.
    alpha : float in [0, 1]
        Density-normalisation power.
    matvec : callable, optional
        ``matvec(u) -> G @ u``; needed when ``alpha > 0``.
    xp : backend

    Returns
    -------
    w : array of shape (n,)
    trivial_vector : array of shape (n,)
        Unit eigenvector of ``M`` with eigenvalue 1 (``sqrt(degree)`` normalised).
    degree : array of shape (n,)
        Row sums of the density-normalised kernel ``K``.
    """
    if alpha > 0:
        pre = row_sums**-alpha
        degree = pre * matvec(pre)
        w = pre / xp.sqrt(degree)
    else:
        degree = row_sums
        w = 1.0 / xp.sqrt(degree)
    v = xp.sqrt(degree)
    v = v / xp.norm(v)
    return w, v, degree


def normalise_affinity(K, alpha=0.0, xp=None):
    """Scale a dense symmetric affinity, in place, into ``M``; return the trivial vector.

    Parameters
    ----------
    K : array of shape (n, n), float64 (numpy or torch)
        Overwritten with ``M = diag(w) K diag(w)``.
    alpha : float in [0, 1]
    """
    xp = backend_of(K) if xp is None else xp
    w, v, _ = diffusion_scaling(xp.row_sums(K), alpha, lambda u: K @ u, xp)
    K *= w[:, None]
    K *= w[None, :]
    return v


class DiffusionOperator:
    """The symmetric diffusion matrix and its trivial eigenvector.

    Attributes
    ----------
    matrix : ndarray of shape (n, n)
        ``M = D^{-1/2} K D^{-1/2}``, with the eigenvalues of the diffusion
        operator ``P = D^{-1} K``.
    trivial_vector : ndarray of shape (n,)
        Unit eigenvector of ``M`` with eigenvalue 1.
    sigma, alpha : float
        The bandwidth and density-normalisation power used.
    """

    def __init__(self, matrix, trivial_vector, sigma, alpha):
        self.matrix = matrix
        self.trivial_vector = trivial_vector
        self.sigma = sigma
        self.alpha = alpha

    @property
    def n(self):
        return self.matrix.shape[0]

    def markov_matrix(self):
        """The row-stochastic ``P``, rebuilt from ``M`` (``P = D^{-1/2} M D^{1/2}``)."""
        s = self.trivial_vector
        with np.errstate(divide="ignore", invalid="ignore"):
            P = self.matrix * s[None, :]  # one N x N result, no N x N ratio temporary
            P /= s[:, None]
        return P


def diffusion_operator(Z, sigma, alpha=0.0, xp=NUMPY, *, reference_float32=False):
    """Build the dense symmetric diffusion matrix of ``Z`` in one N x N buffer.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    sigma : float
        Gaussian bandwidth (already resolved), units of ``Z``.
    alpha : float in [0, 1]
        Density-normalisation power (0: plain random walk, as ``dse-dsmi``;
        0.5: the paper's propositions; 1: Laplace-Beltrami).
    xp : backend, default numpy
        A ``TorchBackend`` builds it on that backend's device.
    reference_float32 : bool, default=False
        Evaluate the kernel in float32 as ``dse-dsmi`` does for float32
        embeddings (numpy, ``alpha = 0`` only; ignored otherwise).

    Returns
    -------
    DiffusionOperator
    """
    if reference_float32 and alpha == 0:
        return diffusion_from_affinity(reference_float32_affinity(Z, sigma), sigma)
    M = squared_distances(xp.asarray(Z), xp=xp)
    gaussian_affinity(M, sigma, out=M, xp=xp)
    return diffusion_from_affinity(M, sigma, alpha, xp=xp)


def diffusion_from_affinity(K, sigma, alpha=0.0, xp=None):
    """Normalise an affinity matrix, in place, into the symmetric diffusion matrix.

    Parameters
    ----------
    K : array of shape (n, n), float64
        Symmetric non-negative affinity; overwritten with ``M``.
    sigma : float
        The bandwidth ``K`` was built with (recorded only).
    alpha : float in [0, 1]
        Density-normalisation power, as in :func:`diffusion_operator`.

    Returns
    -------
    DiffusionOperator
    """
    return DiffusionOperator(K, normalise_affinity(K, alpha, xp), sigma, alpha)


def affinity_matrix(X, sigma, *, reference_float32=False):
    """The dense Gaussian affinity of the rows of ``X``, shape (n, n), float64.

    ``reference_float32`` evaluates it in float32 as ``dse-dsmi`` does for float32
    embeddings (:func:`reference_float32_affinity`).
    """
    if reference_float32:
        return reference_float32_affinity(X, sigma)
    D2 = squared_distances(np.asarray(X, dtype=np.float64))
    return gaussian_affinity(D2, sigma, out=D2)
