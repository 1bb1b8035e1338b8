"""Read a batch manifest (YAML or CSV) into a list of tasks.

A manifest lists *entries* (the inputs) and the *measures* to compute on each;
every (entry, measure, parameters) triple becomes one :class:`Task`.  An entry
is one of:

* an **embedding file** (``embeddings:``; ``.npy``, ``.npz`` or ``.csv``),
  optionally with a ``labels:`` file for measures that need a reference
  variable (an ``.npz`` may hold both, as ``Z`` and ``Y``);
* a **checkpoint plus a probe set** (``checkpoint:``, ``factory:``,
  ``probe:``): ``factory`` (``"module:function"``, called with
  ``factory_kwargs``) builds the network, the checkpoint's ``state_dict`` is
  loaded into it with ``torch.load(weights_only=True)``, and the embeddings are
  the outputs of module ``layer`` (default: the model output) on the probe
  inputs;
* a **model factory plus a probe set** (``factory:`` and ``probe:`` only):
  the factory returns a ready model (any callable);
* a **local model directory** (``model:``, a Hugging Face / sentence-transformers
  folder) plus a probe set; it is read with downloads switched off.

Tasks carry paths, never arrays: workers read the files themselves.  Each
task's identity is a content hash of its input files (plus the factory name,
its arguments and the layer), so renaming or moving a file keeps its stored
results, and editing a file makes new ones.

YAML example::

    measures:                  # default for every entry
      - dse
      - dsmi: {n_repeats: 3}
    entries:
      - embeddings: emb/step100.npy
        labels: emb/labels.npy
        step: 100
        layer: fc1
      - checkpoint: ckpt/epoch5.pt
        factory: mypkg.models:make_net
        factory_kwargs: {width: 64}
        probe: probe.npz          # arrays X and y
        layer: body.2
        measures: [dse]           # overrides the default

CSV example (one task per row; relative paths are relative to the manifest)::

    embeddings,labels,measure,params,step,layer
    emb/step100.npy,emb/labels.npy,dsmi,"{""n_repeats"": 3}",100,fc1
"""

from __future__ import annotations

import hashlib
import inspect
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path

from infolens.batch.identity import canonical_json, entry_key, file_digest, plain
from infolens.batch.readers import read_csv, read_yaml
from infolens.batch.specs import (
    MeasureSpec,
    check_params,
    import_callable,
    parse_measures,
    resolve_measure,
)
from infolens.core.validation import InvalidParameterError

__all__ = [
    "ENTRY_KINDS",
    "Manifest",
    "MeasureSpec",
    "Task",
    "canonical_json",
    "entry_key",
    "file_digest",
    "import_callable",
    "load_manifest",
    "make_tasks",
    "resolve_measure",
]

ENTRY_KINDS = ("embeddings", "checkpoint", "factory", "model")
#: Keys an entry may hold; anything else is refused (a typo would silently drop data).
_ENTRY_KEYS = {
    "embeddings", "labels", "checkpoint", "factory", "factory_kwargs", "probe", "model",
    "layer", "step", "epoch", "name", "accuracy", "measures", "meta",
}
_META_KEYS = ("name", "epoch", "step", "layer", "accuracy")


# ---------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Task:
    """One unit of work: a measure with parameters on one input.

    Attributes
    ----------
    input_hash : str
        SHA-256 of the input's identity (file contents, factory, layer).
    measure : str
    params : dict
        The parameters given in the manifest (not the resolved defaults).
    params_json : str
        ``canonical_json(params)``; with ``input_hash`` and ``measure`` it is
        the task's key in the results store.
    source : dict
        Paths (absolute) and their digests; what a worker needs to load the input.
    meta : dict
        ``name``, ``epoch``, ``step``, ``layer``, ``accuracy`` and free-form
        ``meta`` from the manifest; stored with the result.
    entry : str
        :func:`entry_key` of ``meta``: entries whose files are byte-identical
        (a frozen layer at several steps) share ``key`` and are computed once,
        but each keeps its own stored row, ``row_key``.
    """

    input_hash: str
    measure: str
    params: dict
    params_json: str
    source: dict
    meta: dict = field(default_factory=dict)
    entry: str = ""

    @property
    def key(self):
        """What is computed: ``(input_hash, measure, params_json)``."""
        return (self.input_hash, self.measure, self.params_json)

    @property
    def row_key(self):
        """What is stored: ``key`` plus the entry."""
        return self.key + (self.entry,)

    def payload(self):
        """The picklable description a worker receives (plain dicts and strings)."""
        return {
            "input_hash": self.input_hash,
            "measure": self.measure,
            "params": dict(self.params),
            "source": dict(self.source),
        }


