"""Bandwidth rules and dense Gaussian affinities.

Conventions
-----------
The Gaussian kernel is ``exp(-d**2 / (2 * sigma**2))`` on Euclidean distances
``d``: ``sigma`` is a length in the units of the embeddings, as in the
reference package ``dse-dsmi`` (whose constant prefactor ``1/(sigma*sqrt(2*pi))``
cancels in every measure and is therefore dropped).

Density normalisation with power ``alpha`` (Coifman & Lafon 2006) replaces the
affinity ``G`` by ``G_ij / (q_i q_j)**alpha`` with ``q`` the row sums of ``G``.
The diffusion operator ``P`` is the row-normalised result; its eigenvalues are
those of the symmetric matrix ``M = D^{-1/2} K D^{-1/2}`` (``D`` the row sums of
``K``), which is what is built here.  ``M`` has the eigenvector ``sqrt(D)`` with
eigenvalue 1 (the *trivial* eigenpair), returned for analytic deflation.
"""

from __future__ import annotations

import numbers

import numpy as np

from infolens.core.validation import InvalidParameterError, check_option

__all__ = [
    "BANDWIDTH_RULES",
    "DiffusionOperator",
    "diffusion_from_affinity",
    "diffusion_operator",
    "gaussian_affinity",
    "resolve_bandwidth",
    "squared_distances",
]

#: Named bandwidth rules.  Each is a degree-one homogeneous function of the
#: pairwise distances, so the kernel, and every measure built on it, is
#: unchanged by ``Z -> c * Z + b`` for any ``c > 0`` and shift ``b``.
BANDWIDTH_RULES = ("median", "rms")

#: Largest number of points whose pairwise distances enter the median rule;
#: larger inputs use a subsample drawn with a fixed seed (so the rule stays
#: deterministic and scale-invariant).
MEDIAN_SAMPLE_SIZE = 2048


def squared_distances(A, B=None):
    """Squared Euclidean distances by one matrix product on centred data.

    Parameters
    ----------
    A : ndarray of shape (n, d)
    B : ndarray of shape (m, d), optional
        Defaults to ``A`` (then the diagonal is exactly 0).

    Returns
    -------
    ndarray of shape (n, m), dtype of ``A``
        Non-negative squared distances, in squared units of the input.

    Notes
    -----
    Centring removes the cancellation error that ``|a|^2 + |b|^2 - 2 a.b``
    suffers when the data sit far from the origin.  The right-hand factor is an
    explicit transposed copy: ``A @ A.T`` on a view of the same buffer takes
    OpenBLAS's SYRK path, which crashes for large float64 inputs on some builds.
    """
    same = B is None
    mean = A.mean(axis=0)
    Ac = A - mean
    Bc = Ac if same else B - mean
    out = Ac @ np.ascontiguousarray(Bc.T)
    out *= -2.0
    out += np.einsum("ij,ij->i", Ac, Ac)[:, None]
    out += np.einsum("ij,ij->i", Bc, Bc)[None, :]
    np.maximum(out, 0.0, out=out)
    if same:
        np.fill_diagonal(out, 0.0)
    return out


def resolve_bandwidth(Z, sigma, caller="dse"):
    """Turn ``sigma`` (a positive number or a rule name) into a number.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    sigma : float or {"median", "rms"}
        * a positive number: used as is (same units as ``Z``);
        * ``"median"``: the median Euclidean distance between distinct pairs of
          points (over a fixed-seed subsample of ``MEDIAN_SAMPLE_SIZE`` points
          when ``n_samples`` is larger);
        * ``"rms"``: the root-mean-square distance between distinct pairs,
          ``sqrt(2 n / (n - 1) * trace(cov(Z)))``, exact and O(n d).

    Returns
    -------
    float
        The bandwidth.  For a rule on data whose points all coincide, 1.0 (any
        value gives the same all-ones kernel there).
    """
    if isinstance(sigma, numbers.Real) and not isinstance(sigma, bool):
        if not np.isfinite(sigma) or sigma <= 0:
            raise InvalidParameterError(
                f"The 'sigma' parameter of {caller} must be a float in the range (0, inf) or "
                f"one of {', '.join(map(repr, BANDWIDTH_RULES))}. Got {sigma!r} instead. "
                f"Pass a positive length in the units of Z, or sigma='median' for a "
                f"scale-aware bandwidth."
            )
        return float(sigma)
    if not isinstance(sigma, str):
        raise InvalidParameterError(
            f"The 'sigma' parameter of {caller} must be a float in the range (0, inf) or one "
            f"of {', '.join(map(repr, BANDWIDTH_RULES))}. Got {sigma!r} instead."
        )
    check_option(sigma, "sigma", caller, BANDWIDTH_RULES)
    n = Z.shape[0]
    Z = np.asarray(Z, dtype=np.float64)
    if sigma == "rms":
        var = Z.var(axis=0).sum()
        value = float(np.sqrt(2.0 * n / (n - 1) * var))
    else:
        if n > MEDIAN_SAMPLE_SIZE:
            idx = np.random.default_rng(0).choice(n, MEDIAN_SAMPLE_SIZE, replace=False)
            Z = Z[np.sort(idx)]
        d2 = squared_distances(Z)
        pairs = np.sqrt(d2[np.triu_indices(Z.shape[0], k=1)])
        value = float(np.median(pairs))
        if value == 0.0:
            nonzero = pairs[pairs > 0]
            value = float(nonzero.mean()) if nonzero.size else 0.0
    return value if value > 0 else 1.0


def gaussian_affinity(sq_dist, sigma, out=None):
    """``exp(-sq_dist / (2 sigma^2))``, computed in place when ``out is sq_dist``."""
    out = np.multiply(sq_dist, -0.5 / sigma**2, out=out)
    return np.exp(out, out=out)


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


def diffusion_operator(Z, sigma, alpha=0.0):
    """Build the dense symmetric diffusion matrix of ``Z`` in one N x N buffer.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    sigma : float
        Gaussian bandwidth (already resolved), units of ``Z``.
    alpha : float in [0, 1]
        Density-normalisation power (0: plain random walk, as ``dse-dsmi``;
        0.5: the paper's propositions; 1: Laplace-Beltrami).

    Returns
    -------
    DiffusionOperator
    """
    M = squared_distances(np.asarray(Z, dtype=np.float64))
    gaussian_affinity(M, sigma, out=M)
    return diffusion_from_affinity(M, sigma, alpha)


def diffusion_from_affinity(K, sigma, alpha=0.0):
    """Normalise an affinity matrix, in place, into the symmetric diffusion matrix.

    Parameters
    ----------
    K : ndarray of shape (n, n), float64
        Symmetric non-negative affinity; overwritten with ``M``.
    sigma : float
        The bandwidth ``K`` was built with (recorded only).
    alpha : float in [0, 1]
        Density-normalisation power, as in :func:`diffusion_operator`.

    Returns
    -------
    DiffusionOperator
    """
    if alpha > 0:
        q = K.sum(axis=1) ** -alpha
        K *= q[:, None]
        K *= q[None, :]
    degree = K.sum(axis=1)
    scale = 1.0 / np.sqrt(degree)
    K *= scale[:, None]
    K *= scale[None, :]
    v = np.sqrt(degree)
    v /= np.linalg.norm(v)
    return DiffusionOperator(K, v, sigma, alpha)
