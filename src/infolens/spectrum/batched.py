"""Exact DSE of many small subsets of one point set in one stacked eigen-solve.

A DSMI on a monitor's probe set evaluates ``n_repeats + 1`` entropies per
class, each of a few dozen points.  Their eigen-solves take microseconds; the
work around one call of :func:`infolens.spectrum.solve.solve` (planning, the
progress bar, the thread policy, the precision model) was nearly all of the
time.  Here the Gaussian kernel of the whole set is built once, every
subset's block is gathered from it, normalised and deflated of its trivial
eigenpair as the exact path does, zero-padded to the largest subset and
solved by one stacked call.  A zero row and column only add an eigenvalue 0;
those, and the deflated trivial eigenvalue (also 0), are the smallest in
magnitude and are dropped before the trivial 1 is counted again.
"""

from __future__ import annotations

import numpy as np

from infolens.core.formulas import shannon_of_weights
from infolens.kernels.distances import squared_distances
from infolens.kernels.gaussian import gaussian_affinity

__all__ = ["BATCH_MAX_N", "BATCH_MAX_ROWS", "small_dse_many"]

#: Largest subset solved in a stack (above this size one solve outweighs its call
#: overhead, and the stack would hold ``subsets x BATCH_MAX_N^2`` floats).
BATCH_MAX_N = 256

#: Largest set whose whole kernel is built once for its subsets (128 MiB in float64);
#: larger sets take the one-by-one path.
BATCH_MAX_ROWS = 4096

#: Bytes of one stack of subsets (a few temporaries of this size exist at once).
STACK_BYTES = 32 * 2**20


def small_dse_many(Z, subsets, sigma, *, alpha, t, keep_trivial, log_base):
    """Exact DSE of each subset of the rows of ``Z`` (float64, the exact path's values).

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        All points, units of ``sigma``; the kernel of the rows the subsets use
        is built once, so at most ``BATCH_MAX_ROWS`` of them.
    subsets : list of ndarray of int
        Row indices of each subset, 2 to ``BATCH_MAX_N`` distinct rows each.
    sigma : float
        Gaussian bandwidth.
    alpha : float
        Density-normalisation power.
    t : int
        Diffusion time.
    keep_trivial : bool
        Count the trivial eigenvalue 1.
    log_base : float
        ``log`` of the unit's base.

    Returns
    -------
    ndarray of shape (len(subsets),)
        The entropies in the unit of ``log_base``.
    """
    sizes = np.array([len(rows) for rows in subsets])
    if sizes.min() < 2 or sizes.max() > BATCH_MAX_N:
        raise ValueError(f"small_dse_many takes subsets of 2 to {BATCH_MAX_N} rows; got "
                         f"sizes {sizes.min()} to {sizes.max()}")
    used = np.unique(np.concatenate(subsets))
    if used.size > BATCH_MAX_ROWS:
        raise ValueError(f"small_dse_many builds the kernel of at most {BATCH_MAX_ROWS} rows; "
                         f"the subsets use {used.size}")
    K = gaussian_affinity(squared_distances(np.asarray(Z, dtype=np.float64)[used]), sigma)
    position = np.empty(int(used.max()) + 1, dtype=np.intp)
    position[used] = np.arange(used.size)
    m = int(sizes.max())
    chunk = max(1, STACK_BYTES // (8 * m * m))
    return np.concatenate([
        _stacked_entropies(K, [position[rows] for rows in subsets[i:i + chunk]],
                           sizes[i:i + chunk], m, alpha=alpha, t=t, keep_trivial=keep_trivial,
                           log_base=log_base)
        for i in range(0, len(subsets), chunk)])


def _stacked_entropies(K, subsets, sizes, m, *, alpha, t, keep_trivial, log_base):
    """:func:`small_dse_many` for subsets given as rows of the kernel ``K``, in one stack."""
    index = np.zeros((len(subsets), m), dtype=np.intp)
    valid = np.arange(m)[None, :] < sizes[:, None]
    index[valid] = np.concatenate(subsets)
    mask = valid[:, :, None] & valid[:, None, :]
    stack = np.where(mask, K[index[:, :, None], index[:, None, :]], 0.0)
    row_sums = stack.sum(axis=2)
    with np.errstate(divide="ignore"):
        if alpha > 0:
            pre = np.where(valid, row_sums, 1.0) ** -alpha * valid
            stack *= pre[:, :, None] * pre[:, None, :]
            degree = stack.sum(axis=2)
        else:
            degree = row_sums
        w = np.where(valid, 1.0 / np.sqrt(np.where(valid, degree, 1.0)), 0.0)
    stack *= w[:, :, None] * w[:, None, :]
    v = np.sqrt(degree)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    stack -= v[:, :, None] * v[:, None, :]
    magnitudes = np.sort(np.abs(np.linalg.eigvalsh(stack)), axis=1)
    out = np.empty(len(subsets))
    for i, k in enumerate(sizes):
        # drop the padding's zeros and the deflated trivial eigenvalue: the m - k + 1 smallest
        values = magnitudes[i, m - k + 1:]
        if keep_trivial:
            values = np.append(values, 1.0)
        largest = values.max(initial=0.0)
        weights = (values / largest) ** t if largest > 0 else values
        out[i] = shannon_of_weights(weights) / log_base
    return out
