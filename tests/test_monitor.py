"""Tests of the training monitor: hooks, probe set, state restoration, run log and resume."""

import copy
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import infolens  # noqa: E402
from infolens import InvalidParameterError  # noqa: E402
from infolens.monitor import (  # noqa: E402
    Measure,
    Monitor,
    ProbeSet,
    RunLog,
    default_measures,
    read_runlog,
)
from infolens.monitor.hooks import LayerRecorder  # noqa: E402


def _record(model, layers, x, reduce="flatten", batch_size=None):
    rec = LayerRecorder(model, layers, reduce)
    model.eval()
    with torch.no_grad(), rec:
        bs = batch_size or len(x)
        for start in range(0, len(x), bs):
            xb = x[start:start + bs]
            rec.set_batch_size(len(xb))
            model(xb)
    return rec.outputs


def _cheap_measures():
    # Deterministic, fast measures so tests of the machinery do not wait on eigen-solvers.
    return [Measure("mean", lambda Z: float(np.mean(Z)), unit="a.u."),
            Measure("dse", infolens.dse)]


# ----------------------------------------------------------------------------- hooks
def test_hooks_linear_outputs_match_direct_computation_over_batches():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    x = torch.randn(23, 5)
    out = _record(model, ["0", "1"], x, batch_size=8)  # 3 batches, the last one short
    with torch.no_grad():
        h = model[0](x)
    np.testing.assert_allclose(out["0"], h.numpy(), rtol=1e-6)
    np.testing.assert_allclose(out["1"], torch.relu(h).numpy(), rtol=1e-6)
    assert all(len(m._forward_hooks) == 0 for m in model.modules())


def test_hooks_conv_feature_maps_flatten_and_avgpool():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU())
    x = torch.randn(6, 2, 5, 5)
    with torch.no_grad():
        maps = model[0](x)
    flat = _record(model, ["0"], x)["0"]
    assert flat.shape == (6, 4 * 5 * 5)
    np.testing.assert_allclose(flat, maps.reshape(6, -1).numpy(), rtol=1e-6)
    pooled = _record(model, ["0"], x, reduce="avgpool")["0"]
    np.testing.assert_allclose(pooled, maps.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-7)


def test_hooks_transformer_layers_batch_first_and_sequence_first():
    torch.manual_seed(2)
    x = torch.randn(4, 9, 8)  # batch 4, 9 tokens, width 8
    bf = nn.Sequential(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True))
    bf.eval()
    with torch.no_grad():
        ref = bf(x)
    got = _record(bf, ["0"], x, reduce="mean_tokens")["0"]
    np.testing.assert_allclose(got, ref.mean(dim=1).numpy(), rtol=1e-5, atol=1e-6)
    got = _record(bf, ["0"], x, reduce="first_token")["0"]
    np.testing.assert_allclose(got, ref[:, 0].numpy(), rtol=1e-5, atol=1e-6)

    # Sequence-first layer: the probe stays batch-first, `forward` transposes it.
    sf = nn.Sequential(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16))  # (L, N, D)
    sf.eval()
    with torch.no_grad():
        ref = sf(x.transpose(0, 1))  # (9, 4, 8)
    mon = Monitor(sf, ["0"], x, measures=_cheap_measures(),
                  forward=lambda m, xb: m(xb.transpose(0, 1)))
    got = mon.collect()[0]["0"]
    assert got.shape == (4, 9 * 8)
    np.testing.assert_allclose(got, ref.transpose(0, 1).reshape(4, -1).numpy(),
                               rtol=1e-5, atol=1e-6)


class _TupleAndDict(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, batch_first=True)
        self.attn = nn.MultiheadAttention(5, 1, batch_first=True)

    def forward(self, x):
        h, _ = self.lstm(x)
        a, _ = self.attn(h, h, h)
        return {"logits": a.sum(-1), "last_hidden_state": a}


