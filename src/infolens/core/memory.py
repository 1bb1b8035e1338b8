"""One memory model: what the process can still get, and how a need is reported.

The memory a computation may plan with is the smallest of three limits, each
read independently (a limit that cannot be read is ignored):

* ``MemAvailable`` of ``/proc/meminfo`` (free plus reclaimable RAM of the machine);
* the headroom under ``RLIMIT_AS`` (``ulimit -v``): the limit minus the
  virtual size the process already has (``VmSize`` of ``/proc/self/status``);
* the headroom under the cgroup's limit (a container or a batch job):
  ``memory.max - memory.current`` (cgroup v2) or ``memory.limit_in_bytes -
  memory.usage_in_bytes`` (cgroup v1).
"""

from __future__ import annotations

import functools
import os

try:
    import resource  # POSIX only
except ImportError:  # pragma: no cover - Windows
    resource = None

from infolens.core.validation import InvalidParameterError

__all__ = ["MEMORY_FRACTION", "InsufficientMemoryError", "available_memory_bytes",
           "explain_memory_error", "format_bytes", "memory_budget", "memory_limits",
           "out_of_memory"]

#: Share of the available memory a computation may plan to use.
MEMORY_FRACTION = 0.8
#: A cgroup v1 "no limit" is a huge number (about 2**63 rounded to pages).
_NO_LIMIT = 1 << 60
_CGROUP_V2 = "/sys/fs/cgroup"
_CGROUP_V1 = "/sys/fs/cgroup/memory"


class InsufficientMemoryError(InvalidParameterError, MemoryError):
    """A computation needs more memory than the process can get; the message names the
    need, what is available and the alternatives.  Also a ``MemoryError``."""


def _read_text(path):
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _proc_kib_field(path, field):
    """The value of ``field`` (a ``"Name:  123 kB"`` line) in a ``/proc`` file, in bytes,
    or None."""
    for line in (_read_text(path) or "").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return None


def _meminfo_available():
    available = _proc_kib_field("/proc/meminfo", "MemAvailable")
    if available is not None:
        return available
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _vm_size():
    """Virtual size of this process in bytes (``VmSize``), or None."""
    return _proc_kib_field("/proc/self/status", "VmSize")


def _rlimit_as():
    """The soft ``RLIMIT_AS`` in bytes, or None when unlimited or unknown."""
    if resource is None:  # pragma: no cover - Windows
        return None
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return None if soft == resource.RLIM_INFINITY or soft < 0 else int(soft)


def _rlimit_headroom():
    limit = _rlimit_as()
    if limit is None:
        return None
    return max(0, limit - (_vm_size() or 0))


def _own_cgroup():
    """The cgroup v2 path of this process (``/proc/self/cgroup`` line ``0::/path``)."""
    text = _read_text("/proc/self/cgroup") or ""
    for line in text.splitlines():
        if line.startswith("0::"):
            return line[3:].strip()
    return ""


def _int_or_none(text):
    try:
        return int(text.strip())
    except (AttributeError, ValueError):
        return None


def _cgroup_headroom():
    """Bytes left under the cgroup memory limit (v2, else v1), or None without a limit."""
    base = os.path.join(_CGROUP_V2, _own_cgroup().lstrip("/"))
    for folder in (base, _CGROUP_V2):
        limit = _int_or_none(_read_text(os.path.join(folder, "memory.max")))
        if limit is not None:
            used = _int_or_none(_read_text(os.path.join(folder, "memory.current"))) or 0
            return max(0, limit - used)
    limit = _int_or_none(_read_text(os.path.join(_CGROUP_V1, "memory.limit_in_bytes")))
    if limit is not None and limit < _NO_LIMIT:
        used = _int_or_none(_read_text(os.path.join(_CGROUP_V1, "memory.usage_in_bytes"))) or 0
        return max(0, limit - used)
    return None


def memory_limits():
    """Each limit on this process's memory, in bytes (None where unknown or unlimited).

    Returns
    -------
    dict
        ``{"meminfo": ..., "rlimit_as": ..., "cgroup": ...}``.
    """
    return {"meminfo": _meminfo_available(), "rlimit_as": _rlimit_headroom(),
            "cgroup": _cgroup_headroom()}


def available_memory_bytes():
    """Memory the process can still allocate: the smallest known limit, or None if none is
    known (see the module docstring)."""
    known = [v for v in memory_limits().values() if v is not None]
    return min(known) if known else None


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


def out_of_memory(what, need_bytes=None, alternatives=""):
    """The :class:`InsufficientMemoryError` to raise in place of a ``MemoryError``.

    Parameters
    ----------
    what : str
        The computation, e.g. ``"dse: the dense 60000 x 60000 kernel"``.
    need_bytes : int, optional
        Its planned need in bytes, when known.
    alternatives : str
        What the user can do instead (a sentence), e.g. ``"pass method='slq'"``.

    Returns
    -------
    InsufficientMemoryError
        Use as ``raise out_of_memory(...) from None``.
    """
    have = available_memory_bytes()
    need = f"needs about {format_bytes(need_bytes)}" if need_bytes else "ran out of memory"
    avail = f"; {format_bytes(have)} is available" if have is not None else ""
    limits = {k: v for k, v in memory_limits().items() if v is not None}
    binding = f" (the {min(limits, key=limits.get)} limit)" if limits else ""
    fix = f" {alternatives.strip()}" if alternatives else ""
    return InsufficientMemoryError(f"{what} {need}{avail}{binding}.{fix}")


def explain_memory_error(describe):
    """Decorator: a ``MemoryError`` raised inside the function becomes
    :func:`out_of_memory` ``(*describe(*args, **kwargs))``.

    Parameters
    ----------
    describe : callable
        Called with the function's arguments; returns ``(what, need_bytes or None,
        alternatives)``.
    """
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except InsufficientMemoryError:
                raise
            except MemoryError:
                pass  # leave the except block so the failed allocation's frames are freed
            raise out_of_memory(*describe(*args, **kwargs)) from None
        return wrapper
    return decorate