@dataclass
class Manifest:
    """The tasks of a manifest file, in file order, duplicates removed."""

    path: str | None
    tasks: list

    def __len__(self):
        return len(self.tasks)


def _entry_kind(entry, where):
    has = {k for k in ("embeddings", "checkpoint", "factory", "model") if entry.get(k)}
    if "embeddings" in has:
        if has - {"embeddings"} or entry.get("probe"):
            raise InvalidParameterError(
                f"{where} mixes an embedding file with a model; an entry is either "
                f"'embeddings' (+ 'labels') or a model ('checkpoint'+'factory', 'factory' or "
                f"'model') with a 'probe'."
            )
        return "embeddings"
    if "model" in has:
        if has - {"model"}:
            raise InvalidParameterError(
                f"{where}: 'model' (a local directory) excludes 'factory' and 'checkpoint'."
            )
        kind = "model"
    elif "checkpoint" in has:
        if "factory" not in has:
            raise InvalidParameterError(
                f"{where} has a 'checkpoint' but no 'factory': a state_dict needs the code "
                f"that builds the network, e.g. factory: mypkg.models:make_net."
            )
        kind = "checkpoint"
    elif "factory" in has:
        kind = "factory"
    else:
        raise InvalidParameterError(
            f"{where} names no input: give 'embeddings', 'checkpoint' + 'factory' + 'probe', "
            f"'factory' + 'probe', or 'model' + 'probe'. Got keys {sorted(entry)}."
        )
    if not entry.get("probe"):
        raise InvalidParameterError(
            f"{where} is a model entry without a 'probe' set (an .npz with X and y, or a .json of "
            "texts)."
        )
    return kind


def _resolve_path(value, base, role, where, allow_dir=False):
    if not isinstance(value, str):
        raise InvalidParameterError(f"'{role}' in {where} must be a path string; got {value!r}.")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (base / path)
    path = path.resolve()
    if not path.exists():
        raise InvalidParameterError(
            f"The {role} file {str(path)!r} named in {where} does not exist."
        )
    if path.is_dir() and not allow_dir:
        raise InvalidParameterError(
            f"The {role} path {str(path)!r} in {where} is a directory; give a file."
        )
    if not path.is_dir() and not path.is_file():  # a FIFO or a device would be read forever
        raise InvalidParameterError(
            f"The {role} path {str(path)!r} in {where} is not a regular file (a FIFO, socket "
            f"or device); save the data to a file."
        )
    return str(path)


def _factory_identity(spec):
    """The factory name plus the digest of its module's source file, when it has one."""
    func = import_callable(spec, "factory")
    module = inspect.getmodule(func)
    source = getattr(module, "__file__", None)
    return {"factory": spec, "factory_source": file_digest(source) if source else None}


def _source_of(entry, kind, base, where):
    source = {"kind": kind}
    identity = {"kind": kind}
    roles = {
        "embeddings": ("embeddings", "labels"),
        "checkpoint": ("checkpoint", "probe"),
        "factory": ("probe",),
        "model": ("model", "probe"),
    }[kind]
    for role in roles:
        if entry.get(role) is None:
            continue
        path = _resolve_path(entry[role], base, role, where, allow_dir=(role == "model"))
        source[role] = path
        digest = file_digest(path)
        source[role + "_sha256"] = digest
        identity[role] = digest
    if kind in ("checkpoint", "factory"):
        kwargs = entry.get("factory_kwargs") or {}
        if not isinstance(kwargs, dict):
            raise InvalidParameterError(
                f"'factory_kwargs' in {where} must be a mapping; got {kwargs!r}."
            )
        source["factory"] = entry["factory"]
        source["factory_kwargs"] = kwargs
        identity.update(_factory_identity(entry["factory"]))
        identity["factory_kwargs"] = kwargs
    if kind != "embeddings":
        layer = entry.get("layer")
        if layer is not None and not isinstance(layer, str):
            raise InvalidParameterError(
                f"'layer' in {where} must be a module name string; got {layer!r}."
            )
        source["layer"] = layer
        identity["layer"] = layer
    return source, hashlib.sha256(canonical_json(identity).encode()).hexdigest()


