"""Figures of monitor runs (PNG, headless): curves per measure family, the information
plane and the training curves.

* ``curves_<measure>.png``: each measure family (``dse``, ``dsmi_y``,
  ``dsmi_x``, custom ones) against the epoch, one panel per layer and per
  bandwidth variant, mean over seeds with a min-max band; a family of positive
  values that spans more than a factor of 20 (activation distances grow 60 to
  10^5-fold during training) is drawn on a log axis, and the RMS distance gets
  a line at σ = 10, the reference's fixed bandwidth, to show when it is small;
* ``information_plane.png``: DSMI(Z; X) against DSMI(Z; Y), points coloured by
  epoch, one column per group (regime) and one row per layer and variant;
* ``training_curves.png``: one panel per metric (accuracy, loss; train and
  validation), one colour per group, the legend outside the data.

matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from infolens.core import optional
from infolens.kernels.bandwidth import DEFAULT_RULE
from infolens.runs.loading import by_group, layer_names, measure_names, seed_band, split_variant

__all__ = ["FIGURE_CAPTIONS", "MEASURE_LABELS", "figure_caption", "measure_label", "plot_information_plane", "plot_measure_family",
           "plot_training_curves"]

#: Axis labels of the built-in measure families.
MEASURE_LABELS = {
    "dse": "DSE(Z)",
    "dsmi_y": "DSMI(Z; Y)",
    "dsmi_x": "DSMI(Z; X)",
    "cse": "CSE(Z)",
    "csmi_y": "CSMI(Z; Y)",
    "rms_distance": "RMS distance of Z",
    "attention_entropy": "attention entropy (mean over heads)",
}


#: What to look for in each figure, shown under it in the HTML report.
FIGURE_CAPTIONS = {
    "curves_dse": (
        "DSE(Z): how many distinct directions the diffusion over the embeddings keeps, in bits "
        "(0 = one blob, log2 N = every point apart). Look for the trend per layer: it rises "
        "when a layer spreads points into structure, and falls when it collapses them."),
    "curves_dsmi_y": (
        "DSMI(Z; Y): how much the embeddings say about the class labels, in bits (at most "
        "log2 of the number of classes). Look at the gap between supervised and random-label "
        "training: the labels are learnable only in the first."),
    "curves_dsmi_x": (
        "DSMI(Z; X): how much the embeddings say about the input, with X summarised by "
        "spectral clusters of the input vectors. On digits the input clusters follow the "
        "classes closely, so this curve resembles DSMI(Z; Y); it departs from it where a "
        "layer keeps input detail the labels do not need."),
    "curves_rms_distance": (
        "RMS pairwise distance of the embeddings (log scale). A fixed bandwidth such as "
        "σ = 10 (dashed line) only means something while the distances are near it: far "
        "below, every point is connected to every other and DSE is near 0; far above, every "
        "point is alone. The scale-aware default follows the distances."),
    "information_plane": (
        "Information plane: DSMI(Z; X) across, DSMI(Z; Y) up, one column per regime, colour "
        "= epoch. A trajectory moving up and then left would be compression after fitting; "
        "compare where the regimes end."),
    "attention_heatmap": (
        "Attention entropy of every head (rows) over training (columns), one panel per "
        "attention layer, normalised so that 1 is uniform attention over the keys a query "
        "can see. Dark heads have collapsed onto single keys; bright heads attend to "
        "everything and carry little (entropic overload)."),
    "training_curves": (
        "Accuracy and loss of the whole model. Read the measures against these: a change in "
        "DSE or DSMI that coincides with the accuracy rising is learning; one after the "
        "training loss reaches 0 is memorisation or drift."),
}


def figure_caption(file_name):
    """The caption of a report figure from its file name (``curves_dse.png`` → DSE's)."""
    stem = file_name.rsplit("/", 1)[-1].removesuffix(".png")
    if stem in FIGURE_CAPTIONS:
        return FIGURE_CAPTIONS[stem]
    base = stem.removeprefix("curves_")
    return (f"{MEASURE_LABELS.get(base, base)} per layer during training: the line is the "
            "mean over seeds and the band their range; compare the groups' trends.")


def measure_label(name, unit=""):
    """Axis label of a measure name, with its unit."""
    base, variant = split_variant(name)
    label = MEASURE_LABELS.get(base, base)
    if variant:
        label += f", {variant.replace('sigma', 'σ')}"
    return f"{label} [{unit}]" if unit else label


def _variant_title(variant):
    return variant.replace("sigma", "σ") if variant else \
        f"σ = scale-aware default ('{DEFAULT_RULE}' rule)"


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


#: Measure families drawn with a horizontal reference line: (value, label).
REFERENCE_LINES = {"rms_distance": (10.0, "σ = 10 (dse-dsmi's fixed bandwidth)")}

#: A family of positive values is drawn on a log axis above this max/min ratio.
LOG_AXIS_RATIO = 20.0


def _wants_log_axis(runs, names, layers):
    values = np.concatenate([np.asarray(r.series(m, layer)[1], dtype=float)
                             for r in runs for m in names for layer in layers] + [np.empty(0)])
    values = values[np.isfinite(values)]
    return values.size > 1 and values.min() > 0 and values.max() / values.min() > LOG_AXIS_RATIO


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
    log_axis = _wants_log_axis(runs, names, layers)
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
            if log_axis:
                ax.set_yscale("log")
            if base in REFERENCE_LINES:
                level, text = REFERENCE_LINES[base]
                ax.axhline(level, color="0.35", ls="--", lw=1.1, label=text)
            _style_axis(ax)
    scale = "; log scale" if log_axis else ""
    fig.suptitle(f"{MEASURE_LABELS.get(base, base)} during training "
                 f"(line: mean over seeds; band: min–max{scale})", fontsize=11)
    _legend(fig, axes)
    return _save(plt, fig, out_path)


def plot_information_plane(runs, out_path):
    """DSMI(Z; X) against DSMI(Z; Y): one column per group, one row per layer and variant.

    Each panel is one regime's trajectory (mean over seeds), its points coloured
    by epoch on one shared colour bar; the panels of a row share their axes, so
    regimes compare by position.
    """
    plt = _plt()
    names = measure_names(runs, False)
    variants = [v for v in OrderedDict.fromkeys(split_variant(m)[1] for m in names)
                if f"dsmi_x{'@' + v if v else ''}" in names
                and f"dsmi_y{'@' + v if v else ''}" in names]
    if not variants:
        return None
    rows = [(layer, variant) for variant in variants for layer in layer_names(runs)]
    groups = by_group(runs)
    colors = _colors(len(groups))
    fig, axes = plt.subplots(len(rows), len(groups), squeeze=False, layout="constrained",
                             sharex="row", sharey="row",
                             figsize=(3.4 * len(groups) + 1.4, 3.0 * len(rows) + 0.8))
    epochs_all = [x for r in runs for m in names for layer, _ in rows
                  for x in r.series(m, layer)[0]]
    vmin, vmax = (min(epochs_all), max(epochs_all)) if epochs_all else (0, 1)
    scatter = None
    for i, (layer, variant) in enumerate(rows):
        suffix = "@" + variant if variant else ""
        unit = next((r.unit_of("dsmi_y" + suffix) for r in runs), "")
        for j, (color, (group, members)) in enumerate(zip(colors, groups.items())):
            ax = axes[i][j]
            bx = seed_band(members, "dsmi_x" + suffix, layer)
            by = seed_band(members, "dsmi_y" + suffix, layer)
            if bx is not None and by is not None:
                common = np.intersect1d(bx[0], by[0])
                mx = bx[1][np.searchsorted(bx[0], common)]
                my = by[1][np.searchsorted(by[0], common)]
                ax.plot(mx, my, color=color, lw=1.2, alpha=0.8)
                scatter = ax.scatter(mx, my, c=common, cmap="viridis", vmin=vmin, vmax=vmax,
                                     s=26, edgecolors=color, linewidths=0.8, zorder=3)
            if i == 0:
                ax.set_title(f"{group}", fontsize=10, color=color)
            if i == len(rows) - 1:
                ax.set_xlabel(measure_label("dsmi_x", unit))
            if j == 0:
                ax.set_ylabel(f"layer '{layer}', {_variant_title(variant)}\n"
                              + measure_label("dsmi_y", unit), fontsize=9)
            ax.grid(alpha=0.3)
    fig.suptitle("Information plane: one column per group, mean over seeds, "
                 f"points coloured by {_x_label(runs)}", fontsize=11)
    if scatter is not None:
        fig.colorbar(scatter, ax=axes, shrink=0.8, aspect=35).set_label(_x_label(runs))
    return _save(plt, fig, out_path)


def plot_training_curves(runs, out_path):
    """One panel per metric (accuracy as a fraction, loss in nats), one colour per group."""
    plt = _plt()
    names = measure_names(runs, True)
    acc = [m for m in names if next((r.unit_of(m) for r in runs if r.unit_of(m)), "")
           == "fraction"]
    loss = [m for m in names if m not in acc and "loss" in m.lower()]
    metrics = [(m, "fraction") for m in acc] + [(m, "nats") for m in loss]
    if not metrics:
        return None
    groups = by_group(runs)
    colors = _colors(len(groups))
    columns = min(len(metrics), 2)
    n_rows = -(-len(metrics) // columns)
    fig, axes = plt.subplots(n_rows, columns, squeeze=False, layout="constrained",
                             figsize=(5.2 * columns, 3.4 * n_rows + 0.8))
    for ax, (metric, unit) in zip(np.ravel(axes), metrics):
        for color, (group, members) in zip(colors, groups.items()):
            band = seed_band(members, metric, "")
            if band is not None:
                _draw_band(ax, band, color, 0.15, lw=1.6, label=f"{group} (n={band[4]})")
        ax.set_title(metric.replace("_", " "), fontsize=10)
        ax.set_xlabel(_x_label(runs))
        ax.set_ylabel(f"{'accuracy' if unit == 'fraction' else 'loss'} [{unit}]")
        _style_axis(ax)
    for ax in np.ravel(axes)[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle("Training curves (line: mean over seeds; band: min–max)", fontsize=11)
    _legend(fig, axes)
    return _save(plt, fig, out_path)
