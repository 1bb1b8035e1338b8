"""Accuracy of ``kde_mi`` on bivariate Gaussians at one sample size, over many draws.

For each rho, ``--seeds`` data sets of ``--n`` pairs: the mean estimate, its bias
against the truth ``-log(1 - rho^2) / 2`` nats, its spread over draws, the largest
error, the share of draws within ``--tolerance`` nats, and the spread of the
parametric oracle (the Gaussian MI of the sample correlation), which no estimator
can beat by much.

Usage
-----
    python benchmarks/bench_kde_mi.py                 # N = 1000, 40 seeds
    python benchmarks/bench_kde_mi.py --n 5000 --seeds 20
"""

from __future__ import annotations

import argparse

import numpy as np

import infolens


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--rhos", type=float, nargs="+", default=[0.0, 0.3, 0.6, 0.9, 0.99])
    parser.add_argument("--tolerance", type=float, default=0.03, help="nats")
    args = parser.parse_args(argv)
    print(f"N = {args.n}, {args.seeds} draws per rho; nats")
    print(f"| rho | truth | mean est. | bias | sd | max abs error | share within "
          f"{args.tolerance} | sd of the Gaussian plug-in |")
    print("|---|---|---|---|---|---|---|---|")
    for rho in args.rhos:
        truth = -0.5 * np.log(1 - rho ** 2)
        estimates, oracle = [], []
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            x = rng.normal(size=args.n)
            y = rho * x + np.sqrt(1 - rho ** 2) * rng.normal(size=args.n)
            estimates.append(infolens.kde_mi(x[:, None], y, base=np.e))
            r = np.corrcoef(x, y)[0, 1]
            oracle.append(-0.5 * np.log(1 - r ** 2))
        est = np.asarray(estimates)
        err = est - truth
        print(f"| {rho} | {truth:.4f} | {est.mean():.4f} | {err.mean():+.4f} | "
              f"{est.std(ddof=1):.4f} | {np.abs(err).max():.4f} | "
              f"{np.mean(np.abs(err) <= args.tolerance):.0%} | {np.std(oracle, ddof=1):.4f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
