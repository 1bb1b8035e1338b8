"""The study's verdicts: premise checks, seed agreement, per-layer counts, trend-based rising.

Cases from the issue measured on the old code: an initialisation "did not hold" although
both starts were at DSE ≈ 0 (premise never met); "DSMI(Z;X) keeps rising" held on a curve
flat from epoch 4 to 40 (endpoints); the supervised > random verdict ignored that 1 of 6
seeds disagreed and that the earlier layer disagreed everywhere.
"""

import os
import types

import numpy as np
import pytest

from infolens import InvalidParameterError
from infolens.bench.findings import AGREE, agreement, assess_findings, findings_markdown, \
    rising_trend
from infolens.runs.report import Run

EPOCHS = np.arange(0, 41, 4)  # 11 measurements, as in the full study


def _run(group, seed, curves, early=None):
    """A fake run; ``early`` overrides curves at the early layer (default: the same)."""
    rows = []
    for measure, values in curves.items():
        layers = [""] if measure in ("val_accuracy", "train_accuracy") else [
            "penultimate", "block2"]
        for layer in layers:
            vals = ((early or {}).get(measure.split("@")[0], values) if layer == "block2"
                    else values)
            for epoch, v in zip(EPOCHS, vals):
                rows.append({"epoch": int(epoch), "step": int(epoch), "layer": layer,
                             "measure": measure, "value": float(v), "unit": "bits",
                             "n_samples": 500})
    return Run(f"/x/{group}-{seed}", {"group": group, "seed": seed}, rows)


def _curves(dse, dsmi_y, dsmi_x, acc):
    out = {"val_accuracy": acc}
    for suffix in ("", "@sigma=10"):
        out["dse" + suffix], out["dsmi_y" + suffix], out["dsmi_x" + suffix] = dse, dsmi_y, dsmi_x
    return out


RISE = np.linspace(1, 3, 11)
ACC = np.r_[0.1, np.full(10, 0.95)]
FLAT_AFTER_4 = np.r_[0.0, np.full(10, 1.0)] + 1e-3 * np.arange(11)  # up, then flat + drift


def _study(n_seeds, *, sup_dsmi_y=None, dsmi_x=None, init_dse=(0.0, 8.5), early_dsmi_y=None):
    runs = []
    for s in range(n_seeds):
        y_sup = np.linspace(0, 1.0, 11) if sup_dsmi_y is None else sup_dsmi_y[s]
        runs.append(_run("supervised", s, _curves(RISE, y_sup,
                                                  RISE if dsmi_x is None else dsmi_x, ACC),
                         early={"dsmi_y": early_dsmi_y} if early_dsmi_y is not None else None))
        runs.append(_run("random labels", s, _curves(RISE, np.full(11, 0.3), RISE, ACC * 0 +
                                                     0.1)))
        lo = np.r_[init_dse[0], RISE[1:]]
        hi = np.r_[init_dse[1], RISE[1:] + 1]
        runs.append(_run("init std 0.01", s, _curves(lo, RISE, RISE, ACC)))
        runs.append(_run("init std 0.1", s, _curves(hi, RISE, RISE, np.r_[0.1, 0.5, ACC[2:]])))
    return assess_findings(runs)


def _get(findings, start, variant="sigma10"):
    return next(f for f in findings if f["finding"].startswith(start) and f["variant"] == variant)


def test_agreement_counts_seeds():
    assert agreement([True] * 5) == (True, "5/5 seeds")
    assert agreement([True, True, True, True, False]) == (True, "4/5 seeds")
    assert agreement([True, True, True, False, False]) == (None, "3/5 seeds")
    assert agreement([False] * 4 + [True]) == (False, "1/5 seeds")
    assert AGREE == 0.8


def test_gap_reports_seed_agreement_and_the_early_layer():
    # The sigma = 10 gaps: -0.083, +0.194, +0.182 (and two more positive seeds):
    gaps = [-0.083, 0.194, 0.182, 0.2, 0.25]
    sup = [np.r_[np.linspace(0, 0.3, 10), 0.3 + g] for g in gaps]
    findings, numbers = _study(5, sup_dsmi_y=sup, early_dsmi_y=np.full(11, 0.1))
    gap = _get(findings, "DSMI(Z;Y) ends higher")
    assert gap["held"] is True and gap["seeds"] == "4/5 seeds"
    assert gap["layers"]["block2"] == {"held": False, "seeds": "0/5 seeds"}
    assert "block2: 0/5 seeds" in gap["evidence"]
    assert numbers["sigma10"]["dsmi_y_gap_bits"] == pytest.approx(gaps)
    sup3 = [np.r_[np.linspace(0, 0.3, 10), 0.3 + g] for g in (-0.083, 0.194, 0.182)]
    gap3 = _get(_study(3, sup_dsmi_y=sup3)[0], "DSMI(Z;Y) ends higher")
    assert gap3["held"] is None and gap3["seeds"] == "2/3 seeds"  # seeds disagree


def test_initialisation_without_its_premise_is_inconclusive():
    # Both starts at DSE ~ 0 (0.000 vs 0.035 bits): the paper's contrast never happened.
    findings, _ = _study(3, init_dse=(0.0, 0.035))
    for name in ("The low-DSE initialisation trains faster",
                 "The low-DSE initialisation ends with higher"):
        f = _get(findings, name)
        assert f["held"] is None and f["premise"] and "log2 N" in f["premise"]
        assert f["evidence"].startswith("premise not met")
    # With the premise met (0 vs 8.5 bits of log2 500 = 8.97) the numbers decide.
    findings, _ = _study(3)
    assert _get(findings, "The low-DSE initialisation trains faster")["held"] is True


