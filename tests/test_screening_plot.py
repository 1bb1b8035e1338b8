"""The screening scatter: units on the axes, one panel per zoo factor with its
legend below the points, and a fit line that stays inside the data."""

from __future__ import annotations

import numpy as np
import pytest

from infolens.batch import screening_plot
from infolens.batch.screening_plot import axis_label, plot_screening, zoo_factors


def _zoo(n=27, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        width, depth, epochs = (8, 32, 128)[i % 3], 1 + (i // 3) % 3, (1, 3, 30)[i // 9]
        dsmi = 0.3 + 0.01 * width / 8 + 0.2 * np.log(epochs) + 0.05 * rng.normal()
        rows.append({"name": f"m{i}", "accuracy": float(np.clip(0.6 * dsmi, 0, 1)),
                     "dsmi": float(dsmi),
                     "meta": {"width": width, "depth": depth, "epochs": epochs, "id": i}})
    return rows


def test_axis_labels_carry_units():
    assert axis_label("dsmi") == "dsmi [bits]"
    assert axis_label("accuracy") == "accuracy [fraction]"
    assert axis_label('dse{"t":2}') == 'dse{"t":2} [bits]'
    assert axis_label("my_custom_column") == "my_custom_column"


def test_factors_are_meta_keys_with_two_to_ten_levels():
    factors = zoo_factors(_zoo())
    assert list(factors) == ["width", "depth", "epochs"]      # "id" has 27 levels
    assert factors["epochs"] == [1, 3, 30]


def test_one_panel_per_factor_legend_outside_and_line_inside_the_data(tmp_path, monkeypatch):
    saved = {}
    monkeypatch.setattr(screening_plot.np, "polyfit", lambda x, y, deg: (5.0, -1.0))
    plt = pytest.importorskip("matplotlib.pyplot")
    original = plt.Figure.savefig

    def keep(fig, path, **kw):
        saved["fig"] = fig
        return original(fig, path, **kw)

    monkeypatch.setattr(plt.Figure, "savefig", keep)
    table = _zoo()
    path = plot_screening(table, "dsmi", tmp_path / "scatter.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    axes = saved["fig"].axes
    assert [ax.get_title() for ax in axes] == [f"coloured by {f}" for f in
                                               ("width", "depth", "epochs")]
    x = np.array([r["dsmi"] for r in table])
    y = np.array([r["accuracy"] for r in table])
    for ax in axes:
        assert ax.get_xlabel() == "dsmi [bits]"
        legend = ax.get_legend()
        assert legend is not None and legend.get_bbox_to_anchor().y1 < ax.bbox.y0 + 1
        line = ax.get_lines()[0]
        lx, ly = line.get_xdata(), line.get_ydata()
        # A steep fit line would leave the data's box; it is cut at its edges.
        assert lx.min() >= x.min() - 1e-12 and lx.max() <= x.max() + 1e-12
        assert ly.min() >= y.min() - 1e-9 and ly.max() <= y.max() + 1e-9
    assert axes[0].get_ylabel() == "accuracy [fraction]"
