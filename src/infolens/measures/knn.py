"""Nearest-neighbour estimators: Kozachenko-Leonenko entropy and KSG mutual information.

* Kozachenko & Leonenko (1987), "Sample estimate of the entropy of a random
  vector": ``H = psi(N) - psi(k) + log V_d + d <log eps_i>`` with ``eps_i`` the
  distance from point ``i`` to its ``k``-th neighbour and ``V_d`` the volume of
  the unit ball of the norm.
* Kraskov, Stoegbauer & Grassberger (2004), "Estimating mutual information",
  Phys. Rev. E 69, 066138: algorithms 1 and 2, max-norm in every space.
* Ross (2014), "Mutual information between discrete and continuous data
  sets", PLoS ONE 9, e87357: the KSG analogue used when ``Y`` is a label.

Neighbour search uses a k-d tree (``scipy.spatial.cKDTree``, all cores) up to
:data:`TREE_MAX_DIM` features and chunked brute force above, where trees are no
faster than scanning.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist
from scipy.special import digamma, gammaln, ndtri

from infolens.core import optional
from infolens.core.backend import power_of_two_scaled
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import (
    InvalidParameterError, check_bool, check_embeddings, check_int, check_option, check_real,
    resolve_base,
)
from infolens.measures.common import check_mi_inputs, standardize

__all__ = ["PREPROCESSING", "TREE_MAX_DIM", "kl_entropy", "ksg_mi", "normal_scores",
           "preprocess_columns"]

#: Above this many features neighbour search scans all pairs in chunks.
TREE_MAX_DIM = 16
#: Per-column maps applied before neighbour search (see :func:`ksg_mi`).
PREPROCESSING = ("auto", "rank", "standardize", "none")
_METRICS = {"euclidean": 2.0, "chebyshev": np.inf}
_CHUNK_BYTES = 64 * 2**20


def _chunks(n, d):
    rows = max(1, int(_CHUNK_BYTES // (8 * max(n, 1) * max(1, min(d, 8)))))
    for start in range(0, n, rows):
        yield slice(start, min(n, start + rows))


def _scipy_metric(p):
    return "chebyshev" if np.isinf(p) else "euclidean"


def knn_distances(X, k, p=np.inf):
    """Distances to the ``k`` nearest other points and their indices.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    k : int
        Number of neighbours, ``k < n``.
    p : float
        Minkowski order: ``np.inf`` for the max-norm, 2 for Euclidean.

    Returns
    -------
    dist : ndarray of shape (n, k)
        Ascending distances (the point itself excluded).
    idx : ndarray of shape (n, k)
    """
    n, d = X.shape
    if d <= TREE_MAX_DIM:
        dist, idx = cKDTree(X).query(X, k=k + 1, p=p, workers=-1)
        # Row i's own index is normally first; with exact duplicates it may not be.
        own = idx == np.arange(n)[:, None]
        keep = ~own
        keep[own.sum(axis=1) == 0, -1] = False
        return dist[keep].reshape(n, k), idx[keep].reshape(n, k)
    dist = np.empty((n, k))
    idx = np.empty((n, k), dtype=np.int64)
    metric = _scipy_metric(p)
    for rows in _chunks(n, d):
        block = cdist(X[rows], X, metric=metric)
        block[np.arange(block.shape[0]), np.arange(rows.start, rows.stop)] = np.inf
        part = np.argpartition(block, k - 1, axis=1)[:, :k]
        pd = np.take_along_axis(block, part, axis=1)
        order = np.argsort(pd, axis=1)
        dist[rows] = np.take_along_axis(pd, order, axis=1)
        idx[rows] = np.take_along_axis(part, order, axis=1)
    return dist, idx


def count_within(X, radius, p=np.inf, strict=True):
    """Number of other points within ``radius[i]`` of each point ``i``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    radius : ndarray of shape (n,)
    p : float
        Minkowski order of the norm.
    strict : bool
        Count distances ``< radius`` (True) or ``<= radius`` (False).

    Returns
    -------
    ndarray of shape (n,), int
    """
    n, d = X.shape
    r = np.nextafter(radius, 0) if strict else radius
    if d == 1:
        return _count_sorted(X[:, 0], r)
    if d <= TREE_MAX_DIM:
        counts = cKDTree(X).query_ball_point(X, r, p=p, return_length=True, workers=-1)
        return np.asarray(counts, dtype=np.int64) - 1
    counts = np.empty(n, dtype=np.int64)
    metric = _scipy_metric(p)
    for rows in _chunks(n, d):
        block = cdist(X[rows], X, metric=metric)
        counts[rows] = (block <= r[rows, None]).sum(axis=1) - 1
    return counts


def _count_sorted(x, r):
    """``#{j != i : |x_j - x_i| <= r_i}`` in one dimension by binary search, O(n log n).

    The search bounds ``x_i +- r_i`` are rounded, so each bound is then moved until the
    exact test ``|x_j - x_i| <= r_i`` (the one a k-d tree applies) holds at it.
    """
    n = x.size
    xs = np.sort(x)
    hi = np.searchsorted(xs, x + r, side="right")
    lo = np.searchsorted(xs, x - r, side="left")
    while True:  # xs[hi] still inside: move up
        m = hi < n
        m[m] = (xs[hi[m]] - x[m]) <= r[m]
        if not m.any():
            break
        hi[m] += 1
    while True:  # xs[hi - 1] outside on the right: move down
        m = hi > 0
        m[m] = (xs[hi[m] - 1] - x[m]) > r[m]
        if not m.any():
            break
        hi[m] -= 1
    while True:  # xs[lo - 1] still inside: move down
        m = lo > 0
        m[m] = (x[m] - xs[lo[m] - 1]) <= r[m]
        if not m.any():
            break
        lo[m] -= 1
    while True:  # xs[lo] outside on the left: move up
        m = lo < n
        m[m] = (x[m] - xs[lo[m]]) > r[m]
        if not m.any():
            break
        lo[m] += 1
    return (hi - lo - 1).astype(np.int64)


def _log_unit_ball(d, p):
    if np.isinf(p):
        return d * np.log(2.0)
    return 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1.0)


def kl_entropy(Z, *, k=3, metric="euclidean", base=2, return_result=False):
    """Kozachenko-Leonenko nearest-neighbour estimate of differential entropy.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Samples of a continuous random vector.
    k : int, default=3
        Neighbour order; larger ``k`` lowers variance and raises bias.
    metric : {"euclidean", "chebyshev"}, default="euclidean"
        Norm of the neighbour distances (the estimate is consistent for both).
    base : {2, "e", 10}, default=2
        2 gives bits, ``"e"`` nats.
    return_result : bool, default=False
        Return a :class:`infolens.Result` instead of a float.

    Returns
    -------
    float or Result
        Differential entropy (can be negative), in the unit of ``base``.
        Not invariant to rescaling: ``H(cZ) = H(Z) + d log|c|``.

    References
    ----------
    L. F. Kozachenko and N. N. Leonenko, Probl. Peredachi Inf. 23(2), 9-16 (1987).
    """
    caller = "kl_entropy"
    check_bool(return_result, "return_result", caller)
    k = check_int(k, "k", caller, low=1)
    metric = check_option(metric, "metric", caller, tuple(_METRICS))
    log_base, unit = resolve_base(base, caller)
    X = check_embeddings(Z, caller=caller, min_samples=k + 1)
    p = _METRICS[metric]
    with stopwatch() as clock:
        # H(c Z) = H(Z) + d log c: solved at unit scale (a power of two, exact), so that
        # distances of data at 1e300 or 1e-300 neither overflow nor underflow.
        X, exponent = power_of_two_scaled(X)
        n, d = X.shape
        eps = knn_distances(X, k, p)[0][:, -1]
        if np.any(eps <= 0):
            n_dup = int((eps <= 0).sum())
            raise InvalidParameterError(
                f"kl_entropy needs the {k}-th neighbour of every point at a positive "
                f"distance; {n_dup} of {n} points have {k} or more exact duplicates. "
                f"Differential entropy is -inf for data with atoms: remove duplicates, use "
                f"a discrete estimator (infolens.cse), or add small noise deliberately."
            )
        nats = (digamma(n) - digamma(k) + _log_unit_ball(d, p) + d * np.mean(np.log(eps))
                + d * exponent * np.log(2.0))
    params = {"k": k, "metric": metric, "base": base}
    return build_result(caller, nats / log_base, unit, params, elapsed_s=clock[0],
                        details={"n_samples": n, "n_features": d}, return_result=return_result)


def normal_scores(A):
    """Per-column normal scores ``Phi^-1(rank / (n + 1))`` (ties get their average rank)."""
    return ndtri(optional.scipy_stats().rankdata(A, axis=0) / (A.shape[0] + 1.0))


def preprocess_columns(A, how):
    """Apply one of the per-column maps of :data:`PREPROCESSING` (not ``"auto"``).

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_features)
    how : {"rank", "standardize", "none"}
        Normal scores (:func:`normal_scores`), zero mean and unit variance, or
        the values as they are.

    Returns
    -------
    ndarray of shape (n_samples, n_features), float64
    """
    if how == "rank":
        return normal_scores(A)
    if how == "standardize":
        return standardize(A)
    return np.asarray(A, dtype=np.float64)


def ksg_mi(Z, Y, *, k=3, algorithm=1, y_kind="auto", preprocess="auto",
           jitter=1e-10, base=2, random_state=0, return_result=False):
    """Kraskov-Stoegbauer-Grassberger nearest-neighbour mutual information.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
        Continuous vectors, or discrete labels (then Ross's mixed estimator,
        the KSG analogue for a discrete variable, is used).
    k : int, default=3
        Neighbour order.
    algorithm : {1, 2}, default=1
        KSG algorithm 1 (joint max-norm ball, strict marginal counts) or 2
        (per-axis rectangle).  Algorithm 2 has lower bias for large MI in
        higher dimension, algorithm 1 lower variance.  Labels use Ross's
        estimator whatever this is.
    y_kind : {"auto", "continuous", "labels"}, default="auto"
        ``"auto"``: integer, boolean or string 1-D ``Y`` are labels.
    preprocess : {"auto", "rank", "standardize", "none"}, default="auto"
        Map applied to each column of ``Z`` and continuous ``Y`` first;
        ``"auto"`` is ``"rank"`` for continuous ``Y`` and ``"standardize"`` for
        labels (ranks close the gaps between separated classes, which the
        mixed estimator relies on).
        ``"rank"``: normal scores ``Phi^-1(rank / (n + 1))``, an (empirical)
        invertible monotone map per coordinate, so the true MI is unchanged,
        while heavy tails no longer stretch the max-norm neighbourhoods (on
        Student-t tasks this removes most of KSG's bias).  ``"standardize"``:
        unit variance (what scikit-learn does).  ``"none"``: raw values (the
        max-norm then mixes the scales of the coordinates).
    jitter : float, default=1e-10
        Standard deviation of Gaussian noise added to the preprocessed data
        to break ties (exact duplicates make neighbour counts ill-defined);
        0 disables it.
    base : {2, "e", 10}, default=2
        2 gives bits, ``"e"`` nats.
    random_state : int or None, default=0
        Seed of the jitter.
    return_result : bool, default=False

    Returns
    -------
    float or Result
        The estimate (it can be slightly negative for independent variables).

    References
    ----------
    A. Kraskov, H. Stoegbauer, P. Grassberger, Phys. Rev. E 69, 066138 (2004).
    B. C. Ross, PLoS ONE 9(2), e87357 (2014).
    """
    caller = "ksg_mi"
    check_bool(return_result, "return_result", caller)
    k = check_int(k, "k", caller, low=1)
    algorithm = check_int(algorithm, "algorithm", caller, low=1, high=2)
    preprocess = check_option(preprocess, "preprocess", caller, PREPROCESSING)
    jitter = check_real(jitter, "jitter", caller, low=0.0)
    random_state = check_int(random_state, "random_state", caller, low=0, allow_none=True)
    log_base, unit = resolve_base(base, caller)
    X, Yv, kind = check_mi_inputs(Z, Y, caller, y_kind)
    n = X.shape[0]
    if n <= k:
        raise InvalidParameterError(
            f"{caller} needs more samples than k={k}; got {n}. Pass more samples or a "
            f"smaller k.")
    if preprocess == "auto":
        preprocess = "standardize" if kind == "labels" else "rank"
    rng = np.random.default_rng(random_state)
    with stopwatch() as clock:
        if preprocess == "none":
            # Raw values, brought to unit size by one power of two shared by X and Y
            # (exact, and every ratio of scales the max-norm sees is kept), so that the
            # jitter is small against the data at 1e300 and at 1e-300 alike.
            joint = X if kind == "labels" else np.hstack([X, Yv])
            shift = power_of_two_scaled(joint)[1]
            X = np.ldexp(X, -shift)
            Yv = Yv if kind == "labels" else np.ldexp(Yv, -shift)
        else:  # normal scores and standardisation are scale-free per column
            X = preprocess_columns(X, preprocess)
            Yv = Yv if kind == "labels" else preprocess_columns(Yv, preprocess)
        if jitter > 0:
            X = X + jitter * rng.standard_normal(X.shape)
        if kind == "labels":
            nats, used = _ross(X, Yv, k)
        else:
            if jitter > 0:
                Yv = Yv + jitter * rng.standard_normal(Yv.shape)
            nats, used = _ksg(X, Yv, k, algorithm), n
    params = {"k": k, "algorithm": algorithm, "y_kind": kind,
              "preprocess": preprocess, "jitter": jitter, "base": base,
              "random_state": random_state}
    details = {"n_samples": n, "n_used": used,
               "estimator": "ross" if kind == "labels" else f"ksg{algorithm}"}
    return build_result(caller, nats / log_base, unit, params, elapsed_s=clock[0],
                        details=details, return_result=return_result)


def _ksg(X, Y, k, algorithm):
    n = X.shape[0]
    J = np.hstack([X, Y])
    dist, idx = knn_distances(J, k, np.inf)
    if algorithm == 1:
        eps = dist[:, -1]
        nx = count_within(X, eps, np.inf, strict=True)
        ny = count_within(Y, eps, np.inf, strict=True)
        return digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1))
    ex = np.abs(X[idx] - X[:, None, :]).max(axis=2).max(axis=1)
    ey = np.abs(Y[idx] - Y[:, None, :]).max(axis=2).max(axis=1)
    nx = count_within(X, ex, np.inf, strict=False)
    ny = count_within(Y, ey, np.inf, strict=False)
    return digamma(k) - 1.0 / k + digamma(n) - np.mean(digamma(nx) + digamma(ny))


def _ross(X, codes, k):
    counts = np.bincount(codes)
    radius = np.zeros(X.shape[0])
    k_used = np.zeros(X.shape[0], dtype=np.int64)
    keep = counts[codes] > 1
    for c in np.flatnonzero(counts > 1):
        members = np.flatnonzero(codes == c)
        kc = min(k, len(members) - 1)
        radius[members] = knn_distances(X[members], kc, np.inf)[0][:, -1]
        k_used[members] = kc
    if keep.sum() < 2:
        raise InvalidParameterError(
            "ksg_mi with labels needs at least two samples in some class; every class has "
            "one sample. Pass more samples per class.")
    m = count_within(X, radius, np.inf, strict=False)[keep]
    n = int(keep.sum())
    return (digamma(n) + np.mean(digamma(k_used[keep])) - np.mean(digamma(counts[codes][keep]))
            - np.mean(digamma(m))), n
