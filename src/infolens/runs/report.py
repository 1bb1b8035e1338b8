"""Figures and a self-contained HTML report from monitor run logs.

A *run* is a folder written by :class:`infolens.monitor.Monitor`
(``runlog.jsonl`` + ``settings.json``).  Runs whose settings share a
``group`` (or ``regime``) are one curve with a band over their seeds; several
groups are overlaid for comparison.  matplotlib is imported only when figures
are drawn (headless ``Agg`` backend).

Figures (PNG)
-------------
* ``curves_<measure>.png``: each measure family (``dse``, ``dsmi_y``,
  ``dsmi_x``, custom ones) against the epoch, one panel per layer and per
  bandwidth variant, mean over seeds with a min-max band;
* ``information_plane.png``: DSMI(Z; X) against DSMI(Z; Y), points coloured by
  epoch, one panel per layer and variant;
* ``training_curves.png``: accuracy and loss of the whole model.

``index.html`` embeds them (base64) with a table of every run's settings, the
final values and, when given, a table of findings.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections import OrderedDict

import numpy as np

from infolens.core.validation import InvalidParameterError

__all__ = ["Run", "find_runs", "load_run", "write_report", "MEASURE_LABELS"]

RUNLOG_NAME = "runlog.jsonl"
SETTINGS_NAME = "settings.json"
OVERHEAD = "monitor_overhead_s"

#: Axis labels of the built-in measure families.
MEASURE_LABELS = {
    "dse": "DSE(Z)",
    "dsmi_y": "DSMI(Z; Y)",
    "dsmi_x": "DSMI(Z; X)",
    "cse": "CSE(Z)",
    "csmi_y": "CSMI(Z; Y)",
    "rms_distance": "RMS pairwise distance of Z",
}


class Run:
    """One monitored run read from disk.

    Attributes
    ----------
    path : str
    name : str
        Folder name.
    group : str
        ``settings["group"]``, else ``settings["regime"]``, else ``name``.
    seed : int or None
    settings : dict
    rows : list of dict
    """

    def __init__(self, path, settings, rows):
        self.path = path
        self.name = os.path.basename(os.path.normpath(path))
        self.settings = settings
        self.rows = rows
        self.group = str(settings.get("group", settings.get("regime", self.name)))
        self.seed = settings.get("seed")

    @property
    def x_unit(self):
        return (self.settings.get("schedule") or {}).get("unit", "epoch")

    def series(self, measure, layer):
        """``(x, values)`` of one measure at one layer, sorted by x (epoch or step)."""
        key = "step" if self.x_unit == "step" else "epoch"
        pts = sorted((r[key], r["value"]) for r in self.rows
                     if r["measure"] == measure and r["layer"] == layer)
        if not pts:
            return np.array([]), np.array([])
        x, v = zip(*pts)
        return np.asarray(x, dtype=float), np.asarray(v, dtype=float)

    def unit_of(self, measure):
        for r in self.rows:
            if r["measure"] == measure:
                return r.get("unit", "")
        return ""


def load_run(path):
    """Read one run folder (``runlog.jsonl`` and, if present, ``settings.json``)."""
    from infolens.runs.runlog import read_runlog

    log = os.path.join(path, RUNLOG_NAME)
    if not os.path.isfile(log):
        raise FileNotFoundError(f"{path} holds no {RUNLOG_NAME}; is it a monitor run folder?")
    settings = {}
    spath = os.path.join(path, SETTINGS_NAME)
    if os.path.isfile(spath):
        with open(spath, encoding="utf-8") as fh:
            settings = json.load(fh)
    return Run(os.fspath(path), settings, read_runlog(log))


def find_runs(paths):
    """Every run under ``paths`` (run folders, or folders that contain run folders).

    Parameters
    ----------
    paths : str or list of str

    Returns
    -------
    list of Run
        In the order found (sorted within a folder).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    runs = []
    for p in paths:
        p = os.fspath(p)
        if not os.path.exists(p):
            raise FileNotFoundError(f"no such run folder: {p}")
        if os.path.isfile(os.path.join(p, RUNLOG_NAME)):
            runs.append(load_run(p))
            continue
        found = sorted(os.path.dirname(os.path.join(root, RUNLOG_NAME))
                       for root, _, files in os.walk(p) if RUNLOG_NAME in files)
        if not found:
            raise FileNotFoundError(
                f"{p} holds no {RUNLOG_NAME} (searched its sub-folders too); pass the folder "
                f"given to Monitor(run_dir=...)."
            )
        runs.extend(load_run(f) for f in found)
    if not runs:
        raise InvalidParameterError("No run folders were given.")
    return runs


