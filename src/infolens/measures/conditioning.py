"""The reference variable turned into groups (the size-matched partition MI that uses
them is :mod:`infolens.measures.partition_mi`).

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

"""

from __future__ import annotations

import random

import numpy as np

from infolens.core import optional
from infolens.core.validation import InvalidParameterError
from infolens.measures.common import PARTITION_Y_KINDS

__all__ = [
    "REFERENCE_KINDS",
    "Partition",
    "cap_rows",
    "equal_frequency_bins",
    "equal_width_bins",
    "merge_small_bins",
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
