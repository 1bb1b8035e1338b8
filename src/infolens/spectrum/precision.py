"""The float32 precision model of the exact eigen-solve.

A backward-stable single-precision solve of the deflated diffusion matrix
carries eigenvalue errors of order ``sqrt(n) eps32 ||A||``.  This module
estimates what that does to the entropy: before the solve, from a short
Lanczos run (:func:`float32_error_forecast`, to skip a float32 solve that
would be rejected), and after it, from the computed eigenvalues
(:func:`float32_error_estimate`, which decides whether the float32 result is
kept).  ``benchmarks/bench_precision.py`` calibrates both.
"""

from __future__ import annotations

import numpy as np

from infolens.spectrum.lanczos import block_lanczos

__all__ = [
    "FLOAT32_FORECAST_FRACTION",
    "FLOAT32_MIN_N",
    "FLOAT32_TOLERANCE_BITS",
    "PRECISIONS",
    "float32_error_estimate",
    "float32_error_forecast",
]

#: Precisions of the eigen-solver (the ``precision`` parameter of the spectral measures).
PRECISIONS = ("auto", "float64", "float32", "mixed")

#: Below this size a double-precision solve is cheap enough that ``"auto"``
#: never trades accuracy for speed.
FLOAT32_MIN_N = 1024

#: Largest estimated entropy error (bits) that ``precision="auto"`` accepts
#: from a single-precision solve.
FLOAT32_TOLERANCE_BITS = 1e-6

#: Eigenvalue error of a single-precision solve, in units of
#: ``sqrt(n) * eps32 * ||A||``, assumed by the estimate.  Calibrated with
#: ``benchmarks/bench_precision.py``: the measured error stays below the
#: estimate in every case there, the part not fixed by the exact trace by a
#: factor >= 2.5 (``benchmarks/RESULTS.md``).
FLOAT32_ERROR_SCALE = 1.0

#: ``"mixed"`` attempts the single-precision solve only when the error
#: forecast made before it (:func:`float32_error_forecast`) is at most this
#: fraction of ``FLOAT32_TOLERANCE_BITS``.  The forecast cannot see the term
#: of the estimate fixed by the exact trace; it is usually within 30 % of
#: the rest of the estimate, and low by up to 3x when many eigenvalues lie
#: near 0 (the estimate after the solve then still rejects).  A borderline
#: case goes straight to double precision instead of paying for a float32
#: solve that would likely be rejected.
FLOAT32_FORECAST_FRACTION = 0.75

_EPS32 = float(np.finfo(np.float32).eps)


def float32_error_estimate(values, t, deflated=True, *, trace=None, keep_trivial=None):
    """Estimated entropy error (bits) of eigenvalues computed in single precision.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Eigenvalues returned by the single-precision solve (when ``deflated``,
        the deflated matrix's, the one standing for the trivial eigenvalue
        included).
    t : int
        Diffusion time.
    deflated : bool
        The trivial eigenvalue 1 was deflated (it is exact and put back).
    trace : float, optional
        Exact (float64) trace of the matrix that was solved.
    keep_trivial : bool or None
        Whether the entropy keeps the trivial eigenvalue; None: the larger of
        the two estimates.

    Returns
    -------
    float
        Estimated ``|DSE_float32 - DSE_exact|`` in bits.

    Notes
    -----
    Each eigenvalue of a backward-stable single-precision solve carries an
    error ``e_i`` of order ``delta = FLOAT32_ERROR_SCALE * sqrt(n) * eps32 * ||A||``
    (the measured errors grow with ``n`` about as ``sqrt(n)``).  It
    reaches the entropy through ``g_i = dS/d lambda_i`` (first order) and
    ``-1/(2 p_i) dp_i^2`` (second order, which dominates near a uniform
    spectrum and, for ``t = 1``, for eigenvalues near 0, where the modulus
    biases every error the same way).  When the exact ``trace`` is known, the
    mean of ``g`` multiplies ``sum_i e_i = sum_i values_i - trace``, which is
    then known, and only ``g`` minus its mean is weighed with ``delta``,
    contributions added in quadrature.  Eigenvalues below ``delta`` are
    treated as ``delta``.  ``benchmarks/bench_precision.py`` compares the
    estimate with the actual error on a grid of data sets, sizes, bandwidths,
    ``t`` and ``keep_trivial``.
    """
    values = np.asarray(values, dtype=np.float64)
    delta = _eigenvalue_error(values.size, np.max(np.abs(values)))
    v = np.delete(values, int(np.argmin(np.abs(values)))) if deflated else values
    known_sum = None if trace is None else float(values.sum()) - float(trace)
    keeps = (True, False) if keep_trivial is None else (bool(keep_trivial),)
    return max(
        _entropy_error(v, t, delta, known_sum, deflated and keep) for keep in keeps
    )