# --------------------------------------------------------------------- helpers
def _groups(runs):
    out = OrderedDict()
    for run in runs:
        out.setdefault(run.group, []).append(run)
    return out


def _layers(runs):
    seen = []
    for run in runs:
        for r in run.rows:
            if r["layer"] and r["layer"] not in seen:
                seen.append(r["layer"])
    return seen


def _measure_names(runs, model_level):
    seen = []
    for run in runs:
        for r in run.rows:
            if bool(r["layer"]) != model_level and r["measure"] != OVERHEAD \
                    and r["measure"] not in seen:
                seen.append(r["measure"])
    return seen


def _family(name):
    """``"dse@sigma=10"`` -> ``("dse", "sigma=10")``; plain names have variant ``""``."""
    base, _, variant = name.partition("@")
    return base, variant


def measure_label(name, unit=""):
    """Axis label of a measure name, with its unit."""
    base, variant = _family(name)
    label = MEASURE_LABELS.get(base, base)
    if variant:
        label += f", {variant.replace('sigma', 'σ')}"
    return f"{label} [{unit}]" if unit else label


def _variant_title(variant):
    return variant.replace("sigma", "σ") if variant else "σ = scale-aware (median rule)"


def _band(runs, measure, layer):
    """Mean, min and max over the runs at each x present in any of them."""
    series = [run.series(measure, layer) for run in runs]
    series = [s for s in series if len(s[0])]
    if not series:
        return None
    xs = np.unique(np.concatenate([s[0] for s in series]))
    stack = np.full((len(series), len(xs)), np.nan)
    for i, (x, v) in enumerate(series):
        stack[i, np.searchsorted(xs, x)] = v
    return xs, np.nanmean(stack, 0), np.nanmin(stack, 0), np.nanmax(stack, 0), len(series)


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _colors(n):
    plt = _plt()
    cmap = plt.get_cmap("tab10")
    return [cmap(i % 10) for i in range(n)]


def _x_label(runs):
    return "optimizer step" if all(r.x_unit == "step" for r in runs) else "epoch"


# ---------------------------------------------------------------------- figures
def _style_axis(ax):
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


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


