"""The screening scatter: a measure against accuracy across a model zoo.

One panel per factor of the zoo (the ``meta`` of the manifest entries, e.g.
width, depth, epochs), the points coloured by that factor's levels with the
legend outside the points, so a correlation that only reflects one factor
(all wide models are both accurate and high-DSE) shows at a glance.  The
least-squares line spans the measured x range only and never widens the axes.
matplotlib is imported only here, through :mod:`infolens.core.optional`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from infolens import registry
from infolens.batch.correlation import correlate
from infolens.core import optional
from infolens.core.validation import InvalidParameterError

__all__ = ["axis_label", "plot_screening", "zoo_factors"]

#: Units of the columns a screening table carries besides the measures.
TARGET_UNITS = {"accuracy": "fraction", "loss": "nats"}

#: A factor with more levels than this is not drawn as colours (too many to tell apart).
MAX_FACTOR_LEVELS = 10


def axis_label(column):
    """``"dse"`` → ``"dse [bits]"``; a measure label with parameters keeps them."""
    if column in TARGET_UNITS:
        return f"{column} [{TARGET_UNITS[column]}]"
    base = re.split(r"[{(@]", column, maxsplit=1)[0]
    try:
        entry = registry.find(base)
    except InvalidParameterError:
        entry = None
    return f"{column} [{entry.unit}]" if entry is not None and entry.unit else column


def zoo_factors(rows):
    """The factors of a screening table: ``meta`` keys with 2 to 10 levels, in first-seen order."""
    levels = {}
    for row in rows:
        for key, value in (row.get("meta") or {}).items():
            levels.setdefault(key, [])
            if value not in levels[key]:
                levels[key].append(value)
    return {key: values for key, values in levels.items()
            if 2 <= len(values) <= MAX_FACTOR_LEVELS}


def _sorted_levels(values):
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _padded(values, fraction=0.05):
    low, high = float(np.min(values)), float(np.max(values))
    pad = fraction * (high - low) or 0.5 * abs(high) or 0.5
    return low - pad, high + pad


def _clipped_line(slope, intercept, x, y):
    """End points of ``y = slope * x + intercept`` inside the box the data span."""
    low, high = float(x.min()), float(x.max())
    if slope != 0:
        bounds = sorted(((float(y.min()) - intercept) / slope,
                         (float(y.max()) - intercept) / slope))
        low, high = max(low, bounds[0]), min(high, bounds[1])
    ends = np.array([low, high]) if low < high else np.array([x.min(), x.max()])
    return ends, slope * ends + intercept


def plot_screening(table, measure, path, *, target="accuracy", title=None, annotate=False):
    """Scatter of ``target`` against ``measure`` with the least-squares line.

    Parameters
    ----------
    table : list of dict
        Screening rows (``name``, ``accuracy``, the measures, optional ``meta``).
    measure, target : str
        Columns for the x and y axes.
    path : str or pathlib.Path
        PNG to write.
    title : str, optional
    annotate : bool, default=False
        Write each model's name beside its point.

    Returns
    -------
    pathlib.Path
    """
    try:
        plt = optional.matplotlib_pyplot("plot_screening")
    except ImportError:
        raise InvalidParameterError(
            "Plotting needs matplotlib: pip install 'infolens[plot]'.") from None
    rows = [r for r in table if r.get(measure) is not None and r.get(target) is not None]
    x = np.array([r[measure] for r in rows], dtype=float)
    y = np.array([r[target] for r in rows], dtype=float)
    c = correlate(x, y)
    slope, intercept = np.polyfit(x, y, 1)
    factors = zoo_factors(rows) or {None: [None]}
    fig, axes = plt.subplots(1, len(factors), squeeze=False, sharex=True, sharey=True,
                             layout="constrained",
                             figsize=(4.2 * len(factors) + 0.6, 4.3))
    pct = int(round(100 * c.confidence))
    fit = (f"least squares; Pearson {c.pearson:.2f} [{c.pearson_ci[0]:.2f}, "
           f"{c.pearson_ci[1]:.2f}], Spearman {c.spearman:.2f} [{c.spearman_ci[0]:.2f}, "
           f"{c.spearman_ci[1]:.2f}] ({pct}% CI)")
    for ax, (factor, levels) in zip(axes[0], factors.items()):
        if factor is None:
            ax.scatter(x, y, s=24, alpha=0.85, color="C0")
        else:
            for k, level in enumerate(_sorted_levels(levels)):
                chosen = [i for i, r in enumerate(rows) if (r.get("meta") or {}).get(factor) == level]
                ax.scatter(x[chosen], y[chosen], s=24, alpha=0.85, color=f"C{k % 10}",
                           label=str(level))
            ax.legend(title=factor, fontsize=8, title_fontsize=8, frameon=False,
                      loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(levels))
        ax.plot(*_clipped_line(slope, intercept, x, y), color="0.25", lw=1.2)
        ax.set_xlim(*_padded(x))
        ax.set_ylim(*_padded(y))
        if annotate:
            for xi, yi, row in zip(x, y, rows):
                ax.annotate(str(row.get("name")), (xi, yi), fontsize=6, alpha=0.7)
        ax.set_xlabel(axis_label(measure))
        ax.set_title(f"coloured by {factor}" if factor else "", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(axis_label(target))
    fig.suptitle((title or f"{target} vs {measure} (n={c.n})") + f"\nline: {fit}", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
