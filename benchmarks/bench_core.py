"""infolens versus the reference package ``dse-dsmi``: time, peak memory, agreement.

Runs, in one process and alternately, ``dse_dsmi.diffusion_spectral_entropy(Z,
gaussian_kernel_sigma=10, t=1)`` and ``infolens.dse(Z, preset="dse-dsmi")`` on
the same data, and prints per size the median wall time of each, the speed
ratio, the peak memory of each, the memory ratio and ``|difference|`` in bits.

Memory
------
*In-process* (always): :mod:`tracemalloc`.  numpy registers every array buffer
it allocates with tracemalloc, and so do scipy's LAPACK wrappers for their work
arrays, so the traced peak of a call is the peak of the arrays it holds at
once (its input excluded).  Memory that BLAS/LAPACK allocate internally with
``malloc`` is not seen.  The memory run is a separate call per package, so
that tracing does not touch the timed runs.

*Per process* (``--rss``): each call runs in a fresh Python process that
imports both packages, makes the data, resets the resident high-water mark
(``/proc/self/clear_refs``; ``ru_maxrss`` where that is unavailable), makes
the call and reads the mark (``VmHWM``) minus the resident size before; that
is the peak growth of resident memory, everything included (allocator slack,
BLAS buffers).  It is a cross-check of the traced numbers.

Usage
-----
    python benchmarks/bench_core.py                    # N = 1000, 2000, 4000; 3 repeats
    python benchmarks/bench_core.py --quick            # N = 500, 1000; 2 repeats, no DSMI
    python benchmarks/bench_core.py --sizes 4000 --repeats 5 --rss
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

D = 256
SIGMA = 10.0
DSMI_CLASSES = 10


def make_data(kind, n, seed=0):
    """Embeddings of shape (n, 256) and integer labels of shape (n,).

    ``uniform``: U[0, 1]^256 (the reference package's own example; with its
    sigma = 10 the kernel is nearly constant).  ``clustered``: 10 Gaussian
    clusters whose spread suits sigma = 10 (within-cluster distances ~ 11,
    between-cluster ~ 68), so the spectrum has structure.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, DSMI_CLASSES, size=n)
    if kind == "uniform":
        return rng.uniform(0.0, 1.0, size=(n, D)), labels
    if kind == "clustered":
        centres = rng.normal(0.0, 3.0, size=(DSMI_CLASSES, D))
        return centres[labels] + rng.normal(0.0, 0.5, size=(n, D)), labels
    raise ValueError(f"unknown data kind {kind!r}; expected 'uniform' or 'clustered'")


#: ``precision`` passed to infolens (``--precision``): "auto" is what users get.
PRECISION = "auto"


def calls(measure):
    """(reference, infolens) callables ``f(Z, labels) -> float`` for one measure."""
    import dse_dsmi

    import infolens

    if measure == "dse":
        return (
            lambda Z, y: dse_dsmi.diffusion_spectral_entropy(Z, gaussian_kernel_sigma=SIGMA, t=1),
            lambda Z, y: infolens.dse(Z, preset="dse-dsmi", precision=PRECISION),
        )
    return (
        # dse-dsmi returns (mutual information, the clusters of the reference)
        lambda Z, y: dse_dsmi.diffusion_spectral_mutual_information(
            Z, y, gaussian_kernel_sigma=SIGMA, t=1)[0],
        lambda Z, y: infolens.dsmi(Z, y, preset="dse-dsmi", precision=PRECISION),
    )


def timed(f, Z, y):
    gc.collect()
    t0 = time.perf_counter()
    value = f(Z, y)
    return time.perf_counter() - t0, float(value)


def traced_peak(f, Z, y):
    """Peak bytes of numpy allocations during ``f(Z, y)`` (input excluded)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        f(Z, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - base


def rss_peak(measure, kind, n, which):
    """Growth of ru_maxrss (bytes) of a fresh process over one call."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", measure, kind, str(n), which,
         "--precision", PRECISION],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["rss_bytes"]


