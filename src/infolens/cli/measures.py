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
import os
import sys
import textwrap

import numpy as np

from infolens.cli.errors import CLIError
from infolens.cli.options import FORMATS, add_measure_options, dest, summary
from infolens.core.files import load_array, load_labels
from infolens.core.validation import InvalidParameterError
from infolens.registry import list_methods

__all__ = ["add_parser", "summary_line"]


# --------------------------------------------------------------------------- running
def _load_embeddings(args):
    Z = load_array(args.file, key=args.key, what="embeddings")
    if args.flatten and Z.ndim > 2:
        Z = Z.reshape(Z.shape[0], -1)
    elif Z.ndim > 2:
        raise CLIError(
            f"embeddings file {args.file!r} holds an array of shape {Z.shape}; a 2-D array "
            f"(n_samples, n_features) is expected. Pass --flatten to flatten the trailing axes."
        )
    return Z


def _load_reference(args, info):
    y_kind = getattr(args, dest("y_kind"), "auto")
    rows = y_kind in ("vector", "continuous") or (y_kind == "auto"
                                                  and "vector" not in info.y_kinds)
    return load_labels(args.labels, key=args.labels_key, allow_2d=rows)


def _format_sigma(params):
    sigma = params.get("sigma")
    if not isinstance(sigma, (int, float)):
        return None
    rule = params.get("sigma_rule")
    return f"sigma={sigma:.4g}" + (f" {rule}" if rule else "")


def summary_line(result, n_samples):
    """``DSE = 4.2314 bits (sigma=3.21 median, t=1, N=1797)`` for a :class:`Result`."""
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
        low, high = result.interval(0.95)
        parts.append(f"s.e. {se:.2g}, 95% interval [{low:.4f}, {high:.4f}]")
    if p.get("preset") == "dse-dsmi":
        parts.append("preset dse-dsmi")
    return f"{result.measure.upper()} = {result.value:.4f} {result.unit} ({', '.join(parts)})"


def _payload(result, args, info, n_samples):
    out = result.to_dict()
    if not getattr(args, "eigenvalues", False):
        out.pop("eigenvalues", None)
    # Per-sample group codes are as long as the data; the labels file already holds them.
    if isinstance(out.get("details"), dict):
        out["details"].pop("partition", None)
    out["input"] = {"file": args.file, "key": args.key, "n_samples": n_samples}
    if info.needs_reference:
        out["input"].update(labels=args.labels, labels_key=args.labels_key)
    return out


def _run(args):
    info = args.measure
    Z = _load_embeddings(args)
    positional = [Z] + ([_load_reference(args, info)] if info.needs_reference else [])
    kwargs = {name: getattr(args, dest(name)) for name in info.parameters
              if name != "return_result" and name not in info.renamed}
    try:
        result = info.func(*positional, return_result=True, **kwargs)
    except InvalidParameterError:
        raise
    except (ValueError, ArithmeticError, MemoryError, ImportError,
            np.linalg.LinAlgError) as exc:
        # Anything the validators did not anticipate still ends as one line.
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise CLIError(f"{type(exc).__name__}: {text}") from None
    n_samples = int(np.shape(Z)[0])
    if args.json:
        text = json.dumps(_payload(result, args, info, n_samples), indent=2)
    else:
        text = summary_line(result, n_samples)
    return _emit(text)


def _emit(text):
    """Print ``text``; a reader that closed the pipe early (``| head``) is not an error."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # silence the flush at interpreter exit
    return 0


# --------------------------------------------------------------------------- registration
_FILES_NOTE = (
    f"Files: {FORMATS}. Files are never unpickled (.npy/.npz with allow_pickle=False, "
    f"torch files with weights_only=True; .pt/.pth need 'pip install torch==2.13.0'). "
    f"CSV/TSV: numbers only, one optional header row. Bad input exits with status 2 and "
    f"one line on stderr."
)

_SCALE_NOTE = (
    "The default bandwidth is scale-aware (sigma = median pairwise distance), so the value "
    "is unchanged when the data are rescaled or shifted; the reference's fixed sigma=10 is "
    "one option away (--preset dse-dsmi, or --sigma 10)."
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
        sub.set_defaults(func=_run, measure=info)
