"""``infolens report``: figures and an HTML page from monitor run folders."""

from __future__ import annotations

import argparse

from infolens.runs.report import find_runs, write_report

__all__ = ["add_parser", "handler"]

EPILOG = """examples:
  infolens report runs/supervised-seed0 --out report/
  infolens report runs/ --out report/            # every run folder under runs/
  infolens report runs/a runs/b --out cmp/ --title "a vs b"

Runs whose settings.json share a 'group' (or 'regime') are drawn as one curve with a
min-max band over their seeds; different groups are overlaid.
"""


def add_parser(subparsers):
    p = subparsers.add_parser(
        "report",
        help="PNG figures and a self-contained HTML report from monitor run folders",
        description="Draw DSE/DSMI curves per layer, the information plane and the training "
        "curves of one or more runs written by infolens.monitor.Monitor, and write "
        "an HTML page that embeds them with a table of settings.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                   help="run folder (holding runlog.jsonl) or a folder of run folders")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--title", default="infolens training report", help="page title")
    p.set_defaults(func=handler,
                   requires=[("matplotlib", "plot", "infolens report (its figures)")])
    return p


def handler(args):
    runs = find_runs(args.run_dirs)
    out = write_report(runs, args.out, title=args.title)
    print(f"{len(runs)} run(s); {len(out['figures'])} figure(s) in {args.out}")
    print(f"report: {out['html']}")
    return 0
