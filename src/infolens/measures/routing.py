"""Routing measures of sparse mixtures of experts.

* :func:`distribution_entropy`: mean Shannon entropy of the router's softmax
  rows (a token's uncertainty over experts) and the entropy of the mean
  routing (how evenly the load spreads).
* :func:`routing_fluctuation`: the share of tokens whose top-1 expert changes
  between two checkpoints ("routing fluctuation", Nguyen et al., "Improving
  Routing in Sparse Mixture of Experts with Graph of Tokens").
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from infolens.core.result import build_result, stopwatch
from infolens.core.validation import InvalidParameterError, check_bool, resolve_base
from infolens.measures.attention import as_float64, check_rows, shape_of

__all__ = ["distribution_entropy", "routing_fluctuation"]


def _rows(P, name, caller):
    """``P`` (..., experts) as float64 rows of shape (tokens, experts)."""
    P, shape = shape_of(P, name, caller)
    if len(shape) < 2 or min(shape) < 1 or shape[-1] < 2:
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} must have shape (tokens, experts) or (..., "
            f"experts) with at least 2 experts; got shape {shape}. For a single token, pass "
            f"P[None, :].")
    return as_float64(P).reshape(-1, shape[-1])


def distribution_entropy(P, *, base=2, return_result=False):
    """Mean Shannon entropy of probability rows, e.g. a mixture-of-experts router's softmax.

    Parameters
    ----------
    P : array or tensor of shape (tokens, experts) or (..., experts)
        Probability rows (non-negative, summing to 1 within 1e-4), numpy or
        torch (float16 / bfloat16 upcast); leading axes are flattened into tokens.
    base : {2, "e", 10}, default=2
        Unit: bits, nats or dits.
    return_result : bool, default=False

    Returns
    -------
    float or Result
        Mean over tokens of ``-sum_e p_e log p_e``, in ``[0, log(experts)]``.
        ``details``: ``normalized`` (the mean divided by ``log(experts)``),
        ``token_std`` (spread over tokens), ``load`` (mean probability per
        expert, shape (experts,)) and ``load_entropy`` (entropy of ``load``,
        same unit: ``log(experts)`` when the load is balanced).
    """
    caller = "distribution_entropy"
    check_bool(return_result, "return_result", caller)
    log_base, unit = resolve_base(base, caller)
    X = _rows(P, "P", caller)
    with stopwatch() as clock:
        check_rows(X, "P", caller, what="router rows")
        X = np.clip(X, 0.0, None)
        h = -xlogy(X, X).sum(axis=1) / log_base
        load = X.mean(axis=0)
        details = {"normalized": float(h.mean() * log_base / np.log(X.shape[1])),
                   "token_std": float(h.std()), "load": load,
                   "load_entropy": float(-xlogy(load, load).sum() / log_base),
                   "n_tokens": int(X.shape[0])}
    return build_result(caller, h.mean(), unit, {"experts": int(X.shape[1])},
                        elapsed_s=clock[0], details=details, return_result=return_result)


def _top1(P, name, caller):
    P, shape = shape_of(P, name, caller)
    if len(shape) == 1:
        idx = as_float64(P)
        if not np.array_equal(idx, np.round(idx)):
            raise InvalidParameterError(
                f"The {name!r} parameter of {caller} must be expert scores of shape (tokens, "
                f"experts) or integer expert indices of shape (tokens,); got non-integer "
                f"values of shape {shape}.")
        return idx.astype(np.int64)
    X = _rows(P, name, caller)
    if not np.isfinite(X).all():
        raise InvalidParameterError(f"The {name!r} parameter of {caller} must be finite.")
    return X.argmax(axis=1)


def routing_fluctuation(P_before, P_after, *, return_result=False):
    """Share of tokens whose top-1 expert changes between two checkpoints.

    Parameters
    ----------
    P_before, P_after : array or tensor of shape (tokens, experts) or (..., experts)
        Router probabilities or logits (the top-1 expert is the same) for the
        same tokens at two checkpoints; or integer expert indices of shape
        (tokens,).  Ties resolve to the lowest expert index.
    return_result : bool, default=False

    Returns
    -------
    float or Result
        Fraction in [0, 1] (0: every token keeps its expert).  ``details``:
        ``changed`` (count), ``n_tokens`` and ``transitions`` (experts x experts
        counts, row = expert before, column = expert after; for index input the
        size is one more than the largest index).
    """
    caller = "routing_fluctuation"
    check_bool(return_result, "return_result", caller)
    a = _top1(P_before, "P_before", caller)
    b = _top1(P_after, "P_after", caller)
    if a.shape != b.shape or (a < 0).any() or (b < 0).any():
        raise InvalidParameterError(
            f"{caller} needs the same tokens at both checkpoints: got {a.size} and {b.size} "
            f"tokens (non-negative expert indices). Route the same batch through both models.")
    with stopwatch() as clock:
        n_exp = int(max(a.max(), b.max())) + 1
        trans = np.zeros((n_exp, n_exp), dtype=np.int64)
        np.add.at(trans, (a, b), 1)
        changed = int((a != b).sum())
    return build_result(caller, changed / a.size, "fraction", {},
                        elapsed_s=clock[0],
                        details={"changed": changed, "n_tokens": int(a.size),
                                 "transitions": trans},
                        return_result=return_result)
