"""Eigenvalues of symmetric operators and entropies of spectra.

The dense exact path deflates the known trivial eigenpair ``(1, v)`` of a
diffusion matrix before the eigen-solve: ``M - v v^T`` has the spectrum of
``M`` with 1 replaced by 0, and a norm equal to the second-largest eigenvalue
magnitude.  Rounding errors of a backward-stable solver scale with that norm,
which makes a single-precision solve accurate enough for most spectra; an
error estimate decides, and the solve is repeated in double precision when the
estimate exceeds the tolerance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from infolens.core.validation import InvalidParameterError
from infolens.spectrum.slq import block_lanczos

__all__ = [
    "PRECISIONS",
    "Spectrum",
    "check_dense_memory",
    "entropy_of_weights",
    "float32_error_estimate",
    "float32_error_forecast",
    "spectral_entropy",
    "symmetric_eigenvalues",
]

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


@dataclass
class Spectrum:
    """Eigenvalues of a symmetric operator.

    Attributes
    ----------
    values : ndarray of shape (n,)
        All eigenvalues in ascending order, float64.
    trivial_index : int or None
        Position in ``values`` of the trivial eigenvalue 1 of a diffusion
        operator, when it is known.
    precision : str
        ``"float64"`` or ``"float32"``: the precision the solver ran in.
    error_estimate_bits : float or None
        For a single-precision solve, the estimated entropy error that
        justified it.
    """

    values: np.ndarray
    trivial_index: int | None
    precision: str
    error_estimate_bits: float | None = None

    def nontrivial(self):
        """The eigenvalues without the trivial one (all of them when it is unknown)."""
        if self.trivial_index is None:
            return self.values
        return np.delete(self.values, self.trivial_index)


def available_memory_bytes():
    """Memory the process can still allocate (MemAvailable on Linux), or None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def dense_memory_bytes(n):
    """Peak bytes of the dense exact path for ``n`` points (float64 matrix + float32 copy)."""
    return 12 * n * n + 64 * n


def check_dense_memory(n, caller):
    """Refuse, with the alternatives, an exact dense solve that would not fit in memory."""
    need = dense_memory_bytes(n)
    have = available_memory_bytes()
    if have is not None and need > 0.8 * have:
        raise InvalidParameterError(
            f"{caller}: the exact method for {n} points needs about {need / 2**30:.1f} GiB "
            f"(an {n} x {n} matrix) but only {have / 2**30:.1f} GiB is available. Pass "
            f"max_n=<smaller n> to subsample, or split the data."
        )


def symmetric_eigenvalues(M, trivial_vector=None, precision="auto", *, t=1, overwrite=False,
                          keep_trivial=None):
    """All eigenvalues of a dense symmetric matrix.

    Parameters
    ----------
    M : ndarray of shape (n, n)
        Symmetric; only its lower triangle is read.
    trivial_vector : ndarray of shape (n,), optional
        Unit eigenvector with eigenvalue exactly 1.  When given it is deflated
        before the solve and 1 is put back exactly.
    precision : {"auto", "mixed", "float64", "float32"}
        ``"mixed"`` (or ``"auto"``) solves in float32 when ``n >= FLOAT32_MIN_N``, the
        error forecast made before the solve is below ``FLOAT32_FORECAST_FRACTION``
        of ``FLOAT32_TOLERANCE_BITS`` and the estimated error of the DSE at
        diffusion time ``t`` after it is at most ``FLOAT32_TOLERANCE_BITS``; in
        float64 otherwise.
    t : int
        Diffusion time used by the error estimate of ``"auto"``.
    overwrite : bool
        Allow ``M`` to be modified (saves one N x N copy in double precision).
    keep_trivial : bool or None
        Whether the entropy the ``"auto"`` estimate is for keeps the trivial
        eigenvalue; None (unknown) takes the larger estimate of the two.

    Returns
    -------
    Spectrum
    """
    n = M.shape[0]
    deflated = trivial_vector is not None
    checked = precision in ("auto", "mixed")
    use32 = precision == "float32" or (checked and n >= FLOAT32_MIN_N)
    estimate = None
    values = None
    if use32:
        forecast = 0.0
        if checked:
            forecast = float32_error_forecast(M, t, trivial_vector=trivial_vector,
                                              keep_trivial=keep_trivial)
        if forecast <= FLOAT32_FORECAST_FRACTION * FLOAT32_TOLERANCE_BITS:
            # Deflate in float64 and round once: the float32 matrix is the only copy.
            values = _eigvalsh(_deflate(M, trivial_vector, np.float32, overwrite=False))
        if checked and values is not None:
            trace = float(np.trace(M))
            if deflated:
                trace -= float(trivial_vector @ trivial_vector)
            estimate = float32_error_estimate(values, t, deflated=deflated, trace=trace,
                                              keep_trivial=keep_trivial)
            if estimate > FLOAT32_TOLERANCE_BITS:
                values = None
    if values is None:
        values = _eigvalsh(_deflate(M, trivial_vector, np.float64, overwrite=overwrite))
        use32 = False
        estimate = None
    trivial_index = None
    if deflated:
        values, trivial_index = _restore_trivial(values)
    return Spectrum(values, trivial_index, "float32" if use32 else "float64", estimate)


