"""BLAS threads: the policy of infolens.core.threads, set_threads, the solve's limit, --threads."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import infolens
from infolens.cli.main import main
from infolens.core import threads
from infolens.core.validation import InvalidParameterError


@pytest.fixture(autouse=True)
def _restore():
    previous = infolens.set_threads(None)
    yield
    infolens.set_threads(previous)


def _blas_threads():
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_small_problems_use_one_thread_and_fixed_counts_win():
    assert threads.choose_threads(threads.SMALL_N - 1) == 1
    assert 1 <= threads.choose_threads(threads.SMALL_N) <= threads.usable_cpus()
    assert infolens.set_threads(3) is None
    assert threads.choose_threads(10) == 3 and threads.get_threads() == 3
    with threads.use_threads(2):
        assert threads.choose_threads(10) == 2
    assert threads.choose_threads(10) == 3
    assert infolens.set_threads("auto") == 3 and threads.get_threads() is None


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "two"])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(InvalidParameterError, match="number of threads"):
        infolens.set_threads(bad)


def test_idle_cpus_is_within_the_usable_cpus():
    idle = threads.idle_cpus(0.02)
    assert 0.0 <= idle <= threads.usable_cpus()


def test_cpu_time_of_our_own_spinning_threads_counts_as_free(monkeypatch):
    """Quiet two-core machine, but OpenBLAS's threads from the previous call still spin:
    /proc/stat shows one CPU busy, and that busy CPU is this process's own."""
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    stat = iter([(0, 0), (100, 200)])           # half the ticks idle: 1 of 2 CPUs
    monkeypatch.setattr(threads, "_cpu_times", lambda cpus: next(stat))
    clock = iter([10.0, 10.0 + 0.95 * threads.PROBE_S])  # we used 0.95 CPU meanwhile
    monkeypatch.setattr(threads, "_own_cpu_seconds", lambda: next(clock))
    assert threads.idle_cpus() == pytest.approx(1.95, abs=0.1)
    monkeypatch.setitem(threads._state, "idle", None)
    stat, clock = iter([(0, 0), (100, 200)]), iter([10.0, 10.0])   # another process's CPU
    assert threads.idle_cpus() == pytest.approx(1.0)


def test_busy_machine_gets_one_thread(monkeypatch):
    monkeypatch.setitem(threads._state, "idle", None)
    monkeypatch.setattr(threads, "idle_cpus", lambda probe_s=threads.PROBE_S: 0.1)
    assert threads.choose_threads(5000) == 1
    monkeypatch.setitem(threads._state, "idle", None)
    monkeypatch.setattr(threads, "idle_cpus", lambda probe_s=threads.PROBE_S: 64.0)
    assert threads.choose_threads(5000) == threads.usable_cpus()


def test_thread_limit_sets_and_restores_blas_threads():
    before = _blas_threads()
    with threads.thread_limit(10) as n:
        assert n == 1 and _blas_threads() == {1}
    assert _blas_threads() == before


def test_nested_blocks_of_the_same_count_set_the_libraries_once(monkeypatch):
    applied, real = [], threads._controller()

    class Counting:
        @staticmethod
        def limit(limits):
            applied.append(limits)
            return real.limit(limits=limits)

    monkeypatch.setattr(threads, "_controller", Counting)
    with threads.thread_limit(10) as outer:
        with threads.thread_limit(20) as inner:
            assert outer == inner == 1 and _blas_threads() == {1}
    assert applied == [1]
    # DSMI's class and subset solves share one setting.
    Z = np.random.default_rng(0).normal(size=(200, 3))
    infolens.dsmi(Z, np.repeat(np.arange(4), 50))
    assert applied == [1, 1]


def test_the_solve_runs_under_the_policy(monkeypatch):
    seen = []
    original = threads.choose_threads

    def spy(n_samples):
        seen.append((n_samples, _blas_threads()))
        return original(n_samples)

    monkeypatch.setattr(threads, "choose_threads", spy)
    Z = np.random.default_rng(0).normal(size=(50, 3))
    value = infolens.dse(Z)
    assert seen and seen[0][0] == 50 and np.isfinite(value)


def test_cli_threads_option_sets_the_process_count(tmp_path, capsys):
    np.save(tmp_path / "Z.npy", np.random.default_rng(0).normal(size=(30, 3)))
    before = threads.get_threads()
    assert main(["--threads", "2", "dse", str(tmp_path / "Z.npy"), "--verbose"]) == 0
    assert "2 thread(s)" in capsys.readouterr().err
    assert main(["dse", str(tmp_path / "Z.npy"), "--threads", "1", "--verbose"]) == 0
    assert "1 thread(s)" in capsys.readouterr().err
    # In force for the command only: an in-process call leaves the caller's setting alone.
    assert threads.get_threads() == before