def float32_error_forecast(M, t, *, trivial_vector=None, keep_trivial=None, n_probes=4,
                           n_steps=12, seed=0):
    """Forecast of :func:`float32_error_estimate` from a short Lanczos run.

    Made before a single-precision solve, to skip one whose error estimate
    would reject it.

    Parameters
    ----------
    M : ndarray of shape (n, n)
        The symmetric matrix to be solved (not modified).
    t : int
        Diffusion time.
    trivial_vector : ndarray of shape (n,), optional
        Unit eigenvector of ``M`` with eigenvalue 1, deflated as in
        :func:`symmetric_eigenvalues`.
    keep_trivial : bool or None
        As in :func:`float32_error_estimate`.
    n_probes, n_steps : int
        Block size and number of blocks of the Lanczos run
        (``n_probes * n_steps`` products with ``M``: 3-5 % of the cost of the
        solve at n = 4000).
    seed : int
        Seed of the Rademacher probes.

    Returns
    -------
    float
        The estimate's first- and second-order terms (bits), evaluated on the
        Gauss quadrature nodes of the Lanczos run, each weighted by the number
        of eigenvalues it stands for, as if the sum of the eigenvalue errors
        were known to be 0: the term it fixes needs the computed eigenvalues.
    """
    n = M.shape[0]
    b = max(1, min(n_probes, n // 4))
    m = max(1, min(n_steps, (n // 2) // b))
    probes = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, b))
    v = trivial_vector

    def matmat(X):
        return M @ X if v is None else M @ X - np.outer(v, v @ X)

    T, R0, _ = block_lanczos(matmat, probes, m)
    nodes, Y = np.linalg.eigh(T)
    weights = ((R0.T @ Y[:b]) ** 2).mean(axis=0)  # sums to n for Rademacher probes
    delta = _eigenvalue_error(n, np.max(np.abs(nodes)))
    keeps = (True, False) if keep_trivial is None else (bool(keep_trivial),)
    return max(
        _entropy_error(nodes, t, delta, 0.0, v is not None and keep, weights=weights)
        for keep in keeps
    )


def _eigenvalue_error(n, norm):
    """The model's eigenvalue error of a single-precision solve: ``sqrt(n) eps32 ||A||``."""
    return FLOAT32_ERROR_SCALE * np.sqrt(n) * _EPS32 * max(float(norm), 1e-300)


def _entropy_error(v, t, delta, known_sum, with_one, weights=None):
    """The estimate of :func:`float32_error_estimate` for one entropy (bits).

    ``weights`` (default 1) is the number of eigenvalues each entry of ``v``
    stands for.
    """
    w = np.ones_like(v) if weights is None else weights
    lam = np.maximum(np.abs(v), delta)
    f = lam**t
    Z = (w * f).sum() + (1.0 if with_one else 0.0)
    p = f / Z
    S = -(w * p * np.log(p)).sum() + (np.log(Z) / Z if with_one else 0.0)
    g = -t * lam ** (t - 1) * np.sign(v) * (np.log(p) + S) / Z
    known = 0.0
    if known_sum is not None and g.size:
        mean = (w * g).sum() / w.sum()
        known = abs(mean * known_sum)
        g = g - mean
    first = delta * np.sqrt((w * g**2).sum())
    second = 0.5 * t * t * delta**2 * (w * lam ** (t - 2)).sum() / Z
    return float((known + first + second) / np.log(2.0))
