"""Uncertainty for any mutual-information method: confidence intervals and permutation tests.

The computations behind :func:`infolens.bootstrap_ci` and :func:`infolens.permutation_test`
(which find the method in the registry and live in :mod:`infolens.api`):

* :func:`bootstrap_interval`: a sampling interval from estimates on resampled data.
  The default ``scheme="subsample"`` draws half-size subsamples *without*
  replacement (delete-d jackknife, see :func:`subsample_standard_error`);
  ``scheme="bootstrap"`` is the classic percentile bootstrap.
* :func:`permutation_pvalue`: the p-value of ``H0: Z independent of Y`` from the
  estimates on row-permuted ``Y``.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from infolens.core.result import build_result, stopwatch
from infolens.core.validation import (
    InvalidParameterError, check_embeddings, check_int, check_option, check_real,
    check_reference, resolve_base,
)

__all__ = ["bootstrap_interval", "permutation_pvalue", "subsample_standard_error"]

# Estimators built on nearest-neighbour distances, which duplicated points break.
_NEIGHBOUR_METHODS = ("ksg", "compressed")


def subsample_standard_error(replicates, m, n):
    """Standard error of an ``n``-point estimate from estimates on ``m``-point subsamples.

    Parameters
    ----------
    replicates : array-like of shape (n_resamples,)
        Estimates on subsamples of ``m`` of the ``n`` points, drawn without replacement.
    m, n : int
        Subsample size and full sample size, ``0 < m < n``.

    Returns
    -------
    float
        ``sqrt(m / (n - m)) * std(replicates)``, in the unit of the replicates.

    Notes
    -----
    For an asymptotically linear estimator, ``theta_n ~ theta + mean_i psi(x_i)`` with
    ``Var psi = s^2``, so ``Var theta_n = s^2 / n``.  A subsample ``S`` of size ``m``
    drawn without replacement from the ``n`` points gives ``theta_m - theta_n =
    (1/m - 1/n) sum_S psi - (1/n) sum_notS psi``, whose variance over the draws is
    ``s^2 (1/m - 1/n)`` (the finite-population correction): the subsample estimates
    are correlated with ``theta_n`` because they share its points.  Hence
    ``Var theta_n = Var(theta_m - theta_n) * m / (n - m)``, the delete-d jackknife
    of Shao & Wu (1989) with ``d = n - m``.  At ``m = n / 2`` the factor is 1: half-size
    subsamples already spread at the full-sample variance.  Subsampling theory
    (Politis & Romano 1994) rescales by ``sqrt(m / n)`` instead, which is right only when
    ``m / n -> 0`` (then ``1 - m/n -> 1``); at ``m = n / 2`` it makes the interval
    ``sqrt(2)`` too narrow, which is what this library did before.
    """
    reps = np.asarray(replicates, dtype=np.float64)
    return float(np.sqrt(m / (n - m)) * reps.std(ddof=1))


def _draw(rng, n, m, replace, strata):
    """Row indices of one resample; ``strata`` (group codes or None) keeps each group's share."""
    if strata is None:
        return rng.choice(n, m, replace=replace)
    idx = []
    for members in strata:
        k = len(members) if replace else max(2, int(round(len(members) * m / n)))
        idx.append(rng.choice(members, min(k, len(members)), replace=replace))
    return np.concatenate(idx)


def _strata(info, Y):
    """Groups of rows for stratified draws: for partition measures with discrete labels, so
    that no class loses all but one of its samples in a subsample; else None."""
    if "partition" not in info.y_kinds or Y.ndim != 1 or Y.dtype.kind not in "biuUS":
        return None
    codes = np.unique(Y, return_inverse=True)[1].reshape(-1)
    return [np.flatnonzero(codes == c) for c in range(codes.max() + 1)]