def make_tasks(entries, measures=None, *, base_dir=".", where="manifest"):
    """Build tasks from entry mappings (the parsed form of a manifest).

    Parameters
    ----------
    entries : list of dict
        See the module docstring for the keys.
    measures : list, optional
        Default measures for entries without their own ``measures``.
    base_dir : path-like
        Folder that relative paths are resolved against.

    Returns
    -------
    list of Task
        In entry order; a task whose ``row_key`` repeats an earlier one (the
        same input, measure, parameters and metadata) is dropped.
    """
    base = Path(base_dir).resolve()
    defaults = parse_measures(measures, f"{where} (top level)")
    if not isinstance(entries, list) or not entries:
        raise InvalidParameterError(f"{where} lists no entries; add an 'entries:' list.")
    specs = {}
    tasks, seen = [], set()
    for i, entry in enumerate(entries):
        label = f"{where}, entry {i + 1}"
        if not isinstance(entry, dict):
            raise InvalidParameterError(
                f"{label} must be a mapping of keys to values; got {entry!r}."
            )
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if unknown:
            raise InvalidParameterError(
                f"{label} has unknown key(s) {', '.join(unknown)}. Valid keys: "
                f"{', '.join(sorted(_ENTRY_KEYS))}."
            )
        kind = _entry_kind(entry, label)
        source, input_hash = _source_of(entry, kind, base, label)
        meas = parse_measures(entry.get("measures"), label) or defaults
        if not meas:
            raise InvalidParameterError(
                f"{label} has no measures and the manifest sets no default 'measures'."
            )
        meta = {k: entry.get(k) for k in _META_KEYS if entry.get(k) is not None}
        for key in ("epoch", "step"):
            if key in meta and not (isinstance(meta[key], numbers.Integral)
                                    and not isinstance(meta[key], bool)):
                raise InvalidParameterError(
                    f"'{key}' in {label} must be an integer; got {meta[key]!r}."
                )
        if "accuracy" in meta and not (isinstance(meta["accuracy"], numbers.Real)
                                       and not isinstance(meta["accuracy"], bool)
                                       and math.isfinite(meta["accuracy"])):
            raise InvalidParameterError(
                f"'accuracy' in {label} must be a finite number (e.g. 0.93); got "
                f"{meta['accuracy']!r}."
            )
        if entry.get("meta") is not None:
            meta["meta"] = plain(entry["meta"])
        for name, params in meas:
            spec = specs.get(name) or specs.setdefault(name, resolve_measure(name))
            check_params(spec, params, f"{label}, measure {name!r}")
            if spec.needs_reference and kind == "embeddings" and "labels" not in source \
                    and not str(source["embeddings"]).lower().endswith(".npz"):
                raise InvalidParameterError(
                    f"Measure {name!r} needs a reference variable but {label} has no 'labels' "
                    f"file. Add labels: path/to/labels.npy (or store Z and Y in one .npz)."
                )
            task = Task(input_hash, name, plain(params), canonical_json(params), source, meta,
                        entry_key(meta))
            if task.row_key not in seen:
                seen.add(task.row_key)
                tasks.append(task)
    return tasks


def load_manifest(path):
    """Read a ``.yaml``/``.yml`` or ``.csv`` manifest into a :class:`Manifest`.

    Every file named is checked to exist and hashed here, on the machine that
    submits the work; workers re-check the hashes when they read the files.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise InvalidParameterError(f"Manifest {str(path)!r} does not exist or is not a file.")
    ext = path.suffix.lower()
    if ext not in (".yaml", ".yml", ".csv"):
        raise InvalidParameterError(
            f"Manifest {str(path)!r} must end in .yaml, .yml or .csv; got "
            f"{path.suffix or '(none)'!r}."
        )
    try:
        entries, measures = (read_csv if ext == ".csv" else read_yaml)(path)
    except UnicodeDecodeError:
        raise InvalidParameterError(f"Manifest {str(path)!r} is not UTF-8 text.") from None
    tasks = make_tasks(entries, measures, base_dir=path.parent, where=str(path))
    return Manifest(str(path.resolve()), tasks)
