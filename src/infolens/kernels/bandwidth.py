"""Gaussian bandwidths: the one validation of ``sigma``, the rules, and unit scaling.

The Gaussian kernel is ``exp(-d**2 / (2 * sigma**2))`` on Euclidean distances
``d``: ``sigma`` is a length in the units of the embeddings, as in the
reference package ``dse-dsmi``.
"""

from __future__ import annotations

import collections
import hashlib
import numbers

import numpy as np

from infolens.core.backend import power_of_two_scaled
from infolens.core.memory import explain_memory_error
from infolens.core.validation import InvalidParameterError
from infolens.kernels.distances import squared_distance_block

__all__ = [
    "BANDWIDTH_RULES",
    "DEFAULT_RULE",
    "KNN_ORDER",
    "KNN_REFERENCE_SIZE",
    "MEDIAN_SAMPLE_SIZE",
    "check_sigma",
    "resolve_bandwidth",
    "unit_scaled_bandwidth",
]

#: Named bandwidth rules.  Each is a degree-one homogeneous function of the
#: pairwise distances, so the kernel, and every measure built on it, is
#: unchanged by ``Z -> c * Z + b`` for any ``c > 0`` and shift ``b``.  Each
#: depends on the rows as a multiset only (never on their order), and
#: duplicated rows enter as multiplicities: zero distances are ignored.
BANDWIDTH_RULES = ("knn", "median", "rms")

#: The rule that ``sigma="auto"`` means under the default preset.
DEFAULT_RULE = "knn"

#: Largest number of distinct points whose distances enter the ``"median"``
#: rule, and the largest number of query points of the ``"knn"`` rule; larger
#: inputs use an evenly spaced subset of their distinct rows in lexicographic
#: order: chosen from the data's content, never from the row order.
MEDIAN_SAMPLE_SIZE = 2048

#: The ``"knn"`` rule's neighbour order is ``ceil(KNN_ORDER * ln N)`` for ``N`` rows
#: (``benchmarks/bench_bandwidth.py``: 1 keeps blobs apart slightly better, 2 keeps
#: DSMI monotone along a weak smooth dependence at t = 1).
KNN_ORDER = 2.0

#: Largest number of distinct points searched for neighbours by the ``"knn"`` rule.
KNN_REFERENCE_SIZE = 16384

#: Entries of one block of query-to-reference distances.
_BLOCK_ENTRIES = 1 << 22


def check_sigma(sigma, caller, *, name="sigma", rules=BANDWIDTH_RULES):
    """The one validation of a bandwidth parameter.

    Parameters
    ----------
    sigma : object
        What the caller received.
    caller : str
        Public function name, for the message.
    name : str, default="sigma"
        The parameter's name (e.g. ``"sigma_y"``).
    rules : tuple of str
        The rule names this caller accepts (e.g. ``("auto", "median", "rms")``).

    Returns
    -------
    float or str
        A positive finite length, or one of ``rules``.

    Raises
    ------
    InvalidParameterError
        For anything else (booleans, NaN, infinities, non-positive numbers,
        unknown names), with the accepted forms.
    """
    if isinstance(sigma, str) and sigma in rules:
        return sigma
    if (isinstance(sigma, numbers.Real) and not isinstance(sigma, bool)
            and np.isfinite(sigma) and sigma > 0):
        return float(sigma)
    raise InvalidParameterError(
        f"The {name!r} parameter of {caller} must be a float in the range (0, inf) or one of "
        f"{', '.join(map(repr, rules))}. Got {sigma!r} instead. Pass a positive length in "
        f"the units of the data, or {name}={rules[0]!r} for a scale-aware bandwidth."
    )


