"""The DSE paper's synthetic experiments (Liao, Liu et al., arXiv 2312.04823, section 4).

* (A) DSE vs intrinsic dimension under noise, t = 1, 2, 3, 5 (and CSE);
* (B) DSMI (and CSMI) on branching trees vs label corruption;
* (C) MI on Gaussian blobs vs label corruption and vs dimension for DSMI,
  CSMI, KSG and MINE, with the published values beside ours.

The reference settings are used (``preset="dse-dsmi"``: sigma 10 unless the
paper says otherwise).  Published numbers were read off the paper's figures
(``shared/docs/paper.md`` section 4), so they are approximate.
"""

from __future__ import annotations

import json
import os

import numpy as np

import infolens
from infolens import datasets
from infolens.core import optional

__all__ = ["PUBLISHED", "run_paper", "write_paper"]

#: Values read off the paper's figures (bits unless "nats").
PUBLISHED = {
    "A": {"plateau_bits": float(np.log2(500)), "t1_noise0.5_smallest_d": 8.3,
          "cse_bits": float(np.log2(500))},
    "B": {2: 0.75, 5: 1.75, 10: 2.55},
    "C_D20": {"dsmi": 1.31, "mine_nats": 1.02, "ksg": 0.37, "csmi": 0.0},
    "C_dim": {
        "dsmi": {20: 1.31, 100: 1.03, 500: 0.76, 2000: 0.65, 5000: 0.61, 10000: 0.59,
                 20000: 0.585},
        "mine_nats": {20: 1.0, 100: 0.95, 500: 0.75, 2000: 0.57, 5000: 0.3, 10000: 0.13,
                      20000: 0.05},
        "ksg": {50: 0.0, 100: 0.0, 500: 0.0, 2000: 0.0, 5000: 0.0, 10000: 0.0, 20000: 0.0},
        "csmi": {50: 0.0, 100: 0.0, 500: 0.0, 2000: 0.0, 5000: 0.0, 10000: 0.0, 20000: 0.0},
    },
}


def _config(quick, n_blobs=None):
    if quick:
        return {
            "A": {"n": 200, "ambient": 2048, "dims": [102, 512, 1024, 2048],
                  "noise": [0.01, 0.5], "t": [1, 2, 3, 5]},
            "B": {"branches": [2, 5], "per_branch": 60, "corruption": [0.0, 0.5, 1.0]},
            # Few samples: MINE needs more steps per epoch than the paper's batch of 500
            # allows, so the quick run trains with smaller batches and a larger rate.
            "C": {"n": n_blobs or 600, "corruption": [0.0, 0.5, 1.0], "dims": [20, 100, 500],
                  "mine": {"epochs": 40, "lr": 1e-3, "batch_size": 64}},
        }
    return {
        "A": {"n": 500, "ambient": 2048,
              "dims": [int(d) for d in np.linspace(102, 2048, 20)],
              "noise": [0.01, 0.1, 0.5], "t": [1, 2, 3, 5]},
        "B": {"branches": [2, 5, 10], "per_branch": 100,
              "corruption": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]},
        "C": {"n": n_blobs or 5000, "corruption": [round(0.1 * i, 1) for i in range(11)],
              "dims": [20, 100, 500, 2000, 5000, 20000],
              "mine": {"epochs": 200, "lr": 1e-4, "batch_size": 500}},
    }


def experiment_a(cfg, say):
    """DSE (t = 1, 2, 3, 5) and CSE vs intrinsic dimension, per noise level (bits)."""
    rows = []
    for noise in cfg["noise"]:
        for d in cfg["dims"]:
            Z = datasets.intrinsic_dimension_data(cfg["n"], cfg["ambient"], d, noise=noise,
                                                  random_state=d)
            row = {"noise": noise, "intrinsic_dim": d,
                   "cse": infolens.cse(Z, preset="dse-dsmi")}
            for t in cfg["t"]:
                row[f"dse_t{t}"] = infolens.dse(Z, t=t, preset="dse-dsmi")
            rows.append(row)
            say(f"A noise={noise} d={d}: " + ", ".join(
                f"{k}={v:.2f}" for k, v in row.items() if k.startswith(("dse", "cse"))))
    return rows


