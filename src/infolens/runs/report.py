"""A self-contained HTML report of monitor runs: figures, final values, settings, findings.

A *run* is a folder written by :class:`infolens.monitor.Monitor`
(``runlog.jsonl`` + ``settings.json``, read by :mod:`infolens.runs.loading`).
Runs whose settings share a ``group`` (or ``regime``) are one curve with a
band over their seeds; several groups are overlaid for comparison.  The PNG
figures are drawn by :mod:`infolens.runs.figures` (matplotlib, headless
``Agg`` backend, imported only then).

``index.html`` embeds them (base64) with a table of every run's settings, the
final values and, when given, a table of findings.  The names of both modules
above stay importable from here.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections import OrderedDict

from infolens.runs.attention_figure import plot_attention_heatmap
from infolens.runs.figures import (
    MEASURE_LABELS,
    figure_caption,
    measure_label,
    plot_information_plane,
    plot_measure_family,
    plot_training_curves,
)
from infolens.runs.loading import (
    OVERHEAD,
    RUNLOG_NAME,
    SETTINGS_NAME,
    Run,
    by_group,
    final_values,
    find_runs,
    load_run,
    measure_names,
    split_variant,
)

__all__ = [
    "MEASURE_LABELS",
    "OVERHEAD",
    "RUNLOG_NAME",
    "Run",
    "SETTINGS_NAME",
    "final_values",
    "find_runs",
    "load_run",
    "measure_label",
    "plot_information_plane",
    "plot_measure_family",
    "plot_training_curves",
    "write_report",
]


# ------------------------------------------------------------------------ tables
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
img{max-width:100%;border:1px solid #ddd;margin:0.3em 0 0.2em}
figure{margin:0 0 1.6em} figcaption{color:#333;font-size:0.92em;max-width:62em}
.note{color:#555;font-size:0.9em}
"""


def _embed(path):
    with open(path, "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    name = os.path.basename(path)
    return (f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(figure_caption(name))}</figcaption></figure>")


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
    for base in OrderedDict.fromkeys(split_variant(m)[0] for m in measure_names(runs, False)):
        figures.append(plot_measure_family(runs, base, os.path.join(out_dir,
                                                                    f"curves_{base}.png")))
    for fn, name in ((plot_information_plane, "information_plane.png"),
                     (plot_attention_heatmap, "attention_heatmap.png"),
                     (plot_training_curves, "training_curves.png")):
        path = fn(runs, os.path.join(out_dir, name))
        if path:
            figures.append(path)
    finals = final_values(runs)
    with open(os.path.join(out_dir, "final_values.json"), "w", encoding="utf-8") as fh:
        json.dump(finals, fh, indent=1)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    groups = by_group(runs)
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
