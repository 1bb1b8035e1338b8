"""Mutual information as entropy minus size-matched conditional entropy.

Spectral entropies depend on the number of points, so DSMI (and ASMI, and the
reference package's CSMI) compares each class of the partition with random
subsets of all points of the same size::

    MI = sum_c p(c) * (mean_r H(Z[random subset of size n_c]) - H(Z[class c]))

This module owns that loop and the two random-number conventions: numpy
generators seeded per class (default), or an exact emulation of the Python
``random`` module calls that ``dse-dsmi`` makes (parity preset).
"""

from __future__ import annotations

import random

import numpy as np

from infolens.core.validation import InvalidParameterError

__all__ = ["PartitionMI", "partition_mi", "reference_subsample", "subsample"]


def reference_subsample(n, k, seed, rng):
    """Indices ``dse-dsmi`` keeps when it caps ``n`` points at ``k`` (Python ``random``)."""
    if seed is not None:
        rng.seed(seed)
    return np.array(rng.sample(range(n), k=k))


def subsample(n, k, random_state):
    """Sorted indices of ``k`` of ``n`` points drawn without replacement (numpy)."""
    return np.sort(np.random.default_rng(random_state).choice(n, k, replace=False))


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


def partition_mi(Z, partition, entropy_of, *, n_repeats, random_state, parity, max_n, caller):
    """Compute the size-matched partition MI.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    partition : infolens.measures.partition.Partition
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
    """
    counts = partition.counts
    if counts.min() < 2:
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
        if max_n is not None and X.shape[0] > max_n:
            if parity:
                X = X[reference_subsample(X.shape[0], max_n, 0, py_rng)]
            else:
                X = X[subsample(X.shape[0], max_n, random_state)]
        out = entropy_of(X)
        value, se = out if isinstance(out, tuple) else (out, None)
        return value, 0.0 if se is None else float(se)

    groups = []
    estimator_error = []  # per group: SE of its conditional term + SE of its subsets' mean
    for k, (label, idx) in enumerate(partition.indices()):
        conditional, conditional_se = capped_entropy(Z[idx])
        size = idx.size
        if parity:
            if random_state is not None:
                py_rng.seed(random_state)
            # Draw and evaluate in turn: a capped evaluation re-seeds the shared
            # generator (as dse-dsmi's entropies re-seed Python's global one),
            # which changes the draws that follow it.
            draws = [capped_entropy(Z[np.array(py_rng.sample(range(n), k=size))])
                     for _ in range(n_repeats)]
        else:
            seed = None if random_state is None else [random_state, k]
            rng = np.random.default_rng(seed)
            draws = [capped_entropy(Z[np.sort(rng.choice(n, size, replace=False))])
                     for _ in range(n_repeats)]
        subsets = [value for value, _ in draws]
        estimator_error.append(conditional_se + sum(se for _, se in draws) / n_repeats)
        groups.append(
            {
                "group": label.item() if hasattr(label, "item") else label,
                "n": int(size),
                "weight": size / n,
                "conditional": conditional,
                "subsets": subsets,
                "marginal": float(np.mean(subsets)),
            }
        )
    value = float(sum(g["weight"] * (g["marginal"] - g["conditional"]) for g in groups))
    var = sum(g["weight"] * e for g, e in zip(groups, estimator_error)) ** 2
    if n_repeats > 1:
        var += sum(g["weight"] ** 2 * np.var(g["subsets"], ddof=1) / n_repeats for g in groups)
    se = float(np.sqrt(var)) if n_repeats > 1 or var > 0 else None
    return PartitionMI(value, groups, se)
