"""Run folders read back: the runs of a report, their series and the values they end on.

A *run* is a folder written by :class:`infolens.monitor.Monitor` (or by
:func:`infolens.batch.store.export_runs`): ``runlog.jsonl`` + ``settings.json``.
Runs whose settings share a ``group`` (or ``regime``) are one curve with a band
over their seeds.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict

import numpy as np

from infolens.core.validation import InvalidParameterError
from infolens.runs.runlog import read_runlog

__all__ = ["OVERHEAD", "RUNLOG_NAME", "SETTINGS_NAME", "Run", "by_group", "final_values",
           "find_runs", "layer_names", "load_run", "measure_names", "seed_band", "split_variant"]

#: The files of a run folder, and the measure under which the monitor logs its own time (s).
RUNLOG_NAME = "runlog.jsonl"
SETTINGS_NAME = "settings.json"
OVERHEAD = "monitor_overhead_s"


class Run:
    """One monitored run read from disk.

    Attributes
    ----------
    path : str
    name : str
        Folder name.
    group : str
        ``settings["group"]``, else ``settings["regime"]``, else ``name``.
    seed : int or None
    settings : dict
    rows : list of dict
    """

    def __init__(self, path, settings, rows):
        self.path = path
        self.name = os.path.basename(os.path.normpath(path))
        self.settings = settings
        self.rows = rows
        self.group = str(settings.get("group", settings.get("regime", self.name)))
        self.seed = settings.get("seed")

    @property
    def x_unit(self):
        return (self.settings.get("schedule") or {}).get("unit", "epoch")

    def series(self, measure, layer):
        """``(x, values)`` of one measure at one layer, sorted by x (epoch or step)."""
        key = "step" if self.x_unit == "step" else "epoch"
        pts = sorted((r[key], r["value"]) for r in self.rows
                     if r["measure"] == measure and r["layer"] == layer)
        if not pts:
            return np.array([]), np.array([])
        x, v = zip(*pts)
        return np.asarray(x, dtype=float), np.asarray(v, dtype=float)

    def unit_of(self, measure):
        for r in self.rows:
            if r["measure"] == measure:
                return r.get("unit", "")
        return ""


def load_run(path):
    """Read one run folder (``runlog.jsonl`` and, if present, ``settings.json``)."""
    log = os.path.join(path, RUNLOG_NAME)
    if not os.path.isfile(log):
        raise FileNotFoundError(f"{path} holds no {RUNLOG_NAME}; is it a monitor run folder?")
    settings = {}
    spath = os.path.join(path, SETTINGS_NAME)
    if os.path.isfile(spath):
        with open(spath, encoding="utf-8") as fh:
            settings = json.load(fh)
    return Run(os.fspath(path), settings, read_runlog(log))


def find_runs(paths):
    """Every run under ``paths`` (run folders, or folders that contain run folders).

    Parameters
    ----------
    paths : str or list of str

    Returns
    -------
    list of Run
        In the order found (sorted within a folder).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    runs = []
    for p in paths:
        p = os.fspath(p)
        if not os.path.exists(p):
            raise FileNotFoundError(f"no such run folder: {p}")
        if os.path.isfile(os.path.join(p, RUNLOG_NAME)):
            runs.append(load_run(p))
            continue
        found = sorted(os.path.dirname(os.path.join(root, RUNLOG_NAME))
                       for root, _, files in os.walk(p) if RUNLOG_NAME in files)
        if not found:
            raise FileNotFoundError(
                f"{p} holds no {RUNLOG_NAME} (searched its sub-folders too); pass the folder "
                f"given to Monitor(run_dir=...)."
            )
        runs.extend(load_run(f) for f in found)
    if not runs:
        raise InvalidParameterError("No run folders were given.")
    return runs


# ------------------------------------------------------------ grouping and series
def by_group(runs):
    """``{group: [runs]}`` in the order the groups first appear."""
    out = OrderedDict()
    for run in runs:
        out.setdefault(run.group, []).append(run)
    return out


def layer_names(runs):
    """Names of the monitored layers, in first-seen order (model-level rows left out)."""
    seen = []
    for run in runs:
        for r in run.rows:
            if r["layer"] and r["layer"] not in seen:
                seen.append(r["layer"])
    return seen


def measure_names(runs, model_level):
    """Measure names of layer rows (or, with ``model_level``, of whole-model rows), in
    first-seen order; the monitor's overhead is left out."""
    seen = []
    for run in runs:
        for r in run.rows:
            if bool(r["layer"]) != model_level and r["measure"] != OVERHEAD \
                    and r["measure"] not in seen:
                seen.append(r["measure"])
    return seen


def split_variant(name):
    """``"dse@sigma=10"`` -> ``("dse", "sigma=10")``; plain names have variant ``""``."""
    base, _, variant = name.partition("@")
    return base, variant


def seed_band(runs, measure, layer):
    """Mean, min and max over the runs at each x present in any of them."""
    series = [run.series(measure, layer) for run in runs]
    series = [s for s in series if len(s[0])]
    if not series:
        return None
    xs = np.unique(np.concatenate([s[0] for s in series]))
    stack = np.full((len(series), len(xs)), np.nan)
    for i, (x, v) in enumerate(series):
        stack[i, np.searchsorted(xs, x)] = v
    return xs, np.nanmean(stack, 0), np.nanmin(stack, 0), np.nanmax(stack, 0), len(series)


def final_values(runs):
    """Last value of every (group, layer, measure): mean, sd and n over seeds.

    Returns
    -------
    list of dict
        Keys ``group, layer, measure, unit, x, mean, sd, n, values``.
    """
    out = []
    for group, members in by_group(runs).items():
        keys = OrderedDict()
        for run in members:
            for r in run.rows:
                if r["measure"] != OVERHEAD:
                    keys.setdefault((r["layer"], r["measure"]), r.get("unit", ""))
        for (layer, measure), unit in keys.items():
            lasts = []
            xs = []
            for run in members:
                x, v = run.series(measure, layer)
                if len(v):
                    lasts.append(v[-1])
                    xs.append(x[-1])
            if not lasts:
                continue
            vals = np.asarray(lasts)
            out.append({"group": group, "layer": layer, "measure": measure, "unit": unit,
                        "x": max(xs), "mean": float(vals.mean()),
                        "sd": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                        "n": len(vals), "values": vals.tolist()})
    return out
