"""Adaptive-binning mutual information for layer activations (Chelombiev et al.).

Each unit's activations are cut into ``n_bins`` bins holding (about) equally
many samples (quantile edges) instead of equal-width bins, so saturating or
unbounded activations (ReLU, tanh) are not dominated by a few outliers.  The
layer state of a sample is the tuple of its bin indices; the estimate is the
plug-in mutual information ``H(T) + H(Y) - H(T, Y)`` of those discrete states
and ``Y``.

Reference: I. Chelombiev, C. Houghton, C. O'Donnell, "Adaptive estimators show
information compression in deep neural networks", ICLR (2019).
"""

from __future__ import annotations

import numpy as np

from infolens.core.formulas import shannon_of_counts
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import check_bool, check_int, resolve_base
from infolens.measures.common import check_mi_inputs

__all__ = ["adaptive_binning_mi", "quantile_bins"]


def quantile_bins(A, n_bins):
    """Per-column equal-mass bin index of every entry.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_features)
    n_bins : int

    Returns
    -------
    ndarray of shape (n_samples, n_features), int
        Bin ids in ``0 .. n_bins - 1``; tied values always share a bin (so a
        unit that is constant, e.g. a dead ReLU, is one bin).
    """
    out = np.empty(A.shape, dtype=np.int64)
    qs = np.linspace(0, 1, n_bins + 1)[1:-1]
    for j in range(A.shape[1]):
        edges = np.unique(np.quantile(A[:, j], qs))
        out[:, j] = np.searchsorted(edges, A[:, j], side="right")
    return out


def _states(B):
    return np.unique(B, axis=0, return_inverse=True)[1].reshape(-1)


def adaptive_binning_mi(Z, Y, *, n_bins=30, n_bins_y=None, y_kind="auto", base=2,
                        return_result=False):
    """Plug-in MI between equal-mass-binned activations and ``Y``.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Layer activations.
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
        Labels, or continuous values (binned the same way with ``n_bins_y``).
    n_bins : int, default=30
        Bins per unit.
    n_bins_y : int or None, default=None
        Bins per column of continuous ``Y`` (defaults to ``n_bins``).
    y_kind : {"auto", "continuous", "labels"}, default="auto"
        ``"auto"`` reads integer, boolean or string 1-D ``Y`` as labels.
    base : {2, "e", 10}, default=2
        2 gives bits, ``"e"`` nats.
    return_result : bool, default=False
        Return a :class:`infolens.Result` (with the entropies in ``details``).

    Returns
    -------
    float or Result
        Between 0 and ``min(H(T), H(Y))``.  With many units almost every
        sample has its own state and the value approaches ``H(Y)``: like any
        plug-in estimator it needs ``n_samples`` much larger than the number
        of occupied states.  ``details`` holds ``H(T)`` and the state count.
    """
    caller = "adaptive_binning_mi"
    check_bool(return_result, "return_result", caller)
    n_bins = check_int(n_bins, "n_bins", caller, low=2)
    n_bins_y = check_int(n_bins_y, "n_bins_y", caller, low=2, allow_none=True) or n_bins
    log_base, unit = resolve_base(base, caller)
    X, Yv, kind = check_mi_inputs(Z, Y, caller, y_kind)
    with stopwatch() as clock:
        t = _states(quantile_bins(np.asarray(X, dtype=np.float64), n_bins))
        y = Yv if kind == "labels" else _states(quantile_bins(Yv, n_bins_y))
        joint = _states(np.stack([t, y], axis=1))
        h_t, h_y, h_ty = shannon_of_counts(t), shannon_of_counts(y), shannon_of_counts(joint)
        nats = max(h_t + h_y - h_ty, 0.0)
    params = {"n_bins": n_bins, "n_bins_y": None if kind == "labels" else n_bins_y,
              "y_kind": kind, "base": base}
    details = {"entropy_states": h_t / log_base, "entropy_y": h_y / log_base,
               "n_states": int(t.max()) + 1}
    return build_result(caller, nats / log_base, unit, params, elapsed_s=clock[0],
                        details=details, return_result=return_result)