def resolve_bandwidth(Z, sigma, caller="dse"):
    """Turn ``sigma`` (a positive number or a rule name) into a number.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    sigma : float or {"knn", "median", "rms"}
        * a positive number: used as is (same units as ``Z``);
        * ``"knn"``: ``median_i r_k(i) / sqrt(2)``, where ``r_k(i)`` is the
          distance from row ``i`` to its ``k``-th nearest other row at a
          non-zero distance (copies of a row count once each as neighbours of
          the other rows, never as their own), ``k = ceil(2 ln N)`` for ``N``
          rows, and the median runs over rows (copies included).  The kernel
          is then ``exp(-d^2 / r^2)`` with ``r`` the typical ``k``-NN
          distance: the global form of the self-tuning kernel, local enough
          to keep separated clusters apart.  Above ``MEDIAN_SAMPLE_SIZE``
          distinct rows the median runs over an evenly spaced lexicographic
          subset of them, and above ``KNN_REFERENCE_SIZE`` the neighbours are
          searched in such a subset;
        * ``"median"``: the median Euclidean distance between pairs of rows
          at a non-zero distance (over an evenly spaced lexicographic subset
          of ``MEDIAN_SAMPLE_SIZE`` distinct rows when there are more);
        * ``"rms"``: the root-mean-square distance between distinct pairs,
          ``sqrt(2 n / (n - 1) * trace(cov(Z)))``, exact and O(n d).

    Returns
    -------
    float
        The bandwidth.  For a rule on data whose points all coincide, 1.0 (any
        value gives the same all-ones kernel there).
    """
    sigma = check_sigma(sigma, caller)
    if not isinstance(sigma, str):
        return sigma
    n = Z.shape[0]
    Z = np.asarray(Z, dtype=np.float64)
    if sigma == "rms":
        var = Z.var(axis=0).sum()
        value = float(np.sqrt(2.0 * n / (n - 1) * var))
    else:
        # Distinct rows in lexicographic order: a canonical form of the multiset of rows.
        U, counts = np.unique(Z, axis=0, return_counts=True)
        if U.shape[0] < 2:
            return 1.0
        value = _knn_rule(U, counts) if sigma == "knn" else _median_rule(U, counts)
    return value if value > 0 else 1.0


def _evenly_spaced(n, m):
    """``m`` evenly spaced indices into ``range(n)`` (all of them when ``n <= m``)."""
    if n <= m:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, m)).astype(np.int64))


