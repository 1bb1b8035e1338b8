"""How many BLAS/OpenMP threads a computation uses: one for small problems, the free cores
for large dense solves.

OpenBLAS starts one thread per core and keeps them spinning; on a machine that is busy
with other work (a training job, data loaders) those threads fight the other processes
for the same cores and a 2-second eigen-solve takes 10.  The policy here, applied by
:func:`thread_limit` around the heavy numerical work (the kernel build and the dense
eigen-solve of :func:`infolens.spectrum.solve.solve`), is:

* ``n_samples < SMALL_N``: one thread (a small solve gains little from threads and the
  start-up and spinning cost more than they give);
* otherwise as many threads as CPUs are idle right now, at least one and at most the
  CPUs this process may run on (``os.sched_getaffinity``).  Idle CPUs are measured from
  ``/proc/stat`` over :data:`PROBE_S` seconds (while this process sleeps), or from the
  one-minute load average where ``/proc/stat`` is missing; the answer is reused for
  :data:`REUSE_S` seconds.

``infolens.set_threads(n)`` fixes the number for the process, :func:`use_threads` for a
block (the monitor's ``threads=``), and ``infolens --threads N`` for a command line.
The limits are set with ``threadpoolctl`` (not environment variables, which the
libraries read only once, when they load) and restored on exit.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import os
import sys
import time

from infolens.core.optional import threadpoolctl
from infolens.core.validation import InvalidParameterError

__all__ = [
    "PROBE_S",
    "REUSE_S",
    "SMALL_N",
    "choose_threads",
    "get_threads",
    "idle_cpus",
    "limit_threads",
    "set_threads",
    "thread_limit",
    "usable_cpus",
    "use_threads",
]

#: Problems with fewer samples than this run on one thread.
SMALL_N = 1000
#: Seconds over which idle CPUs are measured.
PROBE_S = 0.05
#: Seconds for which a measurement of idle CPUs is reused.
REUSE_S = 2.0

_state = {"threads": None, "controller": None, "modules": -1, "idle": None}
_block = contextvars.ContextVar("infolens_threads", default=None)
# The count an enclosing thread_limit block applied: an inner block asking for the same
# count leaves the libraries alone (threadpoolctl costs ~0.3 ms a call, more than the many
# small solves of DSMI and the monitor each take).
_applied = contextvars.ContextVar("infolens_threads_applied", default=None)


def _check(n, caller):
    if n is None or n == "auto":
        return None
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidParameterError(
            f"{caller} expects a number of threads (an int >= 1) or None/'auto' for the "
            f"automatic choice; got {n!r}. Pass e.g. 1 on a machine shared with a training job.")
    return n


def set_threads(n):
    """Fix the number of BLAS/OpenMP threads infolens uses in this process.

    Parameters
    ----------
    n : int >= 1, "auto" or None
        Threads for every heavy computation; ``None`` or ``"auto"`` restores the
        automatic choice (one thread below :data:`SMALL_N` samples, the idle CPUs above).

    Returns
    -------
    int or None
        The previous setting.

    Examples
    --------
    >>> import infolens
    >>> previous = infolens.set_threads(1)   # beside a training job
    >>> infolens.set_threads(previous)       # back to the automatic choice
    """
    previous = _state["threads"]
    _state["threads"] = _check(n, "set_threads")
    return previous


def get_threads():
    """The fixed number of threads in force (a :func:`use_threads` block first), or None."""
    block = _block.get()
    return block if block is not None else _state["threads"]


@contextlib.contextmanager
def use_threads(n):
    """Use ``n`` threads (None: the process setting) inside a ``with`` block."""
    token = _block.set(_check(n, "use_threads"))
    try:
        yield
    finally:
        _block.reset(token)


def usable_cpus():
    """CPUs this process may run on (its affinity mask; ``os.cpu_count()`` elsewhere)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cpu_times(cpus):
    """``(idle, total)`` clock ticks of the CPUs ``cpus`` from ``/proc/stat``."""
    idle = total = 0
    with open("/proc/stat", encoding="ascii") as handle:
        for line in handle:
            name, _, rest = line.partition(" ")
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                ticks = [int(x) for x in rest.split()]
                idle += ticks[3] + ticks[4]  # idle + iowait
                total += sum(ticks[:8])  # guest time is already counted in user
    return idle, total


def _own_cpu_seconds():
    """CPU seconds this process has used, all its threads together."""
    return time.process_time()


def idle_cpus(probe_s=PROBE_S):
    """How many of this process's CPUs other processes leave free now (a float in
    ``[0, usable_cpus()]``).

    Measured from ``/proc/stat`` over ``probe_s`` seconds while this process sleeps;
    where that file is missing, ``usable_cpus()`` minus the one-minute load average.
    CPU time this process itself used meanwhile counts as free: it is OpenBLAS's
    threads, still spinning after the previous call, which the next call takes over.
    """
    n = usable_cpus()
    try:
        cpus = os.sched_getaffinity(0)
        before, own_before, start = _cpu_times(cpus), _own_cpu_seconds(), time.monotonic()
        time.sleep(probe_s)
        after, own_after = _cpu_times(cpus), _own_cpu_seconds()
        elapsed = time.monotonic() - start
    except (AttributeError, OSError, ValueError, IndexError):
        try:
            return max(0.0, n - os.getloadavg()[0])
        except (AttributeError, OSError):
            return float(n)
    ticks = after[1] - before[1]
    if ticks <= 0:
        return float(n)
    own = max(0.0, own_after - own_before) / elapsed if elapsed > 0 else 0.0
    return min(float(n), n * (after[0] - before[0]) / ticks + own)


def choose_threads(n_samples):
    """Threads for a problem of ``n_samples`` samples under the policy of this module."""
    fixed = get_threads()
    if fixed is not None:
        return fixed
    if n_samples < SMALL_N:
        return 1
    now = time.monotonic()
    seen = _state["idle"]
    if seen is None or now - seen[0] > REUSE_S:
        seen = _state["idle"] = (now, idle_cpus())
    # Round down: a thread too many on a busy core costs far more than one too few.
    return max(1, min(usable_cpus(), math.floor(seen[1] + 0.25)))


def _controller():
    """A cached ``ThreadpoolController``, renewed when new modules (libraries) were loaded."""
    if _state["controller"] is None or _state["modules"] != len(sys.modules):
        _state["controller"] = threadpoolctl().ThreadpoolController()
        _state["modules"] = len(sys.modules)
    return _state["controller"]


@contextlib.contextmanager
def thread_limit(n_samples):
    """Limit BLAS/OpenMP threads for a computation on ``n_samples`` samples.

    Yields
    ------
    int
        The number of threads in force inside the block.
    """
    threads = choose_threads(int(n_samples))
    if _applied.get() == threads:
        yield threads
        return
    token = _applied.set(threads)
    try:
        with _controller().limit(limits=threads):
            yield threads
    finally:
        _applied.reset(token)


def limit_threads(n_samples_of):
    """Decorator: run the function inside :func:`thread_limit` for its problem size.

    Parameters
    ----------
    n_samples_of : callable
        Called with the function's arguments; returns the number of samples.
    """
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with thread_limit(n_samples_of(*args, **kwargs)):
                return func(*args, **kwargs)
        return wrapper
    return decorate