def experiment_b(cfg, say):
    """DSMI and CSMI (bits) on branching trees vs label corruption."""
    rows = []
    for k in cfg["branches"]:
        Z, branch = datasets.branching_tree(k, cfg["per_branch"], 20, random_state=k)
        for ratio in cfg["corruption"]:
            y = datasets.corrupt_labels(branch, ratio, n_classes=k, random_state=1)
            row = {"branches": k, "corruption": ratio,
                   "dsmi": infolens.dsmi(Z, y, preset="dse-dsmi"),
                   "csmi": infolens.csmi(Z, y, preset="dse-dsmi")}
            rows.append(row)
            say(f"B branches={k} corruption={ratio}: dsmi={row['dsmi']:.3f} "
                f"csmi={row['csmi']:.3f}")
    return rows


def _blob_measures(Z, y, dim, mine, with_mine):
    out = {
        "dsmi": infolens.dsmi(Z, y, sigma=float(np.sqrt(dim)), t=1, preset="dse-dsmi"),
        "csmi": infolens.csmi(Z, y, n_bins=10, preset="dse-dsmi"),
        "ksg": infolens.ksg_mi(Z, y, k=3, base=2),
    }
    if with_mine:
        # The paper's MINE: two hidden layers of 100, Adam; learning rate, batch size and
        # epochs from the configuration (1e-4, 500, 200 in the full run).
        out["mine_nats"] = infolens.mine_mi(Z, y, hidden=(100, 100), base="e", **mine)
    return out


def experiment_c(cfg, say, with_mine=True):
    """MI (bits; MINE in nats) on 3 Gaussian blobs vs label corruption (D = 20) and vs D."""
    corr_rows, dim_rows = [], []
    for ratio in cfg["corruption"]:
        Z, y, _ = datasets.gaussian_blobs(cfg["n"], 20, corruption=ratio, noise=0.01,
                                          random_state=0)
        row = {"corruption": ratio, **_blob_measures(Z, y, 20, cfg["mine"], with_mine)}
        corr_rows.append(row)
        say("C corruption=" + str(ratio) + ": " + _fmt(row))
    for dim in cfg["dims"]:
        Z, y, _ = datasets.gaussian_blobs(cfg["n"], dim, corruption=0.0, noise=0.01,
                                          random_state=0)
        row = {"dim": dim, **_blob_measures(Z, y, dim, cfg["mine"], with_mine)}
        dim_rows.append(row)
        say("C dim=" + str(dim) + ": " + _fmt(row))
    return corr_rows, dim_rows


def _fmt(row):
    return ", ".join(f"{k}={v:.3f}" for k, v in row.items()
                     if k not in ("corruption", "dim", "noise"))


def run_paper(*, quick=False, n_blobs=None, with_mine=True, progress=None):
    """Run experiments A, B and C; returns a dict of row lists and the configuration."""
    say = progress or (lambda line: None)
    cfg = _config(quick, n_blobs)
    try:
        optional.torch("MINE")
    except ImportError:
        with_mine = False
    c_corr, c_dim = experiment_c(cfg["C"], say, with_mine)
    return {"config": cfg, "A": experiment_a(cfg["A"], say), "B": experiment_b(cfg["B"], say),
            "C_corruption": c_corr, "C_dim": c_dim, "with_mine": with_mine}


# Why ours may differ from the published value, per measure.
_CAUSES = {
    "dsmi": "the paper's blob generator and noise scale are not fully specified (we add "
            "U(-1,1) x 1% x max|Z|), DSMI with sigma = sqrt(D) depends on the spread of "
            "the centres relative to sigma, and it grows with the class size (see N above)",
    "mine_nats": "MINE is a stochastic lower bound; we report the held-out bound of the "
                 "early-stopped critic, the paper the training bound after 200 epochs",
    "ksg": "we use Ross's mixed KSG for discrete labels (the paper ran NPEET's continuous KSG "
           "on the label column), which recovers log2 3 = 1.585 bits at every D because the "
           "classes are separated",
    "csmi": "we bin each of the D dimensions into 10 bins; with D >= 20 every point sits alone "
            "in its cell, as in the paper",
}


