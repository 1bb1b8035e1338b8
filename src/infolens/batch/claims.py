"""Task claims in the results store, so that concurrent drivers on one store share the work.

A driver *claims* a task (its compute key) before computing it: one row of the
``claims`` table with the driver's identity and an expiry time.  A claim held
by another driver is respected until it expires, or at once when that driver's
process is gone (same host, pid no longer alive: a ``kill -9``).  A heartbeat
thread renews the driver's claims every third of the lease, so a long task
keeps its claim while its driver lives.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time

from infolens.core.processes import pid_alive
from infolens.core.validation import InvalidParameterError

__all__ = ["CLAIMS_SCHEMA", "Claims"]

CLAIMS_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    input_hash TEXT NOT NULL,
    measure    TEXT NOT NULL,
    params     TEXT NOT NULL,
    owner      TEXT NOT NULL,
    expires    REAL NOT NULL,
    PRIMARY KEY (input_hash, measure, params)
);
"""


def _gone(owner):
    """True when ``owner`` (``host:pid:token``) is a process of this host that has ended."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not pid_alive(int(pid))


class Claims:
    """The claims of one driver on the store at ``path``.

    Parameters
    ----------
    path : path-like
        The results store (its ``claims`` table exists: :class:`ResultStore` creates it).
    lease_s : float
        How long a claim lasts without renewal.
    timeout_s : float
        SQLite's wait for a lock.
    """

    def __init__(self, path, *, lease_s=60.0, timeout_s=30.0):
        self.path = str(path)
        self.lease_s = float(lease_s)
        self.timeout_s = timeout_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"
        self._db = self._connect()
        self._stop = threading.Event()
        self._thread = None

    def _connect(self):
        return sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)

    def claim(self, key):
        """Claim ``key`` = ``(input_hash, measure, params)``: True when claimed, False when
        another live driver holds it, None when its result is already stored (checked in
        the same transaction, so a result stored just before is never computed again)."""
        now = time.time()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT owner, expires FROM claims WHERE input_hash=? AND measure=? AND "
                    "params=?", key).fetchone()
                if row is not None and row[0] != self.owner and row[1] > now \
                        and not _gone(row[0]):
                    return False
                if self._db.execute(
                        "SELECT 1 FROM results WHERE input_hash=? AND measure=? AND params=? "
                        "AND status='done' LIMIT 1", key).fetchone() is not None:
                    return None
                self._db.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)",
                                 (*key, self.owner, now + self.lease_s))
                return True
            finally:
                self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise InvalidParameterError(
                f"Cannot claim a task in the store {self.path!r} (SQLite: {exc})."
            ) from None

    def release(self, key):
        """Drop this driver's claim on ``key`` (after its result is stored)."""
        self._db.execute("DELETE FROM claims WHERE input_hash=? AND measure=? AND params=? "
                         "AND owner=?", (*key, self.owner))

    def _beat(self):
        db = self._connect()
        try:
            while not self._stop.wait(self.lease_s / 3):
                try:
                    db.execute("UPDATE claims SET expires=? WHERE owner=?",
                               (time.time() + self.lease_s, self.owner))
                except sqlite3.DatabaseError:
                    pass  # busy: the next beat comes well before the lease ends
        finally:
            db.close()

    def __enter__(self):
        self._thread = threading.Thread(target=self._beat, name="infolens-claims", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self._db.execute("DELETE FROM claims WHERE owner=?", (self.owner,))
        except sqlite3.DatabaseError:
            pass
        self._db.close()
        return False
