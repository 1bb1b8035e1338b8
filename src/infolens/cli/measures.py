"""One subcommand per registered measure, named by its function: ``infolens dse``,
``infolens dsmi``, ``infolens ksg_mi``, ``infolens vendi_score`` ...

Each reads embeddings (and, for the measures of a reference variable, ``--labels``)
from files (see :mod:`infolens.core.files`), calls the function with the options given
and prints ``NAME = value unit (parameters)``, or the :class:`infolens.Result` as JSON
with ``--json``.  The subcommands, their options and their help are generated from
:mod:`infolens.registry` and the functions' docstrings (:mod:`infolens.cli.options`);
nothing here names a measure.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

import numpy as np

from infolens.api import bootstrap_ci
from infolens.cli.errors import CLIError
from infolens.cli.options import (
    FORMATS,
    add_measure_options,
    dest,
    measure_extras,
    method_option_values,
    summary,
)
from infolens.cli.output import STDIN, StandardInput, csv_rows, display_name, emit, table_rows
from infolens.cli.parser import positive_int
from infolens.core.arrayfiles import one_line
from infolens.core.files import load_array, load_labels
from infolens.core.threads import choose_threads
from infolens.core.validation import InvalidParameterError
from infolens.registry import list_methods

__all__ = ["add_parser", "details_text", "run_measure", "summary_line"]


# --------------------------------------------------------------------------- running
def _load_embeddings(path, args):
    Z = load_array(path, key=args.key, what="embeddings")
    if args.flatten and Z.ndim > 2:
        Z = Z.reshape(Z.shape[0], -1)
    elif Z.ndim > 2:
        raise CLIError(
            f"embeddings file {display_name(path)!r} holds an array of shape {Z.shape}; a 2-D "
            f"array (n_samples, n_features) is expected. Pass --flatten to flatten the "
            f"trailing axes."
        )
    return Z


def _load_reference(path, args, info):
    y_kind = getattr(args, dest("y_kind"), "auto")
    rows = y_kind in ("vector", "continuous") or (y_kind == "auto"
                                                  and "vector" not in info.y_kinds)
    return load_labels(path, key=args.labels_key, allow_2d=rows)


def _format_sigma(params):
    sigma = params.get("sigma")
    if not isinstance(sigma, (int, float)):
        return None
    rule = params.get("sigma_rule")
    return f"sigma={sigma:.4g}" + (f" {rule}" if rule else "")


def details_text(result, n_samples):
    """``sigma=3.21 median, t=1, N=1797`` for a :class:`Result`: the parameters that matter."""
    p = result.params
    parts = []
    sigma = _format_sigma(p)
    if sigma:
        parts.append(sigma)
    if "t" in p:
        parts.append(f"t={p['t']}")
    if p.get("alpha"):
        parts.append(f"alpha={p['alpha']}")
    for name in ("n_bins", "adjacency"):
        if name in p:
            parts.append(f"{name}={p[name]}")
    if p.get("keep_trivial") is False:
        parts.append("trivial dropped")
    if p.get("matrix_entry"):
        parts.append("matrix entry")
    n_used = result.details.get("n_used", n_samples)
    parts.append(f"N={n_used}" if n_used == n_samples else f"N={n_used} of {n_samples}")
    codes = result.details.get("partition")
    if codes is not None:
        parts.append(f"{len(np.unique(codes))} groups ({p.get('y_kind')})")
    se = result.standard_error
    if se is not None and np.isfinite(se):
        if "subset_interval_95" in result.details:
            low, high = result.details["subset_interval_95"]
            spectra = " and their SLQ spectra" if p.get("method") in ("slq", "sparse") else ""
            parts.append(f"Monte-Carlo s.e. {se:.2g} of the random subsets{spectra}, 95% "
                         f"t-interval over subsets [{low:.4f}, {high:.4f}]")
        else:
            low, high = result.interval(0.95)
            parts.append(f"s.e. {se:.2g} of the stochastic estimate (not of the data), 95% "
                         f"interval [{low:.4f}, {high:.4f}]")
    sampling = result.details.get("sampling_interval_95")
    if sampling is not None:
        parts.append(f"95% sampling interval over data sets [{sampling[0]:.4f}, "
                     f"{sampling[1]:.4f}] ({result.details['sampling_resamples']} half-size "
                     f"subsamples)")
    if p.get("preset") == "dse-dsmi":
        parts.append("preset dse-dsmi")
    return ", ".join(parts)


def summary_line(result, n_samples):
    """``DSE = 4.2314 bits (sigma=3.21 median, t=1, N=1797)`` for a :class:`Result`."""
    return (f"{result.measure.upper()} = {result.value:.4f} {result.unit} "
            f"({details_text(result, n_samples)})")


def _payload(row, args, info):
    path, result, n_samples = row
    out = result.to_dict()
    if not getattr(args, "eigenvalues", False):
        out.pop("eigenvalues", None)
    # Per-sample group codes are as long as the data; the labels file already holds them.
    if isinstance(out.get("details"), dict):
        out["details"].pop("partition", None)
    out["input"] = {"file": display_name(path), "key": args.key, "n_samples": n_samples}
    if info.needs_reference:
        out["input"].update(labels=display_name(args.labels), labels_key=args.labels_key)
    return out


def _output_format(args):
    chosen = args.format or ("json" if args.json else "table")
    if args.json and chosen != "json":
        raise CLIError(f"--json and --format {args.format} disagree; pass one of them.")
    if getattr(args, "eigenvalues", False) and chosen != "json":
        raise CLIError("--eigenvalues adds the eigenvalues to JSON output; add --json "
                       "(or --format json), or drop --eigenvalues.")
    return chosen


def _kwargs(args, info):
    kwargs = {name: getattr(args, dest(name)) for name in info.parameters
              if name != "return_result" and name not in info.renamed}
    flags = method_option_values(args)
    if flags:
        kwargs["method_options"] = {**(kwargs.get("method_options") or {}), **flags}
    return kwargs


def _compute(info, positional, kwargs):
    try:
        return info.func(*positional, return_result=True, **kwargs)
    except InvalidParameterError:
        raise
    except (ValueError, ArithmeticError, MemoryError, ImportError,
            np.linalg.LinAlgError) as exc:
        # Anything the validators did not anticipate still ends as one line.
        text = one_line(exc) or type(exc).__name__
        raise CLIError(f"{type(exc).__name__}: {text}") from None


def _attach_sampling_interval(result, info, Z, Y, kwargs, n_resamples):
    """Add ``bootstrap_ci``'s 95 % interval over data sets to ``result.details`` (``--ci``)."""
    extra = dict(kwargs)
    seed = extra.pop("random_state", 0)
    # The measure's own solver option cannot pass through bootstrap_ci (whose 'method'
    # names the measure): the resamples use the measure's default solver.
    if extra.pop("method", "auto") not in ("auto", None):
        raise CLIError("--ci computes its resamples with the default solver; drop --method "
                       "(or --solver) or drop --ci.")
    ci = _compute_ci(Z, Y, info, n_resamples, seed, extra)
    result.details["sampling_interval_95"] = (ci.details["ci_low"], ci.details["ci_high"])
    result.details["sampling_resamples"] = n_resamples