def test_hooks_tuple_and_dict_outputs_take_the_documented_tensor():
    torch.manual_seed(3)
    model = _TupleAndDict()
    x = torch.randn(5, 4, 3)
    out = _record(model, ["lstm", "attn", ""], x)
    with torch.no_grad():
        h, _ = model.lstm(x)
        a, _ = model.attn(h, h, h)
    np.testing.assert_allclose(out["lstm"], h.reshape(5, -1).numpy(), rtol=1e-5)
    np.testing.assert_allclose(out["attn"], a.reshape(5, -1).numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out[""], a.reshape(5, -1).numpy(), rtol=1e-5, atol=1e-7)


def test_unknown_layer_name_suggests_close_names():
    model = nn.Sequential(nn.Linear(2, 2))
    model.add_module("encoder", nn.Linear(2, 2))
    with pytest.raises(InvalidParameterError, match="no layer named 'encodr'.*'encoder'"):
        LayerRecorder(model, ["encodr"])
    with pytest.raises(InvalidParameterError, match="reduce"):
        LayerRecorder(model, ["encoder"], reduce="maxpool")


# ------------------------------------------------------------------- state restoring
def test_measurement_uses_eval_no_grad_and_restores_each_module_mode():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 3))
    model.train()
    model[1].eval()  # a frozen BatchNorm inside a training model must stay frozen
    modes = {name: m.training for name, m in model.named_modules()}
    running = model[1].running_mean.clone()
    x = torch.randn(40, 4)
    y = np.arange(40) % 3
    mon = Monitor(model, ["2"], (x, y), measures=_cheap_measures())
    mon.measure()
    first = {r["measure"]: r["value"] for r in mon.rows if r["layer"] == "2"}
    mon.measure(epoch=1)  # dropout active would make the two measurements differ
    second = {r["measure"]: r["value"] for r in mon.rows if r["layer"] == "2" and r["epoch"] == 1}
    assert first == second
    assert {name: m.training for name, m in model.named_modules()} == modes
    assert torch.equal(model[1].running_mean, running)
    assert torch.is_grad_enabled()
    assert all(p.grad is None for p in model.parameters())
    assert all(len(m._forward_hooks) == 0 for m in model.modules())

    model.eval()
    Monitor(model, ["0"], (x, y), measures=_cheap_measures()).measure()
    assert not any(m.training for m in model.modules())


def test_mode_restored_even_when_forward_fails():
    model = nn.Sequential(nn.Linear(4, 3))
    model.train()
    mon = Monitor(model, ["0"], torch.randn(10, 5), measures=_cheap_measures())  # wrong width
    with pytest.raises(RuntimeError):
        mon.measure()
    assert model.training and model[0].training
    assert len(model[0]._forward_hooks) == 0


# -------------------------------------------------------------------------- probe set
def test_probe_is_a_copy_and_subsampling_is_seeded():
    x = torch.arange(60.0).reshape(30, 2)
    y = np.arange(30) % 3
    probe = ProbeSet(x, y, max_samples=12, seed=5)
    again = ProbeSet(x, y, max_samples=12, seed=5)
    assert torch.equal(probe.x, again.x) and np.array_equal(probe.y, again.y)
    assert np.all(np.diff(probe.indices) > 0) and len(probe) == 12
    np.testing.assert_array_equal(probe.x[:, 0].numpy() / 2, probe.indices)
    before = probe.x.clone()
    x.mul_(-1)
    y[:] = 7
    assert torch.equal(probe.x, before)
    assert not np.any(probe.y == 7)


def test_probe_from_shuffled_loader_is_fixed_across_measurements():
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(6)
    x = torch.randn(50, 3)
    y = torch.arange(50) % 5
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    probe = ProbeSet.from_loader(loader, max_samples=40)
    assert len(probe) == 40
    # Each probe row is a source row with its own label.
    rows = {tuple(np.round(r, 6)): int(lab) for r, lab in zip(x.numpy(), y.numpy())}
    assert all(rows[tuple(np.round(r, 6))] == lab for r, lab in zip(probe.x.numpy(), probe.y))
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh())
    calls = []
    mon = Monitor(model, ["1"], loader,
                  measures=[Measure("sum", lambda Z: calls.append(Z.copy()) or float(Z.sum()))])
    mon.measure()
    mon.measure(epoch=1)
    np.testing.assert_array_equal(calls[0], calls[1])


