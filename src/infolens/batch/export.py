"""Exports of a results store: monitor run folders for ``infolens report``, and the
check of an export path (re-exported by :mod:`infolens.batch.store`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from infolens.core import optional
from infolens.core.validation import InvalidParameterError
from infolens.runs.runlog import RunLog

__all__ = ["check_export_path", "export_runs"]


#: Batch measure names whose run-log names carry the reference variable, as the
#: monitor writes them (``dsmi`` of labels is ``dsmi_y``).
_RUNLOG_NAMES = {"dsmi": "dsmi_y", "csmi": "csmi_y", "asmi": "asmi_y"}


def export_runs(store, folder, *, group_by="name"):
    """Write the stored results as monitor run folders that ``infolens report`` reads.

    One folder per value of ``group_by`` (the entries' ``name``; "batch"
    when unnamed) with a ``runlog.jsonl`` (fields ``epoch``, ``step``,
    ``layer``, ``measure``, ``value``, ``unit``, ``params``, ``input_hash``)
    and a ``settings.json`` (``group`` and the x axis: ``step`` when every row
    of the run has a step, else ``epoch``).  Only finished rows with a step
    or an epoch are written: the report draws curves over training time.
    ``dsmi``/``csmi``/``asmi`` are named ``dsmi_y``/... as the monitor names
    them; a measure computed with parameters gets them as an ``@variant``.

    Returns
    -------
    dict
        ``{run_folder: number_of_rows}``.
    """
    folder = Path(folder)
    runs = {}
    for row in store.rows("done"):
        if row["step"] is None and row["epoch"] is None:
            continue
        runs.setdefault(row.get(group_by) or "batch", []).append(row)
    written = {}
    for name, rows in runs.items():
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))
        run_dir = folder / safe
        run_dir.mkdir(parents=True, exist_ok=True)
        unit = "step" if all(r["step"] is not None for r in rows) else "epoch"
        with open(run_dir / "settings.json", "w", encoding="utf-8") as fh:
            json.dump({"group": str(name), "schedule": {"unit": unit},
                       "source": "infolens batch", "store": os.fspath(store.path)}, fh, indent=1)
        log_path = run_dir / "runlog.jsonl"
        if log_path.exists():
            log_path.unlink()  # the store is the source of truth; rewrite the view
        with RunLog(log_path, fsync=False) as log:
            for r in rows:
                measure = _RUNLOG_NAMES.get(r["measure"], r["measure"])
                if r["params"] != "{}":
                    measure += "@" + "".join(ch for ch in r["params"] if ch not in '{}"')
                log.append({
                    "epoch": r["epoch"], "step": r["step"], "layer": r["layer"],
                    "measure": measure, "value": r["value"], "unit": r["unit"] or "",
                    "params": json.loads(r["params"]), "input_hash": r["input_hash"],
                })
            written[str(run_dir)] = len(log)
    return written


def check_export_path(path):
    """Check that ``path`` can be exported to (before a long run); returns it as a Path."""
    path = Path(path).expanduser()
    ext = path.suffix.lower()
    if ext in (".parquet", ".pq"):
        try:
            optional.pyarrow_parquet()
        except ImportError:
            raise InvalidParameterError(
                "Parquet export needs pyarrow, which is not installed: pip install pyarrow, "
                "or export to .csv instead."
            ) from None
    elif ext != ".csv":
        raise InvalidParameterError(
            f"Cannot export to {str(path)!r}: the extension must be .csv or .parquet; got "
            f"{path.suffix or '(none)'!r}."
        )
    return path