def _compare(ours, published, tol):
    if abs(ours - published) <= tol:
        return "agrees"
    return "differs"


def write_paper(results, out_dir):
    """Write ``paper.md`` (tables with published values and comparisons) and the plots.

    Returns
    -------
    dict
        Paths written.
    """
    os.makedirs(out_dir, exist_ok=True)
    L = ["# DSE paper synthetic experiments (arXiv 2312.04823, section 4)", "",
         "Published values were read off the paper's figures (approximate). Bits unless "
         "marked nats.", ""]
    # A
    A = results["A"]
    tcols = [k for k in A[0] if k.startswith("dse_t")]
    L += ["## A. DSE vs intrinsic dimension (preset dse-dsmi, sigma = 10)", "",
          "| noise | intrinsic dim | " + " | ".join(tcols) + " | cse |",
          "|---" * (3 + len(tcols)) + "|"]
    for r in A:
        L.append(f"| {r['noise']} | {r['intrinsic_dim']} | "
                 + " | ".join(f"{r[c]:.2f}" for c in tcols) + f" | {r['cse']:.2f} |")
    cfg = results["config"]["A"]
    plateau = float(np.log2(cfg["n"]))
    top = max(r["dse_t1"] for r in A)
    noisy = [r for r in A if r["noise"] == max(cfg["noise"])]
    first = min(noisy, key=lambda r: r["intrinsic_dim"])
    L += ["", f"Published: DSE rises sigmoidally with d up to log2 N (8.97 bits at N = 500), "
          f"larger t shifts the rise right, t = 1 with 50 % noise is already about 8.3 at the "
          f"smallest d, CSE is flat at log2 N. Ours (N = {cfg['n']}, log2 N = {plateau:.2f}): "
          f"the largest DSE (t = 1) is {top:.2f} bits; with noise {first['noise']} and t = 1 "
          f"DSE is {first['dse_t1']:.2f} bits at the smallest d = {first['intrinsic_dim']}; CSE "
          f"ranges {min(r['cse'] for r in A):.2f}-{max(r['cse'] for r in A):.2f}.", ""]
    # B
    B = results["B"]
    L += ["## B. DSMI on branching trees vs label corruption", "",
          "| branches | corruption | dsmi | csmi | published dsmi (no corruption) |",
          "|---|---|---|---|---|"]
    for r in B:
        pub = PUBLISHED["B"].get(r["branches"]) if r["corruption"] == 0 else None
        L.append(f"| {r['branches']} | {r['corruption']} | {r['dsmi']:.3f} | {r['csmi']:.3f} | "
                 f"{'' if pub is None else pub} |")
    sentences = []
    for k, pub in PUBLISHED["B"].items():
        clean = [r for r in B if r["branches"] == k and r["corruption"] == 0]
        if clean and _compare(clean[0]["dsmi"], pub, 0.3) == "differs":
            sentences.append(
                f"With {k} branches ours is {clean[0]['dsmi']:.2f} bits against about {pub}: "
                f"our tree generator (random-walk branches with a drift, step 1, sigma = 10) "
                f"is PHATE-like but not PHATE's, so the branches' separation relative to "
                f"sigma differs.")
    if any(r["csmi"] > 0.3 for r in B if r["corruption"] == 0):
        sentences.append(
            "Unlike the paper, our CSMI also falls with corruption: each of our branches "
            "drifts along its own direction, so on a 2-bins-per-dimension grid a branch "
            "occupies few cells (ordered by walk time) while size-matched random subsets "
            "spread over many; PHATE's noisier trees fill the grid and CSMI stays near 0.")
    L += [""] + (sentences or ["Ours agree with the published clean-label values within "
                               "0.3 bits."]) + [""]
    # C
    L += ["## C. Gaussian blobs (3 centres, 1 % noise)", "",
          f"N = {results['config']['C']['n']} points (the paper: 5000); DSMI with sigma = "
          f"sqrt(D), t = 1, preset dse-dsmi; CSMI with 10 bins per dimension; KSG k = 3 "
          f"(bits); MINE two hidden layers of 100 (nats). True MI with clean labels: "
          f"log2 3 = 1.585 bits.", "",
          "### vs label corruption (D = 20)", "",
          "| corruption | " + " | ".join(k for k in results["C_corruption"][0]
                                         if k != "corruption") + " |",
          "|---" * len(results["C_corruption"][0]) + "|"]
    for r in results["C_corruption"]:
        L.append(f"| {r['corruption']} | " + " | ".join(
            f"{v:.3f}" for k, v in r.items() if k != "corruption") + " |")
    clean = results["C_corruption"][0]
    L += ["", "| measure | ours (D = 20, clean) | published | comparison |",
          "|---|---|---|---|"]
    notes = []
    for k, pub in PUBLISHED["C_D20"].items():
        if k not in clean:
            continue
        verdict = _compare(clean[k], pub, 0.15)
        L.append(f"| {k} | {clean[k]:.3f} | {pub} | {verdict} |")
        if verdict == "differs":
            notes.append(f"{k}: ours {clean[k]:.2f} vs {pub}; {_CAUSES[k]}.")
    L += [""] + notes + ["", "### vs dimension (clean labels)", "",
                         "| D | measure | ours | published |", "|---|---|---|---|"]
    notes = []
    for r in results["C_dim"]:
        for k, v in r.items():
            if k == "dim":
                continue
            pub = PUBLISHED["C_dim"].get(k, {}).get(r["dim"])
            L.append(f"| {r['dim']} | {k} | {v:.3f} | {'' if pub is None else pub} |")
            if pub is not None and _compare(v, pub, 0.15) == "differs":
                notes.append(f"D = {r['dim']}, {k}: ours {v:.2f} vs {pub}; {_CAUSES[k]}.")
    L += [""] + notes + [""]
    md = os.path.join(out_dir, "paper.md")
    with open(md, "w") as fh:
        fh.write("\n".join(L) + "\n")
    js = os.path.join(out_dir, "paper.json")
    with open(js, "w") as fh:
        json.dump(results, fh, indent=1, default=float)
    png = os.path.join(out_dir, "paper.png")
    _plot(results, png)
    return {"markdown": md, "json": js, "plot": png}