def test_keeps_rising_is_judged_on_the_trend_not_the_endpoints():
    findings, _ = _study(3, dsmi_x=FLAT_AFTER_4)
    f = _get(findings, "DSMI(Z;X) keeps rising")
    assert f["held"] is False and f["seeds"] == "0/3 seeds"
    findings, _ = _study(3, dsmi_x=RISE)
    assert _get(findings, "DSMI(Z;X) keeps rising")["held"] is True
    assert rising_trend(EPOCHS, FLAT_AFTER_4)[0] is False
    assert rising_trend(EPOCHS, RISE)[0] is True
    assert rising_trend([0, 1], [0, 1])[0] is None       # too few points to judge


def test_supervised_that_did_not_learn_is_no_premise():
    runs = []
    for s in range(3):
        runs.append(_run("supervised", s, _curves(RISE, RISE, RISE, np.full(11, 0.15))))
        runs.append(_run("random labels", s, _curves(RISE, np.full(11, 0.3), RISE,
                                                     np.full(11, 0.1))))
        for g in ("init std 0.01", "init std 0.1"):
            runs.append(_run(g, s, _curves(RISE, RISE, RISE, ACC)))
    findings, _ = assess_findings(runs)
    gap = _get(findings, "DSMI(Z;Y) ends higher", "scale_aware")
    assert gap["held"] is None and "validation accuracy" in gap["premise"]


def test_a_measure_stuck_at_zero_is_inconclusive():
    zero = np.zeros(11)
    runs = []
    for s in range(3):
        for g in ("supervised", "random labels", "init std 0.01", "init std 0.1"):
            runs.append(_run(g, s, _curves(zero, zero, zero, ACC)))
    findings, _ = assess_findings(runs)
    dse = _get(findings, "DSE(Z) increases")
    assert dse["held"] is None and "cannot resolve" in dse["premise"]


def test_smoke_markdown_says_verdicts_mean_nothing():
    findings, _ = _study(3)
    text = findings_markdown(findings, smoke=True)
    assert text.startswith("**Smoke run") and "| seeds |" in text


# --------------------------------------------------------------------- demo --resume
def test_demo_resume_after_ctrl_c_continues_the_study(tmp_path, monkeypatch):
    """Ctrl-C in the third run, then --resume: the two finished runs are kept, the
    interrupted one is trained again from the start, the report is written."""
    pytest.importorskip("torch")
    import infolens.bench.study as study
    from infolens.runs.runlog import RunLog

    calls = []

    def fake_train_run(regime, seed, data, cfg, run_dir, on_epoch=None):
        calls.append((regime, seed))
        with RunLog(f"{run_dir}/runlog.jsonl", fsync=False) as log:
            for epoch in range(cfg.epochs + 1):
                if len(calls) == 3 and epoch == 2 and not resuming:
                    raise KeyboardInterrupt
                log.append({"epoch": epoch, "step": epoch, "layer": "",
                            "measure": "val_accuracy", "value": 0.5, "unit": "fraction"})
        return {"wall_s": 0.0, "overhead_s": 0.0}

    monkeypatch.setattr(study, "train_run", fake_train_run)
    monkeypatch.setattr(study, "find_runs",
                        lambda dirs: [types.SimpleNamespace(rows=[], path=d) for d in dirs])
    monkeypatch.setattr(study, "assess_findings", lambda runs: ([], {"n_runs": len(runs)}))
    monkeypatch.setattr(study, "write_report",
                        lambda runs, d, **kw: (os.makedirs(d, exist_ok=True),
                                               {"html": f"{d}/index.html"})[1])
    resuming = False
    with pytest.raises(KeyboardInterrupt):
        study.run_study(tmp_path / "demo", quick=True, progress=False)
    assert len(calls) == 3
    resuming = True
    calls.clear()
    out = study.run_study(tmp_path / "demo", quick=True, progress=False, resume=True)
    n_runs = len(study.REGIMES) * len(study.StudyConfig(True).seeds)
    assert out["kept_runs"] == 2 and len(calls) == n_runs - 2
    assert out["numbers"]["n_runs"] == n_runs
    # A full study cannot resume a quick one.
    with pytest.raises(InvalidParameterError, match="other settings"):
        study.run_study(tmp_path / "demo", quick=False, progress=False, resume=True)


def test_demo_command_prints_how_to_resume_after_ctrl_c(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    import argparse
    import io

    import infolens.bench.study as study

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "run_study", interrupted)
    parser = argparse.ArgumentParser()
    study.add_demo_arguments(parser)
    out = io.StringIO()
    args = parser.parse_args(["--out", str(tmp_path / "d"), "--no-progress"])
    assert study.demo_command(args, out) == 130
    assert f"infolens demo --resume --out {tmp_path / 'd'}" in out.getvalue()


def test_readme_demo_time_comes_from_the_one_source():
    """The README's demo time, the banner and ``--help`` all come from ``StudyConfig``."""
    import re

    from infolens.bench.regimes import REGIMES, RUN_CPU_S, StudyConfig

    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"),
                  encoding="utf-8").read()
    said = re.search(r"about (\d+) minutes on 2 free cores, estimated from\s+(\d+) CPU "
                     r"seconds per run, (\d+) runs two at a time", readme)
    assert said, "the README no longer states the demo's time in the tested form"
    minutes, cpu_s, runs = map(int, said.groups())
    full = StudyConfig(False)
    assert minutes == full.minutes(2)
    assert cpu_s == RUN_CPU_S[False]
    assert runs == len(REGIMES) * len(full.seeds)
