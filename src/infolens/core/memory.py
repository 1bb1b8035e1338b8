"""One memory model: what the machine can still give, and how a need is reported."""

from __future__ import annotations

import os

__all__ = ["MEMORY_FRACTION", "available_memory_bytes", "format_bytes", "memory_budget"]

#: Share of the available memory a computation may plan to use.
MEMORY_FRACTION = 0.8


def available_memory_bytes():
    """Memory the process can still allocate (MemAvailable on Linux), or None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_budget(limit=None):
    """Bytes a computation may plan to use: ``limit`` if given, else
    ``MEMORY_FRACTION`` of :func:`available_memory_bytes` (None when unknown)."""
    if limit is not None:
        return int(limit)
    have = available_memory_bytes()
    return None if have is None else int(MEMORY_FRACTION * have)


def format_bytes(n):
    """``n`` bytes as ``"1.5 GiB"`` or ``"12.0 MiB"``."""
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"
