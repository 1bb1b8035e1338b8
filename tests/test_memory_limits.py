"""The memory model takes the smallest of MemAvailable, the RLIMIT_AS headroom and the cgroup
limit (issue 12), and a MemoryError becomes a clear error naming the need and the way out."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import infolens.core.memory as memory
from infolens.core.validation import InvalidParameterError

GiB = 2**30


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """Point the readers at fake /proc and /sys files."""
    files = {}

    def read(path):
        return files.get(str(path))

    monkeypatch.setattr(memory, "_read_text", read)
    monkeypatch.setattr(memory, "_rlimit_as", lambda: None)
    files["/proc/meminfo"] = "MemTotal: 64000000 kB\nMemAvailable:  33554432 kB\n"  # 32 GiB
    files["/proc/self/cgroup"] = "0::/job/step\n"
    return files


def test_meminfo_alone(fake):
    assert memory.available_memory_bytes() == 32 * GiB
    assert memory.memory_limits() == {"meminfo": 32 * GiB, "rlimit_as": None, "cgroup": None}


def test_cgroup_v2_limit_binds(fake):
    fake["/sys/fs/cgroup/job/step/memory.max"] = f"{6 * GiB}\n"
    fake["/sys/fs/cgroup/job/step/memory.current"] = f"{GiB}\n"
    assert memory.available_memory_bytes() == 5 * GiB
    fake["/sys/fs/cgroup/job/step/memory.max"] = "max\n"  # no limit at this level
    assert memory.available_memory_bytes() == 32 * GiB


def test_cgroup_v1_limit_binds(fake):
    fake["/sys/fs/cgroup/memory/memory.limit_in_bytes"] = f"{4 * GiB}\n"
    fake["/sys/fs/cgroup/memory/memory.usage_in_bytes"] = f"{3 * GiB}\n"
    assert memory.available_memory_bytes() == GiB
    fake["/sys/fs/cgroup/memory/memory.limit_in_bytes"] = "9223372036854771712\n"  # unlimited
    assert memory.available_memory_bytes() == 32 * GiB


def test_rlimit_as_headroom_binds(fake, monkeypatch):
    monkeypatch.setattr(memory, "_rlimit_as", lambda: 8 * GiB)
    fake["/proc/self/status"] = f"Name: python\nVmSize:  {6 * GiB // 1024} kB\n"
    assert memory.available_memory_bytes() == 2 * GiB
    fake["/proc/self/status"] = f"VmSize:  {9 * GiB // 1024} kB\n"  # already past the limit
    assert memory.available_memory_bytes() == 0
    assert memory.memory_budget() == 0


def test_out_of_memory_names_need_limit_and_alternatives(fake):
    fake["/sys/fs/cgroup/memory.max"] = f"{2 * GiB}\n"
    err = memory.out_of_memory("dse on 60000 points", 43 * GiB, "Pass method='slq'.")
    assert isinstance(err, InvalidParameterError) and isinstance(err, MemoryError)
    text = str(err)
    assert "needs about 43.0 GiB" in text and "2.0 GiB is available" in text
    assert "cgroup" in text and "method='slq'" in text


def test_small_exact_plans_read_no_memory_files_and_large_ones_do(fake, monkeypatch):
    from infolens.spectrum.planning import UNCHECKED_BYTES, exact_bytes, plan_method

    reads = []
    monkeypatch.setattr(memory, "_read_text", lambda path: reads.append(path) or fake.get(
        str(path)))
    small = max(n for n in range(1, 4096) if exact_bytes(n) <= UNCHECKED_BYTES)
    for method in ("auto", "exact"):
        assert plan_method(small, 8, method, "dse").method == "exact"
    assert plan_method(100, 8, "slq", "dse").reason == "tiny"
    assert reads == []
    # one point more, or an explicit limit, and the limits are read (and bind)
    fake["/proc/meminfo"] = "MemAvailable:  1 kB\n"
    with pytest.raises(InvalidParameterError, match="exact method"):
        plan_method(small + 1, 8, "exact", "dse")
    assert reads
    with pytest.raises(InvalidParameterError, match="exact method"):
        plan_method(10, 8, "exact", "dse", options={"memory_limit": 100})


def test_a_memory_error_inside_the_solver_becomes_a_clear_error(monkeypatch):
    import numpy as np

    import infolens
    import infolens.spectrum.solve as solve

    def boom(r):
        raise MemoryError

    monkeypatch.setattr(solve, "_exact_spectrum", boom)
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(memory.InsufficientMemoryError, match="dse on 50 points.*slq"):
        infolens.dse(X, method="exact")


@pytest.mark.parametrize("rule", ["knn", "median"])
def test_a_memory_error_choosing_the_bandwidth_becomes_a_clear_error(monkeypatch, rule):
    import numpy as np

    import infolens
    import infolens.kernels.bandwidth as bandwidth

    def boom(U, counts):
        raise MemoryError

    monkeypatch.setattr(bandwidth, f"_{rule}_rule", boom)
    monkeypatch.setattr(bandwidth, "_REMEMBERED", type(bandwidth._REMEMBERED)())
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(memory.InsufficientMemoryError,
                       match=f"dse: choosing the bandwidth sigma='{rule}' for 50 x 3 rows.*"
                             "numeric sigma"):
        infolens.dse(X, sigma=rule)
    assert infolens.dse(X, sigma=2.0) > 0  # a number needs no rule


UNDER_LIMIT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import infolens
    from infolens.core import memory
    from infolens.core.validation import InvalidParameterError
    vm = memory._vm_size()
    resource.setrlimit(resource.RLIMIT_AS, (vm + int(sys.argv[1]), resource.RLIM_INFINITY))
    limits = memory.memory_limits()
    assert memory.available_memory_bytes() == limits["rlimit_as"] < limits["meminfo"], limits
    for n in (800, 4000):
        X = np.random.default_rng(0).normal(size=(n, 5))
        for method in ("auto", "exact"):
            try:
                r = infolens.dse(X, method=method, return_result=True)
                print(n, method, "ran", r.value)
            except InvalidParameterError as exc:
                print(n, method, "refused", "MiB is available" in str(exc))
""")


def test_auto_fits_or_refuses_clearly_under_rlimit_as():
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               INFOLENS_PROGRESS="0")
    # 200 MiB of address space: 800 points fit the exact path (8 MB), 4000 points (12 n^2 =
    # 183 MiB, slq about the same) fit no path; either way no MemoryError traceback
    proc = subprocess.run([sys.executable, "-c", UNDER_LIMIT, str(200 * 2**20)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.split("\n")
    assert out[0].startswith("800 auto ran") and out[1].startswith("800 exact ran")
    assert out[2] == "4000 auto refused True" and out[3] == "4000 exact refused True", out
