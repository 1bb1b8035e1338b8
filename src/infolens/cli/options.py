"""Command-line options generated from the measure registry and the functions' docstrings.

Every keyword parameter of a registered measure becomes one option: ``--param-name``
unless the registry entry spells it otherwise (``--seed`` for ``random_state``); its type,
choices and metavar come from the parameter's constraints, its default from the
signature and its help from the numpydoc ``Parameters`` section of the function (a
parameter documented as "As in :func:`dse`", or not at all, is looked up in the
functions the docstring refers to).  The command line converts text to a value of the
right type only; ranges and names are checked by the measure itself, so that its message
reaches the user.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re

from infolens.core.files import SUPPORTED_EXTENSIONS
from infolens.core.optional import installed
from infolens.core.validation import BOOLEAN, MAPPING, WIDTHS, Interval, Options, describe
from infolens.measures.common import Y_KIND_VOCABULARY
from infolens.registry import list_methods
from infolens.spectrum.planning import METHOD_OPTIONS

__all__ = [
    "FORMATS",
    "OUTPUT_FORMATS",
    "add_measure_options",
    "dest",
    "measure_extras",
    "method_option_values",
    "parameter_docs",
    "plain",
    "summary",
]

FORMATS = ", ".join(SUPPORTED_EXTENSIONS)
#: Values of ``--format``.
OUTPUT_FORMATS = ("table", "csv", "json")

_SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}$", re.M)
_ENTRY = re.compile(r"^(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)(?:\s*:\s*(.*))?$")
_REFERENCE = re.compile(r":func:`(?:~?infolens\.)?([\w.]+)`")


def plain(text):
    """reStructuredText roles and literals as plain text, whitespace collapsed."""
    text = re.sub(r":\w+:`~?(?:infolens\.)?([^`]+)`", r"\1", text)
    text = re.sub(r"``([^`]+)``", r"\1", text)
    return " ".join(text.split())


def _sections(doc):
    """Section title -> body of a numpydoc docstring (the summary under ``""``)."""
    out, title, start = {}, "", 0
    for match in _SECTION.finditer(doc):
        out[title] = doc[start:match.start()]
        title, start = match.group(1), match.end()
    out[title] = doc[start:]
    return out


def _own_entries(func):
    """Name -> (type, description) from the function's own ``Parameters`` section."""
    body = _sections(inspect.getdoc(func) or "").get("Parameters", "")
    entries, current = {}, None
    for line in body.splitlines():
        match = _ENTRY.match(line) if line and not line[0].isspace() else None
        if match:
            current = [match.group(2) or "", []]
            for name in re.split(r"\s*,\s*", match.group(1)):
                entries[name.lstrip("*")] = current
        elif current is not None and line.strip():
            current[1].append(line.strip())
    return {n: (t, " ".join(d)) for n, (t, d) in entries.items()}


def parameter_docs(func, _seen=None):
    """Name -> (type, description) of every documented parameter of ``func``.

    Entries that only point elsewhere ("As in :func:`dse`", ": see :func:`cse`"), and
    parameters the docstring leaves out, are filled from the functions it refers to.
    """
    seen = (_seen or set()) | {func.__name__}
    own = _own_entries(func)
    docs = {}
    for name, (kind, text) in own.items():
        pointer = not text or re.fullmatch(r"(As in|[Ss]ee) :func:`[^`]+`\.?", text)
        if not (pointer and _REFERENCE.search(kind + " " + text)):
            docs[name] = (kind, text)
    for target in _REFERENCE.findall(inspect.getdoc(func) or ""):
        function = target.rpartition(".")[2]
        other = next((m.func for m in list_methods() if m.function == function), None)
        if other is not None and other.__name__ not in seen:
            for name, value in parameter_docs(other, seen).items():
                docs.setdefault(name, value)
    for name, value in own.items():
        docs.setdefault(name, value)
    return docs


def summary(func):
    """The first paragraph of the docstring, as plain text."""
    return plain((inspect.getdoc(func) or "").split("\n\n")[0])


