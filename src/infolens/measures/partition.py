"""Turn a reference variable Y into a partition of the samples.

DSMI, ASMI and CSMI condition on a discrete variable.  Y may be

* ``"labels"``: discrete classes (integers, booleans or strings), used as is;
* ``"scalar"``: a continuous scalar, min-max scaled and cut into ``n_clusters``
  equal-width bins (``np.digitize`` on ``linspace(0, 1, n_clusters + 1)[:-1]``,
  as ``dse-dsmi`` does);
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

import numpy as np

from infolens.core.validation import InvalidParameterError

__all__ = ["REFERENCE_KINDS", "Partition", "partition_reference"]

REFERENCE_KINDS = ("auto", "labels", "scalar", "vector", "partition")


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
    """

    def __init__(self, codes, groups, kind):
        self.codes = codes
        self.groups = groups
        self.kind = kind

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


def spectral_clusters(Y, n_clusters, random_state=0, caller="dsmi"):
    """Spectral clustering of vectors on a 10-nearest-neighbour graph."""
    from sklearn.cluster import SpectralClustering

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
    model = SpectralClustering(
        n_clusters=n_clusters,
        affinity="nearest_neighbors",
        assign_labels="cluster_qr",
        random_state=random_state,
    )
    return model.fit(Y).labels_


def partition_reference(Y, *, kind="auto", n_clusters=10, random_state=0, caller="dsmi"):
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

    Returns
    -------
    Partition
    """
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
    return Partition(codes.reshape(-1).astype(np.int64), groups, kind)
