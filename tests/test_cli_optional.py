"""Commands that need an optional dependency check it before any work and exit 2 with one
line naming the extra; the core commands work without them.  The CLI runs in a subprocess
in which ``import matplotlib``, ``torch`` and ``dask`` fail, as in a core-only install."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

SRC = str(pathlib.Path(__file__).resolve().parents[1] / "src")
_CORE_ONLY = (
    "import sys\n"
    "for name in ('matplotlib', 'torch', 'dask', 'distributed', 'yaml'):\n"
    "    sys.modules[name] = None  # import fails with ImportError, as when not installed\n"
    "from infolens.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _core_only(*argv, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]),
               INFOLENS_PROGRESS="0")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CORE_ONLY, *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    return proc, time.perf_counter() - start


@pytest.mark.parametrize("argv, extra", [
    (["report", "runs", "--out", "out"], "plot"),
    (["bench", "accuracy", "--quick", "--out", "out"], "plot"),
    (["bench", "paper", "--quick", "--out", "out", "--no-mine"], "plot"),
    (["batch", "m.yaml", "--engine", "sequential"], "dask"),
    (["screen", "m.csv", "--out", "out", "--engine", "sequential"], "plot"),
    (["mine_mi", "Z.npy", "--labels", "y.npy"], "torch"),
    (["mi", "Z.npy", "--labels", "y.npy", "--method", "infonce"], "torch"),
    (["demo", "--quick", "--out", "out"], "torch"),
])
def test_missing_extra_is_one_line_before_any_work(argv, extra, tmp_path):
    np.save(tmp_path / "Z.npy", np.zeros((10, 2)))
    np.save(tmp_path / "y.npy", np.arange(10) % 2)
    (tmp_path / "runs").mkdir()
    (tmp_path / "m.yaml").write_text("measures: [dse]\nentries: []\n")
    (tmp_path / "m.csv").write_text("embeddings,measure\nZ.npy,dse\n")
    proc, _ = _core_only(*argv, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"pip install 'infolens[{extra}]'" in lines[0]
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob("*.sqlite"))


def test_core_commands_work_without_the_extras(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "Z.npy", rng.normal(size=(40, 3)))
    np.save(tmp_path / "y.npy", np.arange(40) % 2)
    proc, _ = _core_only("dse", "Z.npy", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("DSE = "), proc.stderr
    proc, _ = _core_only("mi", "Z.npy", "--labels", "y.npy", "--method", "ksg", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("KSG_MI = "), proc.stderr
    proc, _ = _core_only("report", "--help", cwd=tmp_path)
    assert proc.returncode == 0 and "examples:" in proc.stdout
