"""The training-dynamics study: one real monitored run, and the verdict logic on known numbers."""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from infolens.monitor import read_runlog  # noqa: E402
from infolens.bench.study import (  # noqa: E402
    StudyConfig,
    _init_weights,
    _model,
    load_data,
    train_run,
)


def test_one_monitored_run_logs_both_layers_and_both_bandwidths(tmp_path):
    cfg = StudyConfig(quick=True)
    cfg.epochs, cfg.probe_size, cfg.n_repeats = 1, 120, 2
    data = load_data(cfg.probe_size)
    assert data[2].shape == (120, 1, 8, 8) and 0 <= data[0].min() and data[0].max() <= 1
    assert np.bincount(data[3]).min() >= 11  # stratified probe: every digit present
    train_run("random labels", 0, data, cfg, tmp_path / "run")
    rows = read_runlog(tmp_path / "run" / "runlog.jsonl")
    got = {(r["epoch"], r["layer"], r["measure"]) for r in rows}
    for epoch in (0, 1):
        for layer in ("block2", "penultimate"):
            for m in ("dse", "dsmi_y", "dsmi_x", "dse@sigma=10", "dsmi_y@sigma=10",
                      "dsmi_x@sigma=10"):
                assert (epoch, layer, m) in got
    sigma10 = next(r for r in rows if r["measure"] == "dse@sigma=10")
    assert sigma10["params"]["sigma"] == 10.0
    block = next(r for r in rows if r["layer"] == "block2")
    assert block["n_features"] == 32 * 4 * 4 and block["n_samples"] == 120
    assert {(0, "", "val_accuracy"), (1, "", "train_loss"), (1, "", "train_accuracy"),
            (1, "", "val_accuracy"), (1, "", "val_loss")} <= got


def test_init_scale_sets_every_weight_std_and_zero_bias():
    torch.manual_seed(0)
    model = _model()
    _init_weights(model, 0.01)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            assert torch.count_nonzero(p) == 0
        elif p.numel() > 500:
            assert float(p.std()) == pytest.approx(0.01, rel=0.1)


# The verdict logic on known numbers (premises, seed agreement, trend) is tested in
# tests/test_verdicts.py; the former tests here judged "keeps rising" on endpoints.


def test_demo_command_names_the_report_folder_and_never_reuses_one(tmp_path, monkeypatch):
    import argparse
    import io

    import infolens.bench.study as study
    from infolens import InvalidParameterError

    monkeypatch.chdir(tmp_path)
    calls = []

    def fake_run_study(folder, quick=False, progress=True, resume=False, workers=1):
        calls.append((folder, quick, progress))
        os.makedirs(os.path.join(folder, "runs"), exist_ok=resume)
        return {"wall_s": 1.0, "html": os.path.join(folder, "report", "index.html"),
                "report_dir": os.path.join(folder, "report"),
                "findings": [{"finding": "f", "held": False}]}

    monkeypatch.setattr(study, "run_study", fake_run_study)
    parser = argparse.ArgumentParser()
    study.add_demo_arguments(parser)
    for expected in ("infolens-demo", "infolens-demo-2"):
        out = io.StringIO()
        assert study.demo_command(parser.parse_args(["--quick", "--no-progress"]), out) == 0
        assert calls[-1] == (expected, True, False)
        text = out.getvalue()
        assert f"report folder: {os.path.join(expected, 'report')}" in text
        assert "DID NOT HOLD" in text
    with pytest.raises(InvalidParameterError, match="already holds a study.*--resume"):
        study.demo_command(parser.parse_args(["--out", "infolens-demo"]), io.StringIO())
    out = io.StringIO()
    args = parser.parse_args(["--out", "infolens-demo", "--resume", "--quick", "--no-progress"])
    assert study.demo_command(args, out) == 0 and "resuming" in out.getvalue()
    assert "verdicts below mean nothing" in out.getvalue()
