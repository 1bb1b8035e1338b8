"""Model screening: measure many models on one probe set and correlate with accuracy.

The paper (Liao, Liu et al., arXiv 2312.04823) computed DSMI(Z; Y) of the
embeddings of pretrained ImageNet models and correlated it with their top-1
accuracy.  This module does the same for any list of models:

* :func:`screen_models` measures in-process models (any callable, a
  ``torch.nn.Module``, a sentence encoder with ``encode``);
* :func:`screening_table` reads the same table from a batch run (a manifest
  whose entries carry ``accuracy``), so screening scales out on Dask;
* :func:`correlate` gives Pearson and Spearman coefficients with percentile
  bootstrap intervals; :func:`correlation_table` does it per measure (both
  live in :mod:`infolens.batch.correlation` and are re-exported here);
* :func:`plot_screening` draws the scatter with its least-squares line
  (matplotlib is imported only there).

:func:`make_mlp` (from :mod:`infolens.batch.zoo`) is a small factory that
manifests can name (``infolens.batch.screening:make_mlp``) for zoos of fully
connected networks.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from infolens.batch.correlation import (
    Correlation,
    correlate,
    correlation_table,
    format_correlations,
    measure_columns,
)
from infolens.batch.inputs import extract
from infolens.batch.manifest import canonical_json, resolve_measure
from infolens.batch.screening_plot import plot_screening
from infolens.batch.zoo import make_mlp
from infolens.core.validation import InvalidParameterError

__all__ = [
    "Correlation",
    "correlate",
    "correlation_table",
    "format_correlations",
    "make_mlp",
    "measure_columns",
    "plot_screening",
    "screen_models",
    "screening_table",
    "write_csv",
    "write_screening_outputs",
]


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
        entry = (task.input_hash, task.entry)  # identical files, distinct entries: own rows
        if entry not in index:
            index[entry] = len(table)
            table.append({
                "name": task.meta.get("name") or task.input_hash[:12],
                "accuracy": task.meta.get("accuracy"),
                "input_hash": task.input_hash,
                "meta": dict(task.meta.get("meta") or {}),
            })
        table[index[entry]][_measure_label(task.measure, task.params_json)] = \
            values.get(task.key)
    return table


def _flat(row):
    """A table row with its ``meta`` dict spread into ``meta.<key>`` columns."""
    meta = row.get("meta") or {}
    flat = {k: v for k, v in row.items() if k != "meta"}
    flat.update({f"meta.{key}": value for key, value in meta.items()})
    return flat


def write_csv(rows, path):
    """Write a list of dicts to CSV (columns in first-seen order); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [_flat(row) for row in rows]
    cols = []
    for row in rows:
        cols += [k for k in row if k not in cols]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in cols})
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


