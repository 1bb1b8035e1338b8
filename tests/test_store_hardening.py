"""The batch results store off the designed path (issue 12): byte-identical entries,
concurrent drivers, corrupt and foreign databases, a version-1 store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from infolens.batch.executor import run_batch
from infolens.batch.manifest import make_tasks
from infolens.batch.screening import screening_table
from infolens.batch.store import ResultStore, export_runs
from infolens.core.validation import InvalidParameterError

COUNTER = textwrap.dedent("""
    import os, time

    def counted(Z):
        with open(os.environ["INFOLENS_TEST_COUNT"], "a") as fh:
            fh.write(f"{os.getpid()}\\n")
        time.sleep(float(os.environ.get("INFOLENS_TEST_SLEEP", "0")))
        return float(abs(Z).sum())
""")


@pytest.fixture
def counted(tmp_path, monkeypatch):
    """A measure ``countmod:counted`` that appends its pid to a file on every call."""
    (tmp_path / "countmod.py").write_text(COUNTER)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("INFOLENS_TEST_COUNT", str(tmp_path / "calls.txt"))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return tmp_path / "calls.txt"


def _calls(path):
    return path.read_text().split() if path.exists() else []


def test_identical_files_compute_once_and_keep_every_entry(tmp_path, counted):
    Z = np.random.default_rng(0).normal(size=(20, 3))
    for step in (100, 200, 300):
        np.save(tmp_path / f"frozen{step}.npy", Z)  # a frozen layer: same bytes every step
    entries = [{"embeddings": str(tmp_path / f"frozen{s}.npy"), "step": s, "layer": "fc1",
                "name": "run", "accuracy": s / 1000} for s in (100, 200, 300)]
    tasks = make_tasks(entries, ["countmod:counted"])
    assert len(tasks) == 3 and len({t.key for t in tasks}) == 1
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_batch(tasks, store, engine="sequential", progress=False)
        assert summary.done == 3
        assert len(_calls(counted)) == 1  # computed once
        rows = store.rows()
        assert sorted((r["step"], r["accuracy"]) for r in rows) == [(100, 0.1), (200, 0.2),
                                                                    (300, 0.3)]
        assert len({r["value"] for r in rows}) == 1
        table = screening_table(tasks, store)
        assert [r["accuracy"] for r in table] == [0.1, 0.2, 0.3]
        written = export_runs(store, tmp_path / "runs")
        assert list(written.values()) == [3]
        store.export(tmp_path / "all.csv")
    assert (tmp_path / "all.csv").read_text().count("\n") == 4
    # a new entry for the same bytes later: stored from the known value, not recomputed
    more = make_tasks(entries + [dict(entries[0], step=400)], ["countmod:counted"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_batch(more, store, engine="sequential", progress=False)
        assert summary.skipped == 3 and summary.done == 1 and summary.shared == 1
    assert len(_calls(counted)) == 1


DRIVER = textwrap.dedent("""
    import json, sys
    from infolens.batch.executor import run_batch
    from infolens.batch.manifest import make_tasks
    from infolens.batch.store import ResultStore
    entries = json.loads(sys.argv[2])
    tasks = make_tasks(entries, ["countmod:counted"])
    with ResultStore(sys.argv[1]) as store:
        s = run_batch(tasks, store, engine="sequential", progress=False, poll_s=0.05)
    print(json.dumps({"done": s.done, "shared": s.shared, "failed": s.failed,
                      "skipped": s.skipped}))
