"""Feature screening: the fastHDMI paper's four scenarios (AUC) and speed against its peers.

Data (after Yang et al., fastHDMI, arXiv 2410.10082): ``N`` samples of ``D`` Gaussian
features with Toeplitz correlation ``0.5**|i-j|``; 10 true features (every ``D/10``-th);
outcome ``eta + noise`` with ``eta`` linear (sum of the true features) or nonlinear
(sum of ``x**2 - 1``), continuous (plus N(0, 1)) or binary (``eta`` plus logistic noise
``> 0``).  The AUC says how well the scores separate the 10 true features from the rest
(1: all true features above all others; 0.5: chance).

Part 1 prints the AUC table for ``infolens.feature_screen`` with method kde / binning /
ksg / pearson, scikit-learn's ``mutual_info_regression`` / ``mutual_info_classif`` and
fastHDMI 1.25.26 (``continuous_screening_array``: KDE; ``binary_screening_array``: it falls
back to binning in this version).  Part 2 times the continuous nonlinear problem (the
same D = 400 features) for infolens kde, scikit-learn and fastHDMI, interleaved so that
they share the machine's load, and prints medians and ratios.  Part 3 checks fastHDMI's
bandwidth: its ``MI_continuous_continuous`` computes a bandwidth and never passes it to
KDEpy's ``FFTKDE`` (which then uses bw = 1 on robust-scaled data), so every
``bw_multiplier`` gives the same value, about 10x below the truth.

fastHDMI's package import needs pyarrow (through ``dask.dataframe``, which it never uses
for arrays); this script stubs ``dask.dataframe`` so that its array functions load.

Usage
-----
    python benchmarks/bench_screening.py                   # about 10 min on a loaded machine
    python benchmarks/bench_screening.py --reps 1 --speed-reps 1 --no-fasthdmi
"""

from __future__ import annotations

import argparse
import sys
import time
import types

import numpy as np
from scipy.linalg import toeplitz

import infolens

METHODS = ("kde", "binning", "ksg", "pearson")
SCENARIOS = ("continuous-linear", "continuous-nonlinear", "binary-linear", "binary-nonlinear")


