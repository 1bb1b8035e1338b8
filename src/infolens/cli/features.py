"""``infolens features``: rank the features of a data file by their MI with a target."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import warnings

from infolens.cli.errors import CLIError
from infolens.core.files import load_array, load_labels
from infolens.measures.screen import SCREEN_METHODS, feature_screen

__all__ = ["add_parser", "handler"]

EPILOG = """examples:
  infolens features X.npy --target y.npy                    # KDE MI, best first
  infolens features X.csv --target y.csv --method binning --top-k 20
  infolens features data.npz --key X --target data.npz --target-key y --json
  infolens features X.npy --target y.npy --permutations 199 --fdr 0.05 --format csv

A target with whole-number values (or two distinct values) is read as class labels;
pass --y-kind continuous to treat it as a number.
"""
_COLUMNS = ("rank", "index", "name", "score", "p_value", "selected")


def add_parser(subparsers):
    p = subparsers.add_parser(
        "features",
        help="score every feature by its mutual information with a target (screening)",
        description="Score each column of FILE by its mutual information with the target "
        "(FFT kernel density, equal-frequency binning, KSG or Pearson), with permutation "
        "p-values and Benjamini-Hochberg selection on request (infolens.feature_screen).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="features, shape (n_samples, n_features): "
                   ".npy, .npz, .csv, .tsv, .pt")
    p.add_argument("--key", help="array name inside a .npz / .pt features file")
    p.add_argument("--target", required=True, metavar="FILE",
                   help="the outcome, one value per sample (labels or a number)")
    p.add_argument("--target-key", help="array name inside a .npz / .pt target file")
    p.add_argument("--method", default="kde", choices=SCREEN_METHODS,
                   help="scoring method (default: kde)")
    p.add_argument("--y-kind", default="auto", choices=("auto", "continuous", "labels"),
                   help="how to read the target (default: auto)")
    p.add_argument("--top-k", type=int, help="select only the K best features")
    p.add_argument("--permutations", type=int, default=0, metavar="B",
                   help="permutations of the target for p-values (default: 0, none)")
    p.add_argument("--fdr", type=float, help="Benjamini-Hochberg level for selection "
                   "(needs --permutations)")
    p.add_argument("--grid-size", type=int, default=128, help="KDE grid nodes per axis "
                   "(default: 128)")
    p.add_argument("--base", default="2", choices=("2", "e", "10"),
                   help="unit of the scores: 2 bits (default), e nats")
    p.add_argument("--n-jobs", type=int, default=1, help="threads (-1: all cores)")
    p.add_argument("--seed", type=int, help="seed of the permutations")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print every row as JSON")
    out.add_argument("--format", choices=("table", "csv"), default="table",
                     help="table (default, best 20 rows) or csv (every row)")
    p.set_defaults(func=handler)
    return p


def _warned(caught):
    return [str(w.message) for w in caught]


def handler(args):
    X = load_array(args.file, key=args.key, what="features")
    if X.ndim != 2:
        raise CLIError(f"features file {args.file!r} holds an array of shape {X.shape}; a "
                       f"2-D array (n_samples, n_features) is expected.")
    y = load_labels(args.target, key=args.target_key)
    base = "e" if args.base == "e" else int(args.base)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = feature_screen(X, y, method=args.method, y_kind=args.y_kind,
                                top_k=args.top_k, n_permutations=args.permutations,
                                fdr=args.fdr, grid_size=args.grid_size, base=base,
                                n_jobs=args.n_jobs, random_state=args.seed)
    for message in _warned(caught):
        print(f"infolens features: warning: {message}", file=sys.stderr)
    rows = result.to_rows()
    if args.json:
        payload = {"method": result.method, "unit": result.unit, "params": result.params,
                   "n_selected": int(result.selected.sum()), "features": rows}
        print(json.dumps(payload, indent=2))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        print(f"{len(rows)} features, method={result.method}, y_kind={result.params['y_kind']}, "
              f"{int(result.selected.sum())} selected; scores in {result.unit}")
        print(f"{'rank':>5} {'feature':<12} {'score':>10} {'p_value':>9} selected")
        for row in rows[:20]:
            p = "" if row["p_value"] is None else f"{row['p_value']:.4f}"
            print(f"{row['rank']:>5} {row['name']:<12} {row['score']:>10.4f} {p:>9} "
                  f"{'yes' if row['selected'] else 'no'}")
    return 0
