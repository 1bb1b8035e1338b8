"""Acceptance: a real Dask cluster in separate processes on 127.0.0.1 loses nothing.

A scheduler and two workers are started with the ``dask`` command-line
entry points (through ``python -m`` so they use this interpreter), a worker is
killed with SIGKILL in the middle of a 24-task run, and every task must end
exactly once in the store with the value of a sequential run.  A second run
must compute nothing.  Every process is killed in a finaliser; every wait has
a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("yaml")

import infolens  # noqa: E402
from infolens.batch import ResultStore, load_manifest, run_batch  # noqa: E402

SRC = str(Path(infolens.__file__).resolve().parents[1])
N_FILES = 12
MEASURES = ["dse", {"dsmi": {"n_repeats": 2}}]


def _write_manifest(folder):
    import yaml

    rng = np.random.default_rng(7)
    entries = []
    for i in range(N_FILES):
        labels = rng.integers(0, 4, size=260)
        centers = rng.normal(scale=3.0, size=(4, 12))
        Z = centers[labels] + rng.normal(size=(260, 12)) * (0.5 + 0.1 * i)
        np.savez(folder / f"emb{i:02d}.npz", Z=Z, Y=labels)
        entries.append({"embeddings": f"emb{i:02d}.npz", "step": 100 * i, "layer": "fc"})
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump({"measures": MEASURES, "entries": entries}))
    return path


def _values(store):
    return {(r["input_hash"], r["measure"], r["params"]): r["value"] for r in store.rows("done")}


class _Cluster:
    """Scheduler + workers as process groups, all killed by :meth:`close`."""

    def __init__(self, folder):
        self.folder = folder
        self.procs = []
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [SRC] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
            OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def _spawn(self, args, log):
        proc = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=self.folder, env=self.env,
            stdout=open(self.folder / log, "wb"), stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg reaches any children
        )
        self.procs.append(proc)
        return proc

    def start_scheduler(self, timeout=60):
        sched_file = self.folder / "scheduler.json"
        self._spawn(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--no-dashboard", "--scheduler-file", str(sched_file)], "scheduler.log")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sched_file.exists():
                try:
                    address = json.loads(sched_file.read_text())["address"]
                    break
                except (ValueError, KeyError):
                    pass
            self._check_alive()
            time.sleep(0.2)
        else:
            raise TimeoutError("the Dask scheduler did not start within %s s" % timeout)
        assert address.startswith("tcp://127.0.0.1:"), address
        self.address = address
        return address

    def start_worker(self, name):
        return self._spawn(["distributed.cli.dask_worker", self.address, "--nthreads", "1",
                            "--host", "127.0.0.1", "--no-nanny", "--no-dashboard",
                            "--name", name, "--death-timeout", "60"], f"{name}.log")

    def _check_alive(self):
        for proc in self.procs:
            if proc.poll() is not None:
                logs = "\n".join(p.read_text()[-2000:] for p in self.folder.glob("*.log"))
                raise RuntimeError(f"a cluster process exited early ({proc.returncode}):\n{logs}")

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
            if proc.stdout:
                proc.stdout.close()


@pytest.fixture
def cluster(tmp_path, request):
    c = _Cluster(tmp_path)
    request.addfinalizer(c.close)
    return c


def _wait_for_workers(address, n, timeout=60):
    from distributed import Client

    with Client(address, timeout=timeout) as client:
        client.wait_for_workers(n, timeout=timeout)
        return {info["name"]: (addr, info.get("pid"))
                for addr, info in client.scheduler_info()["workers"].items()}


def test_killed_worker_loses_nothing_and_rerun_computes_nothing(tmp_path, cluster):
    manifest = load_manifest(_write_manifest(tmp_path))
    assert len(manifest) == 2 * N_FILES >= 20

    with ResultStore(tmp_path / "sequential.sqlite") as store:
        seq = run_batch(manifest, store, engine="sequential", progress=False, timeout_s=120)
        assert seq.done == len(manifest) and seq.failed == 0
        expected = _values(store)

    address = cluster.start_scheduler()
    victim = cluster.start_worker("victim")
    survivor = cluster.start_worker("survivor")
    workers = _wait_for_workers(address, 2)
    assert set(workers) == {"victim", "survivor"}

    killed = threading.Event()
    seen = []

    def kill_after_some(task, outcome):
        seen.append(outcome.get("worker"))
        if len(seen) == 4 and not killed.is_set():
            os.killpg(victim.pid, signal.SIGKILL)
            killed.set()

    db = tmp_path / "cluster.sqlite"
    with ResultStore(db) as store:
        summary = run_batch(manifest, store, scheduler=address, progress=False,
                            on_result=kill_after_some, timeout_s=150, connect_timeout_s=30)
        assert killed.is_set(), "the run finished before a worker could be killed"
        assert victim.wait(timeout=10) == -signal.SIGKILL
        assert summary.engine == "dask"
        assert summary.remaining == 0 and summary.failed == 0
        assert summary.done == len(manifest)

        rows = store.rows()
        keys = [(r["input_hash"], r["measure"], r["params"]) for r in rows]
        assert len(keys) == len(set(keys)) == len(manifest)  # every task exactly once
        assert set(keys) == {t.key for t in manifest.tasks}
        assert all(r["status"] == "done" for r in rows)
        got = _values(store)
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
        # The kill came mid-run (4 of 24 results stored); the survivor finished the rest
        # and the scheduler saw the victim go.
        assert len(seen) == len(manifest) and seen[4:]
        pids = [r["worker"].rsplit(":", 1)[1] for r in rows]
        assert set(pids) <= {str(victim.pid), str(survivor.pid)}
        assert str(survivor.pid) in pids
        assert set(_wait_for_workers(address, 1)) == {"survivor"}

        stamps = {(r["input_hash"], r["measure"], r["params"]): r["finished_at"] for r in rows}

    # A second run against the same store computes nothing new.
    with ResultStore(db) as store:
        again = run_batch(manifest, store, scheduler=address, progress=False, timeout_s=60)
        assert again.skipped == len(manifest)
        assert again.computed == 0 and again.retried == 0
        assert {(r["input_hash"], r["measure"], r["params"]): r["finished_at"]
                for r in store.rows()} == stamps


def test_cli_batch_without_scheduler_uses_local_cluster(tmp_path):
    path = _write_manifest(tmp_path)
    db, csv_out = tmp_path / "cli.sqlite", tmp_path / "cli.csv"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [SRC] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    cmd = [sys.executable, "-m", "infolens", "batch", str(path), "--store", str(db),
           "--export", str(csv_out), "--workers", "2", "--timeout", "150", "--no-progress"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("local:"), proc.stdout
    assert f"{2 * N_FILES} done" in proc.stdout

    with ResultStore(tmp_path / "seq.sqlite") as store:
        run_batch(load_manifest(path), store, engine="sequential", progress=False)
        expected = _values(store)
    with ResultStore(db) as store:
        got = _values(store)
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == pytest.approx(expected[key], rel=1e-12, abs=1e-12)

    import csv

    with open(csv_out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * N_FILES
    assert {"step", "layer", "measure", "value", "unit"} <= set(rows[0])
    assert {r["measure"] for r in rows} == {"dse", "dsmi"}
    assert all(r["unit"] == "bits" and r["layer"] == "fc" for r in rows)
    assert sorted({int(r["step"]) for r in rows}) == [100 * i for i in range(N_FILES)]


def test_cluster_without_workers_cannot_hang_the_run(tmp_path, cluster):
    manifest = load_manifest(_write_manifest(tmp_path))
    address = cluster.start_scheduler()
    with ResultStore(tmp_path / "idle.sqlite") as store:
        start = time.monotonic()
        s = run_batch(manifest, store, scheduler=address, progress=False, stall_timeout_s=3,
                      timeout_s=60)
        assert time.monotonic() - start < 30
        assert s.stopped == "stalled" and s.remaining == len(manifest) and s.computed == 0
        assert len(store) == 0
        # A worker arrives: the same manifest now completes.
        cluster.start_worker("late")
        _wait_for_workers(address, 1)
        s = run_batch(manifest, store, scheduler=address, progress=False, timeout_s=120)
        assert s.done == len(manifest) and s.stopped is None
