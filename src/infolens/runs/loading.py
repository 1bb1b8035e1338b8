"""Run folders read back: the runs of a report, their series and the values they end on.

A *run* is a folder written by :class:`infolens.monitor.Monitor` (or by
:func:`infolens.batch.store.export_runs`): ``runlog.jsonl`` + ``settings.json``.
Runs whose settings share a ``group`` (or ``regime``) are one curve with a band
over their seeds.
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict

import numpy as np

from infolens.core.files import write_json_atomic
from infolens.core.validation import InvalidParameterError
from infolens.runs.lock import process_rank
from infolens.runs.runlog import RunLog, read_runlog

__all__ = ["OVERHEAD", "RESUME_MODES", "RUNLOG_NAME", "SETTINGS_NAME", "Run", "by_group",
           "final_values", "find_runs", "layer_names", "load_run", "measure_names", "open_run",
           "seed_band", "split_variant"]

#: The files of a run folder, and the measure under which the monitor logs its own time (s).
RUNLOG_NAME = "runlog.jsonl"
SETTINGS_NAME = "settings.json"
OVERHEAD = "monitor_overhead_s"
RESUME_MODES = ("auto", True, False)
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _comparable(settings):
    """Settings as JSON would store them, object addresses (``<... at 0x7f..>``) removed."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return json.loads(_ADDRESS.sub("", text))


def _read_settings(path):
    try:
        with open(path, encoding="utf-8") as fh:
            settings = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidParameterError(
            f"{path} cannot be read as run settings ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:120]}); repair or remove it."
        ) from None
    if not isinstance(settings, dict):
        raise InvalidParameterError(f"{path} must hold a JSON object of run settings; got a "
                                    f"{type(settings).__name__}.")
    return settings


def open_run(run_dir, settings, *, resume="auto", fsync=True, rank=None):
    """Open the run log of ``run_dir`` for writing, with its ``settings.json``.

    A used folder is never silently taken over by a different run: its log
    would skip every new row whose (epoch, step, layer, measure) it already
    holds, and the new settings would describe the old values.

    Parameters
    ----------
    run_dir : str or os.PathLike
    settings : dict
        What ``settings.json`` records about the run.
    resume : {"auto", True, False}, default="auto"
        ``"auto"``: a folder without rows starts a new run; a folder whose
        log has rows is resumed (a restart from a checkpoint) only when its
        ``settings.json`` equals ``settings``, and refused otherwise.
        ``True``: continue the folder's run whatever its settings (they are
        replaced by ``settings``).  ``False``: refuse a folder that holds rows.
    fsync : bool, default=True
    rank : int, optional
        Data-parallel rank; default :func:`infolens.runs.lock.process_rank`.
        Only rank 0 writes: other ranks get None (keep rows in memory).

    Returns
    -------
    RunLog or None
    """
    if resume not in RESUME_MODES:
        raise InvalidParameterError(f"resume must be 'auto', True or False; got {resume!r}.")
    if (process_rank() if rank is None else rank) != 0:
        return None
    folder = os.fspath(run_dir)
    spath = os.path.join(folder, SETTINGS_NAME)
    log = RunLog(os.path.join(folder, RUNLOG_NAME), fsync=fsync)
    try:
        old = _read_settings(spath) if len(log) and os.path.exists(spath) else None
        if len(log) and resume is False:
            raise InvalidParameterError(
                f"Run folder {folder} already holds a run ({len(log)} rows); pass resume=True "
                f"to continue it, or give a new run_dir."
            )
        if len(log) and resume == "auto" and old is not None:
            old, new = _comparable(old), _comparable(settings)
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            if changed:
                shown = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}"
                                  for k in changed[:3])[:300]
                raise InvalidParameterError(
                    f"Run folder {folder} holds a run ({len(log)} rows) with other settings "
                    f"({shown}); a new run needs a new run_dir (resume=True continues the old "
                    f"run instead)."
                )
        write_json_atomic(spath, settings)
    except BaseException:
        log.close()
        raise
    return log


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
    if os.path.isdir(log):
        raise InvalidParameterError(f"{log} is a directory; a run log is a file.")
    if not os.path.isfile(log):
        raise FileNotFoundError(f"{path} holds no {RUNLOG_NAME}; is it a monitor run folder?")
    spath = os.path.join(path, SETTINGS_NAME)
    settings = _read_settings(spath) if os.path.exists(spath) else {}
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
        if os.path.exists(os.path.join(p, RUNLOG_NAME)):
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
