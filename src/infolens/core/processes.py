"""Whether a process of this host is still running (for locks and task claims that a
``kill -9`` must not leave held forever)."""

from __future__ import annotations

import os

__all__ = ["pid_alive"]


def pid_alive(pid):
    """True unless process ``pid`` of this host has certainly ended.

    Parameters
    ----------
    pid : int

    Returns
    -------
    bool
        False only when the process does not exist; a process of another user
        (``PermissionError``) or any other failure to tell counts as alive.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
