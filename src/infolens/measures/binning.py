"""Classic Shannon entropy and mutual information by binning (CSE, CSMI).

Each feature is min-max scaled to [0, 1] and cut into ``n_bins`` equal-width
bins; the entropy is that of the occupied cells of the resulting grid.  With
``D`` features and ``n_bins`` bins there are ``n_bins ** D`` cells, so in high
dimension almost every point sits alone in its cell and CSE saturates at
``log N``: the failure that motivates DSE (paper, Fig. 2).
"""

from __future__ import annotations

import numpy as np

from infolens.core.formulas import shannon_of_counts, shannon_of_weights
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import (
    check_bool, check_embeddings, check_int, check_option, check_reference, resolve_base,
)
from infolens.measures.conditioning import (
    REFERENCE_KINDS, bin_details, cap_rows, partition_reference, scalar_bins,
)
from infolens.measures.partition_mi import partition_mi
from infolens.measures.spectral_settings import PRESETS, REFERENCE_MAX_N

__all__ = ["cse", "csmi"]


def grid_cells(Z, n_bins, lower=None, upper=None):
    """Integer cell id of each row of ``Z`` on an equal-width grid.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    n_bins : int
        Bins per feature.
    lower, upper : ndarray of shape (n_features,), optional
        Grid range; defaults to the per-feature min and max of ``Z``.  A
        feature with ``lower == upper`` is one bin.

    Returns
    -------
    ndarray of shape (n_samples,), int
        Dense ids ``0 .. n_cells_occupied - 1``.
    """
    # Divide by a power of two (exact, so bins are unchanged) so that the span
    # of data near the float limits (e.g. +-1e308) does not overflow to inf.
    largest = float(np.max(np.abs(Z))) if Z.size else 0.0
    exponent = int(np.frexp(largest)[1]) if np.isfinite(largest) and largest > 0 else 0
    Z = np.ldexp(Z, -exponent)
    lower = Z.min(axis=0) if lower is None else np.ldexp(lower, -exponent)
    upper = Z.max(axis=0) if upper is None else np.ldexp(upper, -exponent)
    span = upper - lower
    safe = np.where(span > 0, span, 1.0)
    scaled = np.where(span > 0, (Z - lower) / safe, 0.0)
    bins = np.digitize(scaled, np.linspace(0, 1, n_bins + 1)[:-1])
    return np.unique(bins, axis=0, return_inverse=True)[1].reshape(-1)


def _cell_entropy(Z, n_bins, log_base, parity):
    counts = np.bincount(grid_cells(Z, n_bins))
    return shannon_of_weights(counts, reference_eps=parity) / log_base


def _common(caller, preset, n_bins, base, max_n, random_state):
    preset = check_option(preset, "preset", caller, PRESETS)
    parity = preset == "dse-dsmi"
    n_bins = check_int(n_bins, "n_bins", caller, low=1)
    log_base, unit = resolve_base(base, caller)
    if isinstance(max_n, str) and max_n == "auto":
        max_n = REFERENCE_MAX_N if parity else None
    max_n = check_int(max_n, "max_n", caller, low=2, allow_none=True, also=("auto",))
    random_state = check_int(random_state, "random_state", caller, low=0, allow_none=True)
    params = {"preset": preset, "n_bins": n_bins, "base": base, "max_n": max_n,
              "random_state": random_state}
    return parity, n_bins, log_base, unit, max_n, random_state, params


