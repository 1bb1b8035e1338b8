"""Load a task's input on the worker: embedding files, probe sets and models.

Every file's SHA-256 is checked against the digest the manifest recorded just
before it is read, so a file changed after submission fails loudly instead of
storing a value under the wrong key.  Arrays and labels are read by the loaders
of the command line (:mod:`infolens.core.files`: same formats, same labels, same
checks); checkpoints with ``torch.load(weights_only=True)``.  Nothing is unpickled.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np

from infolens.batch.manifest import file_digest, import_callable
from infolens.core import optional
from infolens.core.files import as_labels, load_array, load_labels
from infolens.core.validation import InvalidParameterError

__all__ = ["extract", "load_embeddings", "load_model", "load_probe", "load_task_input"]

_Z_KEYS = ("Z", "z", "embeddings", "X", "x")
_Y_KEYS = ("Y", "y", "labels")


def _check_digest(path, digest):
    """Refuse a file whose SHA-256 no longer matches the digest the manifest recorded."""
    if digest is not None and file_digest(path) != digest:
        raise InvalidParameterError(
            f"File {path!r} changed after the manifest was read (its SHA-256 no longer "
            f"matches); run the batch again so the new contents get their own key."
        )


def _read_checked(path, digest):
    _check_digest(path, digest)
    return Path(path).read_bytes()


def load_embeddings(source):
    """Return ``(Z, Y)`` for an embedding entry (``Y`` is None without labels).

    Files are read by the loaders the command line uses
    (:func:`infolens.core.files.load_array` / :func:`~infolens.core.files.load_labels`),
    so a labels file means the same thing in a batch as in ``infolens dsmi``.
    """
    path = source["embeddings"]
    _check_digest(path, source.get("embeddings_sha256"))
    Z = load_array(path, key=_Z_KEYS, what="embeddings")
    Y = None
    if source.get("labels"):
        _check_digest(source["labels"], source.get("labels_sha256"))
        Y = load_labels(source["labels"], key=_Y_KEYS, allow_2d=True)
    elif path.lower().endswith(".npz"):
        Y = load_array(path, key=_Y_KEYS, what="embeddings", optional_key=True)
        if Y is not None:
            Y = as_labels(Y, path, allow_2d=True)
    return Z, Y


def load_probe(path, digest=None):
    """Read a probe set.

    ``.npz`` with arrays ``X`` (inputs) and optionally ``y``; ``.npy`` (inputs
    only); or ``.json`` with ``{"inputs": [...], "labels": [...]}`` (e.g.
    texts for a sentence-embedding model).

    Returns
    -------
    X : ndarray or list of str
    y : ndarray or None
    """
    if str(path).lower().endswith(".json"):
        doc = json.loads(_read_checked(path, digest).decode("utf-8"))
        if not isinstance(doc, dict) or "inputs" not in doc:
            raise InvalidParameterError(
                f"Probe file {path!r} must be a JSON object with 'inputs' (and optionally "
                f"'labels'); got {type(doc).__name__}."
            )
        y = doc.get("labels")
        return list(doc["inputs"]), None if y is None else np.asarray(y)
    _check_digest(path, digest)
    X = load_array(path, key=("X", "x", "inputs"), what="probe")
    y = None
    if str(path).lower().endswith(".npz"):
        y = load_array(path, key=_Y_KEYS, what="probe", optional_key=True)
    return X, y


def _offline_env():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_model(source):
    """Build the model of a checkpoint, factory or local-model entry (eval mode, CPU)."""
    kind = source["kind"]
    if kind == "model":
        return load_local_model(source["model"])
    factory = import_callable(source["factory"], "factory")
    model = factory(**(source.get("factory_kwargs") or {}))
    if kind == "checkpoint":
        try:
            torch = optional.torch("checkpoint entries")
        except ImportError:
            raise InvalidParameterError(
                "Checkpoint entries need PyTorch: pip install torch."
            ) from None
        data = _read_checked(source["checkpoint"], source.get("checkpoint_sha256"))
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not hasattr(model, "load_state_dict"):
            raise InvalidParameterError(
                f"The factory {source['factory']!r} returned {type(model).__name__}, which has "
                f"no load_state_dict; a checkpoint entry needs a torch.nn.Module."
            )
        model.load_state_dict(state)
    if hasattr(model, "eval"):
        model.eval()
    return model


def load_local_model(path):
    """Load a Hugging Face model folder from disk with downloads switched off.

    A sentence-transformers folder (with ``modules.json``) becomes a
    ``SentenceTransformer``; any other folder a ``transformers.AutoModel`` with
    its tokenizer, whose embeddings are the attention-masked mean of the last
    hidden states.
    """
    _offline_env()
    path = Path(path)
    if (path / "modules.json").is_file():
        try:
            SentenceTransformer = optional.sentence_transformers().SentenceTransformer
        except ImportError:
            raise InvalidParameterError(
                f"{str(path)!r} is a sentence-transformers model; pip install "
                "sentence-transformers."
            ) from None
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    try:
        transformers = optional.transformers(f"loading {str(path)!r}")
    except ImportError:
        raise InvalidParameterError(
            f"Loading {str(path)!r} needs transformers: pip install transformers."
        ) from None
    model = transformers.AutoModel.from_pretrained(str(path), local_files_only=True).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    return _MeanPooled(model, tokenizer)


class _MeanPooled:
    """A transformers encoder and tokenizer as a texts -> (n, d) callable."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model, tokenizer

    def encode(self, texts, batch_size=32):
        torch = optional.torch("a transformers encoder")
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), batch_size):
                enc = self.tokenizer(list(texts[i:i + batch_size]), padding=True,
                                     truncation=True, return_tensors="pt")
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                out.append((hidden * mask).sum(1) / mask.sum(1).clamp(min=1))
        return torch.cat(out).numpy()