def test_input_partition_is_computed_once_and_reused(monkeypatch):
    import infolens.measures.conditioning as part

    count = []
    real = part.spectral_clusters
    monkeypatch.setattr(part, "spectral_clusters",
                        lambda *a, **k: count.append(1) or real(*a, **k))
    rng = np.random.default_rng(0)
    x = torch.tensor(np.concatenate([rng.normal(c, 0.1, (20, 2)) for c in (0, 3, 6)]),
                     dtype=torch.float32)
    y = np.repeat(np.arange(3), 20)
    probe = ProbeSet(x, y, n_clusters=3)
    model = nn.Sequential(nn.Identity())
    mon = Monitor(model, ["0"], probe, measures=default_measures(n_repeats=2))
    for _ in range(3):
        mon.epoch_end()
    assert len(count) == 1
    # Identity embedding of three separated blobs: the input clusters are the classes.
    dsmi_x = mon.history("dsmi_x", "0")[2]
    dsmi_y = mon.history("dsmi_y", "0")[2]
    np.testing.assert_allclose(dsmi_x, dsmi_y, rtol=1e-12)


# ------------------------------------------------------------------ measures, schedule
def test_dsmi_y_tracks_label_information_in_a_layer():
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(4), 25)
    informative = np.eye(4)[y] * 5 + rng.normal(0, 0.1, (100, 4))
    noise = rng.normal(0, 1, (100, 4))
    x = torch.tensor(np.hstack([informative, noise]), dtype=torch.float32)

    class Split(nn.Module):
        def __init__(self):
            super().__init__()
            self.info = nn.Identity()
            self.noise = nn.Identity()

        def forward(self, v):
            return self.info(v[:, :4]) + 0 * self.noise(v[:, 4:]).sum()

    mon = Monitor(Split(), ["info", "noise"], (x, y),
                  measures=default_measures(n_repeats=3), accuracy=False)
    mon.measure()
    info = mon.history("dsmi_y", "info")[2][0]
    noise = mon.history("dsmi_y", "noise")[2][0]
    # At t = 1 the default local bandwidth also counts structure inside each class, so
    # the informative layer sits well below log2(4) = 2 bits (0.80 here); the noise
    # layer carries none.
    assert info > 0.5 and info > abs(noise) + 0.4
    assert abs(noise) < 0.3


def test_default_measure_names_and_custom_callables():
    names = [m.name for m in default_measures(sigma=10)]
    assert names == ["dse@sigma=10", "dsmi_y@sigma=10", "dsmi_x@sigma=10"]
    model = nn.Sequential(nn.Linear(3, 4))
    x = torch.randn(30, 3)
    y = np.arange(30) % 2
    mon = Monitor(model, ["0"], (x, y),
                  measures=[infolens.cse, Measure("csmi_y", infolens.csmi, reference="y")])
    mon.measure()
    row = next(r for r in mon.rows if r["measure"] == "cse")
    assert row["unit"] == "bits"
    assert row["value"] == pytest.approx(infolens.cse(mon.collect()[0]["0"]))
    with pytest.raises(InvalidParameterError, match="unique"):
        Monitor(model, ["0"], (x, y), measures=[infolens.cse, infolens.cse])


def test_step_schedule_measures_at_init_and_every_k_steps():
    model = nn.Sequential(nn.Linear(3, 4))
    mon = Monitor(model, ["0"], torch.randn(20, 3), measures=_cheap_measures(), every=2,
                  unit="step")
    for _ in range(5):
        mon.step()
    mon.epoch_end()
    steps = sorted({r["step"] for r in mon.rows if r["measure"] == "mean"})
    assert steps == [0, 2, 4]
    overhead = [r for r in mon.rows if r["measure"] == "monitor_overhead_s"]
    assert len(overhead) == 3 and all(r["value"] > 0 and r["unit"] == "s" for r in overhead)
    assert mon.overhead_s == pytest.approx(sum(r["value"] for r in overhead))


