"""An append-only JSON-lines run log that survives crashes.

One line per (epoch, step, layer, measure) with the value, its unit, the
parameters it was computed with and the seed.  Every record is written as one
``write`` of a complete line, flushed and (by default) ``fsync``-ed before the
call returns, so a crash loses at most the record being written.  Reopening a
log:

* drops a trailing partial line (a record cut by the crash), truncating the
  file back to the last complete line;
* remembers the keys already present, so :meth:`RunLog.append` skips a record
  whose key is already logged.  A run restarted from its last checkpoint
  therefore ends with exactly the rows of an uninterrupted run: nothing is
  duplicated, and the records after the checkpoint are written again.

One process writes a log at a time: :class:`RunLog` holds a lock file
(``runlog.jsonl.lock``, with the writer's host and process id) while it is
open, and a second writer in another process is refused.  A lock left by a
killed process (``kill -9``) on the same host is detected (its pid is no
longer alive) and taken over.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings

from infolens.core.files import ClosesOnExit, json_ready
from infolens.core.validation import InvalidParameterError
from infolens.runs.lock import WriterLock

__all__ = ["KEY_FIELDS", "RunLog", "read_runlog", "row_key"]

#: Fields that identify a record; a log never holds two rows with the same key.
KEY_FIELDS = ("epoch", "step", "layer", "measure")
REQUIRED_FIELDS = KEY_FIELDS + ("value", "unit")


def row_key(row):
    """The identifying tuple of a record."""
    return tuple(row[f] for f in KEY_FIELDS)


def _no_constant(name):
    raise ValueError(f"non-finite number {name}")


def _unique_pairs(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"field {k!r} appears twice")
        out[k] = v
    return out


def _parse_record(line):
    """The record of one line, or raise ValueError saying why it is not one."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    try:
        row = json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise ValueError(exc.msg) from None
    if not isinstance(row, dict):
        raise ValueError(f"a JSON {type(row).__name__}, not a record")
    missing = [f for f in REQUIRED_FIELDS if f not in row]
    if missing:
        raise ValueError(f"not a record (missing {', '.join(missing)})")
    return row


def _check_file(path):
    if os.path.isdir(path):
        raise InvalidParameterError(f"Run log path {os.fspath(path)} is a directory; a run log "
                                    f"is a file (runlog.jsonl).")


def _parse_lines(path):
    """Complete records of a log, the byte length of its complete part, the problems to report
    (strings) and the error of a bad last line (None when it is fine).

    A bad line before the last raises :class:`InvalidParameterError`; rows with a
    non-finite value (NaN written by another tool) and rows repeating an earlier
    key are left out and reported.
    """
    _check_file(path)
    with open(path, "rb") as fh:
        data = fh.read()
    end = data.rfind(b"\n") + 1  # bytes after the last newline are a cut record
    lines = [(n, line) for n, line in enumerate(data[:end].splitlines(), start=1)
             if line.strip()]
    rows, problems, tail_error, keys = [], [], None, set()
    for i, (number, line) in enumerate(lines):
        try:
            row = _parse_record(line)
        except ValueError as exc:
            message = (f"Run log {os.fspath(path)} line {number} is {exc}" if "not" in str(exc)
                       else f"Run log {os.fspath(path)} line {number} is corrupt ({exc})")
            if i < len(lines) - 1:
                raise InvalidParameterError(
                    f"{message}; only the last line may be incomplete. Repair or remove that "
                    f"line."
                ) from None
            tail_error = f"{message}. Remove that line."
            continue
        if not isinstance(row["value"], (int, float)) or not math.isfinite(row["value"]):
            problems.append(f"line {number} has the value {row['value']!r} (left out)")
            continue
        try:
            key = row_key(row)
            hash(key)
        except TypeError:
            problems.append(f"line {number} has a key field that is not a plain value")
            continue
        if key in keys:
            problems.append(f"line {number} repeats the key {key} (the first is kept)")
            continue
        keys.add(key)
        rows.append(row)
    return rows, end, problems, tail_error


def _report(path, problems):
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more"
                                            if len(problems) > 3 else "")
        warnings.warn(f"Run log {os.fspath(path)}: {shown}.", RuntimeWarning, stacklevel=3)


def read_runlog(path):
    """Read the complete records of a run log (a trailing partial line is ignored).

    Rows with a non-finite value, rows repeating an earlier key and a last line
    that is not a record (valid JSON of another shape, or not UTF-8) are left
    out with a ``RuntimeWarning``; a bad line before the last raises.

    Parameters
    ----------
    path : str or os.PathLike
        A ``runlog.jsonl`` file.

    Returns
    -------
    list of dict

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    InvalidParameterError
        ``path`` is a directory, or a line before the last is not a record.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"no run log at {path}")
    rows, _, problems, tail_error = _parse_lines(path)
    _report(path, problems + ([tail_error] if tail_error else []))
    return rows


class RunLog(ClosesOnExit):
    """Append-only, crash-safe JSON-lines log of measurements.

    Parameters
    ----------
    path : str or os.PathLike
        File to append to (created with its folder if missing).
    fsync : bool, default=True
        Call ``os.fsync`` after each record (survives power loss, not only a
        crashed process).

    Attributes
    ----------
    rows : list of dict
        Every record in the file, old and new, in file order.
    """

    def __init__(self, path, *, fsync=True):
        self.path = os.fspath(path)
        self.fsync = fsync
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.rows = []
        self._fh = None
        self._lock = WriterLock(self.path + ".lock")
        try:
            if os.path.exists(self.path):
                self.rows, end, problems, tail_error = _parse_lines(self.path)
                if tail_error:
                    raise InvalidParameterError(tail_error)
                _report(self.path, problems)
                if end != os.path.getsize(self.path):
                    with open(self.path, "r+b") as fh:
                        fh.truncate(end)
            self._keys = {row_key(r) for r in self.rows}
            self._fh = open(self.path, "a", encoding="utf-8")
        except BaseException:
            self._lock.release()
            raise

    def __contains__(self, key):
        return tuple(key) in self._keys

    def __len__(self):
        return len(self.rows)

    def append(self, row):
        """Write one record unless its key is already logged.

        Parameters
        ----------
        row : dict
            Must hold ``epoch``, ``step``, ``layer``, ``measure``, ``value``
            (a finite number) and ``unit``; ``params``, ``seed``,
            ``elapsed_s`` and any other JSON-serialisable fields are kept.

        Returns
        -------
        bool
            True if written, False if the key was already present.
        """
        missing = [f for f in REQUIRED_FIELDS if f not in row]
        if missing:
            raise InvalidParameterError(
                f"A run-log record needs the fields {list(REQUIRED_FIELDS)}; {missing} missing "
                f"in {row!r}."
            )
        value = row["value"]
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidParameterError(
                f"Run-log value for measure {row['measure']!r} at layer {row['layer']!r} "
                f"(epoch {row['epoch']}, step {row['step']}) must be a finite number; got "
                f"{value!r}."
            )
        key = row_key(row)
        if key in self._keys:
            return False
        record = dict(row)
        record.setdefault("time", time.time())
        line = json.dumps(record, allow_nan=False, default=json_ready) + "\n"
        if self._fh is None:
            raise InvalidParameterError(f"Run log {self.path} is closed.")
        self._fh.write(line)
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())
        self._keys.add(key)
        self.rows.append(record)
        return True

    def close(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._lock.release()
