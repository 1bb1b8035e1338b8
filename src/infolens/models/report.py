"""Write :func:`infolens.models.layer_measures` results: JSON, CSV, figures, an HTML page."""

from __future__ import annotations

import csv
import html
import math
from pathlib import Path

from infolens.core import optional
from infolens.core.files import write_json_atomic

__all__ = ["write_layer_report"]

_LABELS = {"dse": "DSE, tokens", "dse_mean": "DSE, mean-pooled", "dse_first": "DSE, first token",
           "dsmi_mean": "DSMI, mean-pooled", "dsmi_first": "DSMI, first token",
           "prompt_entropy": "prompt entropy (Gram, von Neumann)", "rankme": "RankMe",
           "nuclear_norm": "Matrix Nuclear-Norm (L1,2)",
           "attention_entropy": "attention entropy, mean over heads",
           "attention_entropy_normalized": "attention entropy / log(keys seen)"}


def _columns(result):
    cols = []
    for row in result["layers"]:
        cols += [k for k in row if k not in ("layer", "name") and k not in cols]
    return cols


def _plot_curves(plt, result, cols, path):
    n = len(cols)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), squeeze=False)
    for ax, col in zip(axes.ravel(), cols):
        pts = [(r["layer"], r[col]) for r in result["layers"] if col in r]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color="tab:blue")
        ax.set_title(_LABELS.get(col, col), fontsize=10)
        ax.set_xlabel("layer (0 = embeddings)")
        ax.set_ylabel(result["units"].get(col, ""))
        ax.set_xticks([r["layer"] for r in result["layers"]])
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle(f"{result['model']}: {result['n_texts']} texts, {result['n_tokens']} tokens "
                 f"({result['level']} level)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_heatmap(plt, matrix, normalized, path, title):
    rows, heads = len(matrix), len(matrix[0])
    fig, ax = plt.subplots(figsize=(0.55 * heads + 2.4, 0.45 * rows + 1.6))
    image = ax.imshow(matrix, aspect="auto", cmap="viridis",
                      vmin=0.0, vmax=1.0 if normalized else None)
    for i in range(rows):
        for j in range(heads):
            ax.text(j, i, f"{matrix[i][j]:.2f}", ha="center", va="center", fontsize=6,
                    color="white" if matrix[i][j] < (0.5 if normalized else 2.0) else "black")
    ax.set_xticks(range(heads), [str(h) for h in range(heads)])
    ax.set_yticks(range(rows), [str(layer + 1) for layer in range(rows)])
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label="normalized" if normalized else "bits")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt(v):
    return "" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))


def write_layer_report(result, out_dir, *, title=None):
    """Write ``layers.json``, ``layers.csv``, PNG figures and ``index.html`` into ``out_dir``.

    Parameters
    ----------
    result : dict
        The return value of :func:`infolens.models.layer_measures`.
    out_dir : str or path
        Created if missing; existing files of the same names are replaced.
    title : str or None
        Page title (default: the model's name).

    Returns
    -------
    dict
        Paths written: ``json``, ``csv``, ``html`` and ``figures`` (list).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cols = _columns(result)
    write_json_atomic(out / "layers.json", result)
    with open(out / "layers.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["layer", "name"] + cols)
        for r in result["layers"]:
            writer.writerow([r["layer"], r["name"]] + [r.get(c, "") for c in cols])
    plt = optional.matplotlib_pyplot("the layer report's figures")
    figures = []
    if cols:
        figures.append(out / "layer_curves.png")
        _plot_curves(plt, result, cols, figures[-1])
    for key, normalized in (("attention_entropy", False), ("attention_entropy_normalized", True)):
        if result.get(key):
            figures.append(out / f"{key}_heads.png")
            _plot_heatmap(plt, result[key], normalized, figures[-1],
                          "attention entropy per head" + (" / log(keys seen)" if normalized
                                                          else " (bits)"))
    title = title or f"infolens layers: {result['model']}"
    head = "".join(f"<th>{html.escape(_LABELS.get(c, c))}</th>" for c in cols)
    body = "".join(
        "<tr><td>" + html.escape(r["name"]) + "</td>"
        + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in cols) + "</tr>" for r in result["layers"])
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.get("notes", []))
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;"
        "border-bottom:1px solid #ddd;text-align:right}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{result['n_texts']} texts, {result['n_tokens']} "
        f"tokens, level '{html.escape(result['level'])}', {result['elapsed_s']:.1f} s.</p>"
        + (f"<ul>{notes}</ul>" if notes else "")
        + "".join(f"<p><img src='{f.name}' alt='{f.stem}'></p>" for f in figures)
        + f"<table><tr><th>layer</th>{head}</tr>{body}</table>"
        "<p>Data: <a href='layers.json'>layers.json</a>, <a href='layers.csv'>layers.csv</a>"
        "</p></body></html>")
    (out / "index.html").write_text(page, encoding="utf-8")
    return {"json": out / "layers.json", "csv": out / "layers.csv", "html": out / "index.html",
            "figures": figures}
