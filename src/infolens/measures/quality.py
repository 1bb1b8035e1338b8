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
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from infolens.core.formulas import shannon_of_weights
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import InvalidParameterError, check_bool, check_embeddings, check_int

__all__ = ["alpha_req", "rankme"]


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
        F = np.asarray(X, dtype=np.float64)
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
        F = np.asarray(X, dtype=np.float64)
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
        resid = y - (slope * x + intercept)
        total = ((y - y.mean()) ** 2).sum()
        r2 = float(1 - (resid**2).sum() / total) if total > 0 else 1.0
    params = {"n_eigenvalues": stop - skip_first, "skip_first": skip_first}
    return build_result(caller, -slope, "exponent", params, eigenvalues=lam,
                        elapsed_s=clock[0], details={"intercept": float(intercept), "r2": r2},
                        return_result=return_result)