def _restore_trivial(values):
    """Put the eigenvalue 1 back in place of the deflated one; returns (values, its index)."""
    # The deflated eigenvalue is (numerically) the one closest to zero.
    k = int(np.argmin(np.abs(values)))
    values = np.sort(np.concatenate([np.delete(values, k), [1.0]]))
    return values, int(np.searchsorted(values, 1.0, side="right") - 1)


#: Elements of one row block of the deflation (2 MiB of float64 temporaries).
_BLOCK_ELEMENTS = 1 << 18


def _deflate(M, v, dtype, overwrite):
    """``M - v v^T`` (or ``M`` when ``v`` is None) as a C-ordered ``dtype`` matrix.

    Works in row blocks so that no N x N temporary is made; the difference is
    formed in float64 and rounded once when ``dtype`` is float32.  With
    ``overwrite`` and a float64 ``dtype``, ``M`` itself is modified and returned.
    """
    n = M.shape[0]
    if overwrite and dtype == M.dtype and M.flags.c_contiguous:
        out = M
    else:
        out = np.empty((n, n), dtype=dtype)
    step = max(1, _BLOCK_ELEMENTS // max(n, 1))
    for start in range(0, n, step):
        rows = slice(start, start + step)
        if v is None:
            if out is not M:
                out[rows] = M[rows]
        else:
            np.subtract(M[rows], np.multiply.outer(v[rows], v), out=out[rows],
                        casting="same_kind")
    return out


def _eigvalsh(A):
    """Eigenvalues (float64, ascending) of the symmetric C-ordered ``A``, destroying ``A``.

    LAPACK wants Fortran order; for a C-ordered array scipy would first make a
    Fortran copy.  ``A.T`` is that Fortran-ordered view, and its upper
    triangle is the lower triangle of ``A``, so no copy is made.
    """
    if A.flags.c_contiguous:
        A, lower = A.T, False
    else:
        lower = True
    values = scipy.linalg.eigh(
        A, lower=lower, eigvals_only=True, driver="evd", overwrite_a=True, check_finite=False
    )
    return values.astype(np.float64)


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


def entropy_of_weights(weights, log_base, *, reference_eps=False):
    """Shannon entropy of non-negative weights after normalisation.

    Parameters
    ----------
    weights : ndarray
        Non-negative; normalised to sum to one here.
    log_base : float
        ``log`` of the unit's base (``log 2`` for bits, 1 for nats).
    reference_eps : bool
        Add machine epsilon to every probability before taking logs, as
        ``dse-dsmi`` does (used by the parity preset only).

    Returns
    -------
    float
        The entropy, 0 when all weights are zero.
    """
    total = weights.sum()
    if total <= 0:
        return 0.0
    p = weights / total
    if reference_eps:
        p = p + np.finfo(float).eps
    else:
        p = p[p > 0]
    return float(-(p * np.log(p)).sum() / log_base)


def spectral_entropy(spectrum, t, *, keep_trivial=True, log_base=np.log(2.0), reference_eps=False):
    """Entropy of the normalised powers ``|lambda_i|^t`` of a spectrum.

    Parameters
    ----------
    spectrum : Spectrum or ndarray
    t : int
        Diffusion time (power of the eigenvalues).
    keep_trivial : bool
        Include the trivial eigenvalue 1.
    log_base : float
        ``log`` of the unit's base.
    reference_eps : bool
        Reproduce ``dse-dsmi``'s epsilon offset.
    """
    if isinstance(spectrum, Spectrum):
        values = spectrum.values if keep_trivial else spectrum.nontrivial()
    else:
        values = np.asarray(spectrum, dtype=np.float64)
    if t < 1:
        raise InvalidParameterError(f"t must be >= 1; got {t}.")
    magnitudes = np.abs(values)
    largest = magnitudes.max(initial=0.0)
    if largest > 0:
        # Normalising before the power keeps |lambda|^t from underflowing to all zeros at
        # large t (the probabilities are unchanged).
        magnitudes = magnitudes / largest
    return entropy_of_weights(magnitudes**t, log_base, reference_eps=reference_eps)