def _compute_ci(Z, Y, info, n_resamples, seed, extra):
    try:
        return bootstrap_ci(Z, Y, method=info.name, n_resamples=n_resamples,
                            random_state=seed, **extra)
    except InvalidParameterError:
        raise
    except (ValueError, ArithmeticError, MemoryError) as exc:
        raise CLIError(f"--ci: {type(exc).__name__}: {' '.join(str(exc).split())}") from None


def run_measure(args):
    """Compute ``args.measure`` on every input file and print one row per file."""
    info = args.measure
    fmt = _output_format(args)
    needed = measure_extras(info)
    if needed:
        raise CLIError(needed)
    kwargs = _kwargs(args, info)
    if [str(p) for p in args.files + [getattr(args, "labels", None)]].count(STDIN) > 1:
        raise CLIError("standard input ('-') can hold one input, not both the embeddings and "
                       "the labels or two embeddings; save the others to files.")
    with StandardInput() as stdin:
        Y = None
        if info.needs_reference:
            Y = _load_reference(stdin.path(args.labels, "labels"), args, info)
        rows = []
        for path in args.files:
            Z = _load_embeddings(stdin.path(path, "embeddings"), args)
            result = _compute(info, [Z] + ([Y] if Y is not None else []), kwargs)
            if getattr(args, "ci", None):
                _attach_sampling_interval(result, info, Z, Y, kwargs, args.ci)
            rows.append((path, result, int(np.shape(Z)[0])))
            if args.verbose:
                print(f"infolens: {display_name(path)}: {np.shape(Z)[0]} x "
                      f"{np.shape(Z)[1]} in {result.elapsed_s:.2f} s on "
                      f"{choose_threads(np.shape(Z)[0])} thread(s)", file=sys.stderr)
    if fmt == "json":
        payloads = [_payload(row, args, info) for row in rows]
        return emit(json.dumps(payloads[0] if len(rows) == 1 else payloads, indent=2))
    if fmt == "csv":
        return emit(csv_rows(rows))
    if len(rows) == 1:
        return emit(summary_line(rows[0][1], rows[0][2]))
    return emit(table_rows([(display_name(p), r, details_text(r, n)) for p, r, n in rows]))


