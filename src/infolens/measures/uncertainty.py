"""Uncertainty for any mutual-information method: confidence intervals and permutation tests.

The computations behind :func:`infolens.bootstrap_ci` and :func:`infolens.permutation_test`
(which find the method in the registry and live in :mod:`infolens.api`):

* :func:`bootstrap_interval`: a confidence interval from resampled estimates.  The
  default ``scheme="subsample"`` draws ``m = n/2`` samples *without*
  replacement and rescales the spread by ``sqrt(m / n)`` (m-out-of-n
  bootstrap, Politis & Romano 1994), because with-replacement resamples
  contain duplicated points that distort nearest-neighbour and kernel
  estimators; ``scheme="bootstrap"`` is the classic percentile bootstrap.
* :func:`permutation_pvalue`: the p-value of ``H0: Z independent of Y`` from the
  estimates on row-permuted ``Y``.
"""

from __future__ import annotations

import numpy as np

from infolens.core.result import build_result, stopwatch
from infolens.core.validation import (
    InvalidParameterError, check_embeddings, check_int, check_option, check_real,
    check_reference, resolve_base,
)

__all__ = ["bootstrap_interval", "permutation_pvalue"]

# Estimators built on nearest-neighbour distances, which duplicated points break.
_NEIGHBOUR_METHODS = ("ksg", "compressed")


def bootstrap_interval(Z, Y, estimator, *, method, n_resamples, confidence, scheme,
                       random_state, kwargs):
    """The computation of :func:`infolens.bootstrap_ci`.

    ``estimator(method, kwargs, caller)`` returns the method's registry entry (its
    ``name`` and ``function``) and ``estimate(Z, Y) -> float``; the other arguments are
    those of :func:`infolens.bootstrap_ci`, ``kwargs`` its ``**kwargs``.
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
    with stopwatch() as clock:
        value = estimate(X, Yv)
        reps = np.empty(n_resamples)
        m = n // 2 if scheme == "subsample" else n
        for r in range(n_resamples):
            idx = rng.choice(n, m, replace=scheme == "bootstrap")
            reps[r] = estimate(X[idx], Yv[idx])
        tail = (1.0 - confidence) / 2.0
        if scheme == "subsample":
            centred = np.sqrt(m / n) * (reps - reps.mean())
            lo = value - np.quantile(centred, 1.0 - tail)
            hi = value - np.quantile(centred, tail)
        else:
            lo, hi = np.quantile(reps, [tail, 1.0 - tail])
    params = {"method": info.name, "n_resamples": n_resamples, "confidence": confidence,
              "scheme": scheme, "random_state": random_state, **kwargs}
    details = {"ci_low": float(lo), "ci_high": float(hi), "confidence": confidence,
               "scheme": scheme, "replicates": reps, "resample_size": m}
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