def _first_sentence(text):
    parts = re.split(r"(?<=\.)\s+(?=[A-Z`(\"])", text, maxsplit=1)
    return parts[0] if parts else ""


def dest(name):
    """The attribute of the parsed arguments that holds parameter ``name``."""
    return "param_" + name


def _parser(name, constraints):
    """``(type, choices, metavar)`` for argparse."""
    options = [v for c in constraints if isinstance(c, Options) for v in c.values]
    only_options = all(isinstance(c, Options) for c in constraints)
    if only_options and all(isinstance(v, str) for v in options):
        return str, tuple(options), None
    numbers = [c for c in constraints if isinstance(c, Interval)]
    open_names = bool(numbers) and any(isinstance(v, str) for v in options)

    def parse(text):
        for c in constraints:
            if c is None and text.lower() == "none":
                return None
            if isinstance(c, Options):
                for v in c.values:
                    spelled = str(v).lower() if isinstance(v, bool) else str(v)
                    if spelled == (text.lower() if isinstance(v, bool) else text):
                        return v
            if isinstance(c, Interval):
                try:
                    return (int if c.kind is int else float)(text)
                except ValueError:
                    pass
            if c is BOOLEAN and text.lower() in ("true", "false"):
                return text.lower() == "true"
            if c is MAPPING:
                try:
                    return json.loads(text)
                except ValueError:
                    pass
            if c is WIDTHS:
                try:
                    return tuple(int(x) for x in text.split(","))
                except ValueError:
                    pass
        if open_names:
            return text  # neither a number nor a known name: the measure explains
        if MAPPING in constraints:
            raise argparse.ArgumentTypeError(
                f"expected a JSON object such as '{{\"n_probes\": 64}}' (or none); got {text!r}, "
                f"which is not valid JSON")
        raise argparse.ArgumentTypeError(f"expected {describe(constraints)}; got {text!r}")

    if only_options:
        metavar = "{" + ",".join(str(v) for v in options) + "}"
    elif len(numbers) == len([c for c in constraints if c is not None]):
        metavar = "INT" if numbers[0].kind is int else "FLOAT"
    elif MAPPING in constraints:
        metavar = "JSON"
    elif WIDTHS in constraints:
        metavar = "INT,INT,..."
    else:
        metavar = name.upper()
    return parse, None, metavar


def _help(name, flag, docs, default, constraints):
    kind, text = docs.get(name, ("", ""))
    kind = plain(kind) or describe(constraints)
    words = [f"{name}:"] if flag != "--" + name.replace("_", "-") else []
    words.append(kind.rstrip(".") + ".")
    sentence = _first_sentence(plain(text))
    if sentence:
        words.append(sentence)
    if "default" not in kind:
        words.append(f"(default: {default!r})")
    if name == "y_kind":
        words.append("; ".join(f"{k}: {Y_KIND_VOCABULARY[k]}" for k in constraints[0].values)
                     + ".")
    return " ".join(words).replace("%", "%%")


