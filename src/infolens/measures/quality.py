"""Label-free quality measures of a representation's spectrum: RankMe and alpha-ReQ.

* RankMe (Garrido, Balestriero, Najman & LeCun, "RankMe: Assessing the
  downstream performance of pretrained self-supervised representations by
  their rank", ICML 2023): ``exp`` of the Shannon entropy of the normalised
  singular values of the embedding matrix, an effective rank in
  ``[1, min(N, D)]``.
* alpha-ReQ (Agrawal, Mondal, Ghosh & Richards, "alpha-ReQ: Assessing
  representation quality in self-supervised learning by measuring eigenspectrum
  decay", NeurIPS 2022): the exponent ``alpha`` of a power-law fit
  ``lambda_i ~ i^-alpha`` to the eigenvalues of the embedding covariance.
* Matrix nuclear norm: the exact sum of singular values of the row-normalised
  embeddings (``method="svd"``), or the published Matrix Nuclear-Norm (Li et
  al., "Large Language Model Evaluation via Matrix Nuclear-Norm", arXiv
  2410.10672; ``method="l12"``): centred, row-normalised, and the nuclear
  norm approximated by the L1,2 norm (the largest column L2 norms), no SVD.

All three are invariant to the scale of ``Z`` (the nuclear norm when rows are
normalised); inputs of magnitude near 1e300 or 1e-300 are divided by their
largest absolute entry first, so that squares neither overflow nor underflow.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from infolens.core.formulas import shannon_of_weights
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import (
    InvalidParameterError,
    check_bool,
    check_embeddings,
    check_int,
    check_option,
)
from infolens.kernels.gram import row_normalise

__all__ = ["NUCLEAR_METHODS", "alpha_req", "nuclear_norm", "rankme"]

#: ``method`` values of :func:`nuclear_norm`.
NUCLEAR_METHODS = ("svd", "l12")


def _unit_scale(X):
    """``(F, c)``: ``X`` as float64 and the factor it was divided by.

    Only data far from unit magnitude (largest entry outside [1e-100, 1e100])
    are rescaled, by that entry, so that ordinary inputs keep their exact bits.
    """
    F = np.asarray(X, dtype=np.float64)
    c = float(np.abs(F).max()) if F.size else 0.0
    if c == 0.0 or 1e-100 <= c <= 1e100:
        return F, 1.0
    return F / c, c


def rankme(Z, *, center=False, return_result=False):
    """RankMe effective rank of an embedding matrix.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    center : bool, default=False
        Subtract the column means first (the original RankMe does not).
    return_result : bool, default=False

    Returns
    -------
    float or Result
        ``exp(-sum_k p_k log p_k)`` with ``p_k = s_k / sum_j s_j`` over the
        singular values ``s``; dimensionless, in ``[1, min(N, D)]``.  A matrix
        with ``r`` equal non-zero singular values gives exactly ``r``.
    """
    caller = "rankme"
    check_bool(return_result, "return_result", caller)
    center = check_bool(center, "center", caller)
    X = check_embeddings(Z, caller=caller)
    with stopwatch() as clock:
        F, _ = _unit_scale(X)
        if center:
            F = F - F.mean(axis=0)
        s = scipy.linalg.svdvals(F, check_finite=False)
        if s.sum() <= 0:
            raise InvalidParameterError(
                "rankme needs a non-zero embedding matrix; got all zeros"
                + (" after centring (every row is the same)." if center else "."))
        value = np.exp(shannon_of_weights(s))
    return build_result(caller, value, "effective rank", {"center": center},
                        elapsed_s=clock[0], details={"singular_values": s},
                        return_result=return_result)


def alpha_req(Z, *, n_eigenvalues=None, skip_first=0, return_result=False):
    """Power-law decay exponent alpha of the covariance eigenspectrum.

    Fits ``log lambda_i = c - alpha log i`` by least squares over
    ``i = skip_first + 1 .. skip_first + n_eigenvalues`` (ranks start at 1).

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    n_eigenvalues : int or None, default=None
        How many eigenvalues enter the fit; None uses every eigenvalue above
        ``1e-12`` times the largest.
    skip_first : int, default=0
        Leading eigenvalues left out of the fit.
    return_result : bool, default=False

    Returns
    -------
    float or Result
        ``alpha`` (dimensionless).  Around 1 is the regime the authors relate
        to good downstream performance; smaller means a flatter spectrum.
        ``details["intercept"]`` and ``details["r2"]`` report the fit.
    """
    caller = "alpha_req"
    check_bool(return_result, "return_result", caller)
    n_eigenvalues = check_int(n_eigenvalues, "n_eigenvalues", caller, low=2, allow_none=True)
    skip_first = check_int(skip_first, "skip_first", caller, low=0)
    X = check_embeddings(Z, caller=caller, min_samples=3)
    with stopwatch() as clock:
        F, scale = _unit_scale(X)
        F = F - F.mean(axis=0)
        lam = scipy.linalg.svdvals(F, check_finite=False) ** 2 / (F.shape[0] - 1)
        usable = int((lam > 1e-12 * lam[0]).sum()) if lam[0] > 0 else 0
        stop = usable if n_eigenvalues is None else skip_first + n_eigenvalues
        if stop > usable or stop - skip_first < 2:
            raise InvalidParameterError(
                f"alpha_req needs at least 2 non-zero covariance eigenvalues in the fit "
                f"range; the data have {usable} and the range asks for ranks "
                f"{skip_first + 1}..{stop}. Lower n_eigenvalues or skip_first, or pass data "
                f"of higher rank.")
        ranks = np.arange(skip_first + 1, stop + 1, dtype=np.float64)
        x, y = np.log(ranks), np.log(lam[skip_first:stop])
        slope, intercept = np.polyfit(x, y, 1)
        intercept += 2.0 * np.log(scale)  # the fit of the unrescaled eigenvalues
        resid = y - (slope * x + intercept)
        total = ((y - y.mean()) ** 2).sum()
        r2 = float(1 - (resid**2).sum() / total) if total > 0 else 1.0
    params = {"n_eigenvalues": stop - skip_first, "skip_first": skip_first}
    details = {"intercept": float(intercept), "r2": r2}
    if scale != 1.0:
        details["rescaled_by"] = scale  # the eigenvalues are those of Z / rescaled_by
    return build_result(caller, -slope, "exponent", params, eigenvalues=lam,
                        elapsed_s=clock[0], details=details, return_result=return_result)


def _mnn_l12(F):
    """Published Matrix Nuclear-Norm of ``F`` (N, D): centre, unit rows, L1,2 approximation."""
    F = F - F.mean(axis=0)
    norms = np.linalg.norm(F, axis=1)
    if np.any(norms == 0):
        raise InvalidParameterError(
            f"nuclear_norm(method='l12') centres the columns and then divides each row by its "
            f"norm; {int((norms == 0).sum())} rows equal the column mean (every row, when all "
            f"are the same). Drop those rows, or use method='svd'.")
    columns = np.linalg.norm(F / norms[:, None], axis=0)
    top = np.sort(columns)[::-1][:min(F.shape)]
    return float(top.sum() / F.shape[0]), columns


def nuclear_norm(Z, *, normalize=True, method="svd", return_result=False):
    """Nuclear norm (sum of singular values) of the embedding matrix.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        For a language model's hidden states: one row per token.
    normalize : bool, default=True
        ``method="svd"``: scale each row to unit L2 norm first, so that the
        value lies between ``sqrt(n)`` (all rows parallel) and
        ``sqrt(n * min(n, D))`` (rows spread evenly over ``min(n, D)``
        orthogonal directions).  ``method="l12"`` always normalises (False is
        refused).
    method : {"svd", "l12"}, default="svd"
        ``"svd"``: the exact nuclear norm of the (row-normalised, uncentred)
        matrix, ``O(n D min(n, D))``.  ``"l12"``: the published Matrix
        Nuclear-Norm (Li et al., arXiv 2410.10672, official code
        MLGroupJLU/MatrixNuclearNorm): subtract the column means, scale each
        row to unit L2 norm, take the L2 norm of every column, and sum the
        ``min(n, D)`` largest, divided by ``n`` (the number of tokens); no
        SVD, ``O(n D)``.  The sum of all column norms bounds the nuclear
        norm from above (each column is a rank-one matrix); the value lies in
        ``[sqrt(m / (D n)), sqrt(m / n)]`` with ``m = min(n, D)``, larger when
        the tokens spread over more directions, and is not on the scale of
        ``"svd"``.
    return_result : bool, default=False

    Returns
    -------
    float or Result
        Dimensionless.  ``"svd"``: ``details["relative"]`` rescales the
        value to [0, 1] between the bounds above (normalised rows only) and
        ``details["singular_values"]`` holds the spectrum.  ``"l12"``:
        ``details["column_norms"]`` (shape (n_features,)).
    """
    caller = "nuclear_norm"
    check_bool(return_result, "return_result", caller)
    normalize = check_bool(normalize, "normalize", caller)
    method = check_option(method, "method", caller, NUCLEAR_METHODS)
    if method == "l12" and not normalize:
        raise InvalidParameterError(
            "nuclear_norm(method='l12') is the published Matrix Nuclear-Norm, which always "
            "centres and row-normalises; normalize=False only applies to method='svd'.")
    X = check_embeddings(Z, caller=caller)
    n, d = X.shape
    with stopwatch() as clock:
        F, scale = _unit_scale(X)
        if method == "l12":
            value, columns = _mnn_l12(F)
            details = {"column_norms": columns}
        else:
            sv = scipy.linalg.svdvals(row_normalise(F) if normalize else F, check_finite=False)
            with np.errstate(over="ignore"):
                value = float(sv.sum()) * (1.0 if normalize else scale)
            details = {"singular_values": sv}
            if normalize:
                lo, hi = np.sqrt(n), np.sqrt(n * min(n, d))
                details["relative"] = float((value - lo) / (hi - lo)) if hi > lo else 0.0
    return build_result(caller, value, "none", {"normalize": normalize, "method": method},
                        elapsed_s=clock[0], details=details, return_result=return_result)
