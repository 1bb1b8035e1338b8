"""Low-level, bounded reads of NumPy files (the checks behind :mod:`infolens.core.files`).

Before a byte of array data is read, the size an ``.npy`` header (or an
``.npz`` member's header) declares is checked against the bytes actually
present and against the memory the process can get, so a 1 kB file that
declares a 745 GiB array, or a zip bomb, is refused with a one-line
:class:`DataFileError` instead of a ``MemoryError``.  Object arrays are
refused (reading them needs pickle), and nothing here ever unpickles.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
import zlib

import numpy as np

from infolens.core.memory import format_bytes, memory_budget
from infolens.core.validation import InvalidParameterError

__all__ = ["DataFileError", "check_regular_file", "one_line", "read_npy", "read_npz", "sniff"]

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTOCOLS = tuple(bytes([0x80, n]) for n in range(2, 6))


class DataFileError(InvalidParameterError):
    """A data file that cannot be read as a numeric array; the message is one line."""


def one_line(text):
    """``text`` (any object) on one line, runs of whitespace collapsed to one space."""
    return " ".join(str(text).split())


def check_regular_file(path, what):
    """``os.stat`` of ``path``, refusing what is missing, too long or not a regular file."""
    shown = str(path) if len(str(path)) <= 120 else f"{str(path)[:60]}...{str(path)[-40:]}"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DataFileError(
            f"{what} file {shown!r} does not exist (looked in {os.getcwd()!r}). Check the path."
        ) from None
    except OSError as exc:  # ENAMETOOLONG, ENOTDIR, ELOOP, EACCES ...
        raise DataFileError(f"cannot open {what} file {shown!r}: {one_line(exc.strerror or exc)}"
                            f" (path of {len(str(path))} characters).") from None
    if stat.S_ISDIR(st.st_mode):
        raise DataFileError(f"{what} path {shown!r} is a directory; pass a file.")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise DataFileError(
            f"{what} path {shown!r} is {kind}, not a regular file; infolens reads data only "
            f"from regular files. Save the data to a file first."
        )
    return st


def sniff(path):
    """``"npy"``, ``"zip"``, ``"pickle"`` or ``"other"`` from the first bytes of ``path``."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head[:2] in _PICKLE_PROTOCOLS:
        return "pickle"
    return "other"


def _check_need(need, subject):
    budget = memory_budget()
    if budget is not None and need > budget:
        raise DataFileError(
            f"{subject} declares an array of {format_bytes(need)}, more than the "
            f"{format_bytes(budget)} this process may use; load a subset, or run on a machine "
            f"with more memory."
        )


def _read_header(fh, subject, pickle_refused):
    """``(shape, fortran_order, dtype)`` of the ``.npy`` stream ``fh``, positioned at its data."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh, max_header_size=10000)
        else:
            shape, fortran, dtype = fmt.read_array_header_2_0(fh, max_header_size=10000)
    except (ValueError, EOFError, OSError, SyntaxError, TypeError) as exc:
        if isinstance(exc, EOFError) or "EOF" in str(exc):
            raise DataFileError(f"{subject} is truncated: its .npy header is incomplete. "
                                f"Re-save the array.") from None
        raise DataFileError(f"{subject} is not a valid .npy array (bad header: "
                            f"{one_line(exc)[:120]}).") from None
    if dtype.hasobject:
        raise pickle_refused
    if any(not isinstance(k, int) or k < 0 for k in shape):
        raise DataFileError(f"{subject} is not a valid .npy array (its header declares the "
                            f"shape {shape}).")
    return shape, fortran, dtype


def _read_body(fh, available, subject, pickle_refused):
    """Read one array from the ``.npy`` stream ``fh`` holding ``available`` bytes in all."""
    start = fh.tell()
    shape, fortran, dtype = _read_header(fh, subject, pickle_refused)
    need = math.prod(shape) * dtype.itemsize
    have = available - (fh.tell() - start)
    if have < need:
        raise DataFileError(
            f"{subject} is truncated: its header declares shape {shape} of {dtype} "
            f"({need} bytes) but only {max(have, 0)} bytes of data follow. Re-save the array."
        )
    _check_need(need, subject)
    data = fh.read(need)
    if len(data) < need:
        raise DataFileError(f"{subject} is truncated: {len(data)} of {need} bytes could be read.")
    array = np.frombuffer(data, dtype=dtype).copy() if need else np.empty(0, dtype)
    if fortran:
        return array.reshape(shape[::-1]).transpose()
    return array.reshape(shape)


def read_npy(path, size, subject, pickle_refused):
    """The array of the ``.npy`` file ``path`` of ``size`` bytes (header checked first)."""
    with open(path, "rb") as fh:
        return _read_body(fh, size, subject, pickle_refused)


def _member_names(zf, subject):
    members = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        members[name] = info
    if any(n.endswith("data.pkl") for n in members):
        raise DataFileError(
            f"{subject} is a PyTorch file (torch.save), not a NumPy archive; rename it to .pt."
        )
    return members


def read_npz(path, choose, subject, pickle_refused):
    """Read the member picked by ``choose(names)`` from the ``.npz`` archive ``path``.

    ``choose`` returns a name, or None to read nothing (the function then returns None).
    """
    try:
        with zipfile.ZipFile(path) as zf:
            members = _member_names(zf, subject)
            name = choose(list(members))
            if name is None:
                return None
            info = members[name]
            member = f"array {name!r} of {subject}"
            _check_need(info.file_size, member)
            with zf.open(info) as fh:
                head = fh.read(len(NPY_MAGIC))
                if head != NPY_MAGIC:
                    raise DataFileError(
                        f"{member} is not a NumPy array (archive members must be written by "
                        f"np.savez); re-save the archive with np.savez(path, {name}=array)."
                    )
            with zf.open(info) as fh:
                return _read_body(fh, info.file_size, member, pickle_refused)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError,
            OSError, ValueError, RuntimeError, zlib.error) as exc:
        # zlib/zip errors on a corrupt archive; DataFileError (a ValueError) passes through
        if isinstance(exc, DataFileError):
            raise
        raise DataFileError(f"cannot read {subject} as a .npz archive: "
                            f"{one_line(exc)[:160]}.") from None
