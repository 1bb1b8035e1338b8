"""Read embeddings and labels from files, without ever unpickling.

Supported formats (chosen by the file extension, case-insensitive):

* ``.npy``: one array, read with ``numpy.load(allow_pickle=False)``, so object
  arrays (which only pickle can restore) are refused;
* ``.npz``: an archive of named arrays; ``key`` names the array, and may be
  omitted when the archive holds exactly one;
* ``.csv`` / ``.tsv``: numeric text, comma- or tab-separated; a first row with
  a non-numeric cell followed by numeric rows is taken as a header and
  skipped; lines starting with ``#`` and blank lines are ignored;
* ``.pt`` / ``.pth``: a torch tensor, or a dict of tensors chosen by ``key``,
  read with ``torch.load(weights_only=True)`` (torch's restricted loader that
  only rebuilds tensors and plain containers); needs PyTorch.

Every failure raises :class:`DataFileError` with one line that names the
file, says what was expected and how to fix it.

Also here, for the files infolens writes (run logs, run settings, result
stores): :class:`ClosesOnExit`, :func:`json_ready` and
:func:`write_json_atomic`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from infolens.core import optional
from infolens.core.validation import InvalidParameterError

__all__ = [
    "ClosesOnExit",
    "DataFileError",
    "SUPPORTED_EXTENSIONS",
    "json_ready",
    "load_array",
    "load_labels",
    "write_json_atomic",
]

SUPPORTED_EXTENSIONS = (".npy", ".npz", ".csv", ".tsv", ".pt", ".pth")
TORCH_PIN = "torch==2.13.0"


class DataFileError(InvalidParameterError):
    """A data file that cannot be read as a numeric array; the message is one line."""


def _one_line(text):
    return " ".join(str(text).split())


def _check_path(path, what):
    p = Path(os.fspath(path)).expanduser()
    if not p.exists():
        raise DataFileError(
            f"{what} file {str(p)!r} does not exist (looked in {os.getcwd()!r}). Check the path."
        )
    if p.is_dir():
        raise DataFileError(f"{what} path {str(p)!r} is a directory; pass a file.")
    ext = p.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise DataFileError(
            f"{what} file {str(p)!r} has an unsupported extension {p.suffix or '(none)'!r}; "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}. Save the array with np.save "
            f"(.npy) or np.savetxt (.csv)."
        )
    return p, ext


def _choose(names, key, p, what, kind):
    """Pick the entry ``key`` of an archive/dict, or its only entry when ``key`` is None."""
    listed = ", ".join(repr(n) for n in names) or "(none)"
    if key is not None:
        if key not in names:
            raise DataFileError(
                f"{what} file {str(p)!r} has no {kind[:-1].replace('ie', 'y')} named {key!r}; it "
                f"holds {listed}. "
                f"Pass one of them with --key."
            )
        return key
    if len(names) == 1:
        return names[0]
    raise DataFileError(
        f"{what} file {str(p)!r} holds {len(names)} {kind} ({listed}); choose one with "
        f"--key NAME."
    )


def _pickle_refused(p, what, ext):
    return DataFileError(
        f"{what} file {str(p)!r} is not a plain numeric {ext} file: reading it would need "
        f"unpickling (an object array, a pickle, or not a NumPy file at all), which infolens "
        f"never does. Re-save it as numbers, e.g. np.save(path, np.asarray(X, dtype=float))."
    )


def _read_npy(p, what):
    try:
        return np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise _pickle_refused(p, what, ".npy") from None
        raise DataFileError(f"cannot read {what} file {str(p)!r} as .npy: "
                            f"{_one_line(exc)}") from None
    except (OSError, EOFError) as exc:
        raise DataFileError(f"cannot read {what} file {str(p)!r} as .npy: "
                            f"{_one_line(exc)}") from None


@contextmanager
def _npz_errors(p, what, subject):
    """Turn numpy's and zipfile's read errors into one-line ``DataFileError``s."""
    try:
        yield
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise _pickle_refused(p, what, ".npz") from None
        raise DataFileError(f"cannot read {subject}: {_one_line(exc)}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataFileError(f"cannot read {subject}: {_one_line(exc)}") from None


def _read_npz(p, key, what):
    with _npz_errors(p, what, f"{what} file {str(p)!r} as .npz"):
        archive = np.load(p, allow_pickle=False)
    if isinstance(archive, np.ndarray):  # a .npy saved under a .npz name
        if key is not None:
            raise DataFileError(
                f"{what} file {str(p)!r} holds a single array, not an archive; drop --key."
            )
        return archive
    with archive:
        name = _choose(list(archive.files), key, p, what, "arrays")
        with _npz_errors(p, what, f"array {name!r} of {what} file {str(p)!r}"):
            return archive[name]


def _parse_float(cell):
    return float(cell.strip())


def _is_numeric_row(row):
    try:
        for cell in row:
            _parse_float(cell)
    except ValueError:
        return False
    return True


def _read_text(p, ext, what):
    delimiter = "\t" if ext == ".tsv" else ","
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


def _read_torch(p, key, what):
    try:
        torch = optional.torch(f"reading {what} file {str(p)!r}")
    except ImportError:
        raise DataFileError(
            f"reading {what} file {str(p)!r} needs PyTorch, which is not installed; install it "
            f"with 'pip install {TORCH_PIN}', or save the array as .npy instead."
        ) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # keep the CLI's stderr to one line
            obj = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise DataFileError(
            f"{what} file {str(p)!r} holds Python objects other than tensors, which infolens "
            f"never unpickles (it reads .pt/.pth with torch.load(weights_only=True)); save a "
            f"tensor with torch.save(Z, path), or a dict of tensors."
        ) from None
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        text = str(exc).strip()
        first = _one_line(text.splitlines()[0]) if text else ""
        raise DataFileError(
            f"cannot read {what} file {str(p)!r} as a torch file ({type(exc).__name__}: "
            f"{first[:160]}). Save a tensor with torch.save(Z, path)."
        ) from None
    if isinstance(obj, dict):
        names = [k for k in obj if isinstance(k, str)]
        if not names:
            raise DataFileError(f"{what} file {str(p)!r} holds a dict without string keys.")
        name = _choose(names, key, p, what, "entries")
        obj = obj[name]
    elif key is not None:
        raise DataFileError(
            f"--key {key!r} was given but {what} file {str(p)!r} holds a single "
            f"{type(obj).__name__}, not a dict; drop --key."
        )
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.float()  # numpy has no bfloat16
        return t.numpy()
    if isinstance(obj, np.ndarray):
        return obj
    raise DataFileError(
        f"{what} file {str(p)!r} holds a {type(obj).__name__}, not a tensor; save a tensor "
        f"(torch.save(Z, path)) or a dict of tensors and choose one with --key."
    )


def load_array(path, *, key=None, what="embeddings"):
    """Load a numeric array from a file.

    Parameters
    ----------
    path : str or path-like
        A ``.npy``, ``.npz``, ``.csv``, ``.tsv``, ``.pt`` or ``.pth`` file.
    key : str, optional
        Name of the array in a ``.npz`` archive or of the tensor in a dict
        saved with ``torch.save``; optional when there is exactly one.
    what : str, default="embeddings"
        What the file holds, for error messages.

    Returns
    -------
    ndarray
        As stored (any shape and dtype; text files give float64 of shape
        (n_rows, n_columns)).  Validation of shape and values is left to the
        measures.

    Raises
    ------
    DataFileError
        Missing file, unsupported extension, unreadable or pickle-only
        content, or a key that is missing or needed.
    """
    p, ext = _check_path(path, what)
    if key is not None and ext not in (".npz", ".pt", ".pth"):
        raise DataFileError(
            f"--key {key!r} applies to .npz, .pt and .pth files only; {str(p)!r} is {ext}. "
            f"Drop --key."
        )
    try:
        if ext == ".npy":
            return _read_npy(p, what)
        if ext == ".npz":
            return _read_npz(p, key, what)
        if ext in (".csv", ".tsv"):
            return _read_text(p, ext, what)
        return _read_torch(p, key, what)
    except PermissionError:
        raise DataFileError(f"{what} file {str(p)!r} cannot be read (permission denied).") \
            from None


def load_labels(path, *, key=None, allow_2d=False):
    """Load a reference variable (class labels, a scalar, or vectors) from a file.

    Parameters
    ----------
    path : str or path-like
        Any format accepted by :func:`load_array`.
    key : str, optional
        As in :func:`load_array`.
    allow_2d : bool, default=False
        Accept several columns (vectors to be clustered, ``y_kind="vector"``).

    Returns
    -------
    ndarray of shape (n_samples,), or (n_samples, n_dims) when ``allow_2d``
        A single column is flattened.  A floating-point column whose values
        are all whole numbers (as labels read from a text file are) is cast
        to int64, so that ``y_kind="auto"`` treats it as class labels rather
        than as a continuous scalar; pass ``y_kind="scalar"`` to bin such
        values instead.
    """
    Y = load_array(path, key=key, what="labels")
    p = str(path)
    if Y.ndim == 2 and Y.shape[1] == 1:
        Y = Y[:, 0]
    if Y.ndim == 0 or Y.ndim > 2 or (Y.ndim == 2 and not allow_2d):
        hint = (" Pass --y-kind vector to cluster rows of a 2-D reference." if Y.ndim == 2
                else "")
        raise DataFileError(
            f"labels file {p!r} must hold one value per sample (1-D, or one column); got an "
            f"array of shape {Y.shape}.{hint}"
        )
    if (Y.ndim == 1 and Y.dtype.kind == "f" and Y.size and np.all(np.isfinite(Y))
            and np.all(Y == np.round(Y))):
        if np.all(np.abs(Y) < 2**53):
            Y = Y.astype(np.int64)
    return Y


# ------------------------------------------------------------ shared by the run and store files
class ClosesOnExit:
    """Context-manager protocol for an object with a ``close()`` method: ``with`` closes it."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def json_ready(obj, fallback=str):
    """A JSON-serialisable stand-in for a numpy value (``default=`` of :func:`json.dumps`).

    Arrays become lists and numpy scalars Python numbers; anything else is
    ``fallback(obj)`` (``str`` or ``repr``).
    """
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return fallback(obj)


def write_json_atomic(path, data):
    """Write ``data`` as JSON to ``path`` through a temporary file, fsync-ed, then renamed."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
