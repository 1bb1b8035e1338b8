"""Run the tasks of a manifest: sequentially, on a Dask LocalCluster, or on a cluster.

The three engines call the same :func:`run_task` on the same task payloads
with the same BLAS thread limit, so they store the same values.  Only the
submitting process writes to the :class:`~infolens.batch.store.ResultStore`;
each task is written once, when it finishes.

Failures: a task that raises is run again, up to ``max_attempts`` times in
all, and then stored as ``failed`` with its error; an
:class:`~infolens.InvalidParameterError` (bad input, which fails the same way
every time) is stored at once.  A worker that dies while
holding tasks is handled by Dask, which moves them to the other workers; a
task that keeps killing workers surfaces as an error and counts as a failed
attempt.  ``timeout_s`` bounds the whole run and ``stall_timeout_s`` the wait
for the next result: tasks unfinished by then are cancelled and left unstored
(a later run computes them).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from infolens.batch.claims import Claims
from infolens.batch.tasks import run_task
from infolens.core import optional
from infolens.core.progress import Progress as _Progress
from infolens.core.validation import InvalidParameterError, check_int, check_option, check_real

__all__ = ["ENGINES", "BatchSummary", "Progress", "run_batch", "run_task"]

ENGINES = ("auto", "sequential", "local", "dask")
_BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass
class BatchSummary:
    """What a run did.

    Attributes
    ----------
    engine : str
        ``"sequential"``, ``"local"`` (a LocalCluster) or ``"dask"`` (an existing scheduler).
    n_tasks : int
        Tasks in the manifest.
    skipped : int
        Already stored as done before the run (not computed again).
    done, failed : int
        Tasks (stored rows) finished in this run, by outcome; entries with
        byte-identical inputs are computed once and each stored.
    shared : int
        Of ``done``, rows whose value another driver on the same store
        computed (it held the task's claim) or that an earlier run stored
        for an identical input.
    retried : int
        Extra attempts made after failures.
    remaining : int
        Tasks left unfinished (timeout); not stored.
    stopped : str or None
        ``"timeout"`` or ``"stalled"`` when the run was cut short.
    elapsed_s : float
    """

    engine: str
    n_tasks: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    shared: int = 0
    retried: int = 0
    remaining: int = 0
    stopped: str | None = None
    elapsed_s: float = 0.0
    errors: list = field(default_factory=list)

    @property
    def computed(self):
        return self.done + self.failed

    def line(self):
        stopped = f" (stopped: {self.stopped})" if self.stopped else ""
        return (f"{self.engine}: {self.n_tasks} tasks, {self.skipped} already stored, "
                f"{self.done} done ({self.shared} shared), {self.failed} failed, "
                f"{self.remaining} unfinished{stopped}, "
                f"{self.retried} retries, {self.elapsed_s:.1f} s")


class Progress(_Progress):
    """The batch's bar, :class:`infolens.core.progress.Progress` set up for tasks.

    ``update("done")`` / ``update("failed")`` tally outcomes and the line reads
    ``finished/total  done d  failed f  remaining r``; it is shown at once and,
    off a terminal, printed at most ~20 times.
    """

    def __init__(self, total, *, enabled=True, stream=None, width=30):
        super().__init__(total, stream=stream, enabled=enabled, show_after=0.0, lines=20,
                         width=width)


def _dask_available():
    try:
        optional.dask_distributed()
    except ImportError:
        return False
    return True


def _check_scheduler(address):
    if not isinstance(address, str) or "://" not in address:
        raise InvalidParameterError(
            f"The 'scheduler' address must look like tcp://HOST:PORT (as printed by 'dask "
            f"scheduler'); got {address!r}."
        )
    return address


def run_batch(tasks, store, *, engine="auto", scheduler=None, n_workers=2,
              threads_per_worker=1, blas_threads=1, max_attempts=3, timeout_s=None,
              stall_timeout_s=None, connect_timeout_s=30.0, progress=True, on_result=None,
              client=None, lease_s=60.0, poll_s=0.2):
    """Compute every task not yet stored and write each result once.

    Parameters
    ----------
    tasks : Manifest or list of Task
    store : ResultStore
    engine : {"auto", "sequential", "local", "dask"}, default="auto"
        ``"auto"``: ``"dask"`` when ``scheduler`` is given, else ``"local"``
        (a ``LocalCluster`` on 127.0.0.1) when ``distributed`` is installed,
        else ``"sequential"``.
    scheduler : str, optional
        Address of a running Dask scheduler, ``tcp://HOST:PORT``.
    n_workers, threads_per_worker : int
        Size of the LocalCluster (ignored by the other engines).
    blas_threads : int, default=1
        BLAS/OpenMP/torch threads inside each task (set with threadpoolctl
        on the worker, whatever started it).
    max_attempts : int, default=3
        Runs of a raising task before it is stored as failed (bad input,
        ``InvalidParameterError``, is not run again).
    timeout_s : float, optional
        Bound on the whole run in seconds; unfinished tasks are cancelled.
    stall_timeout_s : float, optional
        Dask engines: stop when no task has finished for this long (a
        cluster that lost all its workers never finishes anything).
    connect_timeout_s : float
        Bound on reaching the scheduler.
    progress : bool
        Draw the progress bar on stderr.
    on_result : callable, optional
        Called as ``on_result(task, outcome)`` after each stored outcome.
    client : distributed.Client, optional
        Use this client instead of creating one.
    lease_s : float, default=60
        Drivers running on one store at the same time share its tasks: each
        claims a task before computing it; a claim lasts ``lease_s`` seconds
        and is renewed while its driver lives (a killed driver's claims are
        taken over at once on the same host, after ``lease_s`` elsewhere).
    poll_s : float, default=0.2
        How often a driver checks on tasks another driver holds.

    Returns
    -------
    BatchSummary
    """
    caller = "run_batch"
    tasks = list(getattr(tasks, "tasks", tasks))
    if engine not in ENGINES:
        check_option(engine, "engine", caller, ENGINES)
    n_workers = check_int(n_workers, "n_workers", caller, low=1)
    threads_per_worker = check_int(threads_per_worker, "threads_per_worker", caller, low=1)
    blas_threads = check_int(blas_threads, "blas_threads", caller, low=1)
    max_attempts = check_int(max_attempts, "max_attempts", caller, low=1)
    timeout_s = check_real(timeout_s, "timeout_s", caller, low=0, closed_low=False, allow_none=True)
    stall_timeout_s = check_real(stall_timeout_s, "stall_timeout_s", caller, low=0,
                                 closed_low=False, allow_none=True)
    if scheduler is not None:
        _check_scheduler(scheduler)
        if engine in ("sequential", "local"):
            raise InvalidParameterError(
                f"engine={engine!r} cannot use a scheduler address; drop one or the other."
            )
    if engine == "auto":
        if scheduler is not None or client is not None:
            engine = "dask"
        else:
            engine = "local" if _dask_available() else "sequential"
    if engine in ("local", "dask") and not _dask_available():
        raise InvalidParameterError(
            f"engine={engine!r} needs Dask: pip install 'infolens[dask]' (dask[distributed]), "
            f"or use engine='sequential'."
        )
    if engine == "dask" and scheduler is None and client is None:
        raise InvalidParameterError("engine='dask' needs scheduler='tcp://HOST:PORT'.")

    start = time.perf_counter()
    stored = store.done_keys()
    todo = [t for t in tasks if t.row_key not in stored]
    groups = {}  # compute key -> the tasks (entries) that share it
    for task in todo:
        groups.setdefault(task.key, []).append(task)
    summary = BatchSummary(engine=engine, n_tasks=len(tasks), skipped=len(tasks) - len(todo))
    bar = Progress(len(todo), enabled=progress and bool(todo))
    deadline = None if timeout_s is None else time.monotonic() + timeout_s

    def store_all(key, outcome, attempts, shared=False):
        for task in groups[key]:
            store.record(task, outcome, attempts=attempts)
            if outcome["status"] == "done":
                summary.done += 1
                summary.shared += shared
            else:
                summary.failed += 1
                summary.errors.append((task.key, outcome.get("error")))
            bar.update(outcome["status"])
            if on_result is not None:
                on_result(task, outcome)

    with Claims(store.path, lease_s=lease_s) as claims:
        def take(key):
            """True: claimed; False: another driver holds it; None: its value was already
            stored (by another driver, or for an identical input) and is now copied."""
            claimed = claims.claim(key)
            if claimed is None:
                store_all(key, store.done_outcome(key), 0, shared=True)
            return claimed

        def finish(task, outcome, attempts):
            store_all(task.key, outcome, attempts)
            claims.release(task.key)

        waiting = list(groups)
        while waiting and not summary.stopped:
            if engine == "sequential":
                later = _run_sequential([groups[k][0] for k in waiting], take, finish, summary,
                                        blas_threads, max_attempts, deadline)
            else:
                taken = {k: take(k) for k in waiting}
                mine = [k for k, v in taken.items() if v]
                later = [k for k, v in taken.items() if v is False]
                if mine:
                    _run_dask([groups[k][0] for k in mine], finish, summary, engine=engine,
                              scheduler=scheduler, client=client, n_workers=n_workers,
                              threads_per_worker=threads_per_worker,
                              blas_threads=blas_threads, max_attempts=max_attempts,
                              deadline=deadline, connect_timeout_s=connect_timeout_s,
                              stall_timeout_s=stall_timeout_s)
            if later and later == waiting:  # all held by other drivers: wait for them
                if deadline is not None and time.monotonic() > deadline:
                    summary.stopped = "timeout"
                time.sleep(poll_s)
            waiting = later
    if summary.stopped:
        summary.remaining = len(todo) - summary.done - summary.failed
    bar.close()
    summary.elapsed_s = time.perf_counter() - start
    return summary


def _run_sequential(todo, take, finish, summary, blas_threads, max_attempts, deadline):
    """Compute the tasks this driver can claim; returns the keys other drivers hold."""
    later = []
    for task in todo:
        if deadline is not None and time.monotonic() > deadline:
            summary.stopped = "timeout"
            return later
        taken = take(task.key)
        if not taken:
            if taken is False:
                later.append(task.key)
            continue
        for attempt in range(1, max_attempts + 1):
            outcome = run_task(task.payload(), blas_threads)
            if outcome["status"] == "done" or attempt == max_attempts \
                    or not outcome.get("retry", True):
                break
            summary.retried += 1
        finish(task, outcome, attempt)
    return later


def _task_key(task, attempt):
    params = task.params_json.encode().hex()[:16]
    nonce = os.urandom(4).hex()
    return f"infolens-{task.measure}-{task.input_hash[:16]}-{params}-{attempt}-{nonce}"


def _run_dask(todo, finish, summary, *, engine, scheduler, client, n_workers,
              threads_per_worker, blas_threads, max_attempts, deadline, connect_timeout_s,
              stall_timeout_s):
    distributed = optional.dask_distributed()
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    cluster = None
    own_client = client is None
    try:
        if client is None:
            if engine == "local":
                env = {name: str(blas_threads) for name in _BLAS_ENV}
                cluster = LocalCluster(
                    n_workers=n_workers, threads_per_worker=threads_per_worker,
                    processes=True, host="127.0.0.1", dashboard_address=None,
                    silence_logs=logging.ERROR, env=env,
                )
                client = Client(cluster, timeout=connect_timeout_s)
            else:
                try:
                    client = Client(scheduler, timeout=connect_timeout_s)
                except (OSError, TimeoutError) as exc:
                    raise InvalidParameterError(
                        f"Cannot reach the Dask scheduler at {scheduler} within "
                        f"{connect_timeout_s:g} s ({type(exc).__name__}: {exc}). Start one with "
                        f"'dask scheduler' and its workers with 'dask worker {scheduler}'."
                    ) from None
        pending = {}

        def submit(task, attempt):
            fut = client.submit(run_task, task.payload(), blas_threads, pure=False,
                                key=_task_key(task, attempt))
            pending[fut.key] = (task, attempt, fut)
            return fut

        queue = distributed.as_completed([submit(task, 1) for task in todo])
        last_progress = time.monotonic()
        while pending:
            batch = queue.next_batch(block=False)
            now = time.monotonic()
            if not batch:
                timed_out = deadline is not None and now > deadline
                stalled = stall_timeout_s is not None and now - last_progress > stall_timeout_s
                if timed_out or stalled:
                    summary.remaining = len(pending)
                    summary.stopped = "timeout" if timed_out else "stalled"
                    client.cancel([entry[2] for entry in pending.values()])
                    break
                time.sleep(0.05)
                continue
            last_progress = now
            for fut in batch:
                task, attempt, _ = pending.pop(fut.key)
                try:
                    outcome = fut.result()
                except Exception as exc:  # KilledWorker, lost connection ...
                    outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                               "worker": None}
                fut.release()
                if outcome["status"] != "done" and attempt < max_attempts \
                        and outcome.get("retry", True):
                    summary.retried += 1
                    queue.add(submit(task, attempt + 1))
                    continue
                finish(task, outcome, attempt)
    finally:
        if own_client and client is not None:
            client.close(timeout=10)
        if cluster is not None:
            cluster.close(timeout=10)
