"""A results store that loses nothing: one SQLite file in WAL mode.

One row per task key ``(input_hash, measure, params)``.  Only the process that
submits the work writes (workers return their results to it), and each
finished task is committed on its own, so a crash or a killed run keeps every
result finished before it; running the same manifest again skips them.

* A ``done`` row is never overwritten: writing it twice is a no-op.
* A ``failed`` row (the task raised on every one of its attempts) keeps the
  error text; a later run tries the task again and replaces the row if it
  then succeeds.

Export with :meth:`ResultStore.export` to CSV (always) or Parquet (needs
pyarrow); the CSV starts with the ``epoch, step, layer, measure, value, unit``
columns of a run log.  :func:`export_runs` writes monitor run folders
(``runlog.jsonl`` + ``settings.json``) that ``infolens report`` reads as is.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
import json
import os
import sqlite3
from pathlib import Path

from infolens.core import optional
from infolens.core.files import ClosesOnExit, json_ready
from infolens.core.validation import InvalidParameterError
from infolens.runs.runlog import RunLog

__all__ = ["EXPORT_COLUMNS", "ResultStore", "check_export_path", "export_runs"]

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    input_hash      TEXT NOT NULL,
    measure         TEXT NOT NULL,
    params          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    value           REAL,
    unit            TEXT,
    resolved_params TEXT,
    details         TEXT,
    error           TEXT,
    attempts        INTEGER NOT NULL,
    name            TEXT,
    epoch           INTEGER,
    step            INTEGER,
    layer           TEXT,
    accuracy        REAL,
    meta            TEXT,
    source          TEXT,
    elapsed_s       REAL,
    worker          TEXT,
    finished_at     TEXT NOT NULL,
    PRIMARY KEY (input_hash, measure, params)
);
CREATE TABLE IF NOT EXISTS store_info (key TEXT PRIMARY KEY, value TEXT);
"""

#: Column order of exports; the first six are what ``infolens report`` reads.
EXPORT_COLUMNS = (
    "epoch", "step", "layer", "measure", "value", "unit", "name", "accuracy", "params",
    "status", "error", "attempts", "input_hash", "resolved_params", "elapsed_s", "worker",
    "finished_at", "source", "meta",
)


class ResultStore(ClosesOnExit):
    """The SQLite results store.

    Parameters
    ----------
    path : path-like
        The database file; created (with its folder) if missing.
    timeout_s : float, default=30
        How long a write waits for another process's lock before failing.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, path, *, timeout_s=30.0):
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            raise InvalidParameterError(
                f"The store path {str(self.path)!r} is a directory; give a file such as "
                "results.sqlite."
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path), timeout=timeout_s, isolation_level=None)
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InvalidParameterError(
                f"{str(self.path)!r} is not an infolens results store (SQLite said: {exc}). "
                f"Pass a new file name with --store."
            ) from None
        if mode.lower() != "wal":
            raise InvalidParameterError(
                f"SQLite could not put {str(self.path)!r} in WAL mode (got {mode!r}); the store "
                f"must live on a local file system, not a network share."
            )
        self._db.execute(
            "INSERT OR IGNORE INTO store_info VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )

    # -- lifecycle
    def close(self):
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- queries
    def done_keys(self):
        """Set of ``(input_hash, measure, params)`` with a finished value."""
        cur = self._db.execute(
            "SELECT input_hash, measure, params FROM results WHERE status='done'"
        )
        return set(map(tuple, cur.fetchall()))

    def status_of(self, key):
        row = self._db.execute(
            "SELECT status FROM results WHERE input_hash=? AND measure=? AND params=?", key
        ).fetchone()
        return None if row is None else row[0]

    def rows(self, status=None):
        """All rows as dicts (``status`` filters to ``"done"`` or ``"failed"``)."""
        self._db.row_factory = sqlite3.Row
        try:
            sql = "SELECT * FROM results"
            args = ()
            if status is not None:
                sql += " WHERE status=?"
                args = (status,)
            sql += " ORDER BY name, epoch, step, layer, measure, params, input_hash"
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]
        finally:
            self._db.row_factory = None

    def counts(self):
        """``{"done": n, "failed": m}``."""
        out = {"done": 0, "failed": 0}
        for status, n in self._db.execute("SELECT status, COUNT(*) FROM results GROUP BY status"):
            out[status] = n
        return out

    def __len__(self):
        return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    # -- writes
    def record(self, task, outcome, *, attempts):
        """Store the outcome of one finished task (idempotent).

        Parameters
        ----------
        task : Task
        outcome : dict
            What :func:`infolens.batch.executor.run_task` returned: ``status``
            ``"done"`` with ``value``, ``unit``, ``resolved_params``,
            ``details``, ``elapsed_s``, ``worker``; or ``"failed"`` with
            ``error``.
        attempts : int
            How many times the task ran.

        Returns
        -------
        bool
            True if the row was written, False if a finished value was
            already stored under the key.
        """
        status = outcome["status"]
        if status not in ("done", "failed"):
            raise ValueError(f"unknown outcome status {status!r}")
        meta = task.meta
        row = (
            task.input_hash, task.measure, task.params_json, status,
            outcome.get("value"), outcome.get("unit"),
            _json_or_none(outcome.get("resolved_params")), _json_or_none(outcome.get("details")),
            outcome.get("error"), int(attempts),
            meta.get("name"), meta.get("epoch"), meta.get("step"), meta.get("layer"),
            meta.get("accuracy"), _json_or_none(meta.get("meta")),
            json.dumps({k: v for k, v in task.source.items() if not k.endswith("_sha256")},
                       sort_keys=True),
            outcome.get("elapsed_s"), outcome.get("worker"),
            _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        )
        placeholders = ",".join("?" * len(row))
        # A done row is final; a failed row may be replaced by a later success
        # (or by a newer failure with its newer error).
        cur = self._db.execute(
            f"INSERT INTO results VALUES ({placeholders}) "
            "ON CONFLICT (input_hash, measure, params) DO UPDATE SET "
            "status=excluded.status, value=excluded.value, unit=excluded.unit, "
            "resolved_params=excluded.resolved_params, details=excluded.details, "
            "error=excluded.error, attempts=results.attempts + excluded.attempts, "
            "elapsed_s=excluded.elapsed_s, worker=excluded.worker, "
            "finished_at=excluded.finished_at WHERE results.status='failed'",
            row,
        )
        return cur.rowcount == 1

    # -- export
    def export(self, path, *, status=None):
        """Write the rows to ``.csv`` or ``.parquet`` (chosen by the extension).

        Returns the number of rows written.
        """
        path = check_export_path(path)
        ext = path.suffix.lower()
        rows = self.rows(status)
        if ext == ".csv":
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: "" if row.get(k) is None else row.get(k)
                                     for k in EXPORT_COLUMNS})
            return len(rows)
        if ext in (".parquet", ".pq"):
            pa, pq = optional.pyarrow_parquet()
            columns = {k: [row.get(k) for row in rows] for k in EXPORT_COLUMNS}
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table(columns), str(path))
            return len(rows)
        raise AssertionError(ext)  # check_export_path admits nothing else


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


def _json_or_none(obj):
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    return json.dumps(obj, sort_keys=True, default=functools.partial(json_ready, fallback=repr))
