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
from infolens.bench.paper_plot import plot_paper
from infolens.core import optional

__all__ = ["PUBLISHED", "READ_PRECISION", "branch_contrast", "run_paper", "write_paper"]

#: How closely a value can be read off the paper's figures (bits, or nats for MINE): the
#: plots have gridlines 0.25-0.5 apart and markers about 0.05 tall, so a reading is good to
#: about +-0.05.  "agrees" means within this; anything further is reported as a difference
#: with its size, never hidden by a tolerance.
READ_PRECISION = 0.05

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


_MINE_NOTE = (
    "The paper's MINE: two hidden layers of 100, Adam lr 1e-4, batch 500, 200 epochs, on the "
    "raw inputs, reporting the training bound. Ours takes those sizes and rates but keeps the "
    "three things infolens does for every neural bound: each coordinate is rank-transformed "
    "to normal scores (preprocess='auto'), the critic has weight decay 0.01, and training "
    "stops early on a held-out 20 % split (patience 20 epochs), whose bound is reported. So "
    "'mine_nats' below is a held-out lower bound, not the paper's training-set number.")

# Why ours may differ from the published value, per measure.
_CAUSES = {
    "dsmi": "the paper's blob generator and noise scale are not fully specified (we add "
            "U(-1,1) x 1% x max|Z|), DSMI with sigma = sqrt(D) depends on the spread of "
            "the centres relative to sigma, and it grows with the class size (see N above)",
    "mine_nats": "our MINE is not the paper's (see 'The paper's MINE' above): normal-score "
                 "inputs, weight decay and early stopping on a held-out split, and we report "
                 "the held-out bound where the paper reports the training bound",
    "ksg": "we use Ross's mixed KSG for discrete labels (the paper ran NPEET's continuous KSG "
           "on the label column), which recovers log2 3 = 1.585 bits at every D because the "
           "classes are separated",
    "csmi": "we bin each of the D dimensions into 10 bins; with D >= 20 every point sits alone "
            "in its cell, as in the paper",
}


def _compare(ours, published):
    """'agrees' within :data:`READ_PRECISION`, else the signed difference."""
    if abs(ours - published) <= READ_PRECISION:
        return "agrees (within reading precision)"
    return f"differs by {ours - published:+.2f}"


def branch_contrast(rows):
    """The paper's contrast of experiment B, per number of branches.

    The paper: DSMI falls from about 0.75 / 1.75 / 2.5 bits to about 0 as the labels are
    corrupted, while CSMI shows no trend.  Per branch count ``k``: DSMI above CSMI at
    no corruption; DSMI falls (clean minus fully corrupted, more than
    :data:`READ_PRECISION`); CSMI flat (its fall under a quarter of DSMI's).

    Returns
    -------
    list of dict
        ``{"branches", "dsmi_clean", "csmi_clean", "dsmi_fall", "csmi_fall",
        "dsmi_above_csmi", "dsmi_falls", "csmi_flat", "held"}``.
    """
    out = []
    for k in sorted({r["branches"] for r in rows}):
        sel = sorted((r for r in rows if r["branches"] == k), key=lambda r: r["corruption"])
        clean, full = sel[0], sel[-1]
        d_fall, c_fall = clean["dsmi"] - full["dsmi"], clean["csmi"] - full["csmi"]
        row = {"branches": k, "dsmi_clean": clean["dsmi"], "csmi_clean": clean["csmi"],
               "dsmi_fall": d_fall, "csmi_fall": c_fall,
               "dsmi_above_csmi": bool(clean["dsmi"] > clean["csmi"]),
               "dsmi_falls": bool(d_fall > READ_PRECISION),
               "csmi_flat": bool(abs(c_fall) < 0.25 * max(d_fall, READ_PRECISION))}
        row["held"] = row["dsmi_above_csmi"] and row["dsmi_falls"] and row["csmi_flat"]
        out.append(row)
    return out


