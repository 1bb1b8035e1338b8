"""Subcommands for the core measures: ``dse``, ``dsmi``, ``ase``, ``asmi``, ``cse``, ``csmi``.

Each reads embeddings (and, for the mutual informations, a reference
variable) from files (see :mod:`infolens.core.files`), calls the public function of
the same name and prints ``NAME = value unit (parameters)``, or the
:class:`infolens.Result` as JSON with ``--json``.  Options shared by several
subcommands are defined once, in the ``_*_options`` parent parsers below.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap

import numpy as np

from infolens.core.files import SUPPORTED_EXTENSIONS, load_array, load_labels
from infolens.core.validation import InvalidParameterError
from infolens.spectrum.engine import METHODS
from infolens.spectrum.exact import PRECISIONS
from infolens.cli.errors import CLIError

__all__ = ["add_parser"]

_FORMATS = ", ".join(SUPPORTED_EXTENSIONS)


# --------------------------------------------------------------------------- option types
def _sigma(text):
    """A positive number or a rule name; the library validates both."""
    try:
        return float(text)
    except ValueError:
        return text


def _max_n(text):
    low = text.lower()
    if low == "auto":
        return "auto"
    if low == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer, 'auto' or 'none'; got {text!r}"
        ) from None


def _base(text):
    if text in ("2", "10"):
        return int(text)
    if text == "e":
        return "e"
    raise argparse.ArgumentTypeError(f"expected 2 (bits), e (nats) or 10; got {text!r}")


# --------------------------------------------------------------------------- shared options
def _input_options(eigenvalues=False):
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("input and output")
    g.add_argument("file", metavar="FILE",
                   help=f"embeddings, one row per sample ({_FORMATS})")
    g.add_argument("--key", metavar="NAME",
                   help="array in a .npz archive / tensor in a dict saved by torch.save "
                        "(needed when the file holds more than one)")
    g.add_argument("--flatten", action="store_true",
                   help="flatten trailing axes, e.g. images (N, H, W) -> (N, H*W)")
    g.add_argument("--json", action="store_true",
                   help="print the full result (value, unit, parameters used, timing) as JSON")
    if eigenvalues:
        g.add_argument("--eigenvalues", action="store_true",
                       help="with --json: include the eigenvalues (ascending)")
    return p


def _spectrum_input_options():
    return _input_options(eigenvalues=True)


def _common_options():
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("common options")
    g.add_argument("--base", type=_base, default=2, metavar="{2,e,10}",
                   help="logarithm base: 2 = bits (default), e = nats, 10 = dits")
    g.add_argument("--max-n", type=_max_n, default="auto", metavar="N",
                   help="subsample to at most N points; 'auto' (default) = no cap, or 10000 "
                        "with --preset dse-dsmi; 'none' = no cap")
    g.add_argument("--preset", choices=["infolens", "dse-dsmi"], default="infolens",
                   help="'dse-dsmi' reproduces the reference package dse-dsmi 1.1 "
                        "(sigma=10, its subsampling and epsilon); explicit options still win")
    g.add_argument("--seed", type=int, default=0, metavar="INT",
                   help="random seed of every random draw (default 0)")
    return p


def _kernel_options():
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("kernel options")
    g.add_argument("--sigma", type=_sigma, default="auto", metavar="SIGMA",
                   help="Gaussian bandwidth in the units of the data: a positive number or a "
                        "rule, 'median' (median pairwise distance) or 'rms'; 'auto' (default) "
                        "= 'median', or 10 with --preset dse-dsmi")
    g.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="eigen-solver precision: mixed = float32 where its estimated error "
                        "stays below 1e-6 bits, float64 otherwise; auto (default) = float64, "
                        "or mixed with --preset dse-dsmi")
    g.add_argument("--method", choices=METHODS, default="auto",
                   help="spectral method: exact (all eigenvalues), slq (stochastic Lanczos "
                        "quadrature, reports a standard error), sparse (local kNN kernel for "
                        "1e5-1e6 points); auto (default) = exact up to 4096 points, slq above, "
                        "switching when memory is short")
    return p


def _diffusion_options():
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("diffusion options")
    g.add_argument("--t", type=int, default=1, metavar="INT",
                   help="diffusion time (default 1)")
    g.add_argument("--alpha", type=float, default=0.0, metavar="FLOAT",
                   help="density normalisation in [0, 1]: 0 = random walk as dse-dsmi "
                        "(default), 0.5 = the paper's propositions, 1 = Laplace-Beltrami")
    g.add_argument("--drop-trivial", action="store_true",
                   help="drop the trivial eigenvalue 1 (kept by default, as the reference does)")
    g.add_argument("--matrix-entry", action="store_true",
                   help="entropy of the entries of the diffusion matrix instead of its "
                        "eigenvalues")
    return p


def _reference_options():
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("reference variable")
    g.add_argument("--labels", required=True, metavar="FILE",
                   help=f"reference variable, one value per sample ({_FORMATS}); float values "
                        "that are all whole numbers are read as integer class labels")
    g.add_argument("--labels-key", metavar="NAME",
                   help="array/tensor name inside the labels file")
    g.add_argument("--y-kind", choices=["auto", "labels", "scalar", "vector", "partition"],
                   default="auto",
                   help="how the reference is grouped: auto (default: integers are classes, a "
                        "float column is binned), labels, scalar (equal-width bins), vector "
                        "(spectral clusters of the rows of a 2-D file), partition")
    g.add_argument("--n-clusters", type=int, default=10, metavar="INT",
                   help="bins (scalar) or clusters (vector) of the reference (default 10)")
    g.add_argument("--n-repeats", type=int, default=5, metavar="INT",
                   help="random size-matched subsets per class (default 5)")
    return p


def _adjacency_options():
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("adjacency options")
    g.add_argument("--adjacency", choices=["gaussian", "knn"], default="gaussian",
                   help="Gaussian affinities (default) or the binarised kNN graph")
    g.add_argument("--n-neighbors", type=int, default=10, metavar="INT",
                   help="neighbours of the kNN graph (default 10)")
    g.add_argument("--anisotropic", action="store_true",
                   help="symmetric degree normalisation of the Gaussian adjacency")
    return p


def _binning_options():
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("binning options")
    g.add_argument("--n-bins", type=int, default=2, metavar="INT",
                   help="equal-width bins per feature (default 2)")
    return p


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


def _load_reference(args):
    return load_labels(args.labels, key=args.labels_key, allow_2d=args.y_kind == "vector")


def _shared_kwargs(args):
    return {"base": args.base, "max_n": args.max_n, "preset": args.preset,
            "random_state": args.seed}


def _kernel_kwargs(args):
    return {"sigma": args.sigma, "precision": args.precision, "method": args.method}


def _diffusion_kwargs(args):
    return {"t": args.t, "alpha": args.alpha, "keep_trivial": not args.drop_trivial,
            "matrix_entry": args.matrix_entry}


def _reference_kwargs(args):
    return {"y_kind": args.y_kind, "n_clusters": args.n_clusters,
            "n_repeats": args.n_repeats}


def _adjacency_kwargs(args):
    return {"adjacency": args.adjacency, "n_neighbors": args.n_neighbors,
            "anisotropic": args.anisotropic}


_KWARGS = {
    "dse": (_shared_kwargs, _kernel_kwargs, _diffusion_kwargs),
    "dsmi": (_shared_kwargs, _kernel_kwargs, _diffusion_kwargs, _reference_kwargs),
    "ase": (_shared_kwargs, _kernel_kwargs, _adjacency_kwargs),
    "asmi": (_shared_kwargs, _kernel_kwargs, _adjacency_kwargs, _reference_kwargs),
    "cse": (_shared_kwargs, lambda a: {"n_bins": a.n_bins}),
    "csmi": (_shared_kwargs, lambda a: {"n_bins": a.n_bins}, _reference_kwargs),
}
_NEEDS_REFERENCE = ("dsmi", "asmi", "csmi")


def _format_sigma(params):
    sigma = params.get("sigma")
    if sigma is None:
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
    diffusion = result.measure in ("dse", "dsmi")
    if diffusion:
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
    if "groups" in result.details or result.measure.endswith("mi"):
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


def _payload(result, args, n_samples):
    out = result.to_dict()
    if not getattr(args, "eigenvalues", False):
        out.pop("eigenvalues", None)
    # Per-sample group codes are as long as the data; the labels file already holds them.
    if isinstance(out.get("details"), dict):
        out["details"].pop("partition", None)
    out["input"] = {"file": args.file, "key": args.key, "n_samples": n_samples}
    if args.command in _NEEDS_REFERENCE:
        out["input"].update(labels=args.labels, labels_key=args.labels_key)
    return out


def _run(args):
    import infolens

    Z = _load_embeddings(args)
    kwargs = {}
    for part in _KWARGS[args.command]:
        kwargs.update(part(args))
    func = getattr(infolens, args.command)
    positional = [Z]
    if args.command in _NEEDS_REFERENCE:
        positional.append(_load_reference(args))
    try:
        result = func(*positional, return_result=True, **kwargs)
    except InvalidParameterError:
        raise
    except (ValueError, ArithmeticError, MemoryError, np.linalg.LinAlgError) as exc:
        # Anything the validators did not anticipate still ends as one line.
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise CLIError(f"{type(exc).__name__}: {text}") from None
    n_samples = int(np.shape(Z)[0])
    if args.json:
        text = json.dumps(_payload(result, args, n_samples), indent=2)
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
_COMMANDS = {
    "dse": (
        "diffusion spectral entropy of embeddings",
        "Diffusion spectral entropy (DSE) of the rows of FILE: the entropy of the "
        "normalised eigenvalues |lambda|^t of the diffusion operator of a Gaussian-kernel "
        "graph. Between 0 and log2(N) bits.",
        ("infolens dse embeddings.npy\n"
         "  infolens dse features.npz --key penultimate --t 2\n"
         "  infolens dse Z.csv --preset dse-dsmi      # the reference's numbers (sigma=10)\n"
         "  infolens dse Z.pt --sigma rms --base e --json"),
        (_spectrum_input_options, _common_options, _kernel_options,
         _diffusion_options),
    ),
    "dsmi": (
        "diffusion spectral mutual information between embeddings and labels",
        "Diffusion spectral mutual information DSMI(Z; Y) between the rows of FILE and a "
        "reference variable Y (class labels, a scalar, or vectors): the DSE of size-matched "
        "random subsets minus the DSE within each group, averaged over groups.",
        ("infolens dsmi embeddings.npy --labels labels.npy\n"
         "  infolens dsmi data.npz --key Z --labels data.npz --labels-key y\n"
         "  infolens dsmi Z.npy --labels targets.csv --y-kind scalar --n-clusters 5\n"
         "  infolens dsmi Z.npy --labels inputs.npy --y-kind vector --json\n"
         "  infolens dsmi Z.npy --labels y.npy --preset dse-dsmi   # the reference's numbers"),
        (_input_options, _common_options, _kernel_options, _diffusion_options,
         _reference_options),
    ),
    "ase": (
        "adjacency spectral entropy of embeddings",
        "Adjacency spectral entropy (ASE): entropy of the normalised eigenvalue magnitudes "
        "of the Gaussian or binarised kNN adjacency matrix of the rows of FILE.",
        ("infolens ase embeddings.npy\n"
         "  infolens ase Z.npy --adjacency knn --n-neighbors 15\n"
         "  infolens ase Z.npy --anisotropic --json --eigenvalues"),
        (_spectrum_input_options, _common_options, _kernel_options,
         _adjacency_options),
    ),
    "asmi": (
        "adjacency spectral mutual information between embeddings and labels",
        "Adjacency spectral mutual information: DSMI with ASE as the entropy.",
        ("infolens asmi embeddings.npy --labels labels.npy\n"
         "  infolens asmi Z.npy --labels y.csv --adjacency knn --json"),
        (_input_options, _common_options, _kernel_options, _adjacency_options,
         _reference_options),
    ),
    "cse": (
        "classic binning entropy of embeddings (baseline)",
        "Classic Shannon entropy (CSE): each feature min-max scaled and cut into equal-width "
        "bins; entropy of the occupied grid cells. Saturates at log2(N) in high dimension.",
        ("infolens cse embeddings.npy\n"
         "  infolens cse Z.csv --n-bins 10 --json"),
        (_input_options, _common_options, _binning_options),
    ),
    "csmi": (
        "classic binning mutual information between embeddings and labels (baseline)",
        "Classic Shannon mutual information (CSMI) between the grid cells of the binned "
        "embeddings and the groups of the reference variable.",
        ("infolens csmi embeddings.npy --labels labels.npy\n"
         "  infolens csmi Z.npy --labels y.npy --n-bins 4 --preset dse-dsmi"),
        (_input_options, _common_options, _binning_options, _reference_options),
    ),
}

_FILES_NOTE = (
    f"Files: {_FORMATS}. Files are never unpickled (.npy/.npz with allow_pickle=False, "
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


def add_parser(subparsers):
    """Register every core subcommand on ``subparsers``."""
    for name, (short, description, examples, parents) in _COMMANDS.items():
        epilog = "examples:\n  " + examples + "\n\n" + _fill(_FILES_NOTE)
        if name in ("dse", "dsmi"):
            epilog += "\n\n" + _fill(_SCALE_NOTE)
        sub = subparsers.add_parser(
            name, help=short, description=_fill(description), epilog=epilog,
            parents=[make() for make in parents],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(func=_run)
