"""Identities of batch inputs: file digests, canonical parameter JSON and entry keys
(re-exported by :mod:`infolens.batch.manifest`)."""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from pathlib import Path

from infolens.core.validation import InvalidParameterError

__all__ = ["canonical_json", "entry_key", "file_digest", "plain"]

_CHUNK = 1 << 20


def canonical_json(obj):
    """Serialise ``obj`` with sorted keys and no spaces (the identity of parameters)."""
    return json.dumps(plain(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def plain(obj):
    """``obj`` as plain JSON types (numbers must be finite); raises on anything else."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        if not math.isfinite(obj):
            raise InvalidParameterError(f"Manifest parameters must be finite numbers; got {obj!r}.")
        return float(obj)
    raise InvalidParameterError(
        f"Manifest parameters must be numbers, strings, booleans, lists or mappings; got "
        f"{type(obj).__name__} {obj!r}."
    )


def entry_key(meta):
    """Short hex identity of an entry's metadata (name, epoch, step, layer, accuracy, meta);
    ``""`` for an entry without any."""
    meta = {k: v for k, v in (meta or {}).items() if v is not None}
    if not meta:
        return ""
    return hashlib.sha256(canonical_json(meta).encode()).hexdigest()[:16]


def file_digest(path):
    """SHA-256 hex digest of a file's bytes, or of a directory's files (names and bytes)."""
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        for sub in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(sub.relative_to(path).as_posix().encode() + b"\0")
            h.update(file_digest(sub).encode())
        return h.hexdigest()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
