"""Optional on-disk cache of spectra and trace estimates.

Entries are keyed by a SHA-256 content hash of the data (shape, dtype and
bytes) and of every parameter that changes the result, and stored as ``.npz``
files of plain arrays (read back with ``allow_pickle=False``: nothing is ever
unpickled), each with its key, the key's parameters and a checksum that a read
verifies (a bad entry is computed again, with a warning).  A writer saves to a temporary file in the cache directory and
renames it into place with :func:`os.replace`, which is atomic on POSIX and
Windows, so concurrent writers of the same key never leave a torn file: the
last complete write wins and readers see either no entry or a whole one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings

import numpy as np

from infolens.core.validation import InvalidParameterError
from infolens.spectrum.exact import Spectrum

__all__ = ["SpectrumCache", "cached_spectrum", "content_key"]


def content_key(X, params):
    """Hex SHA-256 of the array ``X`` and the JSON-able dict ``params``.

    Parameters
    ----------
    X : ndarray
        Hashed as C-contiguous bytes together with its shape and dtype.
    params : dict
        Keys and values must be JSON-serialisable (floats are written with
        ``repr`` precision by :mod:`json`).
    """
    h = hashlib.sha256()
    A = np.ascontiguousarray(X)
    h.update(f"{A.shape}|{A.dtype.str}|".encode())
    h.update(memoryview(A).cast("B"))
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _checksum(arrays):
    """SHA-256 of named arrays (names, dtypes, shapes and bytes), in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        A = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{A.shape}|{A.dtype.str}|".encode())
        h.update(memoryview(A).cast("B") if A.size else b"")
    return h.hexdigest()


def _params_json(params):
    return json.dumps(params, sort_keys=True, default=str)


class SpectrumCache:
    """A directory of cached results.

    Each entry stores, next to its arrays, the key it was written under, the
    key's parameters (when given) and a checksum of the arrays.  A read checks
    all three and that every floating-point value is finite; an entry that
    fails (corrupt, truncated, copied from another key, edited, holding NaN)
    is a miss with a ``RuntimeWarning``, and the result is computed again and
    rewritten.

    Parameters
    ----------
    directory : str or os.PathLike
        Created if missing.

    Raises
    ------
    InvalidParameterError
        ``directory`` is not a path, is a file, or cannot be created or written.
    """

    def __init__(self, directory):
        try:
            self.directory = os.fspath(directory)
        except TypeError:
            raise InvalidParameterError(
                f"The cache directory must be a path (str or os.PathLike); got "
                f"{type(directory).__name__}. Pass e.g. cache_dir='~/.cache/infolens'."
            ) from None
        self.directory = os.path.expanduser(self.directory)
        shown = self.directory[:200]
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise InvalidParameterError(
                f"cache_dir {shown!r} is a file, not a directory; pass a directory path."
            )
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError as exc:
            raise InvalidParameterError(
                f"cache_dir {shown!r} cannot be created ({exc.strerror or exc}); pass a "
                f"writable directory such as '~/.cache/infolens'."
            ) from None
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise InvalidParameterError(
                f"cache_dir {shown!r} is not writable; pass a writable directory."
            )
        self.hits = 0
        self.misses = 0

    def path(self, key):
        return os.path.join(self.directory, f"{key}.npz")

    def _miss(self, key, why):
        self.misses += 1
        if why:
            warnings.warn(f"Spectrum cache entry {self.path(key)} {why}; computing it again.",
                          RuntimeWarning, stacklevel=3)
        return None

    def get(self, key, params=None):
        """The stored arrays as a dict, or None on a miss.

        An entry that exists but does not verify (see the class docstring)
        is a miss with a ``RuntimeWarning``.  ``params``, when given, must
        equal the parameters the entry was written with.
        """
        path = self.path(key)
        if not os.path.lexists(path):
            return self._miss(key, None)
        try:
            with np.load(path, allow_pickle=False) as data:
                out = {name: data[name] for name in data.files}
        except Exception as exc:  # zip, zlib, numpy and OS errors of a damaged entry
            return self._miss(key, f"is unreadable ({type(exc).__name__})")
        meta = {name: out.pop(name, None) for name in ("__key__", "__params__", "__checksum__")}
        if meta["__checksum__"] is None or str(meta["__checksum__"]) != _checksum(out):
            return self._miss(key, "fails its checksum (corrupt, or not written by infolens)")
        if meta["__key__"] is None or str(meta["__key__"]) != key:
            return self._miss(key, "was written under another key")
        if params is not None and str(meta["__params__"]) != _params_json(params):
            return self._miss(key, "was written with other parameters")
        for name, A in out.items():
            if A.dtype.kind in "fc" and not np.all(np.isfinite(A)):
                return self._miss(key, f"holds non-finite values in {name!r}")
        self.hits += 1
        return out

    def put(self, key, params=None, **arrays):
        """Store ``arrays`` under ``key`` atomically (temporary file, then rename), with the
        key, ``params`` and a checksum.  A failed write is a ``RuntimeWarning``, not an error
        (the result is still returned by the caller)."""
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        extra = {"__key__": np.asarray(key), "__checksum__": np.asarray(_checksum(arrays)),
                 "__params__": np.asarray("" if params is None else _params_json(params))}
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=self.directory)
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays, **extra)
            os.replace(tmp, self.path(key))
            tmp = None
        except OSError as exc:
            warnings.warn(f"Could not write the spectrum cache entry {self.path(key)} "
                          f"({exc.strerror or exc}); continuing without it.", RuntimeWarning,
                          stacklevel=2)
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def cached_spectrum(directory, X, params, solve):
    """``solve()`` (a :class:`Spectrum`), read from or written to the cache in ``directory``.

    Parameters
    ----------
    directory : str, os.PathLike or None
        The cache directory; None solves without a cache.
    X : ndarray
        The points (hashed into the key).
    params : dict
        Every parameter that changes the spectrum (JSON-able).
    solve : callable
        ``solve() -> Spectrum``, called on a miss.
    """
    if directory is None:
        return solve()
    cache = SpectrumCache(directory)
    key = content_key(X, params)
    hit = cache.get(key, params)
    if hit is not None and {"values", "trivial_index", "precision",
                            "error_estimate_bits"} <= set(hit):
        idx = int(hit["trivial_index"])
        est = float(hit["error_estimate_bits"])
        return Spectrum(hit["values"], None if idx < 0 else idx, str(hit["precision"]),
                        None if est < 0 else est)
    spectrum = solve()
    cache.put(key, params, values=spectrum.values,
              trivial_index=-1 if spectrum.trivial_index is None else spectrum.trivial_index,
              precision=spectrum.precision,
              error_estimate_bits=-1.0 if spectrum.error_estimate_bits is None
              else spectrum.error_estimate_bits)
    return spectrum
