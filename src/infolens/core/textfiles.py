"""Numeric text files (``.csv``, ``.tsv``) read into arrays (used by :mod:`infolens.core.files`).

A first row with a non-numeric cell followed by numeric rows is a header; lines
starting with ``#`` and blank lines are skipped; a UTF-8 byte-order mark is
dropped.  A labels file may instead hold one column of class names.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from infolens.core.arrayfiles import DataFileError
from infolens.core.memory import format_bytes, memory_budget

__all__ = ["read_text"]


def _parse_float(cell):
    return float(cell.strip())


def _is_numeric_row(row):
    try:
        for cell in row:
            _parse_float(cell)
    except ValueError:
        return False
    return True


def _text_labels(rows):
    """A single column of class names (strings), its header dropped when it names the column
    (a first value that occurs nowhere below)."""
    values = [row[0].strip() for _, row in rows]
    if len(values) > 1 and values[0] not in values[1:]:
        values = values[1:]
    return np.asarray(values, dtype=str)


def read_text(p, size, ext, what):
    """The rows of the text file ``p`` (a Path of ``size`` bytes) as float64 of shape
    (n_rows, n_columns), or, for ``what == "labels"`` with one non-numeric column, as str of
    shape (n_rows,); raises :class:`DataFileError` with one line on bad input."""
    delimiter = "\t" if ext == ".tsv" else ","
    budget = memory_budget()
    if budget is not None and size * 40 > budget:  # parsing holds Python objects per cell
        raise DataFileError(
            f"{what} file {str(p)!r} ({format_bytes(size)} of text) is too large to parse in "
            f"the {format_bytes(budget)} this process may use; convert it to .npy first."
        )
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataFileError(
            f"{what} file {str(p)!r} is not UTF-8 text; a {ext} file must hold numbers "
            f"separated by {'tabs' if ext == '.tsv' else 'commas'}."
        ) from None
    rows = []  # (line number, cells)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        rows.append((line, row))
    if not rows:
        raise DataFileError(f"{what} file {str(p)!r} holds no data rows.")
    header = None
    if not _is_numeric_row(rows[0][1]):
        # A first row that is not numbers is a header when the next row is numbers.
        if len(rows) > 1 and _is_numeric_row(rows[1][1]):
            header = rows.pop(0)
    width = len(rows[0][1])
    if what == "labels" and header is None and all(len(r) == 1 for _, r in rows) \
            and not all(_is_numeric_row(r) for _, r in rows):
        return _text_labels(rows)
    if header is not None and len(header[1]) != width:
        raise DataFileError(
            f"{what} file {str(p)!r}: the header on line {header[0]} has {len(header[1])} "
            f"columns but line {rows[0][0]} has {width}."
        )
    out = np.empty((len(rows), width), dtype=np.float64)
    for i, (line, row) in enumerate(rows):
        if len(row) != width:
            raise DataFileError(
                f"{what} file {str(p)!r}: line {line} has {len(row)} columns, expected {width} "
                f"(as on line {rows[0][0]}). Every row needs the same number of values."
            )
        try:
            out[i] = [_parse_float(c) for c in row]
        except ValueError:
            col = next(j for j, c in enumerate(row) if not _is_numeric_row([c]))
            name = f" ({header[1][col].strip()!r})" if header is not None else ""
            raise DataFileError(
                f"{what} file {str(p)!r}: non-numeric value {row[col].strip()!r} on line "
                f"{line}, column {col + 1}{name}. {ext} input must be numbers only (one header "
                f"row is allowed); encode categories as integers."
            ) from None
    return out
