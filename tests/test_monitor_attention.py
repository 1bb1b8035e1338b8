"""The monitor records attention entropy per head on attention modules, and the
report draws it as a heat map over training."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from infolens import attention_entropy
from infolens.bench.tiny_transformer import make_model
from infolens.monitor import Measure, Monitor
from infolens.monitor.attention import AttentionRecorder, default_extract
from infolens.runs.report import find_runs, write_report


def _model_and_tokens(seed=0):
    torch.manual_seed(seed)
    model = make_model(12, d_model=16, n_heads=2, n_layers=2, context=8)
    tokens = torch.from_numpy(np.random.default_rng(seed).integers(0, 12, size=(24, 8)))
    return model, tokens


def test_recorder_equals_attention_entropy_of_the_whole_probe():
    model, tokens = _model_and_tokens()
    with AttentionRecorder(model, ["blocks.0", "blocks.1"]) as recorder:
        with torch.no_grad():
            for chunk in tokens.split(10):               # batches of 10, 10, 4
                model(chunk)
    with torch.no_grad():
        _, attention = model(tokens, return_attention=True)
    for name, probs in zip(("blocks.0", "blocks.1"), attention):
        expected = attention_entropy(probs.numpy(), causal=True, normalize=True)
        np.testing.assert_allclose(recorder.per_head[name], expected, atol=1e-12)
        assert recorder.per_head[name].shape == (2,)


def test_default_extract_refuses_outputs_without_attention_weights():
    with pytest.raises(ValueError, match="output_attentions=True"):
        default_extract((torch.zeros(2, 3, 4),))


def test_monitor_logs_heads_from_initialisation_and_report_draws_the_heat_map(tmp_path):
    model, tokens = _model_and_tokens()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    monitor = Monitor(model, ["blocks.1"], (tokens,), run_dir=tmp_path / "run",
                      measures=[Measure("dse")], attention_layers=["blocks.0", "blocks.1"],
                      settings={"group": "tiny"})
    for _ in range(2):
        logits = model(tokens[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 12), tokens[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        monitor.epoch_end({"train_loss": loss.item()})
    monitor.close()
    rows = [r for r in monitor.rows if r["measure"] == "attention_entropy"]
    assert sorted({(r["epoch"], r["layer"]) for r in rows}) == [
        (e, layer) for e in (0, 1, 2) for layer in ("blocks.0", "blocks.1")]
    for row in rows:
        assert len(row["per_head"]) == 2 and row["unit"] == "fraction"
        assert 0.0 <= min(row["per_head"]) <= max(row["per_head"]) <= 1.0
        assert row["value"] == pytest.approx(np.mean(row["per_head"]))
    report = write_report(find_runs([tmp_path / "run"]), str(tmp_path / "report"))
    assert any(p.endswith("attention_heatmap.png") for p in report["figures"])