def extract(model, X, *, layer=None, batch_size=256):
    """Embeddings of inputs ``X`` under ``model``.

    Parameters
    ----------
    model : callable
        A ``torch.nn.Module``, an object with ``encode(list)`` (sentence
        encoders), or any callable mapping a batch of inputs to an array.
    X : ndarray of shape (n_samples, ...) or list of str
    layer : str, optional
        For a ``torch.nn.Module``: the name (as in ``named_modules()``) of the
        submodule whose output is taken; default the model's output.
    batch_size : int

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        Outputs flattened per sample, float64.
    """
    is_torch = type(model).__module__.startswith("torch") or any(
        c.__module__.startswith("torch.nn") for c in type(model).__mro__
    )
    if layer is None and hasattr(model, "encode"):
        # Sentence encoders (sentence-transformers models are torch modules too)
        # take raw texts through encode(), which tokenizes and pools.
        is_torch = False
    if layer is not None and not is_torch:
        raise InvalidParameterError(
            f"'layer' ({layer!r}) can only select a submodule of a torch.nn.Module; the model "
            f"is a {type(model).__name__}."
        )
    if is_torch:
        return _extract_torch(model, X, layer, batch_size)
    if hasattr(model, "encode"):
        out = model.encode(list(X) if not isinstance(X, np.ndarray) else X, batch_size=batch_size)
    else:
        out = np.concatenate(
            [np.asarray(model(X[i:i + batch_size])) for i in range(0, len(X), batch_size)]
        )
    out = np.asarray(out, dtype=np.float64)
    return out.reshape(len(out), -1)


def _extract_torch(model, X, layer, batch_size):
    torch = optional.torch("embedding inputs with a torch model")
    captured = []
    handle = None
    if layer is not None:
        modules = dict(model.named_modules())
        if layer not in modules:
            names = [n for n in modules if n]
            raise InvalidParameterError(
                f"The model has no layer named {layer!r}; its layers are: {', '.join(names[:30])}"
                f"{' ...' if len(names) > 30 else ''}."
            )
        handle = modules[layer].register_forward_hook(
            lambda module, inputs, output: captured.append(
                (output[0] if isinstance(output, (tuple, list)) else output).detach()
            )
        )
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    outs = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for i in range(0, len(X), batch_size):
                y = model(X[i:i + batch_size])
                outs.append(captured.pop() if layer is not None else y)
    finally:
        if handle is not None:
            handle.remove()
        model.train(was_training)
    Z = torch.cat([o.reshape(o.shape[0], -1) for o in outs]).double().numpy()
    return Z


def load_task_input(source, *, blas_threads=1):
    """Return ``(Z, Y)`` for any entry kind (models are run on their probe set)."""
    if source["kind"] == "embeddings":
        return load_embeddings(source)
    X, y = load_probe(source["probe"], source.get("probe_sha256"))
    try:
        optional.torch().set_num_threads(max(1, int(blas_threads)))
    except ImportError:
        pass
    model = load_model(source)
    return extract(model, X, layer=source.get("layer")), y
