"""Kernel-matrix information measures.

* Matrix-based Renyi alpha-entropy and mutual information (Giraldo, Rao &
  Principe, "Measures of entropy from data using infinitely divisible
  kernels", IEEE Trans. Inf. Theory 61, 2015): with ``A = K / tr K`` for a
  kernel with unit diagonal, ``S_alpha(A) = log(sum_i lambda_i(A)^alpha) / (1 - alpha)``;
  joint entropy from the Hadamard product ``A o B / tr(A o B)``;
  ``I = S(A) + S(B) - S(A o B)``.  ``alpha = 1`` is the von Neumann entropy.
* Vendi score (Friedman & Dieng, "The Vendi Score", TMLR 2023) and its order-q
  family (Pasarkar & Dieng 2024): ``exp`` of the order-q entropy of the
  eigenvalues of ``K / n``; the D x D dual form ``X^T X / n`` is used (here and
  for the Renyi and von Neumann entropies) for
  linear and cosine kernels when ``n > D``.

The Renyi order is the parameter ``order`` (``alpha`` until 0.1, still accepted
with a ``DeprecationWarning``: in :func:`infolens.dse` ``alpha`` is the density
normalisation).  The Cauchy-Schwarz mutual information, which shares the Gram
matrices, is in :mod:`infolens.measures.cauchy_schwarz`.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from infolens.core.backend import power_of_two_scaled
from infolens.core.formulas import renyi_of_probabilities
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import (
    InvalidParameterError,
    check_bool,
    check_embeddings,
    check_option,
    check_real,
    resolve_base,
)
from infolens.kernels.bandwidth import check_sigma, unit_scaled_bandwidth
from infolens.kernels.gram import KERNELS, gram_matrix, label_gram, row_normalise
from infolens.measures.common import check_mi_inputs
from infolens.spectrum.planning import check_exact_memory, check_method_options
from infolens.spectrum.solve import SpectralRequest, solve

__all__ = [
    "KERNELS",
    "METHODS",
    "renyi_entropy",
    "renyi_mi",
    "vendi_score",
    "von_neumann_entropy",
]

def _normalised_eigenvalues(K):
    """Eigenvalues of ``K / tr K`` (non-negative, summing to one; round-off level set to 0)."""
    return _normalised(scipy.linalg.eigh(K, eigvals_only=True, overwrite_a=True,
                                         check_finite=False))


def _normalised(lam):
    """Eigenvalues ``lam`` of a kernel matrix divided by their sum, round-off level set to 0."""
    lam = np.array(lam, dtype=np.float64)
    # Eigenvalues at round-off level are zeros of the exact matrix (matrix_rank's
    # tolerance); left in, they would inflate orders q < 1 (q = 0 counts them).
    lam[lam <= lam.max() * lam.size * np.finfo(np.float64).eps] = 0.0
    total = lam.sum()
    if total <= 0:
        raise InvalidParameterError(
            "The kernel matrix has zero trace (all embeddings are zero); its entropy is "
            "undefined.")
    return lam / total


#: Spectral methods of the kernel entropies (``"sparse"`` is a different kernel: not here).
METHODS = ("auto", "exact", "slq")

_METHOD_DOC = """method : {"auto", "exact", "slq"}, default="auto"
        Gaussian kernel only (the linear and cosine kernels are solved exactly,
        through the D x D dual when ``n_samples > n_features``).  ``"exact"``:
        all eigenvalues of the N x N matrix.  ``"slq"``: stochastic Lanczos
        quadrature from products with the kernel, never stored N x N when
        memory is short; the result's ``standard_error`` is its uncertainty;
        finite positive orders only.  ``"auto"``: exact up to 4096 points,
        SLQ above, with the memory guard of :mod:`infolens.spectrum.planning`.  Orders
        below 1 weigh the many eigenvalues of a smooth kernel that lie at
        round-off level, where neither method is accurate (~1e-4 bits).
    method_options : dict, optional
        SLQ settings, as for :func:`infolens.dse` (``n_probes``, ``n_steps``,
        ``max_batches``, ``storage``, ``memory_limit``)."""


def _kernel_renyi(X, order, kernel, sigma, dual, method, method_options, caller):
    """Renyi entropy (nats) of order ``order`` of the trace-normalised kernel spectrum.

    Returns
    -------
    nats : float
    sigma : float or None
        The resolved Gaussian bandwidth.
    details : dict
        ``method``, ``dual`` and, for an exact solve, ``eigenvalues``; for
        SLQ its ``standard_error`` (nats) and Krylov sizes.
    """
    method = check_option(method, "method", caller, METHODS)
    options = check_method_options(method_options, caller)
    n, d = X.shape
    if kernel != "gaussian":
        if method == "slq":
            raise InvalidParameterError(
                f"{caller}: method='slq' applies to the Gaussian kernel; the {kernel!r} kernel "
                f"is solved exactly (through its {d} x {d} dual when n_samples > n_features). "
                f"Use method='auto' or 'exact'.")
        use_dual = dual is True or (dual == "auto" and n > d)
        F = power_of_two_scaled(X)[0]  # exact; keeps F F^T finite at 1e300 and 1e-300
        F = row_normalise(F) if kernel == "cosine" else F
        if use_dual:
            lam = _normalised_eigenvalues(np.ascontiguousarray(F.T) @ F)
        else:
            check_exact_memory(n, caller, memory_limit=options["memory_limit"])
            lam = _normalised_eigenvalues(F @ np.ascontiguousarray(F.T))
        return renyi_of_probabilities(lam, order), None, {"eigenvalues": lam,
                                                          "method": "exact", "dual": use_dual}
    X_unit, s_unit, s = unit_scaled_bandwidth(X, sigma, caller)
    answer = solve(SpectralRequest(X_unit, s_unit, operator="affinity",
                                   order=order, keep_trivial=None, precision="float64",
                                   method=method, options=options, caller=caller))
    if answer.spectrum is not None:
        lam = _normalised(answer.spectrum.values)
        return renyi_of_probabilities(lam, order), s, {"eigenvalues": lam, "method": "exact",
                                                       "dual": False}
    return answer.entropy, s, dict(answer.details, standard_error=answer.standard_error,
                                   dual=False)


def _check_order(order, caller, name="order"):
    """A Renyi order: a real ``>= 0`` or ``inf``."""
    if isinstance(order, float) and np.isinf(order) and order > 0:
        return order
    return check_real(order, name, caller, low=0.0)


def _order(order, alpha, caller):
    """The checked Renyi order, from ``order`` or the deprecated ``alpha``."""
    if alpha is None:
        return _check_order(order, caller)
    warnings.warn(
        f"The 'alpha' parameter of {caller} is deprecated and will be removed: it is the "
        f"Renyi order, now called 'order' (in dse, alpha is the density normalisation). "
        f"Pass order={alpha!r}.", DeprecationWarning, stacklevel=3)
    return _check_order(alpha, caller, "alpha")


def renyi_entropy(Z, *, order=1.01, kernel="gaussian", sigma="median", base=2,
                  method="auto", method_options=None, return_result=False, alpha=None):
    """Matrix-based Renyi entropy of order ``order`` of embeddings (Giraldo et al. 2015).

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    order : float >= 0 or inf, default=1.01
        Renyi order; 1 is the von Neumann entropy, values near 1 are the usual
        choice in deep-learning studies.
    kernel : {"gaussian", "cosine", "linear"}, default="gaussian"
        Kernel defining the Gram matrix (normalised by its trace).
    sigma : float or {"median", "rms"}, default="median"
        Gaussian bandwidth in units of ``Z``; a rule makes the value invariant
        to ``Z -> c Z + b``.
    base : {2, "e", 10}, default=2
        2 gives bits, ``"e"`` nats.
    {method}
    return_result : bool, default=False
    alpha : float, optional
        Deprecated name of ``order`` (emits a ``DeprecationWarning``).

    Returns
    -------
    float or Result
        Between 0 (one direction / all points identical) and ``log n_samples``.
    """
    order = _order(order, alpha, "renyi_entropy")
    return _renyi_entropy(Z, order, kernel, sigma, base, method, method_options, return_result,
                          "renyi_entropy")


def _renyi_entropy(Z, order, kernel, sigma, base, method, method_options, return_result,
                   caller):
    check_bool(return_result, "return_result", caller)
    check_sigma(sigma, caller)
    kernel = check_option(kernel, "kernel", caller, KERNELS)
    log_base, unit = resolve_base(base, caller)
    X = check_embeddings(Z, caller=caller)
    with stopwatch() as clock:
        nats, s, details = _kernel_renyi(X, order, kernel, sigma, "auto", method,
                                         method_options, caller)
    if "standard_error" in details:
        details["standard_error"] /= log_base
    params = {"order": order, "kernel": kernel, "sigma": s, "base": base, "method": method}
    return build_result(caller, nats / log_base, unit, params,
                        eigenvalues=details.pop("eigenvalues", None), elapsed_s=clock[0],
                        details=details, return_result=return_result)


def von_neumann_entropy(Z, *, kernel="gaussian", sigma="median", base=2, method="auto",
                        method_options=None, return_result=False):
    """Von Neumann entropy ``-tr(A log A)`` of the trace-normalised kernel matrix ``A``.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    kernel, sigma, base, method, method_options, return_result : see :func:`renyi_entropy`

    Returns
    -------
    float or Result
        Between 0 and ``log n_samples`` in the unit of ``base``.
    """
    return _renyi_entropy(Z, 1.0, kernel, sigma, base, method, method_options, return_result,
                          "von_neumann_entropy")


def renyi_mi(Z, Y, *, order=1.01, kernel="gaussian", sigma="median", sigma_y="median",
             y_kind="auto", base=2, return_result=False, alpha=None):
    """Matrix-based Renyi mutual information of order ``order``: ``S(A) + S(B) - S(A o B)``.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
        Continuous vectors (Gaussian kernel with ``sigma_y``) or labels
        (the delta kernel ``1[y_i = y_j]``).
    order, kernel, sigma, base, return_result, alpha : see :func:`renyi_entropy`
    sigma_y : float or {"median", "rms"}, default="median"
        Bandwidth for continuous ``Y`` (``kernel`` and ``sigma`` apply to ``Z``).
    y_kind : {"auto", "continuous", "labels"}, default="auto"

    Returns
    -------
    float or Result
        Non-negative for ``order`` in (0, 1] and kernels with unit diagonal.
    """
    caller = "renyi_mi"
    order = _order(order, alpha, caller)
    check_bool(return_result, "return_result", caller)
    check_sigma(sigma, caller)
    check_sigma(sigma_y, caller, name="sigma_y")
    kernel = check_option(kernel, "kernel", caller, KERNELS)
    log_base, unit = resolve_base(base, caller)
    X, Yv, kind = check_mi_inputs(Z, Y, caller, y_kind)
    with stopwatch() as clock:
        check_exact_memory(X.shape[0], caller)
        A, s = gram_matrix(X, kernel, sigma, caller)
        if kind == "labels":
            B, sy = label_gram(Yv), None
        else:
            B, sy = gram_matrix(Yv, "gaussian", sigma_y, caller)
        AB = A * B
        h_a = renyi_of_probabilities(_normalised_eigenvalues(A), order)
        h_b = renyi_of_probabilities(_normalised_eigenvalues(B), order)
        h_ab = renyi_of_probabilities(_normalised_eigenvalues(AB), order)
        nats = h_a + h_b - h_ab
    params = {"order": order, "kernel": kernel, "sigma": s, "sigma_y": sy, "y_kind": kind,
              "base": base}
    details = {"entropy_z": h_a / log_base, "entropy_y": h_b / log_base,
               "joint_entropy": h_ab / log_base}
    return build_result(caller, nats / log_base, unit, params, elapsed_s=clock[0],
                        details=details, return_result=return_result)


def vendi_score(Z, *, q=1.0, kernel="cosine", sigma="median", dual="auto", method="auto",
                method_options=None, return_result=False):
    """Vendi score of order ``q``: the effective number of distinct samples.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    q : float >= 0 or inf, default=1.0
        Order; 1 is ``exp`` of the von Neumann entropy of ``K / n`` (the
        original Vendi score), ``inf`` is ``1 / lambda_max``.
    kernel : {"cosine", "linear", "gaussian"}, default="cosine"
        Similarity.  The score assumes ``k(x, x) = 1``; with ``"linear"`` the
        matrix is normalised by its trace, which equals ``n`` for unit-norm rows.
    sigma : float or {"median", "rms"}, default="median"
        Bandwidth of the Gaussian kernel (units of ``Z``).
    dual : {"auto", True, False}, default="auto"
        Use the D x D matrix ``X^T X`` (same non-zero eigenvalues as the
        N x N kernel) for the linear and cosine kernels; ``"auto"`` does so
        when ``n_samples > n_features``.
    {method}
    return_result : bool, default=False

    Returns
    -------
    float or Result
        Between 1 (all samples identical) and ``n_samples``; dimensionless.
        ``k`` mutually orthogonal equal-weight clusters give exactly ``k``.

    References
    ----------
    D. Friedman and A. B. Dieng, "The Vendi Score: A Diversity Evaluation Metric
    for Machine Learning", TMLR (2023).
    """
    caller = "vendi_score"
    check_bool(return_result, "return_result", caller)
    check_sigma(sigma, caller)
    q = _check_order(q, caller, "q")
    kernel = check_option(kernel, "kernel", caller, KERNELS)
    if not (dual == "auto" or isinstance(dual, (bool, np.bool_))):
        raise InvalidParameterError(
            f"The 'dual' parameter of {caller} must be 'auto', True or False. Got {dual!r} "
            f"instead.")
    X = check_embeddings(Z, caller=caller)
    if dual is True and kernel == "gaussian":
        raise InvalidParameterError(
            "vendi_score has no exact dual (D x D) form for the Gaussian kernel. Pass "
            "kernel='cosine' or 'linear', or dual=False.")
    with stopwatch() as clock:
        nats, s, details = _kernel_renyi(X, q, kernel, sigma, dual, method, method_options,
                                         caller)
        value = float(np.exp(nats))
    if "standard_error" in details:  # delta method: d exp(H) = exp(H) dH
        details["standard_error"] *= value
    params = {"q": q, "kernel": kernel, "sigma": s, "dual": details.pop("dual"),
              "method": method}
    return build_result(caller, value, "effective samples", params,
                        eigenvalues=details.pop("eigenvalues", None), elapsed_s=clock[0],
                        details=details, return_result=return_result)


renyi_entropy.__doc__ = renyi_entropy.__doc__.replace("{method}", _METHOD_DOC)
vendi_score.__doc__ = vendi_score.__doc__.replace("{method}", _METHOD_DOC)
