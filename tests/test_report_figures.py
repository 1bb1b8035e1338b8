"""What the report's figures show: log axis and σ = 10 line for distances, one
information-plane column per regime, training legends outside the data, a
caption under every figure, and a one-line ``repr`` of results."""

from __future__ import annotations

import re

import numpy as np
import pytest

from infolens.runs import figures
from infolens.runs.report import find_runs, write_report
from infolens.runs.runlog import RunLog

import infolens


def _run(folder, group, seed, scale):
    folder.mkdir(parents=True)
    (folder / "settings.json").write_text(f'{{"group": "{group}", "seed": {seed}}}')
    with RunLog(folder / "runlog.jsonl", fsync=False) as log:
        for epoch in range(4):
            for layer in ("a", "b"):
                for name, value in (("rms_distance", scale * 10.0 ** epoch),
                                    ("dsmi_x", 0.2 * epoch), ("dsmi_y", 0.3 * epoch)):
                    log.append({"epoch": epoch, "step": epoch, "layer": layer,
                                "measure": name, "value": value, "unit": "bits"})
            for name, unit in (("val_accuracy", "fraction"), ("train_loss", "nats")):
                log.append({"epoch": epoch, "step": epoch, "layer": "", "measure": name,
                            "value": 0.1 * (epoch + 1), "unit": unit})


@pytest.fixture
def captured(tmp_path, monkeypatch):
    for seed in (0, 1):
        for group, scale in (("supervised", 0.01), ("random labels", 0.1), ("init", 1.0)):
            _run(tmp_path / "runs" / f"{group}-{seed}", group, seed, scale)
    saved = {}
    original = figures._save

    def keep(plt, fig, out_path):
        saved[out_path.rsplit("/", 1)[-1]] = fig
        fig.canvas.draw()
        return original(plt, fig, out_path)

    monkeypatch.setattr(figures, "_save", keep)
    result = write_report(find_runs([tmp_path / "runs"]), str(tmp_path / "report"))
    return saved, result


def test_distances_spanning_decades_get_a_log_axis_and_the_sigma_10_line(captured):
    saved, _ = captured
    axes = [ax for ax in saved["curves_rms_distance.png"].axes if ax.has_data()]
    assert len(axes) == 2
    for ax in axes:
        assert ax.get_yscale() == "log"
        levels = [line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert levels == [10.0]
    # DSMI spans a small linear range: it stays on a linear axis.
    assert all(ax.get_yscale() == "linear" for ax in saved["curves_dsmi_y.png"].axes)


def test_panels_of_the_default_bandwidth_name_the_rule_in_use(tmp_path, monkeypatch):
    from infolens.kernels.bandwidth import BANDWIDTH_RULES, DEFAULT_RULE

    folder = tmp_path / "runs" / "a-0"
    folder.mkdir(parents=True)
    (folder / "settings.json").write_text('{"group": "a", "seed": 0}')
    with RunLog(folder / "runlog.jsonl", fsync=False) as log:
        for epoch in range(3):
            for name in ("dsmi_y", "dsmi_y@sigma=10"):
                log.append({"epoch": epoch, "step": epoch, "layer": "z", "measure": name,
                            "value": 0.1 * epoch, "unit": "bits"})
    saved, original = {}, figures._save

    def keep(plt, fig, out_path):
        saved[out_path.rsplit("/", 1)[-1]] = [ax.get_title() for ax in fig.axes]
        return original(plt, fig, out_path)

    monkeypatch.setattr(figures, "_save", keep)
    write_report(find_runs([tmp_path / "runs"]), str(tmp_path / "report"))
    titles = " | ".join(saved["curves_dsmi_y.png"])
    assert f"σ = scale-aware default ('{DEFAULT_RULE}' rule)" in titles and "σ=10" in titles
    assert not any(f"{rule} rule" in titles for rule in BANDWIDTH_RULES if rule != DEFAULT_RULE)


def test_information_plane_has_one_column_per_regime_and_an_epoch_colour_bar(captured):
    saved, _ = captured
    fig = saved["information_plane.png"]
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    titles = {ax.get_title() for ax in panels if ax.get_title()}
    assert titles == {"supervised", "random labels", "init"}
    assert len(panels) == 3 * 2          # 3 regimes x 2 layers, one variant
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)


def test_training_curves_have_one_panel_per_metric_and_no_legend_inside(captured):
    saved, _ = captured
    fig = saved["training_curves.png"]
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert sorted(ax.get_title() for ax in visible) == ["train loss", "val accuracy"]
    assert all(ax.get_legend() is None for ax in visible)
    assert len(fig.legends) == 1


def test_every_report_figure_has_a_caption(captured):
    _, result = captured
    page = open(result["html"], encoding="utf-8").read()
    figures_html = re.findall(r"<figure>.*?</figure>", page, re.S)
    assert len(figures_html) == len(result["figures"])
    captions = [re.search(r"<figcaption>(.+?)</figcaption>", f, re.S) for f in figures_html]
    assert all(c and len(c.group(1)) > 40 for c in captions)
    assert "resembles DSMI(Z; Y)" in figures.figure_caption("curves_dsmi_x.png")


def test_result_repr_is_one_line_without_arrays():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    result = infolens.bootstrap_ci(x[:, None], x + rng.normal(size=300), method="ksg", n_resamples=30,
                                   random_state=0)
    text = repr(result)
    assert "\n" not in text and len(text) < 300
    assert text.startswith("Result(bootstrap_ci = ") and "[" not in text
    assert repr(infolens.dse(rng.normal(size=(50, 3)), return_result=True)).count("\n") == 0
