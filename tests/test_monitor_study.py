"""The training-dynamics study: one real monitored run, and the verdict logic on known numbers."""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from infolens.monitor import read_runlog  # noqa: E402
from infolens.runs.report import Run  # noqa: E402
from infolens.bench.study import (  # noqa: E402
    REGIMES,
    StudyConfig,
    _init_weights,
    _model,
    assess_findings,
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


def _run(group, seed, curves):
    rows = []
    for measure, values in curves.items():
        layer = "" if measure == "val_accuracy" else "penultimate"
        for epoch, v in enumerate(values):
            rows.append({"epoch": epoch, "step": epoch, "layer": layer, "measure": measure,
                         "value": float(v), "unit": "bits"})
            if layer:
                rows.append(dict(rows[-1], layer="block2"))
    return Run(f"/x/{group}-{seed}", {"group": group, "seed": seed}, rows)


def _curves(dse, dsmi_y, dsmi_x, acc):
    out = {}
    for suffix in ("", "@sigma=10"):
        out["dse" + suffix] = dse
        out["dsmi_y" + suffix] = dsmi_y
        out["dsmi_x" + suffix] = dsmi_x
    out["val_accuracy"] = acc
    return out


def test_verdicts_follow_the_numbers():
    runs = []
    for seed in (0, 1):
        runs.append(_run("supervised", seed, _curves([1, 2, 3], [0, 0.5, 1.0 + seed / 10],
                                                     [0, 0.2, 0.4], [0.1, 0.8, 0.95])))
        runs.append(_run("random labels", seed, _curves([1, 1.5, 2], [0, 0.01, 0.02],
                                                        [0, 0.1, 0.2], [0.1, 0.1, 0.1])))
        # Identical initial DSE for the two scales -> no low-DSE start: inconclusive.
        runs.append(_run("init std 0.01", seed, _curves([1, 0.5, 0.4], [0, 0.5, 1],
                                                        [0, 0.3, 0.1], [0.1, 0.5, 0.9])))
        runs.append(_run("init std 0.1", seed, _curves([1, 2, 3], [0, 0.5, 1],
                                                       [0, 0.3, 0.1], [0.1, 0.92, 0.97])))
    findings, numbers = assess_findings(runs)
    by = {f["finding"]: f for f in findings}
    gap = next(f for name, f in by.items() if name.startswith("DSMI(Z;Y) ends higher")
               and "scale-aware" in name)
    assert gap["held"] is True
    assert numbers["scale_aware"]["dsmi_y_gap_bits"] == pytest.approx([0.98, 1.08])
    flat = next(f for name, f in by.items() if name.startswith("DSMI(Z;Y) stays"))
    assert flat["held"] is True
    dse = next(f for name, f in by.items() if name.startswith("DSE(Z) increases"))
    assert dse["held"] is False  # init std 0.01 lost DSE
    assert numbers["scale_aware"]["dse_change_init std 0.01"] == pytest.approx([-0.6, -0.6])
    faster = next(f for name, f in by.items() if name.startswith("The low-DSE initialisation tr"))
    assert faster["held"] is None and "Neither start" in faster["evidence"]
    dsmix = next(f for name, f in by.items() if name.startswith("DSMI(Z;X)"))
    assert dsmix["held"] is True
    assert by["The conclusions are the same under σ = 10 and the scale-aware bandwidth"][
        "held"] is True
    assert set(REGIMES) == {"supervised", "random labels", "init std 0.01", "init std 0.1"}


def test_dsmi_x_that_peaks_then_falls_is_not_reported_as_rising():
    runs = []
    for seed in (0, 1):
        runs.append(_run("supervised", seed, _curves([1, 2, 3], [0, 0.5, 1.0],
                                                     [0, 1.0, 0.5], [0.1, 0.8, 0.95])))
        runs.append(_run("random labels", seed, _curves([1, 1, 1], [0, 0.6, 1.2],
                                                        [0, 0.1, 0.2], [0.1, 0.1, 0.1])))
        runs.append(_run("init std 0.01", seed, _curves([0, 1, 2], [0, 0.5, 1],
                                                        [0, 0.3, 0.1], [0.1, 0.95, 0.99])))
        runs.append(_run("init std 0.1", seed, _curves([1, 2, 3], [0, 0.5, 1],
                                                       [0, 0.3, 0.1], [0.1, 0.5, 0.9])))
    findings, numbers = assess_findings(runs)
    held = {f["finding"].split(" [")[0]: f["held"] for f in findings if f["variant"] == "sigma10"}
    assert held["DSMI(Z;X) keeps rising under supervised training (paper: MNIST)"] is False
    # Random labels end 0.2 bits *above* supervised: the gap finding must fail, not hide.
    assert held["DSMI(Z;Y) ends higher under supervised training than under random labels"] \
        is False
    assert numbers["sigma10"]["dsmi_y_gap_bits"] == pytest.approx([-0.2, -0.2])
    # std 0.01 starts lower (0 vs 1 bit), reaches 90 % first and ends higher: held.
    assert held["The low-DSE initialisation trains faster"] is True
    assert held["The low-DSE initialisation ends with higher accuracy"] is True


def test_demo_command_names_the_report_folder_and_never_reuses_one(tmp_path, monkeypatch):
    import argparse
    import io

    import infolens.bench.study as study
    from infolens import InvalidParameterError

    monkeypatch.chdir(tmp_path)
    calls = []

    def fake_run_study(folder, quick=False, progress=True):
        calls.append((folder, quick, progress))
        os.makedirs(os.path.join(folder, "runs"))
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
    with pytest.raises(InvalidParameterError, match="already holds a study"):
        study.demo_command(parser.parse_args(["--out", "infolens-demo"]), io.StringIO())
