"""Conditional mutual information ``I(X; Y | Z)`` and the classifier CMI of a softmax output.

* ``method="ksg"``: Frenzel & Pompe (PRL 99, 204101, 2007), the KSG estimator (algorithm
  1) carried over to the conditional case: with ``eps_i`` the max-norm distance from
  sample ``i`` to its ``k``-th neighbour in the joint space ``(X, Y, Z)``,
  ``I = psi(k) - < psi(n_xz + 1) + psi(n_yz + 1) - psi(n_z + 1) >``, the ``n`` counting
  the samples strictly within ``eps_i`` in each subspace.  When ``Z`` is discrete (class
  labels) the estimate is ``sum_z p(z) I(X; Y | Z = z)``, each term by
  :func:`infolens.ksg_mi` (KSG, or Ross's estimator when ``Y`` holds labels).
* ``method="gaussian"``: the closed form of jointly Gaussian variables,
  ``1/2 log(det S_xz det S_yz / (det S_z det S_xyz))`` with ``S`` the sample covariances.
* :func:`classifier_cmi`: ``I(X; Yhat | Y)`` of a classifier whose output ``Yhat`` is the
  softmax vector ``P(x)`` (Yang, Hamidi, Ye, Tan & Yang, IEEE TNNLS 36(8), 2025): the mean
  Kullback-Leibler divergence of each output from the centroid of its class.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, xlogy

from infolens.core.result import build_result, stopwatch
from infolens.core.validation import (
    InvalidParameterError,
    check_bool,
    check_embeddings,
    check_int,
    check_option,
    check_reference,
    resolve_base,
)
from infolens.measures.knn import count_within, knn_distances, ksg_mi, preprocess_columns

__all__ = ["CMI_METHODS", "classifier_cmi", "conditional_mutual_information"]

CMI_METHODS = ("ksg", "gaussian")
Z_KINDS = ("auto", "continuous", "labels")
#: Fewer samples than this cannot estimate a dependence.
MIN_SAMPLES = 10


def _continuous(V, name, caller, n):
    """A finite 2-D float array with ``n`` rows and no constant column (1-D is one column)."""
    arr = np.asarray(V) if not hasattr(V, "detach") else V
    if getattr(arr, "ndim", 2) == 1:
        arr = arr.reshape(-1, 1)
    A = check_embeddings(arr, name=name, caller=caller, min_samples=MIN_SAMPLES)
    if A.shape[0] != n:
        raise InvalidParameterError(
            f"X, Y and Z passed to {caller} must have the same number of rows (one per "
            f"sample); got {n} rows in X and {A.shape[0]} in {name}.")
    constant = np.flatnonzero(np.ptp(A, axis=0) == 0)
    if constant.size:
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} has {constant.size} constant column(s) "
            f"(first: {int(constant[0])}); a constant carries no information and makes the "
            f"estimate ill-defined. Drop those columns.")
    return np.asarray(A, dtype=np.float64)


def _labels(V, name, caller, n):
    """Integer codes of a discrete variable with at least two classes."""
    codes = np.unique(check_reference(V, n, name=name, caller=caller),
                      return_inverse=True)[1].reshape(-1)
    if codes.max() < 1:
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} holds a single class; conditioning on it is "
            f"plain mutual information. Use infolens.mutual_information, or pass a "
            f"variable with at least two classes.")
    return codes


def _gaussian(X, Y, Z):
    """Closed-form CMI (nats) of the Gaussian with the sample covariance of ``(X, Y, Z)``."""
    dx, dy = X.shape[1], Y.shape[1]
    cov = np.atleast_2d(np.cov(np.hstack([X, Y, Z]), rowvar=False))
    ix, iy = np.arange(dx), np.arange(dx, dx + dy)
    iz = np.arange(dx + dy, cov.shape[0])

    def logdet(idx):
        sign, value = np.linalg.slogdet(cov[np.ix_(idx, idx)])
        if sign <= 0:
            raise InvalidParameterError(
                "conditional_mutual_information(method='gaussian') found a singular "
                "covariance (collinear columns); drop the redundant columns.")
        return value

    return 0.5 * (logdet(np.r_[ix, iz]) + logdet(np.r_[iy, iz]) - logdet(iz)
                  - logdet(np.r_[ix, iy, iz]))


def _frenzel_pompe(X, Y, Z, k):
    """KSG conditional MI (nats) of preprocessed, jittered ``X``, ``Y``, ``Z``."""
    eps = knn_distances(np.hstack([X, Y, Z]), k, np.inf)[0][:, -1]
    n_xz = count_within(np.hstack([X, Z]), eps, np.inf, strict=True)
    n_yz = count_within(np.hstack([Y, Z]), eps, np.inf, strict=True)
    n_z = count_within(Z, eps, np.inf, strict=True)
    return digamma(k) - np.mean(digamma(n_xz + 1) + digamma(n_yz + 1) - digamma(n_z + 1))


def conditional_mutual_information(X, Y, Z, *, method="ksg", k=3, z_kind="auto",
                                   preprocess="rank", jitter=1e-10, base=2, random_state=0,
                                   return_result=False):
    """Conditional mutual information ``I(X; Y | Z)``.

    Parameters
    ----------
    X : array-like of shape (n_samples,) or (n_samples, d_x)
        Continuous (a 1-D array is one feature).
    Y : array-like of shape (n_samples,) or (n_samples, d_y)
        Continuous; with discrete ``Z`` and ``method="ksg"`` also class labels.
    Z : array-like of shape (n_samples,) or (n_samples, d_z)
        The conditioning variable: continuous, or class labels (see ``z_kind``).
    method : {"ksg", "gaussian"}, default="ksg"
        ``"ksg"``: Frenzel-Pompe nearest-neighbour estimator (consistent for any
        density); ``"gaussian"``: the closed form of the Gaussian with the sample
        covariance (exact for Gaussian data, a lower-order proxy otherwise).
    k : int, default=3
        Neighbour order of ``"ksg"``.
    z_kind : {"auto", "continuous", "labels"}, default="auto"
        ``"auto"`` reads integer, boolean or string 1-D ``Z`` as labels; then the
        estimate is ``sum_z p(z) I(X; Y | Z=z)`` and every class needs more than ``k``
        samples.
    preprocess : {"rank", "standardize", "none"}, default="rank"
        Per-column map of the continuous variables before neighbour search (normal
        scores, unit variance, or nothing; CMI is invariant under invertible maps of
        each variable).  Ignored by ``"gaussian"``.
    jitter : float, default=1e-10
        Standard deviation of the noise that breaks ties (``"ksg"``).
    base : {2, "e", 10}, default=2
        2 gives bits, ``"e"`` nats.
    random_state : int or None, default=0
        Seed of the jitter.
    return_result : bool, default=False

    Returns
    -------
    float or Result
        The estimate in ``unit`` (``"ksg"`` can be slightly negative when the truth is 0).

    Raises
    ------
    InvalidParameterError
        NaN or infinite values, a constant column, a single class in ``Z``, fewer than 10
        samples, rows that do not match.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=2000); x = z + rng.normal(size=2000); y = z + rng.normal(size=2000)
    >>> abs(conditional_mutual_information(x, y, z)) < 0.05      # X, Y independent given Z
    True
    """
    caller = "conditional_mutual_information"
    check_bool(return_result, "return_result", caller)
    method = check_option(method, "method", caller, CMI_METHODS)
    k = check_int(k, "k", caller, low=1)
    z_kind = check_option(z_kind, "z_kind", caller, Z_KINDS)
    preprocess = check_option(preprocess, "preprocess", caller, ("rank", "standardize", "none"))
    jitter = float(jitter)
    random_state = check_int(random_state, "random_state", caller, low=0, allow_none=True)
    log_base, unit = resolve_base(base, caller)
    Xv = _continuous(X, "X", caller, len(X))
    n = Xv.shape[0]
    Zraw = check_reference(Z, n, name="Z", caller=caller)
    if z_kind == "auto":
        z_kind = "labels" if Zraw.ndim == 1 and Zraw.dtype.kind in "biuUS" else "continuous"
    rng = np.random.default_rng(random_state)
    with stopwatch() as clock:
        if z_kind == "labels":
            nats = _given_classes(Xv, Y, _labels(Zraw, "Z", caller, n), method, k, jitter,
                                  preprocess, random_state, caller)
        else:
            Yv = _continuous(Y, "Y", caller, n)
            Zv = _continuous(Zraw, "Z", caller, n)
            if method == "gaussian":
                nats = _gaussian(Xv, Yv, Zv)
            else:
                X2, Y2, Z2 = (preprocess_columns(A, preprocess) for A in (Xv, Yv, Zv))
                X2, Y2, Z2 = (A + jitter * rng.standard_normal(A.shape) for A in (X2, Y2, Z2))
                nats = _frenzel_pompe(X2, Y2, Z2, k)
    params = {"method": method, "k": k, "z_kind": z_kind, "preprocess": preprocess,
              "jitter": jitter, "base": base, "random_state": random_state}
    return build_result(caller, nats / log_base, unit, params, elapsed_s=clock[0],
                        details={"n_samples": n}, return_result=return_result)


def _given_classes(X, Y, codes, method, k, jitter, preprocess, random_state, caller):
    """``sum_z p(z) I(X; Y | Z = z)`` in nats for class codes ``codes``."""
    total = 0.0
    for c in range(codes.max() + 1):
        rows = codes == c
        if rows.sum() <= max(k, 2):
            raise InvalidParameterError(
                f"{caller} needs more than k={k} samples in every class of Z; class "
                f"{c} has {int(rows.sum())}. Pass more samples or merge small classes.")
        Yc = np.asarray(Y)[rows]
        if method == "gaussian":
            Xc = X[rows]
            Yc = np.asarray(Yc, dtype=np.float64).reshape(len(Xc), -1)
            cov = np.atleast_2d(np.cov(np.hstack([Xc, Yc]), rowvar=False))
            d = Xc.shape[1]
            value = 0.5 * (np.linalg.slogdet(cov[:d, :d])[1] + np.linalg.slogdet(
                cov[d:, d:])[1] - np.linalg.slogdet(cov)[1])
        else:
            value = ksg_mi(X[rows], Yc, k=k, base="e", jitter=jitter, preprocess=preprocess,
                           random_state=random_state)
        total += rows.mean() * value
    return total


def classifier_cmi(P, y, *, base=2, return_result=False):
    """Conditional mutual information ``I(X; Yhat | Y)`` of a classifier's softmax outputs.

    The mean Kullback-Leibler divergence of each output from the centroid of its class,
    ``(1/n) sum_i KL(P_i || Q_{y_i})`` with ``Q_c`` the mean output over class ``c``
    (Yang et al., IEEE TNNLS 2025, "intra-class concentration": small when the outputs
    of a class cluster tightly).  The paper's normalised variant (NCMI) divides by an
    inter-class separation whose exact formula could not be confirmed from the paper
    text, so it is not offered.

    Parameters
    ----------
    P : array-like of shape (n_samples, n_classes)
        Probability vectors (non-negative rows summing to 1 within 1e-6), e.g. softmax
        outputs.
    y : array-like of shape (n_samples,)
        True class labels.
    base : {2, "e", 10}, default=2
        2 gives bits, ``"e"`` nats (the paper's unit).
    return_result : bool, default=False

    Returns
    -------
    float or Result
        Non-negative; 0 when every class has one output vector.

    Raises
    ------
    InvalidParameterError
        Rows that are not probability vectors, NaN, a single class, fewer than 10 samples.
    """
    caller = "classifier_cmi"
    check_bool(return_result, "return_result", caller)
    log_base, unit = resolve_base(base, caller)
    probs = np.asarray(check_embeddings(P, name="P", caller=caller,
                                        min_samples=MIN_SAMPLES), dtype=np.float64)
    sums = probs.sum(axis=1)
    if probs.min() < 0 or np.abs(sums - 1).max() > 1e-6:
        raise InvalidParameterError(
            f"The 'P' parameter of {caller} must hold probability vectors (non-negative rows "
            f"summing to 1); got entries down to {probs.min():.3g} and row sums from "
            f"{sums.min():.6g} to {sums.max():.6g}. Apply a softmax to logits first.")
    codes = _labels(y, "y", caller, probs.shape[0])
    with stopwatch() as clock:
        counts = np.bincount(codes)
        centroids = np.zeros((len(counts), probs.shape[1]))
        np.add.at(centroids, codes, probs)
        centroids /= counts[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.sum(xlogy(probs, probs) - xlogy(probs, centroids[codes]), axis=1)
        nats = float(np.mean(kl))
    return build_result(caller, max(nats, 0.0) / log_base, unit, {"base": base},
                        elapsed_s=clock[0], details={"n_classes": len(counts)},
                        return_result=return_result)
