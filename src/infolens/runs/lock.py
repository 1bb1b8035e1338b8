"""One writer per run log: a lock file holding the writer's host and process id, and the
rank that may write in a data-parallel job."""

from __future__ import annotations

import json
import os
import socket
import sys

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

from infolens.core.processes import pid_alive
from infolens.core.validation import InvalidParameterError

__all__ = ["WriterLock", "process_rank"]

#: Locks this process holds, by path: [file descriptor, number of open writers sharing it].
_HELD = {}


def _alive(pid):
    return isinstance(pid, int) and pid_alive(pid)


def _flock(fd):
    """Try to take an exclusive ``flock`` on ``fd``: True (taken), False (held elsewhere),
    None (not supported here)."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


class WriterLock:
    """A lock file at ``path``; raises :class:`InvalidParameterError` when another live
    process holds it.

    The holder keeps an exclusive ``flock`` on the file (released by the kernel
    when the process dies, even by ``kill -9``), and writes its host and pid in
    it for the message.  A lock file nobody holds is stale and taken over.
    Where ``flock`` is unavailable, a lock of a dead pid on this host is stale.
    Several writers of one process share the lock.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.held = False
        self._fd = None
        me = {"host": socket.gethostname(), "pid": os.getpid()}
        if _HELD.get(self.path):
            _HELD[self.path][1] += 1
            self.held = True
            return
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
            except OSError as exc:
                raise InvalidParameterError(f"Cannot create the lock file {self.path} "
                                            f"({exc.strerror or exc}).") from None
            taken = _flock(fd)
            if not taken or self._same_file(fd):
                break
            os.close(fd)  # locked a file its holder unlinked meanwhile: open the new one
        owner = self._owner()
        if taken is None and owner not in (None, me) and (
                owner.get("host") != me["host"] or _alive(owner.get("pid"))):
            taken = False
        if taken is False:
            os.close(fd)
            where = ("on this host" if owner and owner.get("host") == me["host"]
                     else f"on host {owner.get('host')!r}" if owner else "")
            raise InvalidParameterError(
                f"{self.path[:-5]} is being written by process "
                f"{owner.get('pid') if owner else '(unknown)'} {where}; one run log has one "
                f"writer (in a data-parallel job only rank 0 writes). Use another run_dir, or "
                f"stop that process."
            )
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(me).encode())
        self._fd = fd
        _HELD[self.path] = [fd, 1]
        self.held = True

    def _same_file(self, fd):
        try:
            return os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except OSError:
            return False

    def _owner(self):
        try:
            with open(self.path, encoding="utf-8") as fh:
                owner = json.load(fh)
        except (OSError, ValueError):
            return None
        return owner if isinstance(owner, dict) else None

    def release(self):
        """Give the lock up (removes the file when this was the process's last writer)."""
        if not self.held:
            return
        self.held = False
        entry = _HELD[self.path]
        entry[1] -= 1
        if entry[1] == 0:
            del _HELD[self.path]
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            os.close(entry[0])


def process_rank():
    """This process's rank in a data-parallel job: ``torch.distributed`` when it is
    initialised, else the ``RANK`` (or ``LOCAL_RANK``) environment variable, else 0."""
    dist = getattr(sys.modules.get("torch"), "distributed", None)  # only if already imported
    try:
        if dist is not None and dist.is_available() and dist.is_initialized():
            return int(dist.get_rank())
    except (RuntimeError, ValueError):
        pass
    for name in ("RANK", "LOCAL_RANK"):
        value = os.environ.get(name, "").strip()
        if value.lstrip("-").isdigit():
            return int(value)
    return 0