def bootstrap_interval(Z, Y, estimator, *, method, n_resamples, confidence, scheme,
                       random_state, kwargs):
    """The computation of :func:`infolens.bootstrap_ci`.

    ``estimator(method, kwargs, caller)`` returns the method's registry entry (its
    ``name``, ``function`` and ``y_kinds``) and ``estimate(Z, Y) -> float``; the other
    arguments are those of :func:`infolens.bootstrap_ci`, ``kwargs`` its ``**kwargs``.
    """
    caller = "bootstrap_ci"
    n_resamples = check_int(n_resamples, "n_resamples", caller, low=2)
    confidence = check_real(confidence, "confidence", caller, low=0.0, high=1.0,
                            closed_low=False)
    if confidence >= 1.0:
        raise InvalidParameterError(
            f"The 'confidence' parameter of {caller} must be a float in the range (0, 1). "
            f"Got {confidence!r} instead.")
    scheme = check_option(scheme, "scheme", caller, ("subsample", "bootstrap"))
    random_state = check_int(random_state, "random_state", caller, low=0, allow_none=True)
    X = check_embeddings(Z, caller=caller, min_samples=4)
    Yv = check_reference(Y, X.shape[0], caller=caller)
    info, estimate = estimator(method, kwargs, caller)
    if scheme == "bootstrap" and info.name in _NEIGHBOUR_METHODS:
        raise InvalidParameterError(
            f"scheme='bootstrap' cannot be used with method={info.name!r}: resampling with "
            f"replacement duplicates points, which become each other's nearest neighbours "
            f"and inflate the estimate (KSG on a bootstrap sample is typically several times "
            f"too large). Use scheme='subsample' (the default).")
    rng = np.random.default_rng(random_state)
    n = X.shape[0]
    strata = _strata(info, Yv)
    with stopwatch() as clock:
        value = estimate(X, Yv)
        reps = np.empty(n_resamples)
        m = n // 2 if scheme == "subsample" else n
        for r in range(n_resamples):
            idx = np.sort(_draw(rng, n, m, scheme == "bootstrap", strata))
            reps[r] = estimate(X[idx], Yv[idx])
        m = len(idx)  # stratified draws round each class's share
        tail = (1.0 - confidence) / 2.0
        if scheme == "subsample":
            # Normal interval around the full-sample value with the delete-d jackknife
            # standard error: only the replicates' spread is used, so the m-point
            # estimates' larger small-sample bias (KSG's grows as N shrinks) cannot
            # shift the interval.
            se = subsample_standard_error(reps, m, n)
            half = NormalDist().inv_cdf(1.0 - tail) * se
            lo, hi = value - half, value + half
        else:
            se = float(reps.std(ddof=1))
            lo, hi = np.quantile(reps, [tail, 1.0 - tail])
    params = {"method": info.name, "n_resamples": n_resamples, "confidence": confidence,
              "scheme": scheme, "random_state": random_state, **kwargs}
    details = {"ci_low": float(lo), "ci_high": float(hi), "confidence": confidence,
               "scheme": scheme, "standard_error": se, "replicates": reps,
               "resample_size": m, "stratified": strata is not None,
               "covers": "sampling variability of the estimate over fresh data sets of "
                         "this size (not the estimator's bias)"}
    unit = _unit(info, kwargs)
    return build_result(caller, value, unit, params, elapsed_s=clock[0], details=details)


def permutation_pvalue(Z, Y, estimator, *, method, n_permutations, random_state, kwargs):
    """The computation of :func:`infolens.permutation_test`; ``estimator`` as in
    :func:`bootstrap_interval`."""
    caller = "permutation_test"
    n_permutations = check_int(n_permutations, "n_permutations", caller, low=1)
    random_state = check_int(random_state, "random_state", caller, low=0, allow_none=True)
    X = check_embeddings(Z, caller=caller, min_samples=4)
    Yv = check_reference(Y, X.shape[0], caller=caller)
    info, estimate = estimator(method, kwargs, caller)
    rng = np.random.default_rng(random_state)
    with stopwatch() as clock:
        value = estimate(X, Yv)
        null = np.array([estimate(X, Yv[rng.permutation(X.shape[0])])
                         for _ in range(n_permutations)])
        p = (1.0 + np.sum(null >= value)) / (1.0 + n_permutations)
    params = {"method": info.name, "n_permutations": n_permutations,
              "random_state": random_state, **kwargs}
    return build_result(caller, value, _unit(info, kwargs), params, elapsed_s=clock[0],
                        details={"p_value": float(p), "null": null})


def _unit(info, kwargs):
    return resolve_base(kwargs.get("base", 2), info.function)[1]