def add_measure_options(parser, info, flags=None):
    """Add the input, reference and parameter options of measure ``info`` to ``parser``.

    ``flags`` maps parameter names to the flag they take here when not the registry's
    (``{"method": "--solver"}`` where ``--method`` names the measure).
    """
    flags = dict(info.cli, **(flags or {}))
    docs = parameter_docs(info.func)
    io = parser.add_argument_group("input and output")
    io.add_argument("files", metavar="FILE", nargs="+",
                    help=f"embeddings, one row per sample ({FORMATS}; '-' reads standard "
                         f"input); several files give one output row each")
    io.add_argument("--key", metavar="NAME",
                    help="array in a .npz archive / tensor in a dict saved by torch.save "
                         "(needed when the file holds more than one)")
    io.add_argument("--flatten", action="store_true",
                    help="flatten trailing axes, e.g. images (N, H, W) -> (N, H*W)")
    io.add_argument("--json", action="store_true",
                    help="print the full result (value, unit, parameters used, timing) as JSON "
                         "(same as --format json)")
    io.add_argument("--format", choices=OUTPUT_FORMATS, default=None,
                    help="table: one line (one row per file for several files); csv; json "
                         "(default: table)")
    if info.eigenvalues:
        io.add_argument("--eigenvalues", action="store_true",
                        help="with --json: include the eigenvalues (ascending)")
    reference = parser.add_argument_group("reference variable")
    if info.needs_reference:
        y_doc = plain(docs.get("Y", ("", ""))[1])
        reference.add_argument(
            "--labels", required=True, metavar="FILE",
            help=f"Y: {y_doc or 'reference variable'} One value (or row) per sample "
                 f"({FORMATS}); float values that are all whole numbers are read as integer "
                 f"class labels.")
        reference.add_argument("--labels-key", metavar="NAME",
                               help="array/tensor name inside the labels file")
    group = parser.add_argument_group(f"parameters of {info.function}")
    for name, default in info.parameters.items():
        if name == "return_result" or name in info.renamed:
            continue
        constraints = info.constraints[name]
        flag = flags.get(name) or "--" + name.replace("_", "-")
        if constraints == [BOOLEAN]:
            flag = flags.get(name) or ("--no-" if default else "--") + name.replace("_", "-")
            kwargs = {"action": "store_const", "const": not default}
        else:
            kind, choices, metavar = _parser(name, constraints)
            kwargs = {"type": kind, "choices": choices, "metavar": metavar}
        target = reference if name == "y_kind" else group
        target.add_argument(flag, dest=dest(name), default=default,
                            help=_help(name, flag, docs, default, constraints), **kwargs)
    if "method_options" in info.parameters:
        _add_method_option_flags(parser, info.function)


# ------------------------------------------------------------ method_options as flags
_METHOD_OPTION_HELP = {
    "n_probes": "slq: probe vectors per batch (default: chosen from N)",
    "n_steps": "slq: Lanczos steps per probe block (default: chosen from N)",
    "max_batches": "slq: at most this many probe batches",
    "storage": "slq: the operator's storage, auto, dense, dense32 or tiled",
    "n_neighbors": "sparse: degree of the kNN graph; raise it when the sparse path says so",
    "bandwidth_neighbor": "sparse: sigma_i is the distance to this neighbour",
    "knn_backend": "sparse: nearest-neighbour search, auto, faiss or sklearn",
    "cache_dir": "folder of the on-disk spectrum cache (repeated runs are read back)",
    "memory_limit": "bytes the solver may plan to use (default: measured)",
}
_OPTION_DEST = "method_option_"


def _option_value(text):
    """Text of a method option: an int where it reads as one, None for 'none', else text."""
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _add_method_option_flags(parser, function):
    """One flag per key of ``method_options`` (``--n-probes 64``); a key whose flag a
    parameter already takes (ase's ``--n-neighbors``) is spelled ``--method-<key>``."""
    taken = {s for a in parser._actions for s in a.option_strings}
    group = parser.add_argument_group(
        f"method options of {function} (each sets one key of --method-options)")
    for key, default in METHOD_OPTIONS.items():
        flag = "--" + key.replace("_", "-")
        if flag in taken:
            flag = "--method-" + key.replace("_", "-")
        text = _METHOD_OPTION_HELP.get(key, f"method_options[{key!r}]")
        group.add_argument(flag, dest=_OPTION_DEST + key, type=_option_value,
                           default=argparse.SUPPRESS, metavar=key.upper(),
                           help=f"{text} (default: {default!r})".replace("%", "%%"))


def method_option_values(args):
    """The method options given as flags, as a ``method_options`` dict."""
    return {name[len(_OPTION_DEST):]: value for name, value in vars(args).items()
            if name.startswith(_OPTION_DEST)}


def measure_extras(info):
    """An error text when measure ``info`` needs torch (its cost says so) and it is missing."""
    if "torch" in info.cost and not installed("torch"):
        return (f"{info.function} trains a network with torch, which is not installed; "
                f"install it with: pip install 'infolens[torch]'")
    return None
