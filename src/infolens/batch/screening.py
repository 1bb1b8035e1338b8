"""Model screening: measure many models on one probe set and correlate with accuracy.

The paper (Liao, Liu et al., arXiv 2312.04823) computed DSMI(Z; Y) of the
embeddings of pretrained ImageNet models and correlated it with their top-1
accuracy.  This module does the same for any list of models:

* :func:`screen_models` measures in-process models (any callable, a
  ``torch.nn.Module``, a sentence encoder with ``encode``);
* :func:`screening_table` reads the same table from a batch run (a manifest
  whose entries carry ``accuracy``), so screening scales out on Dask;
* :func:`correlate` gives Pearson and Spearman coefficients with percentile
  bootstrap intervals; :func:`correlation_table` does it per measure;
* :func:`plot_screening` draws the scatter with its least-squares line
  (matplotlib is imported only there).

:func:`make_mlp` is a small factory that manifests can name
(``infolens.batch.screening:make_mlp``) for zoos of fully connected networks.
"""

from __future__ import annotations

import csv
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from infolens.core.validation import InvalidParameterError, check_int, check_real

__all__ = [
    "Correlation",
    "correlate",
    "correlation_table",
    "make_mlp",
    "plot_screening",
    "screen_models",
    "screening_table",
    "write_csv",
]


# ------------------------------------------------------------------ models


def make_mlp(in_features=64, widths=(64,), n_classes=10):
    """A fully connected ReLU network: ``body`` (hidden layers) then ``head``.

    Parameters
    ----------
    in_features : int
    widths : sequence of int
        Hidden layer widths (the depth is ``len(widths)``).
    n_classes : int

    Returns
    -------
    torch.nn.Sequential
        With submodules ``body`` (whose output is the embedding screened) and
        ``head`` (the linear classifier).
    """
    import torch.nn as nn

    widths = [int(w) for w in widths]
    if not widths or min(widths) < 1:
        raise InvalidParameterError(f"'widths' of make_mlp must be positive ints; got {widths!r}.")
    layers, prev = [], int(in_features)
    for w in widths:
        layers += [nn.Linear(prev, w), nn.ReLU()]
        prev = w
    return nn.Sequential(
        OrderedDict([("body", nn.Sequential(*layers)), ("head", nn.Linear(prev, int(n_classes)))])
    )


# ------------------------------------------------------------- correlation


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
    from scipy.stats import rankdata

    return rankdata(a, axis=-1)


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
    from scipy import stats

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


# ------------------------------------------------------------------ tables


def _measure_label(measure, params_json):
    return measure if params_json in ("{}", None) else f"{measure}{params_json}"


def screen_models(models, X, y=None, *, accuracies=None, measures=("dse", "dsmi"),
                  params=None, layer=None, batch_size=256):
    """Measure the embeddings of several in-process models on one probe set.

    Parameters
    ----------
    models : dict of {name: model} or list of (name, model)
        Any callable (``torch.nn.Module``, an object with ``encode``, or a
        function of a batch of inputs).
    X : ndarray of shape (n_samples, ...) or list of str
        Probe inputs.
    y : array-like of shape (n_samples,), optional
        Labels for measures of a reference variable (DSMI).
    accuracies : dict of {name: float}, optional
        Accuracy of each model, stored as the ``accuracy`` column.
    measures : sequence of str or (str, dict)
        Measure names (see :func:`infolens.batch.manifest.resolve_measure`),
        optionally with parameters.
    params : dict, optional
        Parameters shared by every measure that accepts them (e.g. ``{"random_state": 0}``).
    layer : str, optional
        Submodule whose output is the embedding (torch models only).

    Returns
    -------
    list of dict
        One row per model: ``name``, ``accuracy``, ``n_samples``,
        ``n_features`` and one column per measure (value in its unit).
    """
    from infolens.batch.inputs import extract
    from infolens.batch.manifest import canonical_json, resolve_measure

    items = list(models.items()) if isinstance(models, dict) else list(models)
    if not items:
        raise InvalidParameterError("screen_models needs at least one model.")
    accuracies = accuracies or {}
    rows = []
    for name, model in items:
        Z = extract(model, X, layer=layer, batch_size=batch_size)
        row = {"name": name, "accuracy": accuracies.get(name), "n_samples": Z.shape[0],
               "n_features": Z.shape[1]}
        for item in measures:
            mname, mparams = (item, {}) if isinstance(item, str) else item
            spec = resolve_measure(mname)
            kwargs = dict(mparams)
            if params and spec.parameters is not None:
                shared = {k: v for k, v in params.items() if k in spec.parameters}
                kwargs = {**shared, **kwargs}
            args = (Z, y) if spec.needs_reference else (Z,)
            if spec.needs_reference and y is None:
                raise InvalidParameterError(f"Measure {mname!r} needs labels; pass y.")
            label = _measure_label(mname, canonical_json(mparams))
            row[label] = float(spec.function(*args, **kwargs))
        rows.append(row)
    return rows


