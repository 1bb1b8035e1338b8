"""Input handling shared by the estimators: the reference-variable kinds (one ``y_kind``
vocabulary for the whole library) and the return convention (float, or a
:class:`infolens.Result`)."""

from __future__ import annotations

import numpy as np

from infolens.core.backend import power_of_two_scaled
from infolens.core.validation import (
    InvalidParameterError,
    check_embeddings,
    check_option,
    check_reference,
)

__all__ = ["PARTITION_Y_KINDS", "Y_KINDS", "Y_KIND_VOCABULARY", "check_mi_inputs",
           "standardize"]

#: The one vocabulary of ``y_kind``: how a mutual-information measure reads its reference
#: variable ``Y``.  Each measure accepts a subset, declared in :mod:`infolens.registry`.
Y_KIND_VOCABULARY = {
    "auto": "decided from Y: integer, boolean or string 1-D Y are labels; otherwise a float "
            "column is a scalar (partition measures) or continuous (estimators), several "
            "columns are vectors (partition measures) or continuous (estimators)",
    "labels": "discrete classes, one per sample (integers, booleans or strings)",
    "continuous": "real values, one row of n_dims numbers per sample, used as they are",
    "scalar": "one real number per sample, cut into n_clusters equal-frequency bins "
              "(equal-width, the reference's, under preset='dse-dsmi')",
    "vector": "several real numbers per sample, grouped into n_clusters spectral clusters",
    "partition": "precomputed group ids, one per sample, used as they are",
}
#: The kinds the estimators (neighbour, neural, kernel, compressed, adaptive binning) take.
Y_KINDS = ("auto", "continuous", "labels")
#: The kinds the partition measures (DSMI, ASMI, CSMI) take: they condition on groups of Y.
PARTITION_Y_KINDS = ("auto", "labels", "scalar", "vector", "partition")


def check_mi_inputs(Z, Y, caller, y_kind="auto", supported=("continuous", "labels")):
    """Validate ``Z`` and ``Y`` for a mutual-information estimator.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
    caller : str
        Public name used in messages.
    y_kind : {"auto", "continuous", "labels"}
        ``"auto"`` reads integer, boolean or string 1-D ``Y`` as labels and
        floating-point ``Y`` as continuous.
    supported : tuple of str
        The kinds this estimator accepts.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    Yv : ndarray of shape (n_samples, n_dims) float64 (continuous) or (n_samples,) int64
        codes ``0 .. n_classes - 1`` (labels)
    kind : str
        ``"continuous"`` or ``"labels"``.
    """
    X = check_embeddings(Z, caller=caller)
    Yv = check_reference(Y, X.shape[0], caller=caller)
    kind = check_option(y_kind, "y_kind", caller, Y_KINDS)
    one_column = Yv.ndim == 1 or Yv.shape[1] == 1
    if kind == "auto":
        kind = "labels" if (one_column and Yv.dtype.kind in "biuUS") else "continuous"
    if kind not in supported:
        raise InvalidParameterError(
            f"{caller} does not support {kind} Y (it supports {', '.join(supported)}). "
            + ("Pass y_kind='continuous' if Y holds numbers, or use a method that accepts "
               "labels (see infolens.list_methods())." if kind == "labels" else
               "Pass discrete labels (integers or strings), or use a method that accepts "
               "continuous Y (see infolens.list_methods()).")
        )
    if kind == "labels":
        if not one_column:
            raise InvalidParameterError(
                f"y_kind='labels' in {caller} needs one label per sample (shape (n_samples,)); "
                f"got Y of shape {Yv.shape}."
            )
        codes = np.unique(Yv.reshape(-1), return_inverse=True)[1].reshape(-1)
        return X, codes.astype(np.int64), kind
    if Yv.dtype.kind in "US":
        raise InvalidParameterError(
            f"y_kind='continuous' in {caller} needs numeric Y; got strings. Use "
            f"y_kind='labels' for categorical Y."
        )
    Yc = np.asarray(Yv, dtype=np.float64).reshape(X.shape[0], -1)
    return X, Yc, kind


def standardize(A):
    """Each column scaled to zero mean and unit standard deviation (constant columns: zero)."""
    A = power_of_two_scaled(A, axis=0)[0]  # exact; keeps the variance of 1e+-300 finite
    sd = A.std(axis=0)
    return (A - A.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