def plot_measure_family(runs, base, out_path):
    """Curves of one measure family, per layer (columns) and bandwidth variant (rows)."""
    plt = _plt()
    names = [m for m in _measure_names(runs, False) if _family(m)[0] == base]
    layers = _layers(runs)
    groups = _groups(runs)
    colors = _colors(len(groups))
    fig, axes = plt.subplots(len(names), len(layers), squeeze=False, layout="constrained",
                             figsize=(4.6 * len(layers) + 1.2, 3.3 * len(names) + 0.8))
    for i, name in enumerate(names):
        unit = next((r.unit_of(name) for r in runs if r.unit_of(name)), "")
        for j, layer in enumerate(layers):
            ax = axes[i][j]
            for color, (group, members) in zip(colors, groups.items()):
                band = _band(members, name, layer)
                if band is None:
                    continue
                x, mean, lo, hi, n = band
                ax.plot(x, mean, color=color, lw=1.8, label=f"{group} (n={n})")
                if n > 1:
                    ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0)
            variant = _family(name)[1]
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
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def plot_information_plane(runs, out_path):
    """DSMI(Z; X) against DSMI(Z; Y) per layer and variant, coloured by epoch."""
    plt = _plt()
    names = _measure_names(runs, False)
    variants = [v for v in OrderedDict.fromkeys(_family(m)[1] for m in names)
                if f"dsmi_x{'@' + v if v else ''}" in names
                and f"dsmi_y{'@' + v if v else ''}" in names]
    if not variants:
        return None
    layers = _layers(runs)
    groups = _groups(runs)
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
                bx = _band(members, "dsmi_x" + suffix, layer)
                by = _band(members, "dsmi_y" + suffix, layer)
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
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def plot_training_curves(runs, out_path):
    """Accuracy (fraction) and loss (nats) of the whole model against the epoch."""
    plt = _plt()
    names = _measure_names(runs, True)
    acc = [m for m in names if next((r.unit_of(m) for r in runs if r.unit_of(m)), "")
           == "fraction"]
    loss = [m for m in names if m not in acc and "loss" in m.lower()]
    if not acc and not loss:
        return None
    panels = [(p, t) for p, t in ((acc, "accuracy [fraction]"), (loss, "loss [nats]")) if p]
    from matplotlib.lines import Line2D

    groups = _groups(runs)
    colors = _colors(len(groups))
    styles = ["-", "--", ":", "-."]
    fig, axes = plt.subplots(1, len(panels), squeeze=False, layout="constrained",
                             figsize=(6.0 * len(panels), 4.6))
    for ax, (measures, ylabel) in zip(axes[0], panels):
        for color, (group, members) in zip(colors, groups.items()):
            for s, m in enumerate(measures):
                band = _band(members, m, "")
                if band is None:
                    continue
                x, mean, lo, hi, n = band
                ax.plot(x, mean, color=color, ls=styles[s % len(styles)], lw=1.6)
                if n > 1:
                    ax.fill_between(x, lo, hi, color=color, alpha=0.15, lw=0)
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
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


# ------------------------------------------------------------------------ tables
def final_values(runs):
    """Last value of every (group, layer, measure): mean, sd and n over seeds.

    Returns
    -------
    list of dict
        Keys ``group, layer, measure, unit, x, mean, sd, n, values``.
    """
    out = []
    for group, members in _groups(runs).items():
        keys = OrderedDict()
        for run in members:
            for r in run.rows:
                if r["measure"] != OVERHEAD:
                    keys.setdefault((r["layer"], r["measure"]), r.get("unit", ""))
        for (layer, measure), unit in keys.items():
            lasts = []
            xs = []
            for run in members:
                x, v = run.series(measure, layer)
                if len(v):
                    lasts.append(v[-1])
                    xs.append(x[-1])
            if not lasts:
                continue
            vals = np.asarray(lasts)
            out.append({"group": group, "layer": layer, "measure": measure, "unit": unit,
                        "x": max(xs), "mean": float(vals.mean()),
                        "sd": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                        "n": len(vals), "values": vals.tolist()})
    return out


def _short(value, limit=90):
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _settings_table(runs):
    keys = []
    for run in runs:
        for k in run.settings:
            if k not in keys and k != "measures":
                keys.append(k)
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ["run", "overhead [s]"] + keys)
    body = []
    for run in runs:
        overhead = sum(r["value"] for r in run.rows if r["measure"] == OVERHEAD)
        cells = [html.escape(run.name), f"{overhead:.1f}"] + [
            html.escape(_short(run.settings.get(k, ""))) for k in keys]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    measures = OrderedDict()
    for run in runs:
        for m in run.settings.get("measures", []):
            measures.setdefault(m.get("name"), m)
    mrows = "".join(
        f"<tr><td>{html.escape(str(n))}</td><td>{html.escape(str(m.get('fn')))}</td>"
        f"<td>{html.escape(str(m.get('reference')))}</td>"
        f"<td>{html.escape(_short(m.get('params', {}), 200))}</td></tr>"
        for n, m in measures.items())
    table = f"<table><tr>{head}</tr>{''.join(body)}</table>"
    if mrows:
        table += ("<h3>Measures</h3><table><tr><th>name</th><th>function</th>"
                  f"<th>reference</th><th>parameters</th></tr>{mrows}</table>")
    return table


