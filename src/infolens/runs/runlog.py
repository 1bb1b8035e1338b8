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
"""

from __future__ import annotations

import json
import math
import os
import time

from infolens.core.files import ClosesOnExit, json_ready
from infolens.core.validation import InvalidParameterError

__all__ = ["KEY_FIELDS", "RunLog", "read_runlog", "row_key"]

#: Fields that identify a record; a log never holds two rows with the same key.
KEY_FIELDS = ("epoch", "step", "layer", "measure")
REQUIRED_FIELDS = KEY_FIELDS + ("value", "unit")


def row_key(row):
    """The identifying tuple of a record."""
    return tuple(row[f] for f in KEY_FIELDS)


def _parse_lines(path):
    """Complete records of a log and the byte length of its complete part."""
    with open(path, "rb") as fh:
        data = fh.read()
    end = data.rfind(b"\n") + 1  # bytes after the last newline are a cut record
    rows = []
    for number, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InvalidParameterError(
                f"Run log {path} has a corrupt record on line {number} ({exc.msg}); only the "
                f"last line may be incomplete. Repair or remove that line."
            ) from None
    return rows, end


def read_runlog(path):
    """Read the complete records of a run log (a trailing partial line is ignored).

    Parameters
    ----------
    path : str or os.PathLike
        A ``runlog.jsonl`` file.

    Returns
    -------
    list of dict
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"no run log at {path}")
    return _parse_lines(path)[0]


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
        if os.path.exists(self.path):
            self.rows, end = _parse_lines(self.path)
            if end != os.path.getsize(self.path):
                with open(self.path, "r+b") as fh:
                    fh.truncate(end)
        self._keys = {row_key(r) for r in self.rows}
        self._fh = open(self.path, "a", encoding="utf-8")

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
