"""The Wasserstein dependency paper's claim as a table: InfoNCE saturates, WDM keeps growing.

Task: ``k`` independent pairs of standard Gaussians with correlation ``rho`` (default
0.8), so the true MI is ``k * (-1/2 log(1 - rho^2))`` nats (0.511 per pair) and the true W1
lies in the analytic bracket ``[c_k (1 - sqrt(1 - rho)), sqrt(k) W2_pair]`` (see
``tests/test_wasserstein.py``).  InfoNCE with batch ``B`` can never exceed ``log B``
(Ozair et al., NeurIPS 2019; van den Oord et al. 2018); the Wasserstein dependency
measure has no such cap.

    python benchmarks/bench_wdm.py [--ks 1 2 4 8 16] [--n 4000] [--batch 64]

Prints a Markdown table (values in nats for the MI columns, standardised distance for WDM).
"""

import argparse
import math
import time

import numpy as np

import infolens


def task(k, n, rho, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, k))
    return a, rho * a + math.sqrt(1 - rho ** 2) * rng.normal(size=(n, k))


def bracket(k, rho):
    c_k = math.sqrt(2) * math.exp(math.lgamma((k + 1) / 2) - math.lgamma(k / 2))
    w2 = math.sqrt(4 - 2 * (math.sqrt(1 + rho) + math.sqrt(1 - rho)))
    return c_k * (1 - math.sqrt(1 - rho)), math.sqrt(k) * w2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rho", type=float, default=0.8)
    args = parser.parse_args()
    cap = math.log(args.batch)
    print(f"N={args.n}, rho={args.rho}, InfoNCE batch {args.batch}: cap log B = {cap:.2f} nats\n")
    print("| k | true MI (nats) | InfoNCE (nats) | InfoNCE <= log B | WDM neural W1 | "
          "W1 bracket | Gaussian W2 | time InfoNCE / WDM (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for k in args.ks:
        a, b = task(k, args.n, args.rho)
        truth = -0.5 * k * math.log(1 - args.rho ** 2)
        t0 = time.perf_counter()
        nce = infolens.infonce_mi(a, b, batch_size=args.batch, base="e")
        t1 = time.perf_counter()
        wdm = infolens.wasserstein_dependency(a, b)
        t2 = time.perf_counter()
        w2 = infolens.wasserstein_dependency(a, b, method="gaussian")
        lo, hi = bracket(k, args.rho)
        print(f"| {k} | {truth:.2f} | {nce:.2f} | {'yes' if nce <= cap + 1e-9 else 'NO'} | "
              f"{wdm:.3f} | [{lo:.3f}, {hi:.3f}] | {w2:.3f} | {t1 - t0:.0f} / {t2 - t1:.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
