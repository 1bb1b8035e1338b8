"""Optional on-disk cache of spectra and trace estimates.

Entries are keyed by a SHA-256 content hash of the data (shape, dtype and
bytes) and of every parameter that changes the result, and stored as ``.npz``
files of plain arrays (read back with ``allow_pickle=False``: nothing is ever
unpickled).  A writer saves to a temporary file in the cache directory and
renames it into place with :func:`os.replace`, which is atomic on POSIX and
Windows, so concurrent writers of the same key never leave a torn file: the
last complete write wins and readers see either no entry or a whole one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

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


class SpectrumCache:
    """A directory of cached results.

    Parameters
    ----------
    directory : str or os.PathLike
        Created if missing.
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
        os.makedirs(self.directory, exist_ok=True)
        self.hits = 0
        self.misses = 0

    def path(self, key):
        return os.path.join(self.directory, f"{key}.npz")

    def get(self, key):
        """The stored arrays as a dict, or None on a miss (or an unreadable entry)."""
        path = self.path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                out = {name: data[name] for name in data.files}
        except (OSError, ValueError, KeyError, EOFError):
            self.misses += 1
            return None
        self.hits += 1
        return out

    def put(self, key, **arrays):
        """Store ``arrays`` under ``key`` atomically (temporary file, then rename)."""
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})
            os.replace(tmp, self.path(key))
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


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
    hit = cache.get(key)
    if hit is not None:
        idx = int(hit["trivial_index"])
        est = float(hit["error_estimate_bits"])
        return Spectrum(hit["values"], None if idx < 0 else idx, str(hit["precision"]),
                        None if np.isnan(est) else est)
    spectrum = solve()
    cache.put(key, values=spectrum.values,
              trivial_index=-1 if spectrum.trivial_index is None else spectrum.trivial_index,
              precision=spectrum.precision,
              error_estimate_bits=np.nan if spectrum.error_estimate_bits is None
              else spectrum.error_estimate_bits)
    return spectrum