""")


def test_two_drivers_on_one_store_share_the_work(tmp_path, counted, monkeypatch):
    monkeypatch.setenv("INFOLENS_TEST_SLEEP", "0.25")
    rng = np.random.default_rng(1)
    entries = []
    for i in range(12):
        np.save(tmp_path / f"z{i}.npy", rng.normal(size=(10, 2)))
        entries.append({"embeddings": str(tmp_path / f"z{i}.npy"), "step": i})
    store_path = tmp_path / "shared.sqlite"
    ResultStore(store_path).close()
    args = [sys.executable, "-c", DRIVER, str(store_path), json.dumps(entries)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    calls = _calls(counted)
    assert len(calls) == 12  # every task computed exactly once, across both drivers
    # A driver that starts late finds some rows already stored (skipped, not computed).
    assert all(o["done"] + o["skipped"] == 12 and o["failed"] == 0 for o in outs)
    # what one driver did not compute it took from the other (no one reports 12 computed)
    assert sum(o["done"] - o["shared"] for o in outs) == 12
    with ResultStore(store_path) as store:
        assert store.counts() == {"done": 12, "failed": 0}
        assert store._db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0


def test_a_killed_drivers_claim_is_taken_over(tmp_path, counted):
    np.save(tmp_path / "z.npy", np.ones((5, 2)))
    tasks = make_tasks([{"embeddings": str(tmp_path / "z.npy")}], ["countmod:counted"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout.strip()
        import socket
        store._db.execute("INSERT INTO claims VALUES (?, ?, ?, ?, ?)",
                          (*tasks[0].key, f"{socket.gethostname()}:{dead}:x", 1e12))
        summary = run_batch(tasks, store, engine="sequential", progress=False, timeout_s=60)
        assert summary.done == 1 and summary.stopped is None


def test_corrupt_and_foreign_databases_give_one_clear_message(tmp_path, counted):
    np.save(tmp_path / "z.npy", np.ones((5, 2)))
    tasks = make_tasks([{"embeddings": str(tmp_path / "z.npy")}], ["countmod:counted"])
    good = tmp_path / "good.sqlite"
    with ResultStore(good) as store:
        run_batch(tasks, store, engine="sequential", progress=False)
    data = good.read_bytes()
    (tmp_path / "cut.sqlite").write_bytes(data[: len(data) // 2 + 100])
    (tmp_path / "noise.sqlite").write_bytes(data[:100] + b"\x17" * (len(data) - 100))
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE people (name TEXT)")
    other = tmp_path / "other_results.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE results (a, b)")
        db.execute("CREATE TABLE store_info (key, value)")
    for path in ("cut.sqlite", "noise.sqlite", "foreign.sqlite", "other_results.sqlite"):
        with pytest.raises(InvalidParameterError) as info:
            with ResultStore(tmp_path / path) as store:
                run_batch(tasks, store, engine="sequential", progress=False)
                store.rows()
        message = str(info.value)
        assert "\n" not in message and ("store" in message), (path, message)


def test_a_version_1_store_is_migrated_with_its_rows(tmp_path):
    path = tmp_path / "v1.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE results (input_hash TEXT NOT NULL, measure TEXT NOT NULL,
                params TEXT NOT NULL, status TEXT NOT NULL, value REAL, unit TEXT,
                resolved_params TEXT, details TEXT, error TEXT, attempts INTEGER NOT NULL,
                name TEXT, epoch INTEGER, step INTEGER, layer TEXT, accuracy REAL, meta TEXT,
                source TEXT, elapsed_s REAL, worker TEXT, finished_at TEXT NOT NULL,
                PRIMARY KEY (input_hash, measure, params));
            CREATE TABLE store_info (key TEXT PRIMARY KEY, value TEXT);
            INSERT INTO store_info VALUES ('schema_version', '1');
            INSERT INTO results VALUES ('h', 'dse', '{}', 'done', 2.5, 'bits', NULL, NULL, NULL,
                1, 'a', NULL, 100, 'fc', NULL, NULL, '{}', 0.1, 'w', 'now');
        """)
    with ResultStore(path) as store:
        (row,) = store.rows()
        assert row["value"] == 2.5 and row["step"] == 100 and row["entry"]
        from infolens.batch.manifest import entry_key
        assert row["entry"] == entry_key({"name": "a", "step": 100, "layer": "fc"})
