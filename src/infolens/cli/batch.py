"""``infolens batch`` and ``infolens screen``: many inputs, one results store.

Both read a manifest (YAML or CSV, see :mod:`infolens.batch.manifest`), run
the tasks not yet stored on the chosen engine and write each result once to
the SQLite store.  ``screen`` then correlates every measure with the entries'
``accuracy`` and writes the table, the correlations and one scatter plot per
measure.
"""

from __future__ import annotations

import argparse
import json
import sys

from infolens.batch import ResultStore, load_manifest, run_batch
from infolens.batch.screening import format_correlations, screening_table, write_screening_outputs
from infolens.batch.store import check_export_path, export_runs
from infolens.cli.errors import CLIError
from infolens.cli.output import emit, text_table
from infolens.core.files import json_ready

__all__ = ["add_parser"]

_BATCH_EPILOG = """examples:
  infolens batch manifest.yaml                         # LocalCluster (2 workers) or sequential
  infolens batch manifest.yaml --store runs.sqlite --export runs.csv
  infolens batch manifest.yaml --export-runs runs/ && infolens report runs/ --out report/
  infolens batch manifest.csv --scheduler tcp://10.0.0.5:8786 --timeout 3600
  infolens batch manifest.yaml --engine sequential     # no Dask

manifest.yaml:
  measures: [dse, {dsmi: {n_repeats: 3}}]
  entries:
    - {embeddings: emb/step100.npz, step: 100, layer: fc1}      # Z and Y in one .npz
    - {checkpoint: ckpt/e5.pt, factory: mypkg.nets:make_net, probe: probe.npz, layer: body}

Re-running the same command computes only what the store lacks (failed tasks are tried again).
Exit status: 0 all tasks stored as done, 1 some failed or unfinished, 2 bad input.
"""

_SCREEN_EPILOG = """examples:
  infolens screen zoo.yaml --out screening/            # entries carry 'accuracy:'
  infolens screen zoo.yaml --out screening/ --scheduler tcp://10.0.0.5:8786

zoo.yaml:
  measures: [dse, dsmi]
  entries:
    - {name: mlp-w32, checkpoint: zoo/w32.pt, factory: infolens.batch.screening:make_mlp,
       factory_kwargs: {widths: [32]}, probe: probe.npz, layer: body, accuracy: 0.94}
    - {name: minilm, model: /path/to/hf-model-dir, probe: texts.json, accuracy: 0.9}

Writes OUT/table.csv (one row per model), OUT/correlations.csv (Pearson and Spearman with
bootstrap intervals per measure) and OUT/scatter_MEASURE.png.
"""


def _add_engine_options(p):
    g = p.add_argument_group("engine")
    g.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="address of a running Dask scheduler (default: start a LocalCluster)")
    g.add_argument("--engine", choices=("auto", "sequential", "local", "dask"), default="auto",
                   help="auto: dask with --scheduler, else a LocalCluster if Dask is installed, "
                        "else sequential (default: %(default)s)")
    g.add_argument("--workers", type=int, default=2, metavar="N",
                   help="LocalCluster worker processes (default: %(default)s)")
    g.add_argument("--threads-per-worker", type=int, default=1, metavar="N",
                   help="LocalCluster threads per worker (default: %(default)s)")
    g.add_argument("--blas-threads", type=int, default=1, metavar="N",
                   help="BLAS/OpenMP/torch threads inside each task (default: %(default)s)")
    g.add_argument("--retries", type=int, default=2, metavar="N",
                   help="extra attempts of a failing task before it is stored as failed "
                        "(default: %(default)s)")
    g.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="bound on the whole run; unfinished tasks stay unstored")
    g.add_argument("--stall-timeout", type=float, default=None, metavar="SECONDS",
                   help="stop when no task finished for this long (e.g. a cluster without "
                        "workers)")
    g.add_argument("--connect-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="bound on reaching the scheduler "
                        "(default: %(default)s)")
    p.add_argument("--store", default="results.sqlite", metavar="PATH",
                   help="SQLite results store (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    p.add_argument("--json", action="store_true",
                   help="print the results as JSON on stdout (the run summary goes to stderr)")
    p.set_defaults(requires=_extras)


def _extras(args):
    """The optional packages this run needs: Dask for a cluster, PyYAML for YAML manifests,
    matplotlib for the screening plots."""
    needs = []
    if str(args.manifest).lower().endswith((".yaml", ".yml")):
        needs.append(("yaml", "dask", "reading a YAML manifest"))
    if args.engine in ("dask", "local") or args.scheduler:
        needs.append(("dask", "dask", f"--engine {args.engine if not args.scheduler else 'dask'}"))
    if args.command == "screen":
        needs.append(("matplotlib", "plot", "the screening plots"))
    return needs


