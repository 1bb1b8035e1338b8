"""The accuracy harness's verdicts and report: requirement checks, Markdown, JSON and a plot.

:func:`check_requirements` turns the rows of
:func:`infolens.bench.accuracy.run_accuracy` into the pass/fail list of the accuracy
requirements; :func:`write_accuracy` writes ``accuracy.md``, ``accuracy.json`` and
``accuracy.png``.
"""

from __future__ import annotations

import json
import os
import platform

import numpy as np

from infolens.core import optional

__all__ = ["check_requirements", "write_accuracy"]


def check_requirements(rows):
    """The accuracy requirements, evaluated on harness rows.

    Returns
    -------
    list of (str, bool, str)
        Requirement, whether it holds, the evidence.
    """
    by = {(r.task, r.method): r for r in rows}
    out = []

    def req(text, cells, test, fmt):
        present = [c for c in cells if c in by]
        if not present:
            return
        ok = all(test(by[c]) for c in present)
        out.append((text, ok, "; ".join(fmt(by[c]) for c in present)))

    ksg_cells = [(t, m) for t in ("normal-1x1-rho0.5", "normal-1x1-rho0.9", "normal-dense-2x2",
                                  "normal-sparse-2x2", "student-1x1-dof1", "student-2x2-dof2")
                 for m in ("ksg1", "ksg2")]
    req("KSG within 0.05 nats on 1-D/2-D Gaussian and Student-t", ksg_cells,
        lambda r: abs(r.bias) < 0.05, lambda r: f"{r.task}/{r.method} {r.bias:+.3f}")
    neural_cells = [(t, m) for t in ("normal-dense-5x5", "normal-dense-25x25")
                    for m in ("mine", "nwj", "infonce")]
    req("Neural MI within 15 % on 5x5 and 25x25 Gaussians", neural_cells,
        lambda r: r.relative_error < 0.15,
        lambda r: f"{r.task}/{r.method} {100 * r.bias / r.truth:+.1f}%")
    req("Vendi = k on k orthogonal equal-weight clusters",
        [(f"orthogonal-clusters-k{k}", "vendi") for k in (2, 5, 10)],
        lambda r: abs(r.bias) < 1e-8 * r.truth, lambda r: f"k={r.truth:g}: {r.mean:.10g}")
    req("Closed forms matched (RankMe, Renyi MI, CS MI, alpha-ReQ)",
        [(t, m) for (t, m) in by if by[(t, m)].group == "exact" and m != "vendi"],
        lambda r: abs(r.bias) < 1e-6 * max(1.0, abs(r.truth)),
        lambda r: f"{r.method}@{r.task} {r.bias:+.1e}")
    req("DSE and DSMI -> log2 k for k separated blobs as t grows (sigma = 2)",
        [(f"separated-blobs-k{k}-t50", m) for k in (2, 3, 5) for m in ("dse", "dsmi")],
        lambda r: abs(r.bias) < 1e-3, lambda r: f"{r.task}/{r.method} {r.mean:.4f}")
    req("DSE and DSMI -> log2 k for k separated blobs as t grows (default bandwidth)",
        [(f"separated-blobs-k{k}-t50-default", m) for k in (2, 3, 5)
         for m in ("dse", "dsmi")],
        lambda r: abs(r.bias) < 1e-2, lambda r: f"{r.task}/{r.method} {r.mean:.4f}")
    req("Shuffled labels give DSMI ~ 0", [("blobs-k3-shuffled-labels", "dsmi")],
        lambda r: abs(r.mean) < 0.05, lambda r: f"{r.mean:+.4f} bits")
    sweep = [by.get((f"correlation-sweep-rho{rho:g}", "dsmi")) for rho in (0.0, 0.5, 0.9, 0.99)]
    if all(sweep):
        means = [r.mean for r in sweep]
        out.append(("DSMI monotone along a correlation sweep",
                    bool(np.all(np.diff(means) > 0)),
                    ", ".join(f"{m:.3f}" for m in means) + " bits at rho 0/0.5/0.9/0.99"))
    return out


