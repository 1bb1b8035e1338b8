"""Is the single-precision eigen-solve of ``precision="auto"`` accurate to 1e-6 bits?

For each case (data kind, N, bandwidth) the deflated diffusion matrix is
solved twice, in float64 (the truth: its own error is ~1e-13 bits) and in
float32, exactly as :func:`infolens.spectrum.exact.symmetric_eigenvalues` does.  For
every diffusion time ``t`` and ``keep_trivial`` it prints the DSE in bits, the
actual error ``|DSE_32 - DSE_64|``, the a-priori estimate that ``"auto"``
uses (:func:`infolens.spectrum.exact.float32_error_estimate`), whether ``"auto"``
accepts float32 (estimate <= 1e-6 bits and N >= 1024) and the time of each
solve.  It checks that the estimate bounds the actual error wherever float32
is accepted (exit status 1 otherwise) and reports how often it is accepted.

Usage
-----
    python benchmarks/bench_precision.py            # N = 1024, 2000, 4000
    python benchmarks/bench_precision.py --quick    # N = 1024, 1500
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from infolens.spectrum import exact as spectral
from infolens.kernels.bandwidth import resolve_bandwidth
from infolens.kernels.gaussian import diffusion_operator

DATA = ("uniform", "gaussian", "clustered", "manifold")
SIGMAS = ("median", "rms", 10.0, 1.0, "0.3*median")
TIMES = (1, 2, 3)


def make_data(kind, n, seed=0):
    """Embeddings of shape (n, d) of one of the kinds in ``DATA``."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":  # the reference package's example
        return rng.uniform(0.0, 1.0, size=(n, 256))
    if kind == "gaussian":
        return rng.normal(size=(n, 256))
    if kind == "clustered":  # 10 well separated clusters
        centres = rng.normal(0.0, 3.0, size=(10, 256))
        return centres[rng.integers(0, 10, size=n)] + rng.normal(0.0, 0.5, size=(n, 256))
    if kind == "manifold":  # a noisy Swiss roll, linearly embedded in 64 dimensions
        s = 1.5 * np.pi * (1.0 + 2.0 * rng.uniform(size=n))
        roll = np.column_stack([s * np.cos(s), 21.0 * rng.uniform(size=n), s * np.sin(s)])
        return roll @ rng.normal(size=(3, 64)) + 0.05 * rng.normal(size=(n, 64))
    raise ValueError(f"unknown data kind {kind!r}; expected one of {DATA}")


def bandwidth(Z, rule):
    if isinstance(rule, str) and rule.startswith("0.3*"):
        return 0.3 * resolve_bandwidth(Z, rule[4:])
    return resolve_bandwidth(Z, rule)


def solve(op, dtype):
    """Raw eigenvalues of the deflated matrix in ``dtype`` (what the library solves), seconds."""
    t0 = time.perf_counter()
    A = spectral._deflate(op.matrix, op.trivial_vector, dtype, overwrite=False)
    raw = spectral._eigvalsh(A)
    return raw, time.perf_counter() - t0


