"""Attention entropy per head (Shannon entropy of each query's attention row).

Jha & Reagen, "ReLU's Revival: On the Entropic Overload in Normalization-Free
Large Language Models" (arXiv 2410.09637) and "Entropy-Guided Attention for
Private LLMs" (arXiv 2501.03489) read the mean row entropy of every head:
removing nonlinearities makes deep heads *collapse* (entropy near 0, one key
takes all the mass) and early heads *overload* (entropy near its maximum, the
head attends to everything and carries little).

The entropy of a row is taken over the keys that query can see: with a causal
mask query ``i`` sees ``i + 1`` keys, and padded keys are not keys at all.
The helpers here (row checks, the per-head summary) are shared with the
streaming path :mod:`infolens.measures.attention_stream`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from infolens.core import optional
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import InvalidParameterError, check_bool, resolve_base

__all__ = ["COLLAPSE_THRESHOLD", "OVERLOAD_THRESHOLD", "attention_entropy"]

#: A head whose mean normalised entropy is below this counts as collapsed.
COLLAPSE_THRESHOLD = 0.1
#: A head whose mean normalised entropy is above this counts as overloaded.
OVERLOAD_THRESHOLD = 0.75
_ROW_TOL = 1e-4  # a probability row sums to 1 within this
_ZERO_TOL = 1e-6  # mass this small above the diagonal / on padded keys counts as none


def as_float64(x):
    """``x`` (numpy, torch incl. float16 / bfloat16, or array-like) as a float64 numpy array."""
    if optional.is_torch_tensor(x):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def shape_of(x, name, caller):
    """The shape of an array or tensor (nested lists converted), checked to be numeric."""
    if not (optional.is_torch_tensor(x) or isinstance(x, np.ndarray)):
        x = np.asarray(x)
    kind = str(x.dtype)
    if not any(k in kind for k in ("float", "int", "bool")) or "complex" in kind:
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} must be a real numeric array or tensor; got "
            f"dtype {kind}. Pass the attention probabilities as floats.")
    return x, tuple(int(s) for s in x.shape)


def check_rows(P, where, caller, *, what="attention rows"):
    """Raise unless every row of ``P`` (..., n) is a probability vector (within 1e-4)."""
    if not np.isfinite(P).all():
        raise InvalidParameterError(
            f"{caller}: the {what} must be finite; {where} holds NaN or infinite values. Pass "
            f"probabilities after the softmax (masked scores of -inf become 0 there).")
    low = float(P.min()) if P.size else 0.0
    sums = P.sum(axis=-1)
    bad = np.abs(sums - 1.0) > _ROW_TOL
    if low < -_ZERO_TOL or bad.any():
        got = f"a negative entry ({low:.3g})" if low < -_ZERO_TOL else (
            f"a row summing to {float(sums[bad].ravel()[0]):.6g}")
        raise InvalidParameterError(
            f"{caller}: the {what} must be probability vectors (non-negative, summing to 1 "
            f"within 1e-4 over the last axis); {where} has {got}. Pass probabilities, not "
            f"scores or logits: apply torch.softmax(scores, dim=-1) first, or request the "
            f"weights with output_attentions=True.")


def _layer_shape(A, caller):
    A, shape = shape_of(A, "A", caller)
    if len(shape) == 3:
        raise InvalidParameterError(
            f"{caller} needs attention of shape (batch, heads, queries, keys); got shape {shape}, "
            f"which looks head-averaged (torch.nn.MultiheadAttention averages heads by default). "
            f"Call the module with need_weights=True, average_attn_weights=False; for a single "
            f"head, add the axis: A[:, None].")
    if len(shape) != 4 or min(shape) < 1:
        raise InvalidParameterError(
            f"{caller} needs attention of shape (batch, heads, queries, keys) with no empty "
            f"axis, or a list of such arrays (one per layer); got shape {shape}.")
    return A, shape


def key_mask(mask, batch, keys, caller):
    """The padding mask as a (batch, keys) bool array (True = a real token), or all True."""
    if mask is None:
        return np.ones((batch, keys), dtype=bool)
    m = as_float64(mask)
    if m.shape != (batch, keys) or not np.isin(m, (0.0, 1.0)).all():
        raise InvalidParameterError(
            f"The 'mask' parameter of {caller} must be a 0/1 (or bool) array of shape (batch, "
            f"keys) = {(batch, keys)}, 1 for real tokens and 0 for padding (Hugging Face's "
            f"attention_mask); got shape {m.shape}.")
    m = m.astype(bool)
    if not m.any(axis=1).all():
        raise InvalidParameterError(
            f"{caller}: every sequence needs at least one real token; row "
            f"{int(np.argmin(m.any(axis=1)))} of 'mask' is all padding. Drop that sequence.")
    return m


def visible_counts(keys_ok, queries, causal):
    """Keys each query sees, shape (batch, queries): real keys, and j <= i when causal."""
    if causal:
        return np.cumsum(keys_ok, axis=1)[:, :queries]
    return np.repeat(keys_ok.sum(axis=1, keepdims=True), queries, axis=1)


def summarise(rows, counts, valid, *, normalize, log_base, caller, params, elapsed_s,
              squeeze):
    """The Result of the per-head mean of the row entropies, with spread and head states.

    ``rows`` (layers, batch, heads, queries) in nats; ``counts`` (batch, queries)
    keys seen per query; ``valid`` (batch, queries) real queries.  ``squeeze``
    drops the layer axis of every per-head array (one array was given).
    """
    logn = np.log(np.maximum(counts, 1))[None, :, None, :]
    normed = np.divide(rows, logn, out=np.zeros_like(rows), where=logn > 0)
    real = np.broadcast_to(valid[None, :, None, :], rows.shape)
    has_max = real & (counts > 1)[None, :, None, :]
    if normalize and not has_max.any():
        raise InvalidParameterError(
            f"{caller}: normalize=True divides by log(keys seen), which is 0 when a query sees "
            f"one key; no query here sees more than one. Use normalize=False.")
    norm_head = _masked_mean(normed, has_max)
    per_row, used = (normed, has_max) if normalize else (rows / log_base, real)
    values = _masked_mean(per_row, used)
    spread = np.sqrt(_masked_mean((per_row - values[:, None, :, None]) ** 2, used))
    lows = np.where(used, per_row, np.inf).min(axis=(1, 3))
    highs = np.where(used, per_row, -np.inf).max(axis=(1, 3))
    cut = (lambda x: x[0]) if squeeze else (lambda x: x)
    details = {
        "per_head": cut(values), "query_std": cut(spread), "query_min": cut(lows),
        "query_max": cut(highs), "normalized_per_head": cut(norm_head),
        "collapsed_fraction": float((norm_head < COLLAPSE_THRESHOLD).mean()),
        "overloaded_fraction": float((norm_head > OVERLOAD_THRESHOLD).mean()),
        "collapse_threshold": COLLAPSE_THRESHOLD, "overload_threshold": OVERLOAD_THRESHOLD,
        "n_queries": int(valid.sum()),
    }
    unit = "normalized" if normalize else params["unit"]
    return build_result(caller, values.mean(), unit, params, elapsed_s=elapsed_s,
                        details=details, return_result=True)


def _masked_mean(x, m):
    """Mean of ``x`` over axes (1, 3) where ``m`` holds, shape (layers, heads)."""
    n = m.sum(axis=(1, 3))
    return np.where(m, x, 0.0).sum(axis=(1, 3)) / np.maximum(n, 1)


def _rows_of_layer(A, shape, keys_ok, caller, layer):
    """Row entropies (nats) over real keys, shape (batch, heads, queries), and the
    largest mass above the diagonal (for causal detection; inf when not square)."""
    batch, heads, queries, keys = shape
    out = np.empty((batch, heads, queries))
    upper = 0.0 if queries == keys else np.inf
    above = np.triu(np.ones((queries, keys), dtype=bool), 1) if queries == keys else None
    valid_q = keys_ok if queries == keys else np.ones((batch, queries), dtype=bool)
    for b in range(batch):
        for h in range(heads):
            S = as_float64(A[b, h])
            where = f"layer {layer}, batch {b}, head {h}"
            check_rows(S[valid_q[b]], where, caller)
            S = np.clip(S, 0.0, None)
            lost = (S * ~keys_ok[b]).sum(axis=1)[valid_q[b]]
            if lost.size and lost.max() > _ROW_TOL:
                raise InvalidParameterError(
                    f"{caller}: {where} puts mass {lost.max():.3g} on keys the mask marks as "
                    f"padding; pass the attention mask the model was run with.")
            S = S * keys_ok[b]
            out[b, h] = -xlogy(S, S).sum(axis=1)
            if above is not None and queries > 1:
                upper = max(upper, float((S * above)[valid_q[b]].sum(axis=1).max(initial=0.0)))
    return out, upper, valid_q


def attention_entropy(A, *, mask=None, causal="auto", normalize=False, base=2,
                      return_result=False):
    """Mean Shannon entropy of the attention rows of every head.

    Parameters
    ----------
    A : array or tensor of shape (batch, heads, queries, keys), or a list/tuple of them
        Attention probabilities (after the softmax; rows sum to 1), numpy or
        torch (float16 / bfloat16 accepted, upcast to float64), e.g. Hugging
        Face's ``outputs.attentions`` (one array per layer).  Head-averaged
        weights of shape (batch, queries, keys) are refused.
    mask : array of shape (batch, keys) or None, default=None
        1 (True) for real tokens, 0 for padding (Hugging Face's
        ``attention_mask``).  Padded keys are removed from every row and, when
        queries and keys are the same tokens (queries == keys), padded queries
        are left out of the mean.
    causal : {"auto", True, False}, default="auto"
        Whether query ``i`` sees only keys ``0..i``.  ``"auto"`` detects it:
        causal when queries == keys > 1 and every row's mass above the
        diagonal is below 1e-6.  ``True`` with mass above the diagonal is an
        error.  It changes only the number of visible keys (``normalize`` and
        the head-state fractions), never the entropy of a row.
    normalize : bool, default=False
        Divide each row's entropy by the log of the number of keys that query
        sees, ``log(i + 1)`` under a causal mask (real keys only): 1 means
        uniform over what it can see.  The official code of arXiv 2501.03489
        divides by ``log T`` for every query, which understates early queries
        of a causal model (query 0 can only ever reach 0, query 9 at most
        ``log 10 / log T``).  Rows that see a single key have no maximum and
        are left out of the normalised mean.
    base : {2, "e", 10}, default=2
        Unit of the entropy: bits, nats or dits (ignored when normalised).
    return_result : bool, default=False

    Returns
    -------
    ndarray of shape (heads,) or (layers, heads), or Result
        Mean row entropy per head, over real queries of every sequence, in
        bits by default (dimensionless in [0, 1] when normalised).  With
        ``return_result=True`` the value is the mean over all heads and
        ``details`` hold ``per_head`` (the array), ``query_std``,
        ``query_min``, ``query_max`` (spread of the per-query values, same
        shape), ``normalized_per_head``, and ``collapsed_fraction`` /
        ``overloaded_fraction``: the share of heads whose mean normalised
        entropy is below ``COLLAPSE_THRESHOLD = 0.1`` / above
        ``OVERLOAD_THRESHOLD = 0.75``.  Both are our choices: the abstracts
        of arXiv 2410.09637 and 2501.03489 (all of them we could consult)
        define the two states only in words.  Overload, "a disproportionate
        fraction of heads" near maximal entropy, is read as entropy in
        (3/4 of the maximum, maximum], the band recalled from the heat maps
        of 2410.09637 (not checked against its text); collapse, entropy
        "near zero" in deep layers, as below a tenth of the maximum, where a
        row puts almost all of its mass on one or two keys.

    Examples
    --------
    >>> import numpy as np
    >>> float(attention_entropy(np.full((1, 1, 3, 7), 1 / 7))[0])  # log2 7
    2.807354922057604
    """
    caller = "attention_entropy"
    check_bool(return_result, "return_result", caller)
    normalize = check_bool(normalize, "normalize", caller)
    if not (causal == "auto" or isinstance(causal, (bool, np.bool_))):
        raise InvalidParameterError(
            f"The 'causal' parameter of {caller} must be 'auto', True or False. Got {causal!r} "
            f"instead.")
    log_base, unit = resolve_base(base, caller)
    layers = list(A) if isinstance(A, (list, tuple)) else [A]
    if not layers:
        raise InvalidParameterError(f"{caller} got an empty list of layers; pass at least one "
                                    f"array of shape (batch, heads, queries, keys).")
    with stopwatch() as clock:
        checked = [_layer_shape(a, caller) for a in layers]
        shape = checked[0][1]
        if any(s != shape for _, s in checked):
            raise InvalidParameterError(
                f"{caller}: every layer needs the same shape (batch, heads, queries, keys); "
                f"got shapes "
                f"{[s for _, s in checked]}.")
        keys_ok = key_mask(mask, shape[0], shape[3], caller)
        found = [_rows_of_layer(a, s, keys_ok, caller, i) for i, (a, s) in enumerate(checked)]
        upper = max(f[1] for f in found)
        is_causal = bool(upper <= _ZERO_TOL) if causal == "auto" else bool(causal)
        if causal is True and upper > _ZERO_TOL:
            raise InvalidParameterError(
                f"{caller}: causal=True, but a row puts mass {upper:.3g} above the diagonal "
                f"(queries == keys needed). Pass causal=False or 'auto'.")
        rows = np.stack([f[0] for f in found])
        counts = visible_counts(keys_ok, shape[2], is_causal)
        params = {"causal": is_causal, "normalize": normalize, "unit": unit,
                  "masked": mask is not None}
    result = summarise(rows, counts, found[0][2], normalize=normalize, log_base=log_base,
                       caller=caller, params=params, elapsed_s=clock[0],
                       squeeze=not isinstance(A, (list, tuple)))
    return result if return_result else result.details["per_head"]
