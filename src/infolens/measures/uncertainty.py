"""Uncertainty for any mutual-information method: confidence intervals and permutation tests.

* :func:`bootstrap_ci`: a confidence interval from resampled estimates.  The
  default ``scheme="subsample"`` draws ``m = n/2`` samples *without*
  replacement and rescales the spread by ``sqrt(m / n)`` (m-out-of-n
  bootstrap, Politis & Romano 1994), because with-replacement resamples
  contain duplicated points that distort nearest-neighbour and kernel
  estimators; ``scheme="bootstrap"`` is the classic percentile bootstrap.
* :func:`permutation_test`: the p-value of ``H0: Z independent of Y`` from the
  estimates on row-permuted ``Y``.
"""

from __future__ import annotations

import numpy as np

from infolens.core.result import Result, stopwatch
from infolens.core.validation import (
    InvalidParameterError,
    check_embeddings,
    check_int,
    check_option,
    check_real,
    check_reference,
)

__all__ = ["bootstrap_ci", "permutation_test"]

# Estimators built on nearest-neighbour distances, which duplicated points break.
_NEIGHBOUR_METHODS = ("ksg", "compressed")


def _estimator(method, kwargs, caller):
    from infolens.api import _lookup, resolve_function

    info = _lookup(method, "mi", caller)
    func = resolve_function(info)
    kwargs = dict(kwargs)
    kwargs.pop("return_result", None)
    return info, (lambda Z, Y: float(func(Z, Y, **kwargs)))


def bootstrap_ci(Z, Y, *, method="ksg", n_resamples=100, confidence=0.95, scheme="subsample",
                 random_state=0, **kwargs):
    """Point estimate and confidence interval of a mutual-information estimate.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
    method : str, default="ksg"
        Any method of :func:`infolens.mutual_information`.
    n_resamples : int, default=100
    confidence : float in (0, 1), default=0.95
    scheme : {"subsample", "bootstrap"}, default="subsample"
        See the module notes; ``"bootstrap"`` is refused for the
        nearest-neighbour methods (``"ksg"``, ``"compressed"``).
    random_state : int or None, default=0
        Seeds the resampling (the method's own seed is passed via ``kwargs``).
    **kwargs
        Passed to the method (e.g. ``base="e"``, ``k=5``).

    Returns
    -------
    Result
        ``value`` is the estimate on all samples; ``details`` holds
        ``ci_low``, ``ci_high``, ``confidence``, ``scheme``, ``replicates``.
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
    info, estimate = _estimator(method, kwargs, caller)
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
    return Result(caller, value, unit, params, None, clock[0], details)


def permutation_test(Z, Y, *, method="ksg", n_permutations=100, random_state=0, **kwargs):
    """Permutation p-value for ``H0: Z and Y are independent``.

    Parameters
    ----------
    Z, Y : see :func:`bootstrap_ci`
    method : str, default="ksg"
    n_permutations : int, default=100
        The smallest attainable p-value is ``1 / (n_permutations + 1)``.
    random_state : int or None, default=0
    **kwargs
        Passed to the method.

    Returns
    -------
    Result
        ``value`` is the estimate; ``details["p_value"]`` is
        ``(1 + #{null >= value}) / (1 + n_permutations)`` and
        ``details["null"]`` the estimates on permuted ``Y``.
    """
    caller = "permutation_test"
    n_permutations = check_int(n_permutations, "n_permutations", caller, low=1)
    random_state = check_int(random_state, "random_state", caller, low=0, allow_none=True)
    X = check_embeddings(Z, caller=caller, min_samples=4)
    Yv = check_reference(Y, X.shape[0], caller=caller)
    info, estimate = _estimator(method, kwargs, caller)
    rng = np.random.default_rng(random_state)
    with stopwatch() as clock:
        value = estimate(X, Yv)
        null = np.array([estimate(X, Yv[rng.permutation(X.shape[0])])
                         for _ in range(n_permutations)])
        p = (1.0 + np.sum(null >= value)) / (1.0 + n_permutations)
    params = {"method": info.name, "n_permutations": n_permutations,
              "random_state": random_state, **kwargs}
    return Result(caller, value, _unit(info, kwargs), params, None, clock[0],
                  {"p_value": float(p), "null": null})


def _unit(info, kwargs):
    from infolens.core.validation import resolve_base

    return resolve_base(kwargs.get("base", 2), info.function)[1]