def make_problem(scenario, n, d, seed):
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(toeplitz(0.5 ** np.arange(d)))
    X = rng.normal(size=(n, d)) @ L.T
    truth = np.zeros(d, dtype=bool)
    truth[np.arange(0, d, d // 10)[:10]] = True
    T = X[:, truth]
    eta = T.sum(axis=1) if scenario.endswith("-linear") else (T**2 - 1).sum(axis=1)
    if scenario.startswith("continuous"):
        return X, eta + rng.normal(size=n), truth
    eta = eta / eta.std() * 2.0
    return X, (eta + rng.logistic(size=n) > 0).astype(int), truth


def auc(scores, truth):
    from sklearn.metrics import roc_auc_score
    return roc_auc_score(truth, np.nan_to_num(scores, nan=-np.inf))


def load_fasthdmi():
    sys.modules.setdefault("dask.dataframe", types.ModuleType("dask.dataframe"))
    import fastHDMI
    from fastHDMI.mi_estimation import mi_estimation
    return fastHDMI, mi_estimation


def sklearn_scores(X, y, binary):
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
    if binary:
        return mutual_info_classif(X, y, random_state=0)
    return mutual_info_regression(X, y, random_state=0)


def fasthdmi_scores(fast, X, y, binary):
    if binary:
        return fast.binary_screening_array(X, y, verbose=0)
    return fast.continuous_screening_array(X, y, verbose=0)


def part_auc(args, fast):
    print(f"### AUC of the true features (N={args.n}, D={args.d}, 10 true, "
          f"{args.reps} reps; fastHDMI {args.fast_reps} rep(s))\n")
    peers = ["sklearn"] + (["fastHDMI"] if fast else [])
    print("| scenario | " + " | ".join(METHODS + tuple(peers)) + " |")
    print("|---" * (1 + len(METHODS) + len(peers)) + "|")
    table = {}
    for scenario in SCENARIOS:
        binary = scenario.startswith("binary")
        cells = {m: [] for m in METHODS + tuple(peers)}
        for rep in range(args.reps):
            X, y, truth = make_problem(scenario, args.n, args.d, seed=rep)
            for m in METHODS:
                cells[m].append(auc(infolens.feature_screen(X, y, method=m).scores, truth))
            cells["sklearn"].append(auc(sklearn_scores(X, y, binary), truth))
            if fast and rep < args.fast_reps:
                cells["fastHDMI"].append(auc(fasthdmi_scores(fast, X, y, binary), truth))
        table[scenario] = {m: float(np.mean(v)) for m, v in cells.items()}
        print(f"| {scenario} | " + " | ".join(f"{table[scenario][m]:.3f}" for m in cells)
              + " |", flush=True)
    return table


def part_speed(args, fast):
    X, y, _ = make_problem("continuous-nonlinear", args.n, args.d, seed=0)
    infolens.feature_screen(X[:, :8], y)      # imports (scipy.stats) out of the timing
    sklearn_scores(X[:, :2], y, False)
    runs = {"infolens kde": [], "infolens kde (grid 256)": [], "scikit-learn": []}
    if fast:
        runs["fastHDMI"] = []
    for rep in range(args.speed_reps):
        for name in runs:
            if name == "fastHDMI" and rep >= args.fast_reps:
                continue
            start = time.perf_counter()
            if name == "infolens kde":
                infolens.feature_screen(X, y)
            elif name == "infolens kde (grid 256)":
                infolens.feature_screen(X, y, grid_size=256)
            elif name == "scikit-learn":
                sklearn_scores(X, y, False)
            else:
                fasthdmi_scores(fast, X, y, False)
            runs[name].append(time.perf_counter() - start)
    ours = np.median(runs["infolens kde"])
    print(f"\n### Speed, continuous outcome, N={args.n}, D={args.d} (seconds, interleaved)\n")
    print("| method | median s | runs | time / infolens kde time |")
    print("|---|---|---|---|")
    for name, times in runs.items():
        print(f"| {name} | {np.median(times):.2f} | {len(times)} | "
              f"{np.median(times) / ours:.2f}x |")
    return {name: float(np.median(t)) for name, t in runs.items()}


def part_bandwidth(mi_estimation):
    rng = np.random.default_rng(0)
    print("\n### fastHDMI's bandwidth is never used (MI_continuous_continuous, N=1000, nats)\n")
    print("| rho | truth | fastHDMI bw_multiplier 0.1 / 1 / 10, bw='ISJ' | infolens kde_mi |")
    print("|---|---|---|---|")
    for rho in (0.5, 0.75, 0.9):
        x = rng.normal(size=1000)
        y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=1000)
        theirs = [mi_estimation.MI_continuous_continuous(x, y, m) for m in (0.1, 1.0, 10.0)]
        theirs.append(mi_estimation.MI_continuous_continuous(x, y, 1.0, bw="ISJ"))
        ours = infolens.kde_mi(x[:, None], y, base="e")
        print(f"| {rho} | {-0.5 * np.log(1 - rho**2):.3f} | "
              f"{' / '.join(f'{v:.4f}' for v in theirs)} | {ours:.3f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--d", type=int, default=400)
    parser.add_argument("--reps", type=int, default=2, help="data sets per AUC cell")
    parser.add_argument("--speed-reps", type=int, default=3)
    parser.add_argument("--fast-reps", type=int, default=1,
                        help="fastHDMI runs per cell (it takes about a minute per screen)")
    parser.add_argument("--no-fasthdmi", action="store_true")
    args = parser.parse_args(argv)
    fast = mi_estimation = None
    if not args.no_fasthdmi:
        fast, mi_estimation = load_fasthdmi()
    part_auc(args, fast)
    part_speed(args, fast)
    if mi_estimation is not None:
        part_bandwidth(mi_estimation)


if __name__ == "__main__":
    main()
