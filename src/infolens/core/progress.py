"""Progress reporting for long computations, switchable off: the one progress bar of infolens.

On a terminal (the stream is a TTY) a one-line bar is redrawn in place.
Elsewhere (logs, notebooks without a TTY, CI) a :class:`Progress` either sends
a line to the ``"infolens"`` logger at INFO level at most every
``LOG_EVERY_S`` seconds (the default), or, with ``lines=k``, writes at most
about ``k`` plain lines to its stream.  Nothing is shown for computations
shorter than ``SHOW_AFTER_S`` unless ``show_after`` says otherwise.

A bar made with ``stages={"kernel": cost, "solve": cost, ...}`` is the one bar
of a whole run: :meth:`Progress.stage` moves it to the next stage, steps
advance within the stage, and the fraction done (hence the ETA) is weighed by
the stages' predicted costs (a measured cost model, e.g.
:func:`infolens.spectrum.planning.stage_costs`).  While such a run bar is open,
bars made inside it (the kernel build's, the Lanczos steps') stay silent and
report only through it.

Switch every bar off with ``infolens.set_progress(False)`` or the environment
variable ``INFOLENS_PROGRESS=0``.  Ctrl-C inside a :class:`Progress` block
closes the bar line and re-raises ``KeyboardInterrupt``; the numerical loops in
:mod:`infolens.spectrum.slq` and :mod:`infolens.kernels.operators` work in
tiles, so the interrupt is seen within one tile.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from infolens.core.validation import InvalidParameterError

__all__ = ["Progress", "progress_enabled", "progress_state", "set_progress"]

logger = logging.getLogger("infolens")

SHOW_AFTER_S = 2.0
LOG_EVERY_S = 10.0
#: A run bar on a terminal is redrawn this often even while one long step
#: (an eigen-solve) gives no updates.
TICK_S = 0.5

_state = {"enabled": None, "run": None}


def set_progress(enabled):
    """Turn progress reporting on or off for this process (``None``: follow the environment)."""
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidParameterError(
            f"set_progress expects True, False or None; got {enabled!r}."
        )
    _state["enabled"] = enabled


def progress_state():
    """The value last given to :func:`set_progress` (True, False or None), to restore it."""
    return _state["enabled"]


def progress_enabled():
    """Whether progress is reported (``set_progress`` wins over ``INFOLENS_PROGRESS``)."""
    if _state["enabled"] is not None:
        return _state["enabled"]
    return os.environ.get("INFOLENS_PROGRESS", "1").strip().lower() not in ("0", "false", "no", "off")


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """Context manager reporting ``done / total`` steps of one computation.

    Parameters
    ----------
    total : int
        Number of steps.
    label : str, default=""
        What is being computed, e.g. ``"dse slq n=50000"``.
    stream : file-like, optional
        Where the bar is drawn (default ``sys.stderr``).
    enabled : bool, default=True
        ``False`` silences this bar; ``infolens.set_progress(False)`` silences every bar.
    show_after : float, optional
        Seconds before anything is shown (default ``SHOW_AFTER_S``).
    lines : int, optional
        Off a terminal, write about this many plain lines to ``stream`` over
        the run (and one at the end) instead of logging every ``LOG_EVERY_S`` s.
    width : int, default=30
        Characters of the bar.
    stages : dict, optional
        Predicted cost (any unit, e.g. seconds) of each stage, in order: the
        bar covers the whole run, :meth:`stage` starts the next stage and
        ``total`` counts the steps of the current one.  While it is open, other
        bars are silent.

    Notes
    -----
    :meth:`update` takes either a number of steps or the outcome of one step
    (a string such as ``"done"`` or ``"failed"``); outcomes are tallied and
    the bar then shows ``finished/total  done d  failed f  remaining r``.
    """

    def __init__(self, total, label="", stream=None, *, enabled=True, show_after=None,
                 lines=None, width=30, stages=None):
        self.total = max(int(total), 1)
        self.stages = None if stages is None else {k: max(float(c), 0.0)
                                                   for k, c in stages.items()}
        self.current = None
        self._stage_start = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = None
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        # a bar inside a run bar reports only through it
        self.enabled = bool(enabled) and progress_enabled() and _state["run"] is None
        self.show_after = show_after
        self.lines = lines
        self.width = width
        self.done = 0
        self.detail = ""
        self.outcomes = {}
        self.start = time.perf_counter()
        self._last_log = self.start
        self._last_line = None
        self._drawn = False
        self._drawn_len = 0
        try:
            self.tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.tty = False

    def __enter__(self):
        if self.stages is not None and _state["run"] is None:
            _state["run"] = self
            if self.enabled and self.tty:
                self._ticker = threading.Thread(target=self._tick, daemon=True)
                self._ticker.start()
        return self

    def _tick(self):
        while not self._stop.wait(TICK_S):
            self.draw()

    def stage(self, name, total=1):
        """Start stage ``name`` (one of ``stages``) of ``total`` steps; earlier stages
        count as done."""
        if self.stages is None or name not in self.stages:
            raise InvalidParameterError(
                f"Progress.stage expects one of the stages {list(self.stages or {})}; got "
                f"{name!r}.")
        self.current = name
        self._stage_start[name] = time.perf_counter()
        self.done = 0
        self.total = max(int(total), 1)
        self.draw()

    def fraction(self):
        """Fraction of the run done (weighed by the stage costs when there are stages)."""
        within = min(1.0, self.done / self.total)
        if self.stages is None or self.current is None:
            return within
        names = list(self.stages)
        whole = sum(self.stages.values()) or 1.0
        before = sum(self.stages[k] for k in names[: names.index(self.current)])
        return min(1.0, (before + within * self.stages[self.current]) / whole)

    def update(self, steps=1, total=None, detail=None):
        """Advance by ``steps`` (an int, or one step's outcome such as ``"done"``).

        ``total`` changes the number of steps, ``detail`` the text shown after the bar.
        """
        if isinstance(steps, str):
            self.outcomes[steps] = self.outcomes.get(steps, 0) + 1
            steps = 1
        self.done += steps
        if total is not None:
            self.total = max(int(total), 1)
        if detail is not None:
            self.detail = detail
        self.draw()

    def text(self):
        """The bar's line as it stands (without carriage return or newline)."""
        frac = self.fraction()
        fill = int(round(self.width * frac))
        bar = f"[{'#' * fill}{'.' * (self.width - fill)}]"
        head = f"{self.label} {bar}" if self.label else bar
        if self.current is not None:
            head = f"{head} {self.current} {self.done}/{self.total}"
        if self.outcomes:
            names = ["done", "failed"] + sorted(set(self.outcomes) - {"done", "failed"})
            tally = "  ".join(f"{name} {self.outcomes.get(name, 0)}" for name in names)
            return f"{head} {self.done}/{self.total}  {tally}  remaining {self.total - self.done}"
        elapsed = time.perf_counter() - self.start
        eta = self._eta(frac, elapsed)
        detail = f"  {self.detail}" if self.detail else ""
        return f"{head} {100 * frac:3.0f}%  elapsed {_clock(elapsed)}  eta {eta}{detail}"

    def _eta(self, frac, elapsed):
        """Seconds left: with stages, the predicted cost left at the rate measured so far
        (the stages done, else the model's own units); else elapsed / fraction."""
        if self.stages is None or self.current is None:
            return _clock(elapsed / frac - elapsed) if frac >= 0.05 else "--"
        names = list(self.stages)
        i = names.index(self.current)
        spent = self._stage_start[self.current] - self.start
        cost_done = sum(self.stages[k] for k in names[:i])
        rate = spent / cost_done if cost_done > 0 and spent > 0 else 1.0
        whole = sum(self.stages.values())
        left = rate * whole * (1.0 - frac)
        if self.done == 0:  # no step of this stage finished: count down its prediction
            left -= time.perf_counter() - self._stage_start[self.current]
        return _clock(max(left, 0.0))

    def draw(self, final=False):
        """Show the bar now if it is due (``final``: the closing line off a terminal)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        show_after = SHOW_AFTER_S if self.show_after is None else self.show_after
        if now - self.start < show_after and not (final and self._drawn):
            return
        if self.tty:
            with self._lock:
                line = self.text()
                # Blank out what a longer previous line left behind.
                self.stream.write("\r" + line.ljust(self._drawn_len))
                self.stream.flush()
                self._drawn, self._drawn_len = True, len(line)
        elif self.lines is not None:
            self._write_line(final)
        elif now - self._last_log >= LOG_EVERY_S:
            self._last_log = now
            logger.info("%s: %d/%d steps, %.1f s", self.label, self.done, self.total,
                        now - self.start)

    def _write_line(self, final):
        step = max(1, self.total // max(int(self.lines), 1))
        due = self._last_line is None or self.done - self._last_line >= step
        if self.done == self._last_line or not (due or final or self.done >= self.total):
            return
        self._last_line = self.done
        self.stream.write(self.text() + "\n")
        self.stream.flush()

    def close(self):
        """Write the closing line (off a terminal) or end the redrawn line (on one)."""
        if self.enabled and not self.tty and self.lines is not None:
            self.draw(final=True)
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def __exit__(self, exc_type, exc, tb):
        if _state["run"] is self:
            _state["run"] = None
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self.close()
        if exc_type is KeyboardInterrupt and self.enabled:
            logger.info("%s: interrupted after %.1f s", self.label,
                        time.perf_counter() - self.start)
        return False
