"""Entropy formulas shared by every measure: one place for each.

All functions work in **nats**; callers divide by ``log(base)`` for their unit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["renyi_of_probabilities", "shannon_of_counts", "shannon_of_weights"]


def shannon_of_weights(weights, *, reference_eps=False):
    """Shannon entropy (nats) of non-negative weights after normalisation to sum one.

    Parameters
    ----------
    weights : ndarray
        Non-negative weights, any shape (flattened).
    reference_eps : bool, default=False
        Add machine epsilon to every probability before taking logs, as the
        reference package ``dse-dsmi`` does (used by its parity preset only).

    Returns
    -------
    float
        The entropy in nats; 0 when all weights are zero.
    """
    weights = np.asarray(weights, dtype=np.float64).ravel()
    total = weights.sum()
    if total <= 0:
        return 0.0
    p = weights / total
    if reference_eps:
        p = p + np.finfo(float).eps
    else:
        p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def shannon_of_counts(codes):
    """Plug-in Shannon entropy (nats) of the empirical distribution of integer codes.

    Parameters
    ----------
    codes : ndarray of shape (n,), non-negative int
    """
    return shannon_of_weights(np.bincount(np.asarray(codes).ravel()))


def renyi_of_probabilities(p, order):
    """Order-``order`` Renyi entropy (nats) of a probability vector.

    Order 1 is the Shannon entropy, 0 the log of the support size, ``inf`` the
    min-entropy ``-log max p``.
    """
    p = np.asarray(p, dtype=np.float64)
    p = p[p > 0]
    if order == 1.0:
        return shannon_of_weights(p)
    if np.isinf(order):
        return float(-np.log(p.max()))
    if order == 0.0:
        return float(np.log(p.size))
    return float(np.log((p**order).sum()) / (1.0 - order))