# --------------------------------------------------------------------------- run log
def test_runlog_drops_partial_line_skips_duplicates_refuses_nan(tmp_path):
    path = tmp_path / "log.jsonl"
    row = {"epoch": 0, "step": 0, "layer": "a", "measure": "m", "value": 1.5, "unit": "bits"}
    with RunLog(path) as log:
        assert log.append(row)
        assert not log.append(dict(row, value=2.0))
        with pytest.raises(InvalidParameterError, match="finite"):
            log.append(dict(row, measure="n", value=float("nan")))
    with open(path, "a") as fh:
        fh.write('{"epoch": 1, "step": 0, "lay')  # a record cut by a crash
    assert len(read_runlog(path)) == 1
    with RunLog(path) as log:
        assert len(log) == 1
        assert log.append(dict(row, epoch=1))
    lines = path.read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [0, 1]


class _Crash(Exception):
    pass


class _Bomb:
    """A measure that raises on its n-th call (a crash in the middle of a measurement)."""

    def __init__(self, at=None):
        self.at = at
        self.calls = 0

    def __call__(self, Z):
        self.calls += 1
        if self.at is not None and self.calls == self.at:
            raise _Crash
        return float(np.abs(Z).mean())


def _train(run_dir, n_epochs, *, bomb=None, checkpoint=None, store=None):
    """A deterministic training loop with a monitor and per-epoch checkpoints."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 4, generator=gen)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    measures = [Measure("bomb", bomb or _Bomb()), Measure("dse", infolens.dse)]
    mon = Monitor(model, ["1", "2"], (x[:40], y[:40].numpy()), measures=measures,
                  run_dir=run_dir, seed=0)
    first = 0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        opt.load_state_dict(checkpoint["opt"])
        mon.load_state_dict(checkpoint["monitor"])
        first = checkpoint["monitor"]["epoch"]
    mon.start()
    for epoch in range(first, n_epochs):
        total = 0.0
        for i in range(0, 64, 16):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[i:i + 16]), y[i:i + 16])
            loss.backward()
            opt.step()
            mon.step()
            total += loss.item()
        mon.epoch_end({"train_loss": total / 4})
        if store is not None:
            store["last"] = {"model": copy.deepcopy(model.state_dict()),
                             "opt": copy.deepcopy(opt.state_dict()),
                             "monitor": mon.state_dict()}
    mon.close()


def _comparable(rows):
    out = {}
    for r in rows:
        key = (r["epoch"], r["step"], r["layer"], r["measure"])
        assert key not in out, f"duplicate row {key}"
        out[key] = None if r["measure"] == "monitor_overhead_s" else (r["value"], r["unit"])
    return out


def test_resume_after_crash_gives_exactly_the_uninterrupted_rows(tmp_path):
    clean = tmp_path / "clean"
    _train(clean, 4)
    reference = _comparable(read_runlog(clean / "runlog.jsonl"))
    assert len(reference) == 5 * (1 + 2 * 2 + 1) + 4  # 5 measurements, 4 losses

    crashed = tmp_path / "crashed"
    store = {}
    # 2 layers x 1 bomb call per measurement: call 8 is layer "2" of the epoch-3 measurement.
    with pytest.raises(_Crash):
        _train(crashed, 4, bomb=_Bomb(at=8), store=store)
    with open(crashed / "runlog.jsonl", "a") as fh:
        fh.write('{"epoch": 3, "step": 12, "layer": "2", "meas')
    partial = _comparable(read_runlog(crashed / "runlog.jsonl"))
    assert 0 < len(partial) < len(reference)
    assert store["last"]["monitor"]["epoch"] == 2
    _train(crashed, 4, checkpoint=store["last"])
    resumed = _comparable(read_runlog(crashed / "runlog.jsonl"))
    assert resumed == reference


def test_tensorboard_scalars_are_written(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = nn.Sequential(nn.Linear(3, 4))
    mon = Monitor(model, ["0"], torch.randn(20, 3), measures=_cheap_measures(),
                  run_dir=tmp_path / "run", tensorboard=True)
    mon.epoch_end({"train_loss": 0.5})
    mon.close()
    acc = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert {"mean/0", "dse/0", "train_loss/model"} <= set(tags)
    logged = [r["value"] for r in mon.rows if r["measure"] == "mean"]
    assert [e.value for e in acc.Scalars("mean/0")] == pytest.approx(logged)
    assert [e.step for e in acc.Scalars("mean/0")] == [0, 1]
