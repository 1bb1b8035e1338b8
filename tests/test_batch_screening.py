"""Model screening: correlations with bootstrap intervals, tables, plots, the CLI."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import infolens
from infolens import InvalidParameterError
from infolens.batch import ResultStore, make_tasks, run_batch
from infolens.batch.screening import (
    correlate,
    correlation_table,
    plot_screening,
    screen_models,
    screening_table,
)

SRC = str(Path(infolens.__file__).resolve().parents[1])


def test_correlate_matches_scipy_and_intervals_cover_the_estimate():
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    y = 0.6 * x + rng.normal(size=40)
    c = correlate(x, y, n_boot=1000, random_state=1)
    assert c.pearson == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
    assert c.spearman == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
    assert c.pearson_p == pytest.approx(stats.pearsonr(x, y)[1], rel=1e-9)
    assert c.pearson_ci[0] < c.pearson < c.pearson_ci[1]
    assert c.spearman_ci[0] < c.spearman < c.spearman_ci[1]
    assert c.n == 40 and c.n_boot == 1000
    # Wider confidence, wider interval; same seed, same interval.
    c99 = correlate(x, y, n_boot=1000, confidence=0.99, random_state=1)
    assert c99.pearson_ci[0] <= c.pearson_ci[0] and c99.pearson_ci[1] >= c.pearson_ci[1]
    assert correlate(x, y, n_boot=1000, random_state=1) == c


def test_correlate_exact_cases():
    x = np.arange(10.0)
    c = correlate(x, 3 * x + 2, n_boot=200)
    assert c.pearson == pytest.approx(1.0) and c.pearson_ci == pytest.approx((1.0, 1.0))
    c = correlate(x, np.exp(x), n_boot=200)  # monotone, not linear
    assert c.spearman == pytest.approx(1.0) and c.pearson < 0.9
    c = correlate(x, -x ** 3, n_boot=200)
    assert c.spearman == pytest.approx(-1.0) and c.spearman_ci == pytest.approx((-1.0, -1.0))


@pytest.mark.parametrize("x, y, kw, match", [
    ([1, 2], [1, 2], {}, "at least 3 pairs"),
    ([1, 2, 3], [1, 2], {}, "same length"),
    ([1, 1, 1], [1, 2, 3], {}, "constant"),
    ([1, 2, np.nan], [1, 2, 3], {}, "finite"),
    ([1, 2, 3], [1, 2, 3], {"confidence": 1.0}, "'confidence'"),
    ([1, 2, 3], [1, 2, 3], {"n_boot": 5}, "'n_boot'"),
])
def test_correlate_refuses_undefined_input(x, y, kw, match):
    with pytest.raises(InvalidParameterError, match=match):
        correlate(x, y, **kw)


def _digit_like(n=150, d=8, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    X = rng.normal(scale=2.0, size=(k, d))[y] + rng.normal(size=(n, d))
    return X, y


def test_screen_models_measures_each_model_on_the_probe():
    X, y = _digit_like()
    rng = np.random.default_rng(1)
    models = {f"m{i}": (lambda W: (lambda B: np.tanh(B @ W)))(rng.normal(size=(8, 4 + i)))
              for i in range(4)}
    rows = screen_models(models, X, y, accuracies={"m0": 0.5, "m1": 0.6, "m2": 0.7, "m3": 0.8},
                         measures=("dse", ("dsmi", {"n_repeats": 2})))
    assert [r["name"] for r in rows] == ["m0", "m1", "m2", "m3"]
    for r, (name, f) in zip(rows, models.items()):
        Z = f(X)
        assert r["n_features"] == Z.shape[1]
        assert r["dse"] == pytest.approx(infolens.dse(Z), rel=1e-12)
        expect = infolens.dsmi(Z, y, n_repeats=2)
        assert r['dsmi{"n_repeats":2}'] == pytest.approx(expect, rel=1e-12)
    table = correlation_table(rows, n_boot=200)
    assert [t["measure"] for t in table] == ["dse", 'dsmi{"n_repeats":2}']
    assert all(t["n"] == 4 for t in table)


def test_screening_from_a_batch_run_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    X, y = _digit_like()
    rng = np.random.default_rng(2)
    entries = []
    for i in range(5):
        Z = np.tanh(X @ rng.normal(size=(8, 3 + i)))
        np.savez(tmp_path / f"m{i}.npz", Z=Z, Y=y)
        entries.append({"embeddings": str(tmp_path / f"m{i}.npz"), "name": f"m{i}",
                        "accuracy": 0.5 + 0.1 * i})
    tasks = make_tasks(entries, ["dse", "dsmi"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        run_batch(tasks, store, engine="sequential", progress=False)
        table = screening_table(tasks, store)
    assert [r["name"] for r in table] == [f"m{i}" for i in range(5)]
    for i, r in enumerate(table):
        Z = np.load(tmp_path / f"m{i}.npz")["Z"]
        assert r["dse"] == pytest.approx(infolens.dse(Z), rel=1e-12)
        assert r["accuracy"] == pytest.approx(0.5 + 0.1 * i)
    corr = correlation_table(table, n_boot=300)
    expect = stats.pearsonr([r["dsmi"] for r in table], [r["accuracy"] for r in table])[0]
    assert {c["measure"]: c["pearson"] for c in corr}["dsmi"] == pytest.approx(expect, abs=1e-12)
    png = plot_screening(table, "dsmi", tmp_path / "plot.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidParameterError, match="Only 0 models have both"):
        correlation_table([{"name": "a", "dse": 1.0}], target="accuracy")


def test_cli_screen_writes_table_correlations_and_plots(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("yaml")
    import yaml

    X, y = _digit_like()
    rng = np.random.default_rng(3)
    entries = []
    for i in range(4):
        np.savez(tmp_path / f"m{i}.npz", Z=np.tanh(X @ rng.normal(size=(8, 3 + 2 * i))), Y=y)
        entries.append({"embeddings": f"m{i}.npz", "name": f"m{i}",
                        "accuracy": [0.3, 0.9, 0.4, 0.8][i]})
    doc = {"measures": ["dse", "dsmi"], "entries": entries}
    (tmp_path / "zoo.yaml").write_text(yaml.safe_dump(doc))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "infolens", "screen", "zoo.yaml", "--out", "out", "--engine",
           "sequential", "--store", "s.sqlite", "--n-boot", "200", "--no-progress"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Pearson" in proc.stdout and "dsmi" in proc.stdout
    with open(tmp_path / "out" / "correlations.csv", newline="") as fh:
        rows = {r["measure"]: r for r in csv.DictReader(fh)}
    with open(tmp_path / "out" / "table.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert set(rows) == {"dse", "dsmi"} and len(table) == 4
    x = [float(r["dse"]) for r in table]
    acc = [float(r["accuracy"]) for r in table]
    assert float(rows["dse"]["spearman"]) == pytest.approx(stats.spearmanr(x, acc)[0], abs=1e-12)
    assert (tmp_path / "out" / "scatter_dse.png").stat().st_size > 1000
    assert (tmp_path / "out" / "scatter_dsmi.png").stat().st_size > 1000


def test_cli_help_and_one_line_errors(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))
    for sub in ("batch", "screen"):
        out = subprocess.run([sys.executable, "-m", "infolens", sub, "--help"], env=env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "examples:" in out.stdout and "--scheduler" in out.stdout
    (tmp_path / "m.csv").write_text("embeddings,measure\nmissing.npy,dse\n")
    out = subprocess.run([sys.executable, "-m", "infolens", "batch", str(tmp_path / "m.csv"),
                          "--store", str(tmp_path / "s.sqlite")], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "does not exist" in out.stderr