def cse(Z, *, n_bins=2, base=2, max_n="auto", preset="infolens", random_state=0,
        return_result=False):
    """Classic Shannon entropy of embeddings binned on an equal-width grid.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    n_bins : int, default=2
        Bins per feature (``dse-dsmi``'s ``num_bins_per_dim``).
    base : {2, "e", 10}, default=2
        2 gives bits, ``"e"`` nats.
    max_n : int, None or "auto", default="auto"
        Cap on the number of points (subsampled with ``random_state`` above
        it); ``"auto"`` is no cap, or 10,000 under ``preset="dse-dsmi"``.
    preset : {"infolens", "dse-dsmi"}, default="infolens"
        ``"dse-dsmi"`` reproduces the reference package's numbers.
    random_state : int or None, default=0
    return_result : bool, default=False
        Return a :class:`infolens.Result`.

    Returns
    -------
    float or Result
        Entropy of the cell occupancy, between 0 and ``log(n_samples)``.
    """
    parity, n_bins, log_base, unit, max_n, random_state, params = _common(
        "cse", preset, n_bins, base, max_n, random_state)
    return_result = check_bool(return_result, "return_result", "cse")
    X = check_embeddings(Z, caller="cse")
    with stopwatch() as clock:
        X = cap_rows(X, max_n, random_state=random_state, parity=parity)
        value = _cell_entropy(X, n_bins, log_base, parity)
    return build_result("cse", value, unit, params, elapsed_s=clock[0],
                        details={"n_used": X.shape[0]}, return_result=return_result)


def csmi(Z, Y, *, n_bins=2, y_kind="auto", n_clusters=10, n_repeats=5, base=2,
         max_n="auto", preset="infolens", random_state=0, return_result=False):
    """Classic Shannon mutual information between binned embeddings and a reference variable.

    Under the default preset this is the plug-in mutual information of the
    grid cells of ``Z`` (one grid over all of ``Z``) and the groups of ``Y``:
    ``H(cells) - sum_y p(y) H(cells | Y = y)``, which is never negative.
    Under ``preset="dse-dsmi"`` it is the reference package's CSMI: each class
    and each size-matched random subset is re-scaled and binned on its own,
    as in :func:`infolens.dsmi`.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
    n_bins : int, default=2
    y_kind, n_clusters : see :func:`infolens.dsmi`
    n_repeats : int, default=5
        Random subsets per class (``preset="dse-dsmi"`` only).
    base, max_n, preset, random_state, return_result : see :func:`cse`

    Returns
    -------
    float or Result
    """
    parity, n_bins, log_base, unit, max_n, random_state, params = _common(
        "csmi", preset, n_bins, base, max_n, random_state)
    return_result = check_bool(return_result, "return_result", "csmi")
    X = check_embeddings(Z, caller="csmi")
    Yv = check_reference(Y, X.shape[0], caller="csmi")
    y_kind = check_option(y_kind, "y_kind", "csmi", REFERENCE_KINDS)
    n_clusters = check_int(n_clusters, "n_clusters", "csmi", low=2)
    n_repeats = check_int(n_repeats, "n_repeats", "csmi", low=1)
    with stopwatch() as clock:
        partition = partition_reference(Yv, kind=y_kind, n_clusters=n_clusters,
                                        random_state=0 if parity else random_state,
                                        caller="csmi", scalar_bins=scalar_bins(parity))
        details = {"partition": partition.codes, **bin_details(partition, parity)}
        if parity:
            terms = partition_mi(X, partition,
                                 lambda A: _cell_entropy(A, n_bins, log_base, True),
                                 n_repeats=n_repeats, random_state=random_state,
                                 parity=True, max_n=max_n, caller="csmi")
            value = terms.value
            details["groups"] = terms.groups
        else:
            cells = grid_cells(X, n_bins)
            joint = np.unique(np.stack([cells, partition.codes]), axis=1, return_counts=True)[1]
            h_cells = shannon_of_counts(cells) / log_base
            h_y = shannon_of_weights(partition.counts) / log_base
            h_joint = shannon_of_weights(joint) / log_base
            value = max(h_cells + h_y - h_joint, 0.0)
    params.update(y_kind=partition.kind, n_clusters=n_clusters, n_repeats=n_repeats)
    return build_result("csmi", value, unit, params, elapsed_s=clock[0], details=details,
                        return_result=return_result)
