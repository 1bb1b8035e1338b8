"""The report writes legible PNG figures and a self-contained HTML page."""

import base64
import json
import re

import numpy as np
import pytest

from infolens.cli.main import main as cli_main
from infolens.runs.runlog import RunLog
from infolens.runs.report import final_values, find_runs, write_report


def _fake_run(folder, group, seed, slope):
    """A run folder as the monitor writes it, with known values."""
    folder.mkdir(parents=True)
    (folder / "settings.json").write_text(json.dumps(
        {"group": group, "seed": seed, "lr": 0.01, "schedule": {"unit": "epoch"}}))
    with RunLog(folder / "runlog.jsonl", fsync=False) as log:
        for epoch in range(5):
            for layer in ("block", "penultimate"):
                for name, value in (("dse", 1 + slope * epoch), ("dse@sigma=10", 0.1 * epoch),
                                    ("dsmi_y", slope * epoch / 4 + seed * 0.01),
                                    ("dsmi_x", 0.5 + 0.05 * epoch),
                                    ("dsmi_y@sigma=10", 0.01 * epoch),
                                    ("dsmi_x@sigma=10", 0.02 * epoch)):
                    log.append({"epoch": epoch, "step": 10 * epoch, "layer": layer,
                                "measure": name, "value": value, "unit": "bits"})
            log.append({"epoch": epoch, "step": 10 * epoch, "layer": "",
                        "measure": "val_accuracy", "value": 0.1 + 0.1 * epoch * slope,
                        "unit": "fraction"})
            log.append({"epoch": epoch, "step": 10 * epoch, "layer": "",
                        "measure": "train_loss", "value": 2.3 / (1 + epoch), "unit": "nats"})
            log.append({"epoch": epoch, "step": 10 * epoch, "layer": "",
                        "measure": "monitor_overhead_s", "value": 0.5, "unit": "s"})


@pytest.fixture
def runs_dir(tmp_path):
    for seed in (0, 1):
        _fake_run(tmp_path / "runs" / f"sup-{seed}", "supervised", seed, 1.0)
        _fake_run(tmp_path / "runs" / f"rand-{seed}", "random labels", seed, 0.2)
    return tmp_path / "runs"


def test_find_runs_and_final_values(runs_dir):
    runs = find_runs([runs_dir])
    assert len(runs) == 4
    assert {r.group for r in runs} == {"supervised", "random labels"}
    finals = {(f["group"], f["layer"], f["measure"]): f for f in final_values(runs)}
    sup = finals[("supervised", "penultimate", "dsmi_y")]
    # last epoch 4: slope*4/4 + seed*0.01 -> 1.00 and 1.01
    assert sup["values"] == pytest.approx([1.0, 1.01])
    assert sup["mean"] == pytest.approx(1.005) and sup["n"] == 2
    assert sup["sd"] == pytest.approx(np.std([1.0, 1.01], ddof=1))
    assert ("supervised", "", "monitor_overhead_s") not in finals


def test_report_writes_pngs_and_self_contained_html(runs_dir, tmp_path):
    out = tmp_path / "report"
    findings = [{"finding": "DSMI(Z;Y) higher when supervised", "held": True,
                 "evidence": "gap 0.8 bits"},
                {"finding": "DSE rises", "held": False, "evidence": "fell by 0.1 bits"}]
    result = write_report(find_runs([runs_dir]), str(out), title="demo <test>",
                          findings=findings)
    names = sorted(p.split("/")[-1] for p in result["figures"])
    assert names == ["curves_dse.png", "curves_dsmi_x.png", "curves_dsmi_y.png",
                     "information_plane.png", "training_curves.png"]
    for p in result["figures"]:
        data = open(p, "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    page = (out / "index.html").read_text()
    assert "demo &lt;test&gt;" in page
    assert "did not hold" in page and "gap 0.8 bits" in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 5
    assert all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    assert "src=\"http" not in page and "<script" not in page
    assert "lr" in page and "supervised" in page and "random labels" in page


def test_cli_report_command(runs_dir, tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli_main(["report", str(runs_dir / "sup-0"), str(runs_dir / "rand-0"),
                     "--out", str(out)]) == 0
    assert (out / "index.html").is_file()
    assert "report:" in capsys.readouterr().out
    assert cli_main(["report", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert "no such run folder" in capsys.readouterr().err