def write_accuracy(rows, out_dir, *, n, seeds, elapsed_s=None):
    """Write ``accuracy.md``, ``accuracy.json`` and ``accuracy.png`` to ``out_dir``.

    Returns
    -------
    dict
        Paths written (``"markdown"``, ``"json"``, ``"plot"``).
    """
    os.makedirs(out_dir, exist_ok=True)
    lines = [
        "# infolens accuracy benchmark",
        "",
        f"N = {n} samples per task, seeds {list(seeds)}; machine: {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
        + (f"; total {elapsed_s:.0f} s." if elapsed_s is not None else "."),
        "Bias = mean over seeds - truth; spread = standard deviation over seeds; "
        "time = mean seconds per call. MI and entropy in nats.",
        "",
        "## Requirements",
        "",
        "The requirements are stated for N = 5000"
        + ("." if n >= 5000 else f"; this run used N = {n}, where the neural and KSG "
           f"tolerances may not hold."),
        "",
        "| requirement | holds | evidence |",
        "|---|---|---|",
    ]
    for text, ok, evidence in check_requirements(rows):
        lines.append(f"| {text} | {'yes' if ok else '**no**'} | {evidence} |")
    for group, title in (("mi", "Mutual information (nats)"), ("entropy", "Entropy (nats)"),
                         ("exact", "Exact cases"), ("property", "DSE / DSMI properties (bits)")):
        sel = [r for r in rows if r.group == group]
        if not sel:
            continue
        lines += ["", f"## {title}", "", "| task | method | truth | mean | bias | spread | "
                  "time (s) |", "|---|---|---|---|---|---|---|"]
        for r in sel:
            truth = "-" if np.isnan(r.truth) else f"{r.truth:.4f}"
            bias = "-" if np.isnan(r.truth) else f"{r.bias:+.4f}"
            lines.append(f"| {r.task} | {r.method} | {truth} | {r.mean:.4f} | {bias} | "
                         f"{r.spread:.4f} | {r.time:.3f} |")
    md = os.path.join(out_dir, "accuracy.md")
    with open(md, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    js = os.path.join(out_dir, "accuracy.json")
    with open(js, "w") as fh:
        json.dump([{"group": r.group, "task": r.task, "method": r.method,
                    "truth": None if np.isnan(r.truth) else r.truth, "values": r.values,
                    "times": r.times, "unit": r.unit} for r in rows], fh, indent=1)
    png = os.path.join(out_dir, "accuracy.png")
    _plot(rows, png)
    return {"markdown": md, "json": js, "plot": png}


def _plot(rows, path):
    plt = optional.matplotlib_pyplot("the accuracy plot")
    sel = [r for r in rows if r.group == "mi"]
    tasks = list(dict.fromkeys(r.task for r in sel))
    methods = list(dict.fromkeys(r.method for r in sel))
    fig, ax = plt.subplots(figsize=(max(8, 0.7 * len(tasks)), 5))
    width = 0.8 / max(1, len(methods))
    for j, m in enumerate(methods):
        xs, ys, es = [], [], []
        for i, t in enumerate(tasks):
            r = next((r for r in sel if r.task == t and r.method == m), None)
            if r is not None:
                xs.append(i + (j - (len(methods) - 1) / 2) * width)
                ys.append(r.bias)
                es.append(r.spread)
        ax.errorbar(xs, ys, yerr=es, fmt="o", label=m, capsize=2)
    ax.axhline(0, color="k", lw=0.8)
    ax.axhspan(-0.05, 0.05, color="0.9", zorder=0, label="+/- 0.05 nats")
    ax.set_xticks(range(len(tasks)))
    ax.set_xticklabels(tasks, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("bias (estimate - truth), nats")
    ax.set_title("MI estimators on ground-truth tasks")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