def _distance_blocks(Q, R):
    """Yield ``(start, stop, d2)``: squared distances of ``Q[start:stop]`` to every row of ``R``."""
    centre = np.median(R, axis=0)
    Qc, Rc = Q - centre, R - centre
    RT, sq_r = np.ascontiguousarray(Rc.T), np.einsum("ij,ij->i", Rc, Rc)
    sq_q = np.einsum("ij,ij->i", Qc, Qc)
    step = max(1, _BLOCK_ENTRIES // R.shape[0])
    for start in range(0, Q.shape[0], step):
        stop = min(start + step, Q.shape[0])
        yield start, stop, squared_distance_block(Qc[start:stop], sq_q[start:stop], RT, sq_r)


def _weighted_median(values, weights):
    """``np.median`` of ``values`` repeated ``weights`` times, without repeating them."""
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.cumsum(weights[order])
    total = int(cum[-1])
    low = v[np.searchsorted(cum, (total + 1) // 2)]
    high = v[np.searchsorted(cum, total // 2 + 1)]
    return float(0.5 * (low + high))


def _median_rule(U, counts):
    """Weighted median of the non-zero pairwise distances of the distinct rows ``U``."""
    keep = _evenly_spaced(U.shape[0], MEDIAN_SAMPLE_SIZE)
    U, counts = U[keep], counts[keep]
    m = U.shape[0]
    d2 = next(_distance_blocks(U, U))[2] if m * m <= _BLOCK_ENTRIES else np.vstack(
        [block for _, _, block in _distance_blocks(U, U)])
    i, j = np.triu_indices(m, k=1)
    pairs = np.sqrt(d2[i, j])
    weights = counts[i] * counts[j]
    nonzero = pairs > 0
    if not nonzero.any():
        return 0.0
    return _weighted_median(pairs[nonzero], weights[nonzero])


def _knn_rule(U, counts):
    """Median ``k``-NN distance over the rows, divided by ``sqrt(2)``; see :func:`resolve_bandwidth`."""
    ref = _evenly_spaced(U.shape[0], KNN_REFERENCE_SIZE)
    R, weight_r = U[ref], counts[ref]
    k = max(1, int(np.ceil(KNN_ORDER * np.log(weight_r.sum()))))
    query = ref[_evenly_spaced(ref.size, MEDIAN_SAMPLE_SIZE)]
    Q, weight_q = U[query], counts[query]
    kk = min(k, R.shape[0] - 1)
    radii = np.zeros(Q.shape[0])
    for start, stop, d2 in _distance_blocks(Q, R):
        d2[d2 == 0] = np.inf  # the row itself and its copies
        part = np.argpartition(d2, kk - 1, axis=1)[:, :kk]
        vals = np.take_along_axis(d2, part, axis=1)
        cnt = np.where(np.isfinite(vals), weight_r[part], 0)
        order = np.argsort(vals, axis=1, kind="stable")
        vals = np.take_along_axis(vals, order, axis=1)
        cum = np.cumsum(np.take_along_axis(cnt, order, axis=1), axis=1)
        target = np.minimum(k, cum[:, -1])
        first = np.argmax(cum >= target[:, None], axis=1)
        radii[start:stop] = np.where(target > 0, np.sqrt(vals[np.arange(stop - start), first]), 0)
    found = radii > 0
    if not found.any():
        return 0.0
    return _weighted_median(radii[found], weight_q[found]) / np.sqrt(2.0)


@explain_memory_error(lambda X, sigma, caller: (
    f"{caller}: choosing the bandwidth sigma={sigma!r} for {len(X)} x "
    f"{X.shape[1] if np.ndim(X) > 1 else 1} rows", None,
    "Pass a numeric sigma (no rule to evaluate), or fewer rows or features."))
def unit_scaled_bandwidth(X, sigma, caller):
    """Rescale ``X`` to unit size and resolve the bandwidth in those units.

    ``X`` is divided by a power of two, which is exact in floating point:
    every distance-to-bandwidth ratio, and so every value, is bit for bit
    what it would be unscaled, but squared distances of data at scales like
    1e-200 or 1e200 no longer underflow or overflow.  A fixed ``sigma`` so
    far from the data's scale that its square would leave the float range
    is clamped to where the kernel is already exactly the identity
    (``sigma`` -> 0) or all ones (``sigma`` -> inf).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    sigma : float or {"knn", "median", "rms"}
        A checked bandwidth (:func:`check_sigma`).
    caller : str

    Returns
    -------
    X_unit : ndarray of shape (n, d), float64
        The rescaled rows.
    sigma_unit : float
        The bandwidth in the units of ``X_unit``.
    sigma_value : float
        The bandwidth in the units of ``X``.
    """
    X_unit, exponent = power_of_two_scaled(X)
    if isinstance(sigma, str):
        sigma_unit = _remembered_rule(X_unit, sigma, caller)
        return X_unit, sigma_unit, float(np.ldexp(sigma_unit, exponent))
    sigma_unit = min(max(float(np.ldexp(sigma, -exponent)), 1e-150), 1e150)
    return X_unit, sigma_unit, sigma


#: Rule bandwidths of the last few inputs up to this size are remembered: a monitor
#: evaluates DSE, DSMI(Z; Y) and DSMI(Z; X) on the same embeddings, and the k-NN rule
#: on 400 probe points cost as much as the DSE's eigen-solve.
REMEMBER_BYTES = 16 * 2**20
_REMEMBERED = collections.OrderedDict()
_REMEMBER_COUNT = 8


def _remembered_rule(X, rule, caller):
    """:func:`resolve_bandwidth` of a rule, reused for byte-identical inputs."""
    if X.nbytes > REMEMBER_BYTES:
        return resolve_bandwidth(X, rule, caller)
    digest = hashlib.blake2b(np.ascontiguousarray(X).view(np.uint8), digest_size=16)
    key = (rule, X.shape, X.dtype.str, digest.hexdigest())
    if key in _REMEMBERED:
        _REMEMBERED.move_to_end(key)
        return _REMEMBERED[key]
    value = resolve_bandwidth(X, rule, caller)
    _REMEMBERED[key] = value
    while len(_REMEMBERED) > _REMEMBER_COUNT:
        _REMEMBERED.popitem(last=False)
    return value
