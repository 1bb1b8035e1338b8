"""Figures of monitor runs (PNG, headless): curves per measure family, the information
plane and the training curves.

* ``curves_<measure>.png``: each measure family (``dse``, ``dsmi_y``,
  ``dsmi_x``, custom ones) against the epoch, one panel per layer and per
  bandwidth variant, mean over seeds with a min-max band;
* ``information_plane.png``: DSMI(Z; X) against DSMI(Z; Y), points coloured by
  epoch, one panel per layer and variant;
* ``training_curves.png``: accuracy and loss of the whole model.

matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from infolens.core import optional
from infolens.runs.loading import by_group, layer_names, measure_names, seed_band, split_variant

__all__ = ["MEASURE_LABELS", "measure_label", "plot_information_plane", "plot_measure_family",
           "plot_training_curves"]

#: Axis labels of the built-in measure families.
MEASURE_LABELS = {
    "dse": "DSE(Z)",
    "dsmi_y": "DSMI(Z; Y)",
    "dsmi_x": "DSMI(Z; X)",
    "cse": "CSE(Z)",
    "csmi_y": "CSMI(Z; Y)",
    "rms_distance": "RMS pairwise distance of Z",
}


def measure_label(name, unit=""):
    """Axis label of a measure name, with its unit."""
    base, variant = split_variant(name)
    label = MEASURE_LABELS.get(base, base)
    if variant:
        label += f", {variant.replace('sigma', 'σ')}"
    return f"{label} [{unit}]" if unit else label


def _variant_title(variant):
    return variant.replace("sigma", "σ") if variant else "σ = scale-aware (median rule)"


def _plt():
    return optional.matplotlib_pyplot("the run report's figures")


def _colors(n):
    plt = _plt()
    cmap = plt.get_cmap("tab10")
    return [cmap(i % 10) for i in range(n)]


def _x_label(runs):
    return "optimizer step" if all(r.x_unit == "step" for r in runs) else "epoch"


# ---------------------------------------------------------------------- figures
def _style_axis(ax):
    ax.xaxis.set_major_locator(_plt().MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


def _save(plt, fig, out_path):
    """Write ``fig`` as a PNG at ``out_path``, close it and return the path."""
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def _legend(fig, axes):
    handles, labels = [], []
    for ax in np.ravel(axes):
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4),
                   frameon=False, fontsize=9)


def _draw_band(ax, band, color, alpha, **line):
    """The mean over seeds as a line and, for several seeds, their min-max as a band."""
    x, mean, lo, hi, n = band
    ax.plot(x, mean, color=color, **line)
    if n > 1:
        ax.fill_between(x, lo, hi, color=color, alpha=alpha, lw=0)


def plot_measure_family(runs, base, out_path):
    """Curves of one measure family, per layer (columns) and bandwidth variant (rows)."""
    plt = _plt()
    names = [m for m in measure_names(runs, False) if split_variant(m)[0] == base]
    layers = layer_names(runs)
    groups = by_group(runs)
    colors = _colors(len(groups))
    fig, axes = plt.subplots(len(names), len(layers), squeeze=False, layout="constrained",
                             figsize=(4.6 * len(layers) + 1.2, 3.3 * len(names) + 0.8))
    for i, name in enumerate(names):
        unit = next((r.unit_of(name) for r in runs if r.unit_of(name)), "")
        for j, layer in enumerate(layers):
            ax = axes[i][j]
            for color, (group, members) in zip(colors, groups.items()):
                band = seed_band(members, name, layer)
                if band is not None:
                    _draw_band(ax, band, color, 0.2, lw=1.8, label=f"{group} (n={band[4]})")
            variant = split_variant(name)[1]
            title = f"layer '{layer}'"
            if len(names) > 1 or variant:
                title += f" — {_variant_title(variant)}"
            ax.set_title(title, fontsize=10)
            ax.set_xlabel(_x_label(runs))
            ax.set_ylabel(measure_label(base, unit))
            _style_axis(ax)
    fig.suptitle(f"{MEASURE_LABELS.get(base, base)} during training "
                 f"(line: mean over seeds; band: min–max)", fontsize=11)
    _legend(fig, axes)
    return _save(plt, fig, out_path)


def plot_information_plane(runs, out_path):
    """DSMI(Z; X) against DSMI(Z; Y) per layer and variant, coloured by epoch."""
    plt = _plt()
    names = measure_names(runs, False)
    variants = [v for v in OrderedDict.fromkeys(split_variant(m)[1] for m in names)
                if f"dsmi_x{'@' + v if v else ''}" in names
                and f"dsmi_y{'@' + v if v else ''}" in names]
    if not variants:
        return None
    layers = layer_names(runs)
    groups = by_group(runs)
    colors = _colors(len(groups))
    markers = "osD^vP*Xh"
    fig, axes = plt.subplots(len(variants), len(layers), squeeze=False, layout="constrained",
                             figsize=(4.6 * len(layers) + 1.8, 3.7 * len(variants) + 0.8))
    epochs_all = [x for r in runs for m in names for layer in layers
                  for x in r.series(m, layer)[0]]
    vmin, vmax = (min(epochs_all), max(epochs_all)) if epochs_all else (0, 1)
    scatter = None
    for i, variant in enumerate(variants):
        suffix = "@" + variant if variant else ""
        unit = next((r.unit_of("dsmi_y" + suffix) for r in runs), "")
        for j, layer in enumerate(layers):
            ax = axes[i][j]
            for k, (color, (group, members)) in enumerate(zip(colors, groups.items())):
                bx = seed_band(members, "dsmi_x" + suffix, layer)
                by = seed_band(members, "dsmi_y" + suffix, layer)
                if bx is None or by is None:
                    continue
                common = np.intersect1d(bx[0], by[0])
                mx = bx[1][np.searchsorted(bx[0], common)]
                my = by[1][np.searchsorted(by[0], common)]
                ax.plot(mx, my, color=color, lw=1.2, alpha=0.8)
                ax.plot([], [], color=color, lw=1.2, marker=markers[k % len(markers)],
                        mfc="white", label=group)
                scatter = ax.scatter(mx, my, c=common, cmap="viridis", vmin=vmin, vmax=vmax,
                                     marker=markers[k % len(markers)], s=28,
                                     edgecolors=color, linewidths=0.8, zorder=3)
            ax.set_xlabel(measure_label("dsmi_x", unit))
            ax.set_ylabel(measure_label("dsmi_y", unit))
            ax.set_title(f"layer '{layer}' — {_variant_title(variant)}", fontsize=10)
            ax.grid(alpha=0.3)
    fig.suptitle("Information plane (mean over seeds; line colour = group, marker fill "
                 f"= {_x_label(runs)})", fontsize=11)
    _legend(fig, axes)
    if scatter is not None:
        fig.colorbar(scatter, ax=axes, shrink=0.85, aspect=30).set_label(_x_label(runs))
    return _save(plt, fig, out_path)


def plot_training_curves(runs, out_path):
    """Accuracy (fraction) and loss (nats) of the whole model against the epoch."""
    plt = _plt()
    names = measure_names(runs, True)
    acc = [m for m in names if next((r.unit_of(m) for r in runs if r.unit_of(m)), "")
           == "fraction"]
    loss = [m for m in names if m not in acc and "loss" in m.lower()]
    if not acc and not loss:
        return None
    panels = [(p, t) for p, t in ((acc, "accuracy [fraction]"), (loss, "loss [nats]")) if p]
    Line2D = plt.Line2D
    groups = by_group(runs)
    colors = _colors(len(groups))
    styles = ["-", "--", ":", "-."]
    fig, axes = plt.subplots(1, len(panels), squeeze=False, layout="constrained",
                             figsize=(6.0 * len(panels), 4.6))
    for ax, (measures, ylabel) in zip(axes[0], panels):
        for color, (group, members) in zip(colors, groups.items()):
            for s, m in enumerate(measures):
                band = seed_band(members, m, "")
                if band is not None:
                    _draw_band(ax, band, color, 0.15, ls=styles[s % len(styles)], lw=1.6)
        ax.set_xlabel(_x_label(runs))
        ax.set_ylabel(ylabel)
        _style_axis(ax)
        # Line style = which metric (legend in the panel); colour = group (figure legend).
        ax.legend([Line2D([], [], color="0.3", ls=styles[s % len(styles)], lw=1.6)
                   for s in range(len(measures))], measures, fontsize=8, loc="best",
                  framealpha=0.8, title="line style", title_fontsize=8)
    fig.legend([Line2D([], [], color=c, lw=2.5) for c in colors[:len(groups)]], list(groups),
               loc="outside lower center", ncol=min(len(groups), 4), frameon=False, fontsize=9)
    fig.suptitle("Training curves (line: mean over seeds; band: min–max)", fontsize=11)
    return _save(plt, fig, out_path)