def _finish(ax, title, xlabel, ylabel=None, fontsize=6):
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=fontsize)


def _plot_rows(ax, rows, x):
    """One line per measure column of ``rows`` against the column ``x``; returns the lines."""
    return {k: ax.plot([r[x] for r in rows], [r[k] for r in rows], marker="o",
                       label=f"{k} (ours)" if x == "dim" else k)[0]
            for k in rows[0] if k != x}


def _plot(results, path):
    plt = optional.matplotlib_pyplot("the paper plots")
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.5))
    A = results["A"]
    for noise in sorted({r["noise"] for r in A}):
        sel = [r for r in A if r["noise"] == noise]
        for key in [k for k in sel[0] if k.startswith("dse_t")]:
            axes[0].plot([r["intrinsic_dim"] for r in sel], [r[key] for r in sel], marker=".",
                         label=f"{key[4:]}, noise {noise}")
    _finish(axes[0], "A. DSE vs intrinsic dimension", "intrinsic dimension", "DSE (bits)")
    for k in sorted({r["branches"] for r in results["B"]}):
        sel = [r for r in results["B"] if r["branches"] == k]
        axes[1].plot([r["corruption"] for r in sel], [r["dsmi"] for r in sel], marker="o",
                     label=f"DSMI, {k} branches")
        axes[1].plot([r["corruption"] for r in sel], [r["csmi"] for r in sel], ls="--",
                     label=f"CSMI, {k} branches")
    _finish(axes[1], "B. Branching trees", "label corruption", "bits")
    _plot_rows(axes[2], results["C_corruption"], "corruption")
    _finish(axes[2], "C. Blobs vs corruption (D = 20)", "label corruption", fontsize=7)
    for k, line in _plot_rows(axes[3], results["C_dim"], "dim").items():
        pub = PUBLISHED["C_dim"].get(k, {})
        if pub:
            xs = sorted(pub)
            axes[3].plot(xs, [pub[x] for x in xs], ls=":", color=line.get_color(),
                         label=f"{k} (published)")
    axes[3].set_xscale("log")
    _finish(axes[3], "C. Blobs vs dimension", "dimension D")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
