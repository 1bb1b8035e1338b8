"""``paper.png``: the DSE paper's synthetic experiments on a 2 x 3 grid, published beside ours.

One unit per axis (MINE, in nats, has its own panels), a y label on every panel,
ours as solid lines with markers and the values read off the paper's figures as
dotted lines or open stars of the same colour.
"""

from __future__ import annotations

import numpy as np

from infolens.core import optional

__all__ = ["plot_paper"]

_BITS = "MI (bits)"


def _legend(ax):
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best", framealpha=0.8)


def _panel_a(ax, results, published):
    A = results["A"]
    for noise in sorted({r["noise"] for r in A}):
        sel = [r for r in A if r["noise"] == noise]
        for key in [k for k in sel[0] if k.startswith("dse_t")]:
            ax.plot([r["intrinsic_dim"] for r in sel], [r[key] for r in sel], marker=".",
                    label=f"DSE {key[4:]}, noise {noise}")
    ceiling = float(np.log2(results["config"]["A"]["n"]))
    ax.axhline(ceiling, color="grey", ls=":", label=f"log2 N = {ceiling:.2f} (published plateau)")
    smallest = min(r["intrinsic_dim"] for r in A)
    ax.plot([smallest], [published["A"]["t1_noise0.5_smallest_d"]], marker="*", ms=12,
            mfc="none", color="k", ls="", label="published: t1, noise 0.5")
    ax.set(title="A. DSE vs intrinsic dimension", xlabel="intrinsic dimension d",
           ylabel="DSE (bits)")


def _panel_b(ax, results, published):
    for k in sorted({r["branches"] for r in results["B"]}):
        sel = [r for r in results["B"] if r["branches"] == k]
        line = ax.plot([r["corruption"] for r in sel], [r["dsmi"] for r in sel], marker="o",
                       label=f"DSMI, {k} branches")[0]
        ax.plot([r["corruption"] for r in sel], [r["csmi"] for r in sel], ls="--",
                color=line.get_color(), label=f"CSMI, {k} branches")
        if k in published["B"]:
            ax.plot([0], [published["B"][k]], marker="*", ms=12, mfc="none", ls="",
                    color=line.get_color(), label=f"published DSMI, {k} br.")
    ax.set(title="B. Branching trees", xlabel="label corruption", ylabel=_BITS)


def _panel_c_corruption(ax, rows, published, keys, ylabel):
    for k in keys:
        line = ax.plot([r["corruption"] for r in rows], [r[k] for r in rows], marker="o",
                       label=f"{k} (ours)")[0]
        if k in published["C_D20"]:
            ax.plot([0], [published["C_D20"][k]], marker="*", ms=12, mfc="none", ls="",
                    color=line.get_color(), label=f"{k} published (clean)")
    ax.set(title="C. Blobs vs label corruption (D = 20)", xlabel="label corruption",
           ylabel=ylabel)


def _panel_c_dim(ax, rows, published, keys, ylabel):
    for k in keys:
        line = ax.plot([r["dim"] for r in rows], [r[k] for r in rows], marker="o",
                       label=f"{k} (ours)")[0]
        pub = published["C_dim"].get(k, {})
        if pub:
            xs = sorted(pub)
            ax.plot(xs, [pub[x] for x in xs], ls=":", marker="*", mfc="none",
                    color=line.get_color(), label=f"{k} (published)")
    ax.set_xscale("log")
    ax.set(title="C. Blobs vs dimension (clean labels)", xlabel="dimension D (log scale)",
           ylabel=ylabel)


def plot_paper(results, published, path):
    """Write the 2 x 3 figure of experiments A-C to ``path`` (PNG, about 1500 x 900 px)."""
    plt = optional.matplotlib_pyplot("the paper plots")
    fig, axes = plt.subplots(2, 3, figsize=(15, 9))
    _panel_a(axes[0, 0], results, published)
    _panel_b(axes[0, 1], results, published)
    bits = [k for k in ("dsmi", "csmi", "ksg") if k in results["C_corruption"][0]]
    _panel_c_corruption(axes[0, 2], results["C_corruption"], published, bits, _BITS)
    _panel_c_dim(axes[1, 0], results["C_dim"], published, bits, _BITS)
    if results.get("with_mine") and "mine_nats" in results["C_corruption"][0]:
        _panel_c_corruption(axes[1, 1], results["C_corruption"], published, ["mine_nats"],
                            "MINE bound (nats)")
        _panel_c_dim(axes[1, 2], results["C_dim"], published, ["mine_nats"],
                     "MINE bound (nats)")
    else:
        for ax in axes[1, 1:]:
            ax.text(0.5, 0.5, "MINE not run (needs torch)", ha="center", va="center")
            ax.set_axis_off()
    for ax in axes.flat:
        _legend(ax)
    fig.suptitle("DSE paper, synthetic experiments: ours (solid, circles) and published "
                 "(stars / dotted, read off the paper's figures)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
