"""The ``bench`` subcommand: ``infolens bench accuracy``, ``paper`` and ``attention``."""

from __future__ import annotations

import argparse
import sys
import textwrap
import time

from infolens.bench.accuracy import check_requirements, run_accuracy, write_accuracy
from infolens.bench.attention import assess_attention, run_attention_study, write_attention
from infolens.bench.paper import run_paper, write_paper
from infolens.cli.errors import CLIError
from infolens.cli.parser import non_negative_int, positive_int

__all__ = ["add_parser"]


def _say(quiet):
    return None if quiet else (lambda line: print(line, file=sys.stderr, flush=True))


def _accuracy(args):
    n = args.n or (2000 if args.quick else 5000)
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    if n < 50:
        raise CLIError(f"--n must be at least 50 (the neighbour and neural estimators need "
                       f"samples to split); got {n}.")
    start = time.perf_counter()
    rows = run_accuracy(n=n, seeds=seeds, quick=args.quick, neural=not args.no_neural,
                        progress=_say(args.quiet))
    paths = write_accuracy(rows, args.out, n=n, seeds=seeds,
                           elapsed_s=time.perf_counter() - start)
    checks = check_requirements(rows)
    for text, ok, _ in checks:
        print(f"[{'ok' if ok else 'FAIL'}] {text}")
    if n < 5000:
        print(f"note: the requirements are stated for N = 5000; this run used N = {n}.")
    print(f"wrote {paths['markdown']}, {paths['json']} and {paths['plot']}")
    return 0 if all(ok for _, ok, _ in checks) or not args.strict else 1


def _paper(args):
    results = run_paper(quick=args.quick, n_blobs=args.n_blobs, with_mine=not args.no_mine,
                        progress=_say(args.quiet))
    paths = write_paper(results, args.out)
    print(f"wrote {paths['markdown']}, {paths['json']} and {paths['plot']}")
    return 0


def _attention(args):
    say = _say(args.quiet) or (lambda line: None)
    study = run_attention_study(args.out, seeds=args.seeds or ([0] if args.quick else [0, 1, 2]),
                                quick=args.quick, overrides={"steps": args.steps}
                                if args.steps else None, log=say)
    verdicts = assess_attention(study)
    paths = write_attention(study, verdicts, args.out)
    word = {True: "held", False: "did not hold", None: "inconclusive"}
    for v in verdicts:
        print(f"[{word[v['held']]}] {v['finding']}: {v['evidence']}")
    print(f"wrote {paths['markdown']} and {paths['json']}")
    return 0


def add_parser(subparsers):
    """Register ``infolens bench {accuracy,paper,attention}``."""
    bench = subparsers.add_parser(
        "bench",
        help="ground-truth accuracy harness and the DSE paper's synthetic experiments",
        description="Benchmarks: 'accuracy' runs every calibrated estimator on tasks with a "
                    "known answer; 'paper' reproduces the DSE paper's synthetic experiments.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            examples:
              infolens bench accuracy --quick --out bench-out
              infolens bench accuracy --n 5000 --seeds 0 1 2 --out bench-out
              infolens bench paper --quick --out bench-out
            """),
    )
    sub = bench.add_subparsers(dest="bench_command", metavar="BENCH")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", metavar="DIR", required=True,
                        help="directory for the markdown table, JSON and PNG plot")
    common.add_argument("--quick", action="store_true",
                        help="small configuration for CI (minutes, not hours)")
    common.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    acc = sub.add_parser(
        "accuracy", parents=[common],
        help="bias, spread and time of every estimator on ground-truth tasks",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            examples:
              infolens bench accuracy --quick --out bench-out
              infolens bench accuracy --n 5000 --seeds 0 1 2 --out bench-out --strict
            writes DIR/accuracy.md (requirements, then tables), DIR/accuracy.json and
            DIR/accuracy.png; prints one [ok]/[FAIL] line per accuracy requirement.
            """),
    )
    acc.add_argument("--n", type=positive_int, default=None,
                     help="samples per task (default 5000, or 2000 with --quick)")
    acc.add_argument("--seeds", type=non_negative_int, nargs="+", default=None, metavar="SEED",
                     help="seeds, one data draw each (default 0 1 2, or 0 with --quick)")
    acc.add_argument("--no-neural", action="store_true",
                     help="skip MINE / NWJ / InfoNCE (they need torch)")
    acc.add_argument("--strict", action="store_true",
                     help="exit with status 1 if a requirement does not hold")
    acc.set_defaults(func=_accuracy, requires=lambda args: [
        ("matplotlib", "plot", "infolens bench accuracy (its plot)")] + (
        [] if args.no_neural else [("torch", "torch", "MINE/NWJ/InfoNCE (or pass --no-neural)")]))

    pap = sub.add_parser(
        "paper", parents=[common],
        help="the DSE paper's synthetic experiments A-C with the published values",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            examples:
              infolens bench paper --quick --out bench-out
              infolens bench paper --out bench-out --n-blobs 2000
            writes DIR/paper.md (tables with the published values and a sentence where
            they differ) and DIR/paper.png.
            """),
    )
    pap.add_argument("--n-blobs", type=positive_int, default=None, metavar="N",
                     help="points in experiment C (default 5000, or 600 with --quick)")
    pap.add_argument("--no-mine", action="store_true", help="skip MINE in experiment C")
    pap.set_defaults(func=_paper, requires=lambda args: [
        ("matplotlib", "plot", "infolens bench paper (its plot)")] + (
        [] if args.no_mine else [("torch", "torch", "MINE in experiment C (or pass --no-mine)")]))

    att = sub.add_parser(
        "attention", parents=[common],
        help="does removing the FFN nonlinearity collapse deep heads and overload early ones?",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            examples:
              infolens bench attention --quick --out bench-out
              infolens bench attention --out bench-out --seeds 0 1 2
            trains a small character-level transformer with and without the GELU of its
            feed-forward network per seed (each run saved as soon as it ends, so an
            interrupted study resumes), writes DIR/attention.md and DIR/attention.json.
            """),
    )
    att.add_argument("--seeds", type=non_negative_int, nargs="+", default=None, metavar="SEED",
                     help="seeds (default 0 1 2, or 0 with --quick)")
    att.add_argument("--steps", type=positive_int, default=None,
                     help="training steps per run (default 1500, or 60 with --quick)")
    att.set_defaults(func=_attention, requires=lambda args: [
        ("torch", "torch", "infolens bench attention")])

    def _no_sub(args):
        bench.print_help()
        return 2

    bench.set_defaults(func=_no_sub)
