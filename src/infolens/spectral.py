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

from ._validation import InvalidParameterError

__all__ = [
    "PRECISIONS",
    "Spectrum",
    "check_dense_memory",
    "entropy_of_weights",
    "spectral_entropy",
    "symmetric_eigenvalues",
]

PRECISIONS = ("auto", "float64", "float32")

#: Below this size a double-precision solve is cheap enough that ``"auto"``
#: never trades accuracy for speed.
FLOAT32_MIN_N = 1024

#: Largest estimated entropy error (bits) that ``precision="auto"`` accepts
#: from a single-precision solve.
FLOAT32_TOLERANCE_BITS = 1e-6

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


def symmetric_eigenvalues(M, trivial_vector=None, precision="auto", *, t=1, overwrite=False):
    """All eigenvalues of a dense symmetric matrix.

    Parameters
    ----------
    M : ndarray of shape (n, n)
        Symmetric; only its lower triangle is read.
    trivial_vector : ndarray of shape (n,), optional
        Unit eigenvector with eigenvalue exactly 1.  When given it is deflated
        before the solve and 1 is put back exactly.
    precision : {"auto", "float64", "float32"}
        ``"auto"`` solves in float32 when ``n >= FLOAT32_MIN_N`` and the
        estimated error of the DSE at diffusion time ``t`` is at most
        ``FLOAT32_TOLERANCE_BITS``, and in float64 otherwise.
    t : int
        Diffusion time used by the error estimate of ``"auto"``.
    overwrite : bool
        Allow ``M`` to be modified (saves one N x N copy).

    Returns
    -------
    Spectrum
    """
    n = M.shape[0]
    A = M if overwrite else M.copy()
    if trivial_vector is not None:
        v = trivial_vector
        for start in range(0, n, 1024):  # row blocks: no N x N temporary
            A[start : start + 1024] -= np.outer(v[start : start + 1024], v)
    use32 = precision == "float32" or (precision == "auto" and n >= FLOAT32_MIN_N)
    estimate = None
    values = None
    if use32:
        values = _eigvalsh(A.astype(np.float32), overwrite=True)
        if precision == "auto":
            estimate = float32_error_estimate(values, t, deflated=trivial_vector is not None)
            if estimate > FLOAT32_TOLERANCE_BITS:
                values = None
    if values is None:
        values = _eigvalsh(A, overwrite=True)
        use32 = False
        estimate = None
    trivial_index = None
    if trivial_vector is not None:
        # The deflated eigenvalue is (numerically) the one closest to zero.
        k = int(np.argmin(np.abs(values)))
        values = np.sort(np.concatenate([np.delete(values, k), [1.0]]))
        trivial_index = int(np.searchsorted(values, 1.0, side="right") - 1)
    return Spectrum(values, trivial_index, "float32" if use32 else "float64", estimate)


def _eigvalsh(A, overwrite):
    values = scipy.linalg.eigh(
        A, eigvals_only=True, driver="evd", overwrite_a=overwrite, check_finite=False
    )
    return values.astype(np.float64)


def float32_error_estimate(values, t, deflated=True):
    """Estimated entropy error (bits) of eigenvalues computed in single precision.

    Each eigenvalue of a backward-stable single-precision solve carries an
    error of order ``eps32 * ||A||``.  The estimate propagates that error
    through the first-order sensitivity of the entropy,
    ``dS/d lambda_i = t |lambda_i|^(t-1) |log p_i + S| / Z``, adding the
    contributions in quadrature (the errors are uncorrelated in practice) and
    multiplying by a safety factor of 4.  The benchmark
    ``benchmarks/bench_core.py --precision`` compares it with the true error.
    """
    delta = _EPS32 * max(float(np.max(np.abs(values))), 1e-300)
    lam = np.abs(values)
    if deflated:
        lam = np.concatenate([lam, [1.0]])
    lam = np.maximum(lam, delta)
    f = lam**t
    Z = f.sum()
    p = f / Z
    S = -(p * np.log(p)).sum()
    grad = t * lam ** (t - 1) * np.abs(np.log(p) + S) / Z
    return float(4.0 * delta * np.sqrt((grad**2).sum()) / np.log(2.0))


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
    return entropy_of_weights(np.abs(values) ** t, log_base, reference_eps=reference_eps)
