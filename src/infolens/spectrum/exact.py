"""The exact eigen-solve of dense symmetric matrices, and entropies of spectra.

The dense exact path deflates the known trivial eigenpair ``(1, v)`` of a
diffusion matrix before the eigen-solve: ``M - v v^T`` has the spectrum of
``M`` with 1 replaced by 0, and a norm equal to the second-largest eigenvalue
magnitude.  Rounding errors of a backward-stable solver scale with that norm,
which makes a single-precision solve accurate enough for most spectra; the
precision model (:mod:`infolens.spectrum.precision`) decides, and the solve is
repeated in double precision when its estimate exceeds the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from infolens.core.formulas import shannon_of_weights
from infolens.core.validation import InvalidParameterError
from infolens.spectrum.precision import (
    FLOAT32_FORECAST_FRACTION,
    FLOAT32_MIN_N,
    FLOAT32_TOLERANCE_BITS,
    float32_error_estimate,
    float32_error_forecast,
)

__all__ = ["Spectrum", "restore_trivial", "spectral_entropy", "symmetric_eigenvalues"]


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
        values, trivial_index = restore_trivial(values)
    return Spectrum(values, trivial_index, "float32" if use32 else "float64", estimate)


def restore_trivial(values):
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


#: Largest float64 matrix solved with numpy's LAPACK (which makes one copy of it);
#: larger ones, and float32, go to scipy's in place.  Measured after a numpy GEMM on
#: 2 cores: numpy 0.32 s vs scipy 0.37 s at 2000 points, 3.96 s vs 3.63 s at 4000.
NUMPY_SOLVE_MAX_N = 2048


def _eigvalsh(A):
    """Eigenvalues (float64, ascending) of the symmetric C-ordered ``A``, destroying ``A``.

    Up to ``NUMPY_SOLVE_MAX_N`` points in float64, numpy's solver: the kernel
    was just built with numpy's BLAS, whose threads still spin on the cores
    for a while, and scipy's own BLAS competing with them took 137 ms instead
    of 74 ms for 1000 points on 2 cores.  Above, that contention is a small
    part of the solve, and scipy's in-place solve is the faster one.  For
    scipy, LAPACK wants Fortran order, and ``A.T`` is that Fortran-ordered
    view (its upper triangle is the lower triangle of ``A``), so no copy is
    made.
    """
    if A.dtype == np.float64 and A.shape[0] <= NUMPY_SOLVE_MAX_N:
        return np.linalg.eigvalsh(A, UPLO="L")
    if A.flags.c_contiguous:
        A, lower = A.T, False
    else:
        lower = True
    values = scipy.linalg.eigh(
        A, lower=lower, eigvals_only=True, driver="evd", overwrite_a=True, check_finite=False
    )
    return values.astype(np.float64)


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
    return shannon_of_weights(magnitudes**t, reference_eps=reference_eps) / log_base
