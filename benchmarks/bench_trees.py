"""Time ``infolens.dse(Z, preset="dse-dsmi")`` from two source trees, alternately.

Each call runs in a fresh process that imports infolens from the given ``src``
folder, so two commits can be compared on the same machine in the same minutes
(check one out with ``git worktree add /tmp/old <commit>``).  Prints every time,
then the medians and their ratio as JSON.

Usage
-----
    git worktree add /tmp/old e6712de
    python benchmarks/bench_trees.py /tmp/old/src src --runs 7
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = """
import sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
import infolens
Z = np.random.default_rng(0).uniform(size=(int(sys.argv[2]), int(sys.argv[3])))
infolens.dse(Z[:64], preset="dse-dsmi")
start = time.perf_counter()
value = infolens.dse(Z, preset="dse-dsmi")
print(time.perf_counter() - start, repr(value))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the first tree's src folder")
    parser.add_argument("new", help="the second tree's src folder")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--d", type=int, default=256)
    args = parser.parse_args(argv)
    trees = [args.old, args.new]
    times = {tree: [] for tree in trees}
    for run in range(args.runs):
        for tree in trees if run % 2 == 0 else trees[::-1]:
            out = subprocess.run([sys.executable, "-c", CHILD, tree, str(args.n), str(args.d)],
                                 capture_output=True, text=True, check=True)
            seconds, value = out.stdout.split()
            times[tree].append(float(seconds))
            print(f"{tree}: {float(seconds):.3f} s, {value}", flush=True)
    medians = {tree: statistics.median(t) for tree, t in times.items()}
    print(json.dumps({"medians_s": medians, "new_over_old": medians[args.new] / medians[args.old],
                      "times_s": times}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