def write_paper(results, out_dir):
    """Write ``paper.md`` (tables with published values and comparisons) and the plots.

    Returns
    -------
    dict
        Paths written.
    """
    os.makedirs(out_dir, exist_ok=True)
    L = ["# DSE paper synthetic experiments (arXiv 2312.04823, section 4)", "",
         "Published values were read off the paper's figures, to about "
         f"±{READ_PRECISION} (their gridlines and marker size); 'agrees' means within that, "
         "any larger difference is given with its size. Bits unless marked nats.", ""]
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
    contrast = branch_contrast(B)
    yes = {True: "yes", False: "**no**"}
    L += ["", "The paper's contrast: DSMI tracks the labels (falls to about 0 with corruption), "
          "CSMI does not (no trend), so DSMI sits above CSMI on clean labels.", "",
          "| branches | DSMI clean | CSMI clean | DSMI fall 0→1 | CSMI fall 0→1 | DSMI > CSMI "
          "clean | DSMI falls | CSMI flat | contrast |", "|---|---|---|---|---|---|---|---|---|"]
    for c in contrast:
        L.append(f"| {c['branches']} | {c['dsmi_clean']:.3f} | {c['csmi_clean']:.3f} | "
                 f"{c['dsmi_fall']:+.3f} | {c['csmi_fall']:+.3f} | {yes[c['dsmi_above_csmi']]} "
                 f"| {yes[c['dsmi_falls']]} | {yes[c['csmi_flat']]} | "
                 f"{'held' if c['held'] else '**did not hold**'} |")
    held = sum(c["held"] for c in contrast)
    L += ["", f"Verdict: the contrast held for {held} of {len(contrast)} branch counts "
          f"(\"CSMI flat\" means its fall is under a quarter of DSMI's)."]
    sentences = []
    for k, pub in PUBLISHED["B"].items():
        clean = [r for r in B if r["branches"] == k and r["corruption"] == 0]
        if clean and _compare(clean[0]["dsmi"], pub).startswith("differs"):
            sentences.append(
                f"With {k} branches our clean DSMI is {clean[0]['dsmi']:.2f} bits against about "
                f"{pub} ({_compare(clean[0]['dsmi'], pub)}): our tree generator (random-walk "
                f"branches with a drift, step 1, sigma = 10) is PHATE-like but not PHATE's, so "
                f"the branches' separation relative to sigma differs.")
    if not all(c["csmi_flat"] for c in contrast):
        sentences.append(
            "Unlike the paper, our CSMI also falls with corruption: each of our branches "
            "drifts along its own direction, so on a 2-bins-per-dimension grid a branch "
            "occupies few cells (ordered by walk time) while size-matched random subsets "
            "spread over many; PHATE's noisier trees fill the grid and CSMI stays near 0.")
    L += [""] + sentences + [""]
    # C
    n_c = results["config"]["C"]["n"]
    L += ["## C. Gaussian blobs (3 centres, 1 % noise)", "",
          (f"N = {n_c} points, as in the paper. " if n_c == 5000 else
           f"N = {n_c} points, below the paper's 5000 (set by --quick or --n-blobs), so DSMI "
           f"is not comparable with the published values: it grows with the class size. ")
          + f"DSMI with sigma = "
          f"sqrt(D), t = 1, preset dse-dsmi; CSMI with 10 bins per dimension; KSG k = 3 "
          f"(bits); MINE two hidden layers of 100 (nats). True MI with clean labels: "
          f"log2 3 = 1.585 bits.", "", _MINE_NOTE, "",
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
        verdict = _compare(clean[k], pub)
        L.append(f"| {k} | {clean[k]:.3f} | {pub} | {verdict} |")
        if verdict.startswith("differs"):
            notes.append(f"{k}: ours {clean[k]:.2f} vs {pub}; {_CAUSES[k]}.")
    L += [""] + notes + ["", "### vs dimension (clean labels)", "",
                         "| D | measure | ours | published | comparison |",
                         "|---|---|---|---|---|"]
    notes = []
    for r in results["C_dim"]:
        for k, v in r.items():
            if k == "dim":
                continue
            pub = PUBLISHED["C_dim"].get(k, {}).get(r["dim"])
            L.append(f"| {r['dim']} | {k} | {v:.3f} | {'' if pub is None else pub} | "
                     f"{'' if pub is None else _compare(v, pub)} |")
            if pub is not None and _compare(v, pub).startswith("differs"):
                notes.append(f"D = {r['dim']}, {k}: ours {v:.2f} vs {pub}; {_CAUSES[k]}.")
    L += [""] + notes + [""]
    md = os.path.join(out_dir, "paper.md")
    with open(md, "w") as fh:
        fh.write("\n".join(L) + "\n")
    js = os.path.join(out_dir, "paper.json")
    with open(js, "w") as fh:
        json.dump(results, fh, indent=1, default=float)
    png = os.path.join(out_dir, "paper.png")
    plot_paper(results, PUBLISHED, png)
    return {"markdown": md, "json": js, "plot": png}