def screening_table(tasks, store):
    """One row per manifest entry from a batch run: name, accuracy, each measure.

    Parameters
    ----------
    tasks : Manifest or list of Task
    store : ResultStore

    Returns
    -------
    list of dict
        In manifest order; a measure that failed or is missing is None.
    """
    tasks = list(getattr(tasks, "tasks", tasks))
    values = {}
    for row in store.rows("done"):
        values[(row["input_hash"], row["measure"], row["params"])] = row["value"]
    table, index = [], {}
    for task in tasks:
        if task.input_hash not in index:
            index[task.input_hash] = len(table)
            table.append({
                "name": task.meta.get("name") or task.input_hash[:12],
                "accuracy": task.meta.get("accuracy"),
                "input_hash": task.input_hash,
            })
        table[index[task.input_hash]][_measure_label(task.measure, task.params_json)] = \
            values.get(task.key)
    return table


def measure_columns(table):
    """Names of the measure columns of a screening table."""
    fixed = {"name", "accuracy", "input_hash", "n_samples", "n_features"}
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


def write_csv(rows, path):
    """Write a list of dicts to CSV (columns in first-seen order); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = []
    for row in rows:
        cols += [k for k in row if k not in cols]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in cols})
    return path


def plot_screening(table, measure, path, *, target="accuracy", title=None, annotate=False):
    """Scatter of ``target`` against ``measure`` with the least-squares line.

    The legend gives Pearson and Spearman with their bootstrap intervals.
    matplotlib is imported here (Agg backend when no display is set).

    Returns
    -------
    pathlib.Path
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidParameterError(
            "Plotting needs matplotlib: pip install 'infolens[plot]'."
        ) from None
    pairs = [(r.get(measure), r.get(target), r.get("name")) for r in table]
    pairs = [p for p in pairs if p[0] is not None and p[1] is not None]
    x = np.array([p[0] for p in pairs], dtype=float)
    y = np.array([p[1] for p in pairs], dtype=float)
    c = correlate(x, y)
    slope, intercept = np.polyfit(x, y, 1)
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    ax.scatter(x, y, s=22, alpha=0.8)
    grid = np.linspace(x.min(), x.max(), 50)
    pct = int(round(100 * c.confidence))
    ax.plot(grid, slope * grid + intercept, color="C3", label=(
        f"Pearson {c.pearson:.2f} [{c.pearson_ci[0]:.2f}, {c.pearson_ci[1]:.2f}]\n"
        f"Spearman {c.spearman:.2f} [{c.spearman_ci[0]:.2f}, {c.spearman_ci[1]:.2f}] ({pct}% CI)"))
    if annotate:
        for xi, yi, name in pairs:
            ax.annotate(str(name), (xi, yi), fontsize=6, alpha=0.7)
    ax.set_xlabel(measure)
    ax.set_ylabel(target)
    ax.set_title(title or f"{target} vs {measure} (n={c.n})")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_screening_outputs(table, out_dir, *, target="accuracy", n_boot=2000, prefix=""):
    """Write ``{prefix}table.csv``, ``{prefix}correlations.csv`` and one scatter PNG per measure.

    Returns
    -------
    dict
        ``{"table": path, "correlations": path, "plots": [paths], "rows": correlation rows}``.
    """
    out_dir = Path(out_dir)
    corr = correlation_table(table, target=target, n_boot=n_boot)
    plots = []
    for row in corr:
        if row.get("pearson") is None:
            continue
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in row["measure"])
        plots.append(plot_screening(table, row["measure"], out_dir / f"{prefix}scatter_{safe}.png",
                                    target=target))
    return {
        "table": write_csv(table, out_dir / f"{prefix}table.csv"),
        "correlations": write_csv(corr, out_dir / f"{prefix}correlations.csv"),
        "plots": plots,
        "rows": corr,
    }


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