# --------------------------------------------------------------------------- registration
_FILES_NOTE = (
    f"Files: {FORMATS}. Files are never unpickled (.npy/.npz with allow_pickle=False, "
    f"torch files with weights_only=True; .pt/.pth need 'pip install torch==2.13.0'). "
    f"CSV/TSV: one optional header row; numbers (labels may also be words). '-' reads "
    f"standard input. Several FILEs give one row each (--format table, csv or json). Bad "
    f"input exits with status 2 and one line on stderr."
)

_SCALE_NOTE = (
    "The default bandwidth is scale-aware and local (sigma 'knn': the median distance to "
    "the ceil(2 ln N)-th distinct neighbour, over sqrt 2), so the value is unchanged when "
    "the data are rescaled, shifted or their rows reordered, and separated clusters stay "
    "apart; the reference's fixed sigma=10 is one option away (--preset dse-dsmi, or "
    "--sigma 10)."
)


def _fill(text):
    return textwrap.fill(text, width=78)


def _examples(info):
    if info.examples:
        return info.examples
    command = f"infolens {info.function} embeddings.npy"
    if info.needs_reference:
        command += " --labels labels.npy"
    return command, command + " --json"


def add_parser(subparsers):
    """Register one subcommand per registered measure on ``subparsers``."""
    for info in list_methods():
        epilog = "examples:\n  " + "\n  ".join(_examples(info)) + "\n\n" + _fill(_FILES_NOTE)
        if info.parameters.get("sigma") == "auto":
            epilog += "\n\n" + _fill(_SCALE_NOTE)
        text = summary(info.func)
        sub = subparsers.add_parser(
            info.function, help=text.rstrip("."),
            description=_fill(f"{text} Unit: {info.unit}. Cost: {info.cost}. "
                              f"Reference: {info.reference}."),
            epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
        add_measure_options(sub, info)
        if info.kind == "mi":
            sub.add_argument("--ci", type=positive_int, default=None, metavar="N",
                             help="also print a 95%% sampling interval over data sets from N "
                                  "half-size subsamples (infolens.bootstrap_ci); the printed "
                                  "s.e. alone covers only the estimator's own randomness")
        sub.set_defaults(func=run_measure, measure=info)
