"""A results store that loses nothing: one SQLite file in WAL mode.

One row per task: ``(input_hash, measure, params)`` says what is computed and
``entry`` which manifest entry it belongs to, so entries with byte-identical
files keep their own rows (step, layer, name, accuracy) while the value is
computed once.  A ``claims`` table lets concurrent drivers share the work
(:mod:`infolens.batch.claims`).  Only the process that
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
import sqlite3
from pathlib import Path

from infolens.batch.claims import CLAIMS_SCHEMA
from infolens.batch.export import check_export_path, export_runs
from infolens.batch.identity import entry_key
from infolens.core import optional
from infolens.core.files import ClosesOnExit, json_ready
from infolens.core.validation import InvalidParameterError

__all__ = ["EXPORT_COLUMNS", "ResultStore", "check_export_path", "export_runs"]

SCHEMA_VERSION = 2
_RESULTS = """
CREATE TABLE IF NOT EXISTS results (
    input_hash      TEXT NOT NULL,
    measure         TEXT NOT NULL,
    params          TEXT NOT NULL,
    entry           TEXT NOT NULL DEFAULT '',
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
    PRIMARY KEY (input_hash, measure, params, entry)
)"""
_SCHEMA = (_RESULTS + ";\nCREATE TABLE IF NOT EXISTS store_info (key TEXT PRIMARY KEY, "
           "value TEXT);\n" + CLAIMS_SCHEMA)
_COLUMNS = ("input_hash", "measure", "params", "entry", "status", "value", "unit",
            "resolved_params", "details", "error", "attempts", "name", "epoch", "step", "layer",
            "accuracy", "meta", "source", "elapsed_s", "worker", "finished_at")
_META = ("name", "epoch", "step", "layer", "accuracy")


def _guarded(method):
    """Turn SQLite's errors in a store method into one clear message."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise InvalidParameterError(
                f"The results store {str(self.path)!r} cannot be used (SQLite: {exc}); it is "
                f"damaged or not an infolens store. Pass a new file with --store."
            ) from None
    return wrapper

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
        self._db = None
        try:
            self._db = sqlite3.connect(str(self.path), timeout=timeout_s, isolation_level=None)
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self._db.execute("PRAGMA synchronous=FULL")
            self._check_or_migrate()
            self._db.executescript(_SCHEMA)
        except (sqlite3.DatabaseError, InvalidParameterError) as exc:
            self.close()
            if isinstance(exc, InvalidParameterError):
                raise
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

    def _check_or_migrate(self):
        """Refuse a database of something else; bring a version-1 store to version 2."""
        tables = {r[0] for r in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return
        if "results" not in tables or "store_info" not in tables:
            raise InvalidParameterError(
                f"{str(self.path)!r} is an SQLite database of something else (tables: "
                f"{', '.join(sorted(tables))[:200]}), not an infolens results store. Pass a "
                f"new file name with --store."
            )
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(results)")}
        if columns == set(_COLUMNS):
            return
        if columns != set(_COLUMNS) - {"entry"}:
            raise InvalidParameterError(
                f"{str(self.path)!r} has a 'results' table with other columns than an infolens "
                f"results store; pass a new file name with --store."
            )
        self._db.execute("BEGIN IMMEDIATE")
        try:  # version 1: one row per computed key; give each row its entry
            self._db.execute("ALTER TABLE results RENAME TO results_v1")
            self._db.execute(_RESULTS)  # executescript would commit the transaction
            self._db.row_factory = sqlite3.Row
            for old in self._db.execute("SELECT * FROM results_v1").fetchall():
                row = dict(old)
                meta = {k: row[k] for k in _META}
                if row["meta"] is not None:
                    meta["meta"] = json.loads(row["meta"])
                row["entry"] = entry_key(meta)
                self._db.execute(f"INSERT INTO results ({','.join(_COLUMNS)}) VALUES "
                                 f"({','.join('?' * len(_COLUMNS))})",
                                 tuple(row[c] for c in _COLUMNS))
            self._db.execute("DROP TABLE results_v1")
            self._db.execute("INSERT OR REPLACE INTO store_info VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        finally:
            self._db.row_factory = None

    # -- lifecycle
    def close(self):
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- queries
    @_guarded
    def done_keys(self):
        """Set of ``(input_hash, measure, params, entry)`` (:attr:`Task.row_key`) with a
        finished value."""
        cur = self._db.execute(
            "SELECT input_hash, measure, params, entry FROM results WHERE status='done'"
        )
        return set(map(tuple, cur.fetchall()))

    @_guarded
    def done_outcome(self, key):
        """The finished outcome of compute key ``(input_hash, measure, params)`` under any
        entry, as :meth:`record` takes it, or None."""
        self._db.row_factory = sqlite3.Row
        try:
            row = self._db.execute(
                "SELECT * FROM results WHERE input_hash=? AND measure=? AND params=? AND "
                "status='done' LIMIT 1", tuple(key)).fetchone()
        finally:
            self._db.row_factory = None
        if row is None:
            return None
        return {"status": "done", **{k: row[k] for k in ("value", "unit", "resolved_params",
                                                           "details", "elapsed_s", "worker")}}

    @_guarded
    def status_of(self, key):
        """Status of a row key (4-tuple) or of a compute key (3-tuple, any entry)."""
        sql = "SELECT status FROM results WHERE input_hash=? AND measure=? AND params=?"
        if len(key) == 4:
            sql += " AND entry=?"
        row = self._db.execute(sql + " ORDER BY status='done' DESC", tuple(key)).fetchone()
        return None if row is None else row[0]

    @_guarded
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

    @_guarded
    def counts(self):
        """``{"done": n, "failed": m}``."""
        out = {"done": 0, "failed": 0}
        for status, n in self._db.execute("SELECT status, COUNT(*) FROM results GROUP BY status"):
            out[status] = n
        return out

    @_guarded
    def __len__(self):
        return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    # -- writes
    @_guarded
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
            task.input_hash, task.measure, task.params_json, getattr(task, "entry", ""), status,
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
            f"INSERT INTO results ({','.join(_COLUMNS)}) VALUES ({placeholders}) "
            "ON CONFLICT (input_hash, measure, params, entry) DO UPDATE SET "
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


def _json_or_none(obj):
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    return json.dumps(obj, sort_keys=True, default=functools.partial(json_ready, fallback=repr))