def add_parser(subparsers):
    """Register ``batch`` and ``screen``."""
    p = subparsers.add_parser(
        "batch", help="compute measures for every entry of a manifest (Dask or sequential)",
        description="Compute measures for every entry of a manifest and store each result "
                    "once in a SQLite store.",
        epilog=_BATCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest", help="YAML or CSV manifest")
    _add_engine_options(p)
    p.add_argument("--export", action="append", default=[], metavar="PATH",
                   help="write the store to .csv or .parquet after the run (repeatable)")
    p.add_argument("--export-runs", metavar="DIR",
                   help="write run folders (runlog.jsonl per entry name) for 'infolens report'")
    p.set_defaults(func=_batch)

    s = subparsers.add_parser(
        "screen", help="correlate measures of many models with their accuracy",
        description="Run a screening manifest (entries with 'accuracy') and correlate every "
                    "measure with accuracy.",
        epilog=_SCREEN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("manifest", help="YAML or CSV manifest whose entries carry 'accuracy'")
    s.add_argument("--out", required=True, metavar="DIR",
                   help="folder for the table, the correlations and the plots")
    s.add_argument("--n-boot", type=int, default=2000,
                   help="bootstrap resamples (default: %(default)s)")
    _add_engine_options(s)
    s.set_defaults(func=_screen)


def _run(args):
    for name in ("workers", "threads_per_worker", "blas_threads"):
        if getattr(args, name) < 1:
            raise CLIError(
                f"--{name.replace('_', '-')} must be at least 1; got {getattr(args, name)}."
            )
    if args.retries < 0:
        raise CLIError(f"--retries must be 0 or more; got {args.retries}.")
    for path in getattr(args, "export", []):
        check_export_path(path)
    manifest = load_manifest(args.manifest)
    store = ResultStore(args.store)
    try:
        summary = run_batch(
            manifest, store, engine=args.engine, scheduler=args.scheduler,
            n_workers=args.workers, threads_per_worker=args.threads_per_worker,
            blas_threads=args.blas_threads, max_attempts=args.retries + 1,
            timeout_s=args.timeout, stall_timeout_s=args.stall_timeout,
            connect_timeout_s=args.connect_timeout,
            progress=not (args.no_progress or args.quiet),
        )
    except BaseException:
        store.close()
        raise
    print(summary.line(), file=sys.stderr if args.json else sys.stdout)
    for key, error in summary.errors[:5]:
        print(f"  failed {key[1]} {key[2]} on {key[0][:12]}: {error}", file=sys.stderr)
    if len(summary.errors) > 5:
        print(f"  ... {len(summary.errors) - 5} more failures in {args.store}", file=sys.stderr)
    return manifest, store, summary


def _results(manifest, store):
    """One row per task of ``manifest``: entry, layer, step, measure, value, unit, status."""
    stored = {(r["input_hash"], r["measure"], r["params"], r["entry"]): r for r in store.rows()}
    rows = []
    for task in manifest.tasks:
        row = stored.get((task.input_hash, task.measure, task.params_json, task.entry), {})
        rows.append({"name": task.meta.get("name") or task.input_hash[:12],
                     "layer": task.meta.get("layer"), "step": task.meta.get("step"),
                     "measure": task.measure, "params": task.params,
                     "value": row.get("value"), "unit": row.get("unit"),
                     "status": row.get("status") or "unfinished", "error": row.get("error")})
    return rows


def _cell(value, digits=4):
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _print_results(rows, as_json):
    if as_json:
        return emit(json.dumps(rows, indent=2, default=json_ready))
    if not rows:
        return 0
    return emit(text_table(
        ["name", "layer", "step", "measure", "value", "unit", "status"],
        [[_cell(r[k]) for k in ("name", "layer", "step", "measure", "value", "unit", "status")]
         for r in rows]))


def _batch(args):
    manifest, store, summary = _run(args)
    with store:
        _print_results(_results(manifest, store), args.json)
        for path in args.export:
            n = store.export(path)
            print(f"exported {n} rows to {path}", file=sys.stderr if args.json else sys.stdout)
        if args.export_runs:
            runs = export_runs(store, args.export_runs)
            print(f"wrote {len(runs)} run folder(s) with {sum(runs.values())} rows under "
                  f"{args.export_runs} (view with: infolens report {args.export_runs} --out DIR)",
                  file=sys.stderr if args.json else sys.stdout)
    return 0 if summary.failed == 0 and summary.remaining == 0 else 1


def _screen(args):
    manifest, store, summary = _run(args)
    with store:
        table = screening_table(manifest, store)
    out = write_screening_outputs(table, args.out, n_boot=args.n_boot)
    if args.json:
        emit(json.dumps({"table": table, "correlations": out["rows"]}, indent=2,
                        default=json_ready))
    else:
        measures = [k for k in (table[0] if table else {})
                    if k not in ("name", "accuracy", "input_hash", "meta")]
        emit(text_table(["name", "accuracy"] + measures,
                        [[_cell(r.get(k)) for k in ["name", "accuracy"] + measures]
                         for r in table]))
        print()
        print(format_correlations(out["rows"]))
    print(f"wrote {out['table']}, {out['correlations']} and {len(out['plots'])} plot(s)",
          file=sys.stderr if args.json else sys.stdout)
    return 0 if summary.failed == 0 and summary.remaining == 0 else 1