def _final_table(runs):
    rows = []
    for f in final_values(runs):
        layer = f["layer"] or "(model)"
        vals = ", ".join(f"{v:.3f}" for v in f["values"])
        rows.append(f"<tr><td>{html.escape(f['group'])}</td><td>{html.escape(layer)}</td>"
                    f"<td>{html.escape(f['measure'])}</td><td>{f['mean']:.3f}</td>"
                    f"<td>{f['sd']:.3f}</td><td>{f['n']}</td><td>{html.escape(f['unit'])}</td>"
                    f"<td>{vals}</td></tr>")
    return ("<table><tr><th>group</th><th>layer</th><th>measure</th><th>mean</th><th>sd</th>"
            "<th>seeds</th><th>unit</th><th>per seed</th></tr>" + "".join(rows) + "</table>")


def _findings_table(findings):
    rows = []
    for f in findings:
        held = f.get("held")
        verdict = {True: "held", False: "did not hold", None: "inconclusive"}.get(held, str(held))
        css = {True: "ok", False: "no", None: "na"}.get(held, "na")
        rows.append(f"<tr><td>{html.escape(f.get('finding', ''))}</td>"
                    f"<td class='{css}'>{verdict}</td>"
                    f"<td>{html.escape(f.get('evidence', ''))}</td></tr>")
    return ("<table><tr><th>paper finding</th><th>on this data</th><th>measured evidence</th>"
            "</tr>" + "".join(rows) + "</table>")


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1300px;
color:#222;padding:0 1em}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.85em}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f2f2f2}
td.ok{background:#dff5dd} td.no{background:#fadcdc} td.na{background:#eee}
img{max-width:100%;border:1px solid #ddd;margin:0.3em 0 1.2em}
.note{color:#555;font-size:0.9em}
"""


def _embed(path):
    with open(path, "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    alt = html.escape(os.path.basename(path))
    return f'<img alt="{alt}" src="data:image/png;base64,{data}">'


def write_report(runs, out_dir, *, title="infolens training report", findings=None,
                 notes=None):
    """Write PNG figures and a self-contained ``index.html`` for one or more runs.

    Parameters
    ----------
    runs : list of Run, or paths accepted by :func:`find_runs`
    out_dir : str
        Created if missing; existing figures of the same names are replaced.
    title : str
    findings : list of dict, optional
        ``{"finding", "held" (True/False/None), "evidence"}`` rows shown first.
    notes : list of str, optional
        Paragraphs shown under the title (plain text).

    Returns
    -------
    dict
        ``{"html": path, "figures": [paths], "final_values": list}``.
    """
    if not runs or not isinstance(runs[0], Run):
        runs = find_runs(runs)
    os.makedirs(out_dir, exist_ok=True)
    figures = []
    for base in OrderedDict.fromkeys(_family(m)[0] for m in _measure_names(runs, False)):
        figures.append(plot_measure_family(runs, base, os.path.join(out_dir,
                                                                    f"curves_{base}.png")))
    for fn, name in ((plot_information_plane, "information_plane.png"),
                     (plot_training_curves, "training_curves.png")):
        path = fn(runs, os.path.join(out_dir, name))
        if path:
            figures.append(path)
    finals = final_values(runs)
    with open(os.path.join(out_dir, "final_values.json"), "w", encoding="utf-8") as fh:
        json.dump(finals, fh, indent=1)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    groups = _groups(runs)
    parts.append(f"<p class='note'>{len(runs)} run(s) in {len(groups)} group(s): "
                 + ", ".join(f"{html.escape(g)} ({len(m)} seed(s))" for g, m in groups.items())
                 + ". Curves are means over seeds with a min–max band.</p>")
    for note in notes or []:
        parts.append(f"<p>{html.escape(note)}</p>")
    if findings:
        parts.append("<h2>Paper findings on this data</h2>" + _findings_table(findings))
    parts.append("<h2>Figures</h2>")
    parts.extend(_embed(p) for p in figures)
    parts.append("<h2>Final values</h2>" + _final_table(runs))
    parts.append("<h2>Settings</h2>" + _settings_table(runs))
    parts.append("</body></html>")
    out = os.path.join(out_dir, "index.html")
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(parts))
    return {"html": out, "figures": figures, "final_values": finals}