def _status_kib(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(measure, kind, n, which):
    ref, ours = calls(measure)
    Z, y = make_data(kind, n)
    f = ref if which == "ref" else ours
    # A small DSE first, so lazily imported modules do not count as the call's memory.
    calls("dse")[0 if which == "ref" else 1](Z[:50], y[:50])
    gc.collect()
    try:  # reset the resident high-water mark (Linux >= 4.0), so imports do not mask the call
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        before, read_peak = _status_kib("VmRSS"), lambda: _status_kib("VmHWM")
    except OSError:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        read_peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # noqa: E731
    f(Z, y)
    print(json.dumps({"rss_bytes": (read_peak() - before) * 1024}))


def bench(measure, kind, n, repeats, rss):
    ref, ours = calls(measure)
    Z, y = make_data(kind, n)
    for f in calls("dse"):  # lazy imports and first-call set-up stay out of the timings
        f(Z[:64], y[:64])
    t_ref, t_ours, v_ref, v_ours = [], [], [], []
    for r in range(repeats):
        # Alternate which goes first, so drifting load hits both alike.
        order = ((ref, t_ref, v_ref), (ours, t_ours, v_ours))
        for f, times, values in order if r % 2 == 0 else order[::-1]:
            dt, v = timed(f, Z, y)
            times.append(dt)
            values.append(v)
    row = {
        "measure": measure, "data": kind, "n": n,
        "time_ref": statistics.median(t_ref), "time_ours": statistics.median(t_ours),
        "mem_ref": traced_peak(ref, Z, y), "mem_ours": traced_peak(ours, Z, y),
        "diff": max(abs(a - b) for a, b in zip(v_ref, v_ours)),
        "value": v_ref[0],
        "times_ref": t_ref, "times_ours": t_ours,
    }
    if measure == "dse":
        import infolens

        res = infolens.dse(Z, preset="dse-dsmi", precision=PRECISION, return_result=True)
        row["precision"] = res.details["precision_used"]
    if rss:
        row["rss_ref"] = rss_peak(measure, kind, n, "ref")
        row["rss_ours"] = rss_peak(measure, kind, n, "ours")
    return row


def mib(b):
    return f"{b / 2**20:9.1f}"


def ratio(a, b):
    return f"{a / b:9.3f}" if b > 0 else f"{'n/a':>9}"


def print_table(rows, rss, header=True):
    head = (f"{'measure':7} {'data':9} {'N':>5} {'t_ref s':>8} {'t_il s':>8} {'speedup':>7} "
            f"{'mem_ref MiB':>11} {'mem_il MiB':>10} {'mem ratio':>9} {'|diff| bits':>11} "
            f"{'solver':>7}")
    if rss:
        head += f" {'rss_ref MiB':>11} {'rss_il MiB':>10} {'rss ratio':>9}"
    if header:
        print(head)
    for r in rows:
        line = (f"{r['measure']:7} {r['data']:9} {r['n']:5d} {r['time_ref']:8.2f} "
                f"{r['time_ours']:8.2f} {r['time_ref'] / r['time_ours']:6.1f}x "
                f"{mib(r['mem_ref']):>11} {mib(r['mem_ours']):>10} "
                f"{ratio(r['mem_ours'], r['mem_ref'])} {r['diff']:11.1e} "
                f"{r.get('precision', '-'):>7}")
        if rss:
            line += (f" {mib(r['rss_ref']):>11} {mib(r['rss_ours']):>10} "
                     f"{ratio(r['rss_ours'], r['rss_ref'])}")
        print(line, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    p.add_argument("--repeats", type=int, default=3, help="timed calls of each (median)")
    p.add_argument("--data", nargs="+", default=["uniform", "clustered"],
                   choices=["uniform", "clustered"])
    p.add_argument("--dsmi-n", type=int, default=2000,
                   help="N of the DSMI row (10 classes); 0 skips it")
    p.add_argument("--rss", action="store_true",
                   help="also measure peak RSS growth, one fresh process per call")
    p.add_argument("--quick", action="store_true",
                   help="N = 500, 1000, 2 repeats, uniform only, no DSMI")
    p.add_argument("--precision", default="auto", choices=["auto", "float32", "float64"],
                   help="infolens' eigen-solver precision (default auto, what users get)")
    p.add_argument("--json", help="also write the rows to this JSON file")
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    global PRECISION
    PRECISION = a.precision
    if a.child:
        measure, kind, n, which = a.child
        child(measure, kind, int(n), which)
        return 0
    if a.quick:
        a.sizes, a.repeats, a.data, a.dsmi_n = [500, 1000], 2, ["uniform"], 0
    from threadpoolctl import threadpool_info

    import dse_dsmi  # noqa: F401  (fail early when the reference is missing)

    import infolens

    print(f"# numpy {np.__version__}, infolens {infolens.__version__}, repeats {a.repeats}, "
          f"D {D}, sigma {SIGMA}, infolens precision={PRECISION!r}; BLAS: "
          + "; ".join(f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
                      for i in threadpool_info()), flush=True)
    rows = []
    jobs = [("dse", kind, n) for kind in a.data for n in a.sizes]
    if a.dsmi_n:
        jobs.append(("dsmi", a.data[-1], a.dsmi_n))
    for i, (measure, kind, n) in enumerate(jobs):
        rows.append(bench(measure, kind, n, a.repeats, a.rss))
        print_table(rows[-1:], a.rss, header=i == 0)
    print("\nSummary (medians of timed calls; memory = tracemalloc peak of one call)")
    print_table(rows, a.rss)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
