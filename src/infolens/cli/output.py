"""What the commands print (a table, CSV or JSON; a closed pipe is no error) and ``-``
for standard input."""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
import sys
import tempfile

from infolens.cli.errors import CLIError
from infolens.core.files import json_ready

__all__ = ["STDIN", "StandardInput", "csv_rows", "display_name", "emit", "table_rows",
           "text_table"]

#: The file name that stands for standard input.
STDIN = "-"


def display_name(path):
    """How a path is shown: ``<stdin>`` for ``-``."""
    return "<stdin>" if str(path) == STDIN else (None if path is None else str(path))


def emit(text):
    """Print ``text``; a reader that closed the pipe early (``| head``) is not an error."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # silence the flush at interpreter exit
    return 0


def _suffix(data):
    """The file extension the bytes on standard input look like."""
    if data.startswith(b"\x93NUMPY"):
        return ".npy"
    if data.startswith(b"PK"):
        return ".npz"
    first = data.split(b"\n", 1)[0]
    return ".tsv" if b"\t" in first else ".csv"


class StandardInput:
    """``with StandardInput() as s: s.path(name, what)``: ``-`` becomes a temporary file.

    Standard input (``.npy``, ``.npz``, CSV or TSV, recognised by its first bytes) is
    read once, into a temporary folder removed on exit; it can stand for one input only.
    """

    def __init__(self):
        self._folder = None
        self._used_by = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._folder is not None:
            self._folder.cleanup()
        return False

    def path(self, name, what):
        """``name`` itself, or the temporary copy of standard input when it is ``-``."""
        if name is None or str(name) != STDIN:
            return name
        if self._used_by is not None:
            raise CLIError(f"standard input ('-') can hold the {self._used_by} or the {what}, "
                           f"not both; save one of them to a file.")
        self._used_by = what
        data = sys.stdin.buffer.read()
        if not data.strip():
            raise CLIError(f"the {what} were to be read from standard input ('-'), which is "
                           f"empty; pipe a .npy file or CSV text into the command.")
        self._folder = tempfile.TemporaryDirectory(prefix="infolens-stdin-")
        target = pathlib.Path(self._folder.name) / f"stdin{_suffix(data)}"
        target.write_bytes(data)
        return str(target)


def _flat_params(params):
    return json.dumps(params, default=json_ready, sort_keys=True)


def csv_rows(rows):
    """CSV text, one row per ``(path, result, n_samples)``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["file", "measure", "value", "unit", "n_samples", "standard_error",
                     "elapsed_s", "params"])
    for path, result, n in rows:
        se = result.standard_error
        writer.writerow([display_name(path), result.measure, repr(float(result.value)),
                         result.unit, n, "" if se is None else repr(float(se)),
                         f"{result.elapsed_s:.4f}", _flat_params(result.params)])
    return buffer.getvalue().rstrip("\n")


def text_table(header, lines):
    """Columns aligned under ``header``; numbers (a cell that parses as float) right-aligned."""
    cells = [list(map(str, header))] + [[str(c) for c in line] for line in lines]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def numeric(text):
        try:
            float(text)
            return True
        except ValueError:
            return False

    out = []
    for row in cells:
        out.append("  ".join(c.rjust(w) if numeric(c) else c.ljust(w)
                             for c, w in zip(row, widths)).rstrip())
    return "\n".join(out)


def table_rows(rows):
    """A table, one row per ``(name, result, details)``, the measure and unit in the header."""
    first = rows[0][1]
    units = {r.unit for _, r, _ in rows}
    head = f"{first.measure.upper()} ({units.pop()})" if len(units) == 1 else "value"
    return text_table(["file", head, "parameters"],
                      [(name, f"{r.value:.4f}", details) for name, r, details in rows])