def run_case(kind, n, rule):
    Z = make_data(kind, n)
    sigma = bandwidth(Z, rule)
    op = diffusion_operator(Z, sigma)
    trace = float(np.trace(op.matrix)) - float(op.trivial_vector @ op.trivial_vector)
    raw64, t64 = solve(op, np.float64)
    raw32, t32 = solve(op, np.float32)
    s64 = spectral.Spectrum(*spectral.restore_trivial(raw64), "float64")
    s32 = spectral.Spectrum(*spectral.restore_trivial(raw32), "float32")
    rows = []
    for t in TIMES:
        unknown = spectral.float32_error_estimate(raw32, t, deflated=True, trace=trace)
        for keep in (True, False):
            estimate = spectral.float32_error_estimate(raw32, t, deflated=True, trace=trace,
                                                       keep_trivial=keep)
            t0 = time.perf_counter()
            forecast = spectral.float32_error_forecast(
                op.matrix, t, trivial_vector=op.trivial_vector, keep_trivial=keep)
            t_forecast = time.perf_counter() - t0
            tried = (n >= spectral.FLOAT32_MIN_N and forecast
                     <= spectral.FLOAT32_FORECAST_FRACTION * spectral.FLOAT32_TOLERANCE_BITS)
            accepted = (n >= spectral.FLOAT32_MIN_N
                        and estimate <= spectral.FLOAT32_TOLERANCE_BITS)
            mixed = ("float32" if tried and accepted else "wasted" if tried
                     else "float64" if n < spectral.FLOAT32_MIN_N else "skip")
            h64 = spectral.spectral_entropy(s64, t, keep_trivial=keep)
            h32 = spectral.spectral_entropy(s32, t, keep_trivial=keep)
            rows.append(dict(data=kind, n=n, rule=str(rule), sigma=sigma, t=t, keep=keep,
                             dse=h64, error=abs(h32 - h64), estimate=estimate,
                             forecast=forecast, mixed=mixed, t_forecast=t_forecast,
                             accepted=accepted, t32=t32, t64=t64,
                             accepted_unknown_keep=(n >= spectral.FLOAT32_MIN_N and unknown
                                                    <= spectral.FLOAT32_TOLERANCE_BITS)))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1024, 2000, 4000])
    p.add_argument("--data", nargs="+", default=list(DATA), choices=DATA)
    p.add_argument("--sigmas", nargs="+", default=[str(x) for x in SIGMAS],
                   help=f"bandwidths: numbers or rules, from {SIGMAS}")
    p.add_argument("--quick", action="store_true", help="N = 1024, 1500")
    a = p.parse_args(argv)
    if a.quick:
        a.sizes = [1024, 1500]
    rules = [float(x) if x[0].isdigit() and "*" not in x else x for x in a.sigmas]
    print(f"{'data':9} {'N':>5} {'sigma rule':>10} {'sigma':>8} {'t':>1} {'keep':>5} "
          f"{'DSE bits':>9} {'|err32| bits':>12} {'forecast':>9} {'estimate':>9} "
          f"{'est/err':>8} {'auto':>7} {'mixed':>7} {'t32 s':>6} {'t64 s':>6} {'tfc s':>6}")
    rows, bad = [], []
    for kind in a.data:
        for n in a.sizes:
            for rule in rules:
                for r in run_case(kind, n, rule):
                    rows.append(r)
                    ok = not r["accepted"] or r["error"] <= r["estimate"]
                    if not ok:
                        bad.append(r)
                    ratio = r["estimate"] / r["error"] if r["error"] > 0 else np.inf
                    print(f"{r['data']:9} {r['n']:5d} {r['rule']:>10} {r['sigma']:8.3g} "
                          f"{r['t']:1d} {str(r['keep']):>5} {r['dse']:9.4f} {r['error']:12.2e} "
                          f"{r['forecast']:9.2e} {r['estimate']:9.2e} {ratio:8.1f} "
                          f"{'float32' if r['accepted'] else 'float64':>7} {r['mixed']:>7} "
                          f"{r['t32']:6.2f} {r['t64']:6.2f} {r['t_forecast']:6.3f}"
                          f"{'' if ok else '  ESTIMATE BELOW ERROR'}",
                          flush=True)
    accepted = [r for r in rows if r["accepted"]]
    fine = sum(r["error"] <= spectral.FLOAT32_TOLERANCE_BITS for r in rows)
    unknown = sum(r["accepted_unknown_keep"] for r in rows)
    print(f"\n{len(rows)} cases; float32 is within {spectral.FLOAT32_TOLERANCE_BITS:g} bits in "
          f"{fine}; auto accepts float32 in {len(accepted)} "
          f"({100 * len(accepted) / len(rows):.0f}%), in {unknown} when it is not told "
          f"keep_trivial (the larger estimate of the two).")
    if accepted:
        worst = max(accepted, key=lambda r: r["error"])
        tight = min(accepted, key=lambda r: r["estimate"] / max(r["error"], 1e-300))
        print(f"Largest actual error where float32 was accepted: {worst['error']:.2e} bits "
              f"(tolerance {spectral.FLOAT32_TOLERANCE_BITS:g}).")
        print(f"Smallest estimate/error ratio where accepted: "
              f"{tight['estimate'] / max(tight['error'], 1e-300):.2f}.")
    t32 = np.median([r["t32"] for r in rows if r["n"] == max(a.sizes)])
    t64 = np.median([r["t64"] for r in rows if r["n"] == max(a.sizes)])
    print(f"Median solve time at N = {max(a.sizes)}: float32 {t32:.2f} s, float64 {t64:.2f} s "
          f"({t64 / t32:.1f}x).")
    outcome = {k: sum(r["mixed"] == k for r in rows) for k in ("float32", "skip", "wasted")}
    lost = sum(r["mixed"] == "skip" and r["accepted"] for r in rows)
    print(f"precision='mixed' (forecast fraction {spectral.FLOAT32_FORECAST_FRACTION}): "
          f"float32 kept in {outcome['float32']}, float32 skipped by the forecast in "
          f"{outcome['skip']} ({lost} of them would have been accepted), float32 tried "
          f"and rejected in {outcome['wasted']}.")
    print(f"Median forecast time at N = {max(a.sizes)}: "
          f"{np.median([r['t_forecast'] for r in rows if r['n'] == max(a.sizes)]):.3f} s.")
    print(f"Cases where float32 was accepted and the estimate was below the actual error: "
          f"{len(bad)}.")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
