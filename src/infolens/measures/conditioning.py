"""The reference variable turned into groups, and the size-matched partition MI.

DSMI, ASMI and CSMI condition on a discrete variable.  ``Y`` may be

* ``"labels"``: discrete classes (integers, booleans or strings), used as is;
* ``"scalar"``: a continuous scalar cut into ``n_clusters`` bins: equal-frequency
  bins (empirical quantiles, :func:`equal_frequency_bins`) for :func:`infolens.dsmi`
  under the default preset; equal-width bins after min-max scaling
  (``np.digitize`` on ``linspace(0, 1, n_clusters + 1)[:-1]``, as ``dse-dsmi``
  does, :func:`equal_width_bins`) under ``preset="dse-dsmi"`` and for ASMI/CSMI.
  Equal-width bins leave single-sample tail bins on heavy-tailed ``Y``; a bin
  with one sample never makes the measure fail: :func:`merge_small_bins` merges it
  into its neighbour (default preset), or, where the reference's numbers must be
  kept, it contributes a zero term, as in ``dse-dsmi`` (a one-point spectrum has
  zero entropy); either way a note says so;
* ``"vector"``: continuous vectors (e.g. flattened input images), grouped by
  spectral clustering on a nearest-neighbour graph
  (``sklearn.cluster.SpectralClustering(affinity="nearest_neighbors",
  assign_labels="cluster_qr")``, as ``dse-dsmi`` does);
* ``"partition"``: precomputed group ids, used as is.

``"auto"`` picks labels for integer, boolean or string 1-D input (or one
column), scalar for a floating-point column and vector for several columns:
the rule of ``dse-dsmi``.

Spectral entropies depend on the number of points, so the mutual information
compares each class of the partition with random subsets of all points of the
same size::

    MI = sum_c p(c) * (mean_r H(Z[random subset of size n_c]) - H(Z[class c]))

:func:`partition_mi` owns that loop and the two random-number conventions:
numpy generators seeded per class (default), or an exact emulation of the
Python ``random`` module calls that ``dse-dsmi`` makes (parity preset).
"""

from __future__ import annotations

import contextvars
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from infolens.core import optional
from infolens.core.validation import InvalidParameterError
from infolens.measures.common import PARTITION_Y_KINDS

__all__ = [
    "REFERENCE_KINDS",
    "Partition",
    "PartitionMI",
    "cap_rows",
    "equal_frequency_bins",
    "equal_width_bins",
    "merge_small_bins",
    "partition_mi",
    "partition_reference",
    "reference_subsample",
    "spectral_clusters",
    "subsample",
]

#: The ``y_kind`` values the partition measures take (from the one vocabulary).
REFERENCE_KINDS = PARTITION_Y_KINDS


class Partition:
    """Group ids of each sample.

    Attributes
    ----------
    codes : ndarray of shape (n_samples,), int
        Group index of each sample, in ``0 .. n_groups - 1``.
    groups : ndarray of shape (n_groups,)
        The original value behind each code (label, bin index or cluster id).
    kind : str
        How the partition was obtained (never ``"auto"``).
    notes : list of str
        What was done to the groups (merged bins), for the result's ``details``.
    """

    def __init__(self, codes, groups, kind, notes=()):
        self.codes = codes
        self.groups = groups
        self.kind = kind
        self.notes = list(notes)

    @property
    def counts(self):
        return np.bincount(self.codes, minlength=len(self.groups))

    def indices(self):
        """Yield ``(group_value, sample_indices)`` per group, in sorted group order."""
        order = np.argsort(self.codes, kind="stable")
        bounds = np.cumsum(self.counts)[:-1]
        for value, idx in zip(self.groups, np.split(order, bounds)):
            yield value, idx


def _infer_kind(Y):
    if Y.ndim == 2 and Y.shape[1] > 1:
        return "vector"
    if Y.dtype.kind in "biuUS":
        return "labels"
    return "scalar"


