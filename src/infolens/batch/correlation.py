"""Correlation of a measure with model accuracy across models, with bootstrap intervals.

:func:`correlate` gives Pearson and Spearman coefficients of two paired
samples with percentile bootstrap intervals; :func:`correlation_table` does it
for every measure column of a screening table and :func:`format_correlations`
prints the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from infolens.core import optional
from infolens.core.validation import InvalidParameterError, check_int, check_real

__all__ = ["Correlation", "correlate", "correlation_table", "format_correlations",
           "measure_columns"]


@dataclass(frozen=True)
class Correlation:
    """Pearson and Spearman coefficients of two paired samples.

    Attributes
    ----------
    n : int
        Number of pairs.
    pearson, spearman : float
    pearson_ci, spearman_ci : tuple of float
        Percentile bootstrap interval at ``confidence``.
    pearson_p, spearman_p : float
        Two-sided p-values (scipy.stats).
    confidence : float
    n_boot : int
    """

    n: int
    pearson: float
    pearson_ci: tuple
    pearson_p: float
    spearman: float
    spearman_ci: tuple
    spearman_p: float
    confidence: float
    n_boot: int


def _pearson_rows(a, b):
    """Pearson coefficient of each row pair of two (B, n) arrays (NaN where constant)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=1) / np.where(den > 0, den, 1.0), np.nan)


def _ranks_rows(a):
    """Average ranks (ties shared) along the last axis."""
    return optional.scipy_stats().rankdata(a, axis=-1)


def correlate(x, y, *, n_boot=2000, confidence=0.95, random_state=0):
    """Pearson and Spearman correlation of ``x`` and ``y`` with bootstrap intervals.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Paired values (e.g. DSMI in bits and accuracy in [0, 1]); at least 3
        pairs, finite, neither constant.
    n_boot : int, default=2000
        Bootstrap resamples of the pairs (with replacement).
    confidence : float in (0, 1), default=0.95
        Coverage of the percentile interval.
    random_state : int, default=0

    Returns
    -------
    Correlation
    """
    caller = "correlate"
    n_boot = check_int(n_boot, "n_boot", caller, low=100)
    confidence = check_real(confidence, "confidence", caller, low=0.0, high=1.0, closed_low=False)
    if confidence >= 1.0:
        raise InvalidParameterError(
            f"The 'confidence' parameter of {caller} must be in (0, 1). Got {confidence!r} instead."
        )
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise InvalidParameterError(
            f"x and y of {caller} must have the same length; got {x.size} and {y.size}."
        )
    if x.size < 3:
        raise InvalidParameterError(f"{caller} needs at least 3 pairs; got {x.size}.")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InvalidParameterError(
            f"x and y of {caller} must be finite; drop the models whose measure failed."
        )
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        raise InvalidParameterError(
            f"{caller} cannot correlate a constant sample (x range {np.ptp(x):g}, y range "
            f"{np.ptp(y):g}); the coefficient is undefined."
        )
    stats = optional.scipy_stats()
    pr = stats.pearsonr(x, y)
    sr = stats.spearmanr(x, y)
    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    bx, by = x[idx], y[idx]
    boot_p = _pearson_rows(bx, by)
    boot_s = _pearson_rows(_ranks_rows(bx), _ranks_rows(by))
    lo, hi = (1 - confidence) / 2, 1 - (1 - confidence) / 2

    def interval(values):
        values = values[np.isfinite(values)]  # a resample of identical points has no coefficient
        return (float(np.quantile(values, lo)), float(np.quantile(values, hi)))

    return Correlation(
        n=int(x.size),
        pearson=float(pr[0]), pearson_ci=interval(boot_p), pearson_p=float(pr[1]),
        spearman=float(sr[0]), spearman_ci=interval(boot_s), spearman_p=float(sr[1]),
        confidence=confidence, n_boot=n_boot,
    )


def measure_columns(table):
    """Names of the measure columns of a screening table."""
    fixed = {"name", "accuracy", "input_hash", "n_samples", "n_features", "meta"}
    cols = []
    for row in table:
        cols += [k for k in row if k not in fixed and k not in cols]
    return cols


def correlation_table(table, *, target="accuracy", measures=None, n_boot=2000,
                      confidence=0.95, random_state=0):
    """Correlate every measure column with ``target`` across the rows.

    Rows where either value is missing are left out of that measure's
    correlation (``n`` says how many pairs were used).  A measure (or target)
    that is the same for every model has no coefficient: its row carries a
    ``note`` saying so instead of numbers.

    Returns
    -------
    list of dict
        One row per measure: ``measure``, ``n``, ``pearson``,
        ``pearson_lo``, ``pearson_hi``, ``pearson_p``, ``spearman``,
        ``spearman_lo``, ``spearman_hi``, ``spearman_p``.
    """
    measures = measures or measure_columns(table)
    out = []
    for m in measures:
        pairs = [(r.get(m), r.get(target)) for r in table]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None
                 and math.isfinite(float(a)) and math.isfinite(float(b))]
        if len(pairs) < 3:
            raise InvalidParameterError(
                f"Only {len(pairs)} models have both {m!r} and {target!r}; correlation needs "
                f"at least 3. Add '{target}:' to the manifest entries."
            )
        xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
        if max(xs) == min(xs) or max(ys) == min(ys):
            constant = m if max(xs) == min(xs) else target
            out.append({"measure": m, "n": len(pairs),
                        "note": f"{constant} is the same for every model; no correlation"})
            continue
        c = correlate(xs, ys, n_boot=n_boot, confidence=confidence, random_state=random_state)
        out.append({
            "measure": m, "n": c.n,
            "pearson": c.pearson, "pearson_lo": c.pearson_ci[0], "pearson_hi": c.pearson_ci[1],
            "pearson_p": c.pearson_p,
            "spearman": c.spearman, "spearman_lo": c.spearman_ci[0],
            "spearman_hi": c.spearman_ci[1], "spearman_p": c.spearman_p,
            "confidence": c.confidence,
        })
    return out


def format_correlations(rows):
    """The correlation rows as a fixed-width text table."""
    head = f"{'measure':<24}{'n':>4}  {'Pearson [CI]':<24}{'Spearman [CI]':<24}"
    lines = [head]
    for r in rows:
        if r.get("pearson") is None:
            lines.append(f"{r['measure']:<24}{r['n']:>4}  ({r.get('note', 'no correlation')})")
            continue
        pearson = f"{r['pearson']:+.2f} [{r['pearson_lo']:+.2f}, {r['pearson_hi']:+.2f}]"
        spearman = f"{r['spearman']:+.2f} [{r['spearman_lo']:+.2f}, {r['spearman_hi']:+.2f}]"
        lines.append(f"{r['measure']:<24}{r['n']:>4}  {pearson:<24}{spearman:<24}")
    return "\n".join(lines)
