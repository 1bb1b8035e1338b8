"""Progress reporting for long computations, switchable off.

On a terminal (``sys.stderr`` is a TTY) a one-line bar is redrawn in place;
elsewhere (logs, notebooks without a TTY, CI) a line is sent to the
``"infolens"`` logger at INFO level at most every ``LOG_EVERY_S`` seconds.
Nothing is shown for computations shorter than ``SHOW_AFTER_S``.

Switch off with ``infolens.set_progress(False)`` or the environment variable
``INFOLENS_PROGRESS=0``.  Ctrl-C inside a :class:`Progress` block closes the
bar line and re-raises ``KeyboardInterrupt``; the numerical loops in
:mod:`infolens.spectrum.slq` and :mod:`infolens.kernels.operators` work in tiles, so the
interrupt is seen within one tile.
"""

from __future__ import annotations

import logging
import os
import sys
import time

__all__ = ["Progress", "progress_enabled", "set_progress"]

logger = logging.getLogger("infolens")

SHOW_AFTER_S = 2.0
LOG_EVERY_S = 10.0

_state = {"enabled": None}


def set_progress(enabled):
    """Turn progress reporting on or off for this process (``None``: follow the environment)."""
    if enabled is not None and not isinstance(enabled, bool):
        from infolens.core.validation import InvalidParameterError

        raise InvalidParameterError(
            f"set_progress expects True, False or None; got {enabled!r}."
        )
    _state["enabled"] = enabled


def progress_enabled():
    """Whether progress is reported (``set_progress`` wins over ``INFOLENS_PROGRESS``)."""
    if _state["enabled"] is not None:
        return _state["enabled"]
    return os.environ.get("INFOLENS_PROGRESS", "1").strip().lower() not in ("0", "false", "no", "off")


class Progress:
    """Context manager reporting ``done / total`` steps of one computation.

    Parameters
    ----------
    total : int
        Number of steps.
    label : str
        What is being computed, e.g. ``"dse slq n=50000"``.
    stream : file-like, optional
        Where the bar is drawn (default ``sys.stderr``).
    """

    def __init__(self, total, label, stream=None):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.enabled = progress_enabled()
        self.done = 0
        self.start = time.perf_counter()
        self._last_log = self.start
        self._drawn = False
        try:
            self.tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.tty = False

    def __enter__(self):
        return self

    def update(self, steps=1, total=None):
        """Advance by ``steps`` (and optionally change the total)."""
        self.done += steps
        if total is not None:
            self.total = max(int(total), 1)
        if not self.enabled:
            return
        now = time.perf_counter()
        elapsed = now - self.start
        if elapsed < SHOW_AFTER_S:
            return
        frac = min(1.0, self.done / self.total)
        if self.tty:
            width = 30
            fill = int(round(width * frac))
            self.stream.write(
                f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {100 * frac:3.0f}% "
                f"{elapsed:6.1f}s"
            )
            self.stream.flush()
            self._drawn = True
        elif now - self._last_log >= LOG_EVERY_S:
            self._last_log = now
            logger.info("%s: %d/%d steps, %.1f s", self.label, self.done, self.total, elapsed)

    def __exit__(self, exc_type, exc, tb):
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        if exc_type is KeyboardInterrupt and self.enabled:
            logger.info("%s: interrupted after %.1f s", self.label,
                        time.perf_counter() - self.start)
        return False