def equal_width_bins(y, n_bins):
    """Bin ids of a scalar after min-max scaling, exactly as ``dse-dsmi`` bins.

    A constant ``y`` falls into a single bin.
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    span = y.max() - y.min()
    if span == 0:
        return np.zeros(y.shape[0], dtype=np.int64)
    scaled = (y - y.min()) / span
    return np.digitize(scaled, np.linspace(0, 1, n_bins + 1)[:-1])


def equal_frequency_bins(y, n_bins):
    """Bin ids ``0 .. n_bins - 1`` of a scalar at its empirical quantiles.

    Each bin holds about ``N / n_bins`` samples whatever the tails; tied values
    stay in one bin (so heavily tied ``y`` gives fewer, unequal bins).
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    edges = np.unique(np.quantile(y, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    return np.searchsorted(edges, y, side="right")


def merge_small_bins(codes, y, min_size=2):
    """Merge every bin with fewer than ``min_size`` samples into its smaller neighbour.

    Parameters
    ----------
    codes : ndarray of shape (n_samples,), int
        Ordered bin ids (a larger id holds larger ``y``).
    y : ndarray of shape (n_samples,)
        The scalar, for the notes.
    min_size : int, default=2

    Returns
    -------
    codes : ndarray of shape (n_samples,), int
        Bin ids after merging (ids of the original bins, not renumbered).
    notes : list of str
        One line per merge.
    """
    codes = np.asarray(codes).copy()
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    notes = []
    while True:
        ids, counts = np.unique(codes, return_counts=True)
        small = np.flatnonzero(counts < min_size)
        if small.size == 0 or ids.size < 2:
            return codes, notes
        k = small[0]
        neighbours = [j for j in (k - 1, k + 1) if 0 <= j < ids.size]
        into = min(neighbours, key=lambda j: counts[j])
        members = codes == ids[k]
        notes.append(f"bin {int(ids[k])} ({int(counts[k])} sample(s), y in "
                     f"[{y[members].min():.4g}, {y[members].max():.4g}]) merged into bin "
                     f"{int(ids[into])} (its neighbour)")
        codes[members] = ids[into]


def spectral_clusters(Y, n_clusters, random_state=0, caller="dsmi"):
    """Spectral clustering of vectors on a 10-nearest-neighbour graph."""
    Y = np.asarray(Y)
    if Y.dtype != np.float32:  # float32 stays float32, as dse-dsmi clusters it
        Y = Y.astype(np.float64)
    n = Y.shape[0]
    if n <= 10 or n <= n_clusters:
        raise InvalidParameterError(
            f"Spectral clustering of the reference vectors in {caller} needs more than "
            f"max(10, n_clusters={n_clusters}) samples; got {n}. Pass fewer clusters, "
            f"more samples, or a precomputed partition with y_kind='partition'."
        )
    model = optional.scikit_learn("cluster").SpectralClustering(
        n_clusters=n_clusters,
        affinity="nearest_neighbors",
        assign_labels="cluster_qr",
        random_state=random_state,
    )
    return model.fit(Y).labels_


def partition_reference(Y, *, kind="auto", n_clusters=10, random_state=0, caller="dsmi",
                        scalar_bins="equal-width"):
    """Partition the samples according to the reference variable ``Y``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples,) or (n_samples, n_dims)
        Validated reference variable.
    kind : {"auto", "labels", "scalar", "vector", "partition"}
    n_clusters : int
        Number of bins (scalar) or clusters (vector).
    random_state : int
        Seed of the spectral clustering.
    scalar_bins : {"equal-width", "equal-frequency"}, default="equal-width"
        Bins of a scalar ``Y``.  ``"equal-frequency"`` also merges bins with a
        single sample (:func:`merge_small_bins`); ``"equal-width"`` keeps the
        reference's bins as they are.

    Returns
    -------
    Partition
    """
    notes = []
    if kind == "auto":
        kind = _infer_kind(Y)
    if kind in ("labels", "partition", "scalar") and Y.ndim == 2 and Y.shape[1] != 1:
        raise InvalidParameterError(
            f"y_kind={kind!r} in {caller} needs one value per sample (shape (n_samples,) or "
            f"(n_samples, 1)); got Y of shape {Y.shape}. Use y_kind='vector' to cluster "
            f"vectors."
        )
    if kind == "scalar":
        if Y.dtype.kind in "US":
            raise InvalidParameterError(
                f"y_kind='scalar' in {caller} needs numeric Y; got strings. Use "
                f"y_kind='labels' for categorical Y."
            )
        if scalar_bins == "equal-frequency":
            raw, notes = merge_small_bins(equal_frequency_bins(Y, n_clusters), Y)
        else:
            raw = equal_width_bins(Y, n_clusters)
    elif kind == "vector":
        raw = spectral_clusters(Y.reshape(len(Y), -1), n_clusters, random_state, caller)
    else:
        raw = Y.reshape(-1)
        if kind == "partition" and raw.dtype.kind == "f" and not np.all(raw == np.round(raw)):
            raise InvalidParameterError(
                f"y_kind='partition' in {caller} needs integer group ids; got non-integer "
                f"values such as {raw[raw != np.round(raw)][0]!r}."
            )
    groups, codes = np.unique(raw, return_inverse=True)
    return Partition(codes.reshape(-1).astype(np.int64), groups, kind, notes)


def scalar_bins(parity):
    """Bins of a scalar reference: the reference package's equal-width bins under its
    preset, else equal-frequency bins (a heavy tail leaves no one-sample bins)."""
    return "equal-width" if parity else "equal-frequency"


def bin_details(partition, parity):
    """``details`` entries saying how a scalar reference was binned (empty otherwise)."""
    if partition.kind != "scalar":
        return {}
    return {"reference_bins": scalar_bins(parity), "reference_notes": list(partition.notes)}


def reference_subsample(n, k, seed, rng):
    """Indices ``dse-dsmi`` keeps when it caps ``n`` points at ``k`` (Python ``random``)."""
    if seed is not None:
        rng.seed(seed)
    return np.array(rng.sample(range(n), k=k))


def subsample(n, k, random_state):
    """Sorted indices of ``k`` of ``n`` points drawn without replacement (numpy)."""
    return np.sort(np.random.default_rng(random_state).choice(n, k, replace=False))


def cap_rows(X, max_n, *, random_state, parity, py_rng=None):
    """``X``, or ``max_n`` of its rows when it has more.

    Under the parity preset the rows are drawn as ``dse-dsmi`` draws them
    (Python's ``random``, seeded with ``random_state``; ``py_rng`` continues an
    existing stream), otherwise with numpy (:func:`subsample`).
    """
    n = X.shape[0]
    if max_n is None or n <= max_n:
        return X
    if parity:
        return X[reference_subsample(n, max_n, random_state, py_rng or random.Random())]
    return X[subsample(n, max_n, random_state)]


class PartitionMI:
    """The terms of a partition-based mutual information.

    Attributes
    ----------
    value : float
    groups : list of dict
        Per group: ``group`` (its label), ``n``, ``weight`` = n / N,
        ``conditional`` = H(Z | group), ``subsets`` = the entropies of the
        random subsets, ``marginal`` = their mean.
    standard_error : float or None
        Standard error of ``value``: the spread of the random subsets (with two
        or more repeats) in quadrature with the entropies' own standard errors
        (stochastic estimators such as SLQ); None when neither exists.  The
        latter share their probes (common random numbers), so their errors are
        taken as fully correlated and their standard errors add linearly, with
        the weights of their terms: an upper bound.
    """

    def __init__(self, value, groups, standard_error):
        self.value = value
        self.groups = groups
        self.standard_error = standard_error


def partition_mi(Z, partition, entropy_of, *, n_repeats, random_state, parity, max_n, caller,
                 workers=1, entropy_many=None):
    """Compute the size-matched partition MI.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    partition : Partition
    entropy_of : callable
        ``entropy_of(X)`` for a subset ``X`` of rows of ``Z``: a float, or
        ``(value, standard_error)`` where the estimate is stochastic
        (``standard_error`` may be None).
    n_repeats : int
        Random subsets per group.
    random_state : int or None
    parity : bool
        Reproduce ``dse-dsmi``'s random draws exactly.
    max_n : int or None
        Cap on the points of any one entropy evaluation (subsampled above it).
    caller : str
        For error messages.
    workers : int
        Threads evaluating the entropies at once (not under ``parity``, whose
        draws depend on the order of evaluation).  ``entropy_of`` must then be
        safe to call from several threads.
    entropy_many : callable, optional
        ``entropy_many(Z, subsets)``, for a list of row-index arrays, returns for
        each either ``(value, standard_error)`` or None where ``entropy_of`` must be
        asked instead (not under ``parity``; subsets above ``max_n`` never go to it).
    """
    counts = partition.counts
    if counts.min() < 2 and partition.kind != "scalar":
        small = [str(g) for g, c in zip(partition.groups, counts) if c < 2]
        raise InvalidParameterError(
            f"{caller} needs at least 2 samples in every class of Y; class(es) "
            f"{', '.join(small[:5])} have a single sample. Merge or drop rare classes, e.g. "
            f"keep = np.isin(Y, classes_with_two_or_more); Z, Y = Z[keep], Y[keep]."
        )
    n = Z.shape[0]
    py_rng = random.Random()

    def capped_entropy(X):
        """(value, standard error or 0) of the entropy of ``X``."""
        X = cap_rows(X, max_n, random_state=0 if parity else random_state, parity=parity,
                     py_rng=py_rng)
        out = entropy_of(X)
        value, se = out if isinstance(out, tuple) else (out, None)
        return value, 0.0 if se is None else float(se)

    if parity:
        values = _parity_entropies(Z, partition, capped_entropy, n_repeats, random_state,
                                   py_rng)
    else:
        many = None
        if entropy_many is not None:
            def many(subsets):
                fits = [max_n is None or len(rows) <= max_n for rows in subsets]
                found = iter(entropy_many(Z, [r for r, ok in zip(subsets, fits) if ok]))
                out = [next(found) if ok else None for ok in fits]
                return [None if f is None else (f[0], 0.0 if f[1] is None else float(f[1]))
                        for f in out]
        values = _drawn_entropies(Z, partition, capped_entropy, n_repeats, random_state,
                                  workers, many)
    groups = []
    estimator_error = []  # per group: SE of its conditional term + SE of its subsets' mean
    for (label, idx), found in zip(partition.indices(), values):
        label = label.item() if hasattr(label, "item") else label
        if found is None:
            # A one-sample bin of a scalar Y: a one-point spectrum has zero entropy,
            # and so has every one-point subset, so its term is 0 (what dse-dsmi gets).
            groups.append({"group": label, "n": 1, "weight": 1 / n, "conditional": 0.0,
                           "subsets": [0.0], "marginal": 0.0,
                           "note": "single-sample bin: zero term"})
            estimator_error.append(0.0)
            continue
        (conditional, conditional_se), draws = found[0], found[1:]
        subsets = [value for value, _ in draws]
        estimator_error.append(conditional_se + sum(se for _, se in draws) / n_repeats)
        groups.append({"group": label, "n": int(idx.size), "weight": idx.size / n,
                       "conditional": conditional, "subsets": subsets,
                       "marginal": float(np.mean(subsets))})
    value = float(sum(g["weight"] * (g["marginal"] - g["conditional"]) for g in groups))
    var = sum(g["weight"] * e for g, e in zip(groups, estimator_error)) ** 2
    if n_repeats > 1:
        var += sum(g["weight"] ** 2 * np.var(g["subsets"], ddof=1) / n_repeats for g in groups
                   if g["n"] > 1)
    se = float(np.sqrt(var)) if n_repeats > 1 or var > 0 else None
    return PartitionMI(value, groups, se)


def _parity_entropies(Z, partition, entropy, n_repeats, random_state, py_rng):
    """Per group: ``[conditional, subset entropies...]`` (None for a one-sample group),
    with ``dse-dsmi``'s draws: drawn and evaluated in turn, because a capped
    evaluation re-seeds the shared generator (as dse-dsmi's entropies re-seed
    Python's global one), which changes the draws that follow it."""
    n = Z.shape[0]
    out = []
    for label, idx in partition.indices():
        if idx.size < 2:
            out.append(None)
            continue
        conditional = entropy(Z[idx])
        if random_state is not None:
            py_rng.seed(random_state)
        out.append([conditional] + [entropy(Z[np.array(py_rng.sample(range(n), k=idx.size))])
                                    for _ in range(n_repeats)])
    return out


def _drawn_entropies(Z, partition, entropy, n_repeats, random_state, workers, many=None):
    """As :func:`_parity_entropies` with infolens's draws (one generator per group,
    ``[random_state, k]``), all made before any entropy is evaluated, so that
    ``many`` can take them at once and ``workers`` threads the rest in any order."""
    n = Z.shape[0]
    jobs = []
    for k, (label, idx) in enumerate(partition.indices()):
        if idx.size < 2:
            jobs.append(None)
            continue
        rng = np.random.default_rng(None if random_state is None else [random_state, k])
        jobs.append([idx] + [np.sort(rng.choice(n, idx.size, replace=False))
                             for _ in range(n_repeats)])
    flat = [rows for job in jobs if job is not None for rows in job]
    found = many(flat) if many is not None else [None] * len(flat)
    todo = [i for i, value in enumerate(found) if value is None]
    if workers > 1 and len(todo) > 1:
        with ThreadPoolExecutor(workers) as pool:
            # each thread runs in a copy of this context (thread settings included)
            rest = pool.map(lambda i: contextvars.copy_context().run(entropy, Z[flat[i]]),
                            todo)
            for i, value in zip(todo, rest):
                found[i] = value
    else:
        for i in todo:
            found[i] = entropy(Z[flat[i]])
    found = iter(found)
    return [None if job is None else [next(found) for _ in job] for job in jobs]
