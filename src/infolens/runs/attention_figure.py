"""Heat maps of attention entropy per head over training.

The monitor logs one row per attention layer and measurement with the mean
over heads as ``value`` and the per-head values in ``per_head`` (see
:mod:`infolens.monitor.attention`).  :func:`plot_attention_heatmap` draws one
panel per layer: epochs across, heads down, colour = the entropy (normalised
to [0, 1] when it was measured so), averaged over the runs of the first group
that logged it — collapsed heads are dark, overloaded heads bright.
"""

from __future__ import annotations

import numpy as np

from infolens.core import optional
from infolens.runs.loading import by_group

__all__ = ["ATTENTION_MEASURE", "attention_grid", "plot_attention_heatmap"]

#: Name of the monitor's attention-entropy measure in the run log.
ATTENTION_MEASURE = "attention_entropy"


def attention_grid(runs, layer):
    """(x values, array of shape (heads, len(x))) of the mean per-head entropy over ``runs``."""
    key = "step" if all(r.x_unit == "step" for r in runs) else "epoch"
    cells = {}
    for run in runs:
        for row in run.rows:
            if row["measure"] == ATTENTION_MEASURE and row["layer"] == layer \
                    and isinstance(row.get("per_head"), list):
                cells.setdefault(row[key], []).append(np.asarray(row["per_head"], dtype=float))
    if not cells:
        return None
    xs = sorted(cells)
    heads = max(len(v) for values in cells.values() for v in values)
    grid = np.full((heads, len(xs)), np.nan)
    for j, x in enumerate(xs):
        same = [v for v in cells[x] if len(v) == heads]
        if same:
            grid[:, j] = np.mean(same, axis=0)
    return np.asarray(xs), grid


def plot_attention_heatmap(runs, out_path):
    """One panel per attention layer (epochs × heads); None when nothing was logged."""
    groups = by_group(runs)
    layers = []
    for run in runs:
        for row in run.rows:
            if row["measure"] == ATTENTION_MEASURE and row["layer"] not in layers:
                layers.append(row["layer"])
    if not layers:
        return None
    group, members = next((g, m) for g, m in groups.items()
                          if any(r["measure"] == ATTENTION_MEASURE for run in m for r in run.rows))
    plt = optional.matplotlib_pyplot("the attention heat map")
    unit = next((r.get("unit") for run in members for r in run.rows
                 if r["measure"] == ATTENTION_MEASURE), "")
    fig, axes = plt.subplots(1, len(layers), squeeze=False, layout="constrained",
                             figsize=(3.2 * len(layers) + 1.2, 3.6))
    image = None
    for ax, layer in zip(axes[0], layers):
        found = attention_grid(members, layer)
        if found is None:
            ax.set_visible(False)
            continue
        xs, grid = found
        image = ax.imshow(grid, aspect="auto", cmap="magma", origin="upper",
                          vmin=0.0, vmax=1.0 if unit == "fraction" else np.nanmax(grid),
                          extent=(xs[0] - 0.5, xs[-1] + 0.5, grid.shape[0] - 0.5, -0.5),
                          interpolation="nearest")
        ax.set_yticks(range(grid.shape[0]))
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_title(f"layer '{layer}'", fontsize=9)
        ax.set_xlabel("epoch" if all(r.x_unit != "step" for r in members) else "step")
        ax.set_ylabel("head")
    if image is not None:
        label = "normalised attention entropy" if unit == "fraction" else \
            f"attention entropy [{unit}]"
        fig.colorbar(image, ax=axes, shrink=0.85).set_label(label)
    fig.suptitle(f"Attention entropy per head during training ({group}; mean over seeds; "
                 "dark = collapsed, bright = overloaded)", fontsize=10)
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path
