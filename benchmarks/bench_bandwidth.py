"""Which default bandwidth: the candidates side by side on the properties DSE/DSMI promise.

Candidates (``r_k(i)``: distance from row ``i`` to its ``k``-th nearest other row):

* ``median (old)``: the former default, the median pairwise distance over 2048
  rows drawn by position with a fixed seed (emulated here);
* ``median``: the ``"median"`` rule as it is now (distinct rows, zero
  distances ignored, a subset chosen by content above 2048 distinct rows);
* ``knn ln N``: ``sigma = median_i r_k(i) / sqrt(2)``, ``k = ceil(ln N)``
  (the library's ``sigma="knn"``);
* ``knn 2 ln N``: ``k = ceil(2 ln N)``, ``/ sqrt(2)``;
* ``knn sqrt N``: ``k = ceil(sqrt N)``, ``/ sqrt(2)``;
* ``self-tuning``: Zelnik-Manor & Perona's local kernel
  ``exp(-d_ij^2 / (r_7(i) r_7(j)))`` (dense, computed here);
* ``multi-scale``: DSE averaged over five bandwidths geometrically spaced from
  the ``knn`` value to the ``median`` value.

Criteria: the cluster property (k = 1..4 Gaussian blobs, 16-D, N = 1200, unit
spread, centres 10 apart on the axes: DSE and DSMI(Z; blob) at t = 40 should
be log2 k); a harder separation (centres 7 apart); the paper's experiment A
(N = 500 in 2048-D, intrinsic dimension 102..2048, noise 1 % / 50 %: DSE
should rise with the dimension and move little with the noise); invariance
under ``Z -> c Z + b``; row-order independence at N = 3000; a dead layer
(80 zero rows + 20 ReLU rows) over permutations and scales; one outlier row;
the digits data (sklearn ``load_digits``); the time to resolve the bandwidth.

    python benchmarks/bench_bandwidth.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy.spatial.distance import cdist

import infolens
from infolens import datasets
from infolens.kernels.bandwidth import resolve_bandwidth

RULES = ["median (old)", "median", "knn ln N", "knn 2 ln N", "knn sqrt N",
         "self-tuning", "multi-scale"]


def dense_dse(Z, t, kernel):
    """DSE (bits, alpha = 0, trivial eigenvalue kept) of a dense kernel ``K`` of ``Z``."""
    K = kernel(Z)
    deg = K.sum(axis=1)
    A = K / np.sqrt(np.outer(deg, deg))
    lam = np.abs(np.linalg.eigvalsh((A + A.T) / 2)) ** t
    p = lam / lam.sum()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def gaussian(sigma):
    return lambda Z: np.exp(-cdist(Z, Z, "sqeuclidean") / (2 * sigma ** 2))


def knn_radius(Z, k):
    D = cdist(Z, Z)
    D[D == 0] = np.inf
    return np.sort(D, axis=1)[:, k - 1]


def old_median(Z):
    n = Z.shape[0]
    if n > 2048:
        Z = Z[np.sort(np.random.default_rng(0).choice(n, 2048, replace=False))]
    d = cdist(Z, Z)[np.triu_indices(Z.shape[0], 1)]
    med = float(np.median(d))
    return med if med > 0 else float(d[d > 0].mean())


def sigma_of(rule, Z):
    n = Z.shape[0]
    if rule == "median (old)":
        return old_median(Z)
    if rule == "median":
        return resolve_bandwidth(Z, "median")
    if rule == "knn ln N":
        return resolve_bandwidth(Z, "knn")
    if rule == "knn 2 ln N":
        return float(np.median(knn_radius(Z, int(np.ceil(2 * np.log(n)))))) / np.sqrt(2)
    if rule == "knn sqrt N":
        return float(np.median(knn_radius(Z, int(np.ceil(np.sqrt(n)))))) / np.sqrt(2)
    raise KeyError(rule)


def dse_of(rule, Z, t):
    if rule == "self-tuning":
        r = knn_radius(Z, 7)
        r = np.where(np.isfinite(r), r, 1.0)
        return dense_dse(Z, t, lambda X: np.exp(-cdist(X, X, "sqeuclidean") / np.outer(r, r)))
    if rule == "multi-scale":
        lo, hi = resolve_bandwidth(Z, "knn"), resolve_bandwidth(Z, "median")
        return float(np.mean([dense_dse(Z, t, gaussian(s)) for s in np.geomspace(lo, hi, 5)]))
    return dense_dse(Z, t, gaussian(sigma_of(rule, Z)))


def dsmi_of(rule, Z, y, t):
    """DSMI by its definition (size-matched subsets, as the library) on the rule's kernel."""
    if rule in ("self-tuning", "multi-scale"):
        total = dse_of(rule, Z, t)
        cond = 0.0
        for c in np.unique(y):
            cond += np.mean(y == c) * dse_of(rule, Z[y == c], t)
        return total - cond
    return infolens.dsmi(Z, y, t=t, sigma=sigma_of(rule, Z))


