"""Read embeddings and labels from files, without ever unpickling.

Supported formats (chosen by the file extension, case-insensitive):

* ``.npy``: one array; object arrays (which only pickle can restore) are
  refused;
* ``.npz``: an archive of named arrays; ``key`` names the array, and may be
  omitted when the archive holds exactly one;
* ``.csv`` / ``.tsv``: numeric text, comma- or tab-separated; a first row with
  a non-numeric cell followed by numeric rows is taken as a header and
  skipped; lines starting with ``#`` and blank lines are ignored; a labels
  file may hold one column of class names;
* ``.pt`` / ``.pth``: a torch tensor, or a dict of tensors chosen by ``key``,
  read with ``torch.load(weights_only=True)`` (torch's restricted loader that
  only rebuilds tensors and plain containers); needs PyTorch.

Only regular files are read (a FIFO, a device or a directory is refused), the
first bytes must match the extension (an ``.npz`` or torch file under a
``.npy`` name is named as such), and the size an ``.npy`` header or ``.npz``
member declares is checked against the bytes present and the memory the
process may use *before* anything is read (:mod:`infolens.core.arrayfiles`).
The command line and the batch runner read through the same functions.

Every failure raises :class:`DataFileError` with one line that names the
file, says what was expected and how to fix it.

Also here, for the files infolens writes (run logs, run settings, result
stores): :class:`ClosesOnExit`, :func:`json_ready` and
:func:`write_json_atomic`.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np

from infolens.core import optional
from infolens.core.arrayfiles import (DataFileError, check_regular_file, one_line, read_npy,
                                      read_npz, sniff)
from infolens.core.memory import format_bytes, memory_budget
from infolens.core.textfiles import read_text

__all__ = [
    "ClosesOnExit",
    "DataFileError",
    "SUPPORTED_EXTENSIONS",
    "as_labels",
    "json_ready",
    "load_array",
    "load_labels",
    "write_json_atomic",
]

SUPPORTED_EXTENSIONS = (".npy", ".npz", ".csv", ".tsv", ".pt", ".pth")
TORCH_PIN = "torch==2.13.0"


def _check_path(path, what):
    try:
        p = Path(os.fspath(path)).expanduser()
    except TypeError:
        raise DataFileError(f"{what} path must be a string or path-like; got "
                            f"{type(path).__name__}.") from None
    st = check_regular_file(p, what)
    ext = p.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise DataFileError(
            f"{what} file {str(p)!r} has an unsupported extension {p.suffix or '(none)'!r}; "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}. Save the array with np.save "
            f"(.npy) or np.savetxt (.csv)."
        )
    return p, ext, st.st_size


def _choose(names, key, p, what, kind, optional_key=False):
    """Pick the entry ``key`` of an archive/dict, or its only entry when ``key`` is None.

    A tuple ``key`` lists candidates: the first present wins; with none present the
    result is None when ``optional_key``, else the only entry (or an error)."""
    listed = ", ".join(repr(n) for n in names) or "(none)"
    if isinstance(key, tuple):
        found = next((k for k in key if k in names), None)
        if found is not None or optional_key:
            return found
        if len(names) == 1:
            return names[0]
        raise DataFileError(f"{what} file {str(p)!r} holds {listed}; expected one of "
                            f"{', '.join(map(repr, key))}.")
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


def _wrong_format(p, what, ext, kind):
    found = {"zip": "a zip archive (an .npz, or a file written by torch.save)",
             "pickle": "a Python pickle", "npy": "a .npy array",
             "other": "something other than NumPy data"}[kind]
    fix = {"zip": "rename it to .npz (np.savez) or .pt (torch.save)",
           "npy": "rename it to .npy"}.get(kind, "re-save it with np.save(path, array)")
    return DataFileError(f"{what} file {str(p)!r} is not a plain numeric {ext} file: it holds "
                         f"{found}; {fix}.")


def _read_npy(p, size, what):
    kind = sniff(p)
    if kind == "pickle":
        raise _pickle_refused(p, what, ".npy")
    if kind != "npy":
        raise _wrong_format(p, what, ".npy", kind)
    return read_npy(p, size, f"{what} file {str(p)!r}", _pickle_refused(p, what, ".npy"))


def _read_npz(p, size, key, what, optional_key=False):
    kind = sniff(p)
    if kind == "npy":  # a .npy saved under a .npz name
        if key is not None:
            raise DataFileError(
                f"{what} file {str(p)!r} holds a single array, not an archive; drop --key."
            )
        return _read_npy(p, size, what)
    if kind == "pickle":
        raise _pickle_refused(p, what, ".npz")
    if kind != "zip":
        raise _wrong_format(p, what, ".npz", kind)
    return read_npz(p, lambda names: _choose(names, key, p, what, "arrays", optional_key),
                    f"{what} file {str(p)!r}", _pickle_refused(p, what, ".npz"))


def _torch_size_check(p, what):
    kind = sniff(p)
    if kind == "npy":
        raise _wrong_format(p, what, p.suffix, kind)
    if kind != "zip":
        return
    try:
        with zipfile.ZipFile(p) as zf:
            need = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DataFileError(f"cannot read {what} file {str(p)!r} as a torch file: "
                            f"{one_line(exc)[:160]}.") from None
    budget = memory_budget()
    if budget is not None and need > budget:
        raise DataFileError(
            f"{what} file {str(p)!r} declares {format_bytes(need)} of tensors, more than the "
            f"{format_bytes(budget)} this process may use; save a subset."
        )


def _read_torch(p, key, what, optional_key=False):
    _torch_size_check(p, what)
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
        first = one_line(text.splitlines()[0]) if text else ""
        raise DataFileError(
            f"cannot read {what} file {str(p)!r} as a torch file ({type(exc).__name__}: "
            f"{first[:160]}). Save a tensor with torch.save(Z, path)."
        ) from None
    if isinstance(obj, dict):
        names = [k for k in obj if isinstance(k, str)]
        if not names:
            raise DataFileError(f"{what} file {str(p)!r} holds a dict without string keys.")
        name = _choose(names, key, p, what, "entries", optional_key)
        if name is None:
            return None
        obj = obj[name]
    elif key is not None and not isinstance(key, tuple):
        raise DataFileError(
            f"--key {key!r} was given but {what} file {str(p)!r} holds a single "
            f"{type(obj).__name__}, not a dict; drop --key."
        )
    if isinstance(obj, torch.Tensor):
        if obj.layout != torch.strided:
            raise DataFileError(
                f"{what} file {str(p)!r} holds a sparse tensor ({obj.layout}); save a dense one "
                f"(torch.save(Z.to_dense(), path))."
            )
        t = obj.detach().cpu().resolve_conj().resolve_neg()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.float()  # numpy has no bfloat16
        return t.numpy()
    if isinstance(obj, np.ndarray):
        return obj
    raise DataFileError(
        f"{what} file {str(p)!r} holds a {type(obj).__name__}, not a tensor; save a tensor "
        f"(torch.save(Z, path)) or a dict of tensors and choose one with --key."
    )


def load_array(path, *, key=None, what="embeddings", optional_key=False):
    """Load a numeric array from a file.

    Parameters
    ----------
    path : str or path-like
        A ``.npy``, ``.npz``, ``.csv``, ``.tsv``, ``.pt`` or ``.pth`` file.
    key : str or tuple of str, optional
        Name of the array in a ``.npz`` archive or of the tensor in a dict
        saved with ``torch.save``; optional when there is exactly one.  A
        tuple lists candidate names (the first present is read; ignored for
        single-array formats).
    what : str, default="embeddings"
        What the file holds, for error messages.
    optional_key : bool, default=False
        With a tuple ``key``: return None when an archive holds none of the
        candidates (instead of its only array, or an error).

    Returns
    -------
    ndarray
        As stored (any shape and dtype; text files give float64 of shape
        (n_rows, n_columns)).  Validation of shape and values is left to the
        measures.

    Raises
    ------
    DataFileError
        Missing file, a path that is not a regular file (directory, FIFO,
        device), unsupported extension, content of another format than the
        extension says, a truncated file, an array larger than the memory
        the process may use (checked before reading), pickle-only content,
        or a key that is missing or needed.
    """
    p, ext, size = _check_path(path, what)
    if isinstance(key, tuple):
        if ext not in (".npz", ".pt", ".pth"):
            key = None
    elif key is not None and ext not in (".npz", ".pt", ".pth"):
        raise DataFileError(
            f"--key {key!r} applies to .npz, .pt and .pth files only; {str(p)!r} is {ext}. "
            f"Drop --key."
        )
    try:
        if ext == ".npy":
            return _read_npy(p, size, what)
        if ext == ".npz":
            return _read_npz(p, size, key, what, optional_key)
        if ext in (".csv", ".tsv"):
            return read_text(p, size, ext, what)
        return _read_torch(p, key, what, optional_key)
    except PermissionError:
        raise DataFileError(f"{what} file {str(p)!r} cannot be read (permission denied).") \
            from None
    except OSError as exc:
        raise DataFileError(f"cannot read {what} file {str(p)!r}: {one_line(exc)[:160]}.") \
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
    return as_labels(load_array(path, key=key, what="labels"), path, allow_2d)


def as_labels(Y, path, allow_2d=False):
    """A loaded reference array as :func:`load_labels` returns it (``path`` for messages):
    one column flattened, whole-number floats cast to int64, other shapes refused."""
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
