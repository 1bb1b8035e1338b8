"""The size-matched partition mutual information of DSMI, ASMI, CSMI.

Spectral entropies depend on the number of points, so the mutual information
compares each class of the partition (:mod:`infolens.measures.conditioning`)
with random subsets of all points of the same size::

    MI = sum_c p(c) * (mean_r H(Z[random subset of size n_c]) - H(Z[class c]))

:func:`partition_mi` owns that loop and the two random-number conventions:
numpy generators seeded per class (default; all subsets are drawn first, so
they can be evaluated together or by several threads), or an exact emulation
of the Python ``random`` module calls that ``dse-dsmi`` makes (parity preset,
drawn and evaluated in turn).
"""

from __future__ import annotations

import contextvars
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from infolens.core.validation import InvalidParameterError
from infolens.measures.conditioning import cap_rows

__all__ = ["PartitionMI", "partition_mi"]


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
        each what ``entropy_of`` would, or None where ``entropy_of`` must be asked
        instead (not under ``parity``; subsets above ``max_n`` never go to it).
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
        X = cap_rows(X, max_n, random_state=0 if parity else random_state, parity=parity,
                     py_rng=py_rng)
        return _value_and_error(entropy_of(X))

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
                return [None if f is None else _value_and_error(f) for f in out]
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


def _value_and_error(out):
    """``(value, standard error or 0)`` of what an entropy function returned."""
    value, se = out if isinstance(out, tuple) else (out, None)
    return value, 0.0 if se is None else float(se)


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
        pool = ThreadPoolExecutor(workers)
        try:
            # each thread runs in a copy of this context (thread settings included)
            rest = pool.map(lambda i: contextvars.copy_context().run(entropy, Z[flat[i]]),
                            todo)
            for i, value in zip(todo, rest):
                found[i] = value
        finally:
            # on an error or Ctrl-C, drop the entropies not yet started
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for i in todo:
            found[i] = entropy(Z[flat[i]])
    found = iter(found)
    return [None if job is None else [next(found) for _ in job] for job in jobs]
