"""Attention entropy from queries and keys, in blocks, without the T x T matrix.

Hugging Face's SDPA and flash-attention backends never return the attention
weights, and the eager fallback stores ``batch x heads x T x T`` of them.  The
entropy of a softmax row needs only three running sums over the keys, so it
can be streamed: with scores ``s_j`` and ``p_j = exp(s_j) / sum_k exp(s_k)``,

    H = -sum_j p_j log p_j = logsumexp(s) - sum_j p_j s_j,

and both terms are accumulated over key blocks with the usual online-softmax
rescaling (running maximum ``m``, ``l = sum exp(s - m)``, ``u = sum exp(s - m) s``;
then ``H = m + log l - u / l``).  Memory is ``block x block`` per step.
"""

from __future__ import annotations

import numpy as np

from infolens.core.result import stopwatch
from infolens.core.validation import (
    InvalidParameterError,
    check_bool,
    check_int,
    check_real,
    resolve_base,
)
from infolens.measures.attention import as_float64, key_mask, shape_of, summarise, visible_counts

__all__ = ["attention_entropy_from_qk"]


def _qk_shapes(q, k, caller):
    q, qs = shape_of(q, "q", caller)
    k, ks = shape_of(k, "k", caller)
    if len(qs) != 4 or len(ks) != 4 or qs[:2] != ks[:2] or qs[3] != ks[3] or min(qs + ks) < 1:
        raise InvalidParameterError(
            f"{caller} needs q of shape (batch, heads, queries, head_dim) and k of shape "
            f"(batch, heads, keys, head_dim) with the same batch, heads and head_dim; got "
            f"{qs} and {ks}. Split a (batch, T, heads * head_dim) projection with "
            f"x.view(batch, T, heads, head_dim).transpose(1, 2).")
    return q, k, qs, ks


def _row_entropies(Q, K, keys_ok, causal, block):
    """Entropies (nats) of softmax(Q K^T) rows over ``keys_ok`` keys, one block at a time."""
    n_q, n_k = Q.shape[0], K.shape[0]
    out = np.empty(n_q)
    for q0 in range(0, n_q, block):
        Qb = Q[q0:q0 + block]
        rows = np.arange(q0, q0 + Qb.shape[0])[:, None]
        m = np.full(Qb.shape[0], -np.inf)
        l_sum = np.zeros(Qb.shape[0])
        u_sum = np.zeros(Qb.shape[0])
        stop = min(n_k, q0 + Qb.shape[0]) if causal else n_k
        for k0 in range(0, stop, block):
            s = Qb @ K[k0:k0 + block].T
            hide = ~keys_ok[k0:k0 + block][None, :]
            if causal:
                hide = hide | (np.arange(k0, k0 + s.shape[1])[None, :] > rows)
            s[np.broadcast_to(hide, s.shape)] = -np.inf
            new_m = np.maximum(m, s.max(axis=1))
            safe = np.where(np.isfinite(new_m), new_m, 0.0)
            rescale = np.exp(np.where(np.isfinite(m), m - safe, -np.inf))
            e = np.exp(s - safe[:, None])
            l_sum = l_sum * rescale + e.sum(axis=1)
            u_sum = u_sum * rescale + (e * np.where(hide, 0.0, s)).sum(axis=1)
            m = new_m
        with np.errstate(divide="ignore", invalid="ignore"):
            h = m + np.log(l_sum) - u_sum / l_sum
        out[q0:q0 + Qb.shape[0]] = np.where(l_sum > 0, np.maximum(h, 0.0), 0.0)
    return out


def attention_entropy_from_qk(q, k, *, mask=None, causal=False, scale=None, block=1024,
                              normalize=False, base=2, return_result=False):
    """Attention entropy per head from queries and keys, never storing the T x T weights.

    The same numbers as :func:`infolens.attention_entropy` on
    ``softmax(q k^T * scale)`` (within 1e-6 bits), computed ``block`` queries by
    ``block`` keys at a time in float64, for models whose attention backend
    (SDPA, flash attention) cannot return its weights: capture ``q`` and ``k``
    with a forward hook on the attention module instead.

    Parameters
    ----------
    q : array or tensor of shape (batch, heads, queries, head_dim)
        Queries after the projection (and rotary embedding, if any).
    k : array or tensor of shape (batch, heads, keys, head_dim)
        Keys; for grouped-query attention repeat them to ``heads`` first.
    mask : array of shape (batch, keys) or None, default=None
        1 for real tokens, 0 for padding; padded keys are excluded and, when
        queries == keys, padded queries are left out of the mean.
    causal : bool, default=False
        Query ``i`` sees keys ``0..i`` only (queries == keys).
    scale : float or None, default=None
        Multiplier of the scores; None uses ``1 / sqrt(head_dim)``.
    block : int, default=1024
        Queries and keys per step: the largest temporary holds ``block x block``
        float64 numbers (8 MiB at 1024).
    normalize, base, return_result
        As in :func:`infolens.attention_entropy` (normalised: divided by the
        log of the number of keys each query sees).

    Returns
    -------
    ndarray of shape (heads,) or Result
        Mean row entropy per head, in bits by default; the Result's details
        are those of :func:`infolens.attention_entropy`.
    """
    caller = "attention_entropy_from_qk"
    check_bool(return_result, "return_result", caller)
    causal = check_bool(causal, "causal", caller)
    normalize = check_bool(normalize, "normalize", caller)
    block = check_int(block, "block", caller, low=1)
    log_base, unit = resolve_base(base, caller)
    q, k, qs, ks = _qk_shapes(q, k, caller)
    scale = check_real(scale, "scale", caller, low=0.0, closed_low=False, allow_none=True)
    scale = 1.0 / np.sqrt(qs[3]) if scale is None else scale
    if causal and qs[2] != ks[2]:
        raise InvalidParameterError(
            f"{caller}: causal=True needs as many queries as keys; got {qs[2]} and {ks[2]}.")
    with stopwatch() as clock:
        keys_ok = key_mask(mask, ks[0], ks[2], caller)
        valid = keys_ok if qs[2] == ks[2] else np.ones((qs[0], qs[2]), dtype=bool)
        rows = np.zeros((1, qs[0], qs[1], qs[2]))
        for b in range(qs[0]):
            for h in range(qs[1]):
                Q, K = as_float64(q[b, h]) * scale, as_float64(k[b, h])
                if not (np.isfinite(Q).all() and np.isfinite(K).all()):
                    raise InvalidParameterError(
                        f"{caller}: q and k must be finite; batch {b}, head {h} holds NaN or "
                        f"infinite values.")
                rows[0, b, h] = _row_entropies(Q, K, keys_ok[b], causal, block)
    params = {"causal": causal, "normalize": normalize, "unit": unit, "masked": mask is not None,
              "scale": float(scale), "block": block}
    result = summarise(rows, visible_counts(keys_ok, qs[2], causal), valid, normalize=normalize,
                       log_base=log_base, caller=caller, params=params, elapsed_s=clock[0],
                       squeeze=True)
    return result if return_result else result.details["per_head"]