def blobs(k, sep=10.0, n=1200, d=16, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    C = np.zeros((k, d))
    C[np.arange(k), np.arange(k)] = sep
    return C[y] + rng.standard_normal((n, d)), y


def run(quick, partial=None):
    out = {r: {} for r in RULES}

    def say(text):
        print(text, flush=True)
        if partial:  # the results so far, for long runs on a busy machine
            with open(partial, "w") as fh:
                json.dump(out, fh, indent=1)
    # 1. Cluster property.
    for sep in (10.0, 7.0):
        for k in (1, 2, 3, 4):
            Z, y = blobs(k, sep)
            for r in RULES:
                out[r][f"dse_k{k}_sep{sep:g}"] = dse_of(r, Z, 40)
                if k > 1 and sep == 10.0:
                    out[r][f"dsmi_k{k}"] = dsmi_of(r, Z, y, 40)
        say(f"clusters sep={sep} done")
    # 2. Experiment A (noise resilience).
    dims = [102, 512, 1024, 2048] if quick else [102, 307, 512, 1024, 1536, 2048]
    for noise in (0.01, 0.5):
        for d in dims:
            Z = datasets.intrinsic_dimension_data(500, 2048, d, noise=noise, random_state=d)
            for r in RULES:
                out[r][f"A_n{noise}_d{d}"] = dse_of(r, Z, 1)
        say(f"experiment A noise={noise} done")
    for r in RULES:
        lo = [out[r][f"A_n0.01_d{d}"] for d in dims]
        hi = [out[r][f"A_n0.5_d{d}"] for d in dims]
        out[r]["A_rise_clean"] = lo[-1] - lo[0]
        out[r]["A_rise_noisy"] = hi[-1] - hi[0]
        out[r]["A_noise_shift"] = float(np.mean(np.abs(np.subtract(hi, lo))))
    # 3. Invariance, row order, duplicates, outlier.
    Z, y = blobs(3, 10.0, n=600)
    rng = np.random.default_rng(1)
    b = rng.normal(size=Z.shape[1]) * 50
    for r in RULES:
        base = dse_of(r, Z, 1)
        out[r]["invariance"] = max(abs(dse_of(r, c * Z + b, 1) - base) for c in (1e-3, 7.3e4))
    Zb, _ = blobs(4, 10.0, n=1500 if quick else 3000, seed=2)
    perm = np.random.default_rng(5).permutation(Zb.shape[0])
    for r in RULES:
        if r in ("self-tuning", "multi-scale"):
            continue  # built from all rows' distances: order-free by construction
        out[r]["row_order"] = abs(dse_of(r, Zb, 1) - dse_of(r, Zb[perm], 1))
    say("invariance / row order done")
    dead = np.zeros((100, 8))
    dead[80:] = np.maximum(np.random.default_rng(3).normal(size=(20, 8)), 0)
    for r in RULES:
        vals = []
        for s in (0, 1, 2):
            P = dead[np.random.default_rng(s).permutation(100)]
            vals += [dse_of(r, c * P, 1) for c in (1e-3, 1.0, 1e3)]
        out[r]["dead_layer_range"] = max(vals) - min(vals)
        out[r]["dead_layer_dse"] = float(np.median(vals))
    Zo, _ = blobs(3, 10.0, n=600, seed=4)
    for r in RULES:
        if r in ("self-tuning", "multi-scale"):
            continue
        s0 = sigma_of(r, Zo)
        Zx = Zo.copy()
        Zx[-1] *= 1e3
        out[r]["outlier_sigma_change"] = sigma_of(r, Zx) / s0 - 1
    say("duplicates / outlier done")
    # 4. Digits.
    from sklearn.datasets import load_digits

    X, yd = load_digits(return_X_y=True)
    if quick:
        X, yd = X[:900], yd[:900]
    for r in RULES:
        out[r]["digits_dse_t1"] = dse_of(r, X, 1)
        out[r]["digits_dse_t40"] = dse_of(r, X, 40)
        out[r]["digits_dsmi_t1"] = dsmi_of(r, X, yd, 1)
        out[r]["digits_dsmi_t40"] = dsmi_of(r, X, yd, 40)
    say("digits done")
    # 5. Time to resolve the bandwidth (median of 3).
    big = np.random.default_rng(6).normal(size=(20000, 64))
    for r in ("median", "knn ln N"):
        for n in (1200, 20000):
            ts = []
            for _ in range(3):
                t0 = time.perf_counter()
                sigma_of(r, big[:n])
                ts.append(time.perf_counter() - t0)
            out[r][f"time_n{n}"] = float(np.median(ts))
    return out


def table(out):
    rows = [
        ("DSE t=40, 1 blob (want 0)", "dse_k1_sep10"),
        ("DSE t=40, 2 blobs (want 1)", "dse_k2_sep10"),
        ("DSE t=40, 3 blobs (want 1.585)", "dse_k3_sep10"),
        ("DSE t=40, 4 blobs (want 2)", "dse_k4_sep10"),
        ("DSMI t=40, 2 blobs (want 1)", "dsmi_k2"),
        ("DSMI t=40, 3 blobs (want 1.585)", "dsmi_k3"),
        ("DSMI t=40, 4 blobs (want 2)", "dsmi_k4"),
        ("DSE t=40, 4 blobs 7 apart (want 2)", "dse_k4_sep7"),
        ("A: DSE rise d=102->2048, 1 % noise", "A_rise_clean"),
        ("A: DSE rise d=102->2048, 50 % noise", "A_rise_noisy"),
        ("A: mean shift 1 % -> 50 % noise", "A_noise_shift"),
        ("max change under cZ+b", "invariance"),
        ("change under a row permutation, N=3000", "row_order"),
        ("dead layer: DSE range over order x scale", "dead_layer_range"),
        ("dead layer: median DSE", "dead_layer_dse"),
        ("one outlier x1e3: relative sigma change", "outlier_sigma_change"),
        ("digits: DSE t=1", "digits_dse_t1"),
        ("digits: DSE t=40", "digits_dse_t40"),
        ("digits: DSMI(Z; digit) t=1", "digits_dsmi_t1"),
        ("digits: DSMI(Z; digit) t=40", "digits_dsmi_t40"),
        ("time to resolve sigma, N=1200, 64-D (s)", "time_n1200"),
        ("time to resolve sigma, N=20000, 64-D (s)", "time_n20000"),
    ]
    lines = ["| criterion (bits) | " + " | ".join(RULES) + " |",
             "|---|" + "---|" * len(RULES)]
    for text, key in rows:
        cells = []
        for r in RULES:
            v = out[r].get(key)
            cells.append("-" if v is None else (f"{v:.1e}" if abs(v) < 1e-3 and v != 0
                                                else f"{v:.3f}"))
        lines.append(f"| {text} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", help="write the numbers here (also after each section)")
    args = ap.parse_args()
    out = run(args.quick, args.json)
    print(table(out))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
