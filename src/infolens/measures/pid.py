"""Partial information decomposition of two discrete sources about a discrete target.

``I(X1, X2; Y)`` splits into four non-negative parts (Williams & Beer, 2010):
information both sources carry (redundancy), information only ``X1`` or only ``X2``
carries (unique), and information only the pair carries (synergy)::

    I(X1, X2; Y) = redundancy + unique_1 + unique_2 + synergy
    I(X1; Y)     = redundancy + unique_1
    I(X2; Y)     = redundancy + unique_2

Two definitions of the redundancy close the system:

* ``"broja"`` (Bertschinger, Rauh, Olbrich, Jost & Ay, Entropy 16, 2014): the unique
  information of ``X1`` is ``min_q I_q(Y; X1 | X2)`` over the joint distributions ``q``
  with the same pairwise marginals ``p(x1, y)`` and ``p(x2, y)``; equivalently ``q``
  maximises the concave ``H_q(Y | X1, X2)`` on that polytope, solved here by a log-barrier
  Newton method on its null-space parametrisation, started from ``p(x1, y) p(x2, y) / p(y)``.
* ``"imin"`` (Williams & Beer, arXiv 1004.2515): the redundancy is
  ``sum_y p(y) min_i I_spec(Y=y; X_i)`` with the specific information
  ``I_spec(y; X) = sum_x p(x | y) log(p(y | x) / p(y))``.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import null_space
from scipy.special import xlogy

from infolens.core.result import build_result, stopwatch
from infolens.core.validation import (
    InvalidParameterError,
    check_option,
    check_reference,
    resolve_base,
)

__all__ = ["PID_METHODS", "discrete_codes", "joint_pmf", "partial_information"]

PID_METHODS = ("broja", "imin")
#: Fewer samples than this cannot estimate a distribution.
MIN_SAMPLES = 10


def discrete_codes(V, name, caller, n_samples=None):
    """Integer codes ``0 .. k - 1`` of a discrete variable (rows of a 2-D array are symbols).

    Refuses NaN, fewer than :data:`MIN_SAMPLES` samples and a variable with one value.
    """
    n = len(V) if n_samples is None else n_samples
    arr = check_reference(V, n, name=name, caller=caller)
    if arr.shape[0] < MIN_SAMPLES:
        raise InvalidParameterError(
            f"{caller} needs at least {MIN_SAMPLES} samples; got {arr.shape[0]} in {name!r}. "
            f"Pass more samples.")
    rows = arr.reshape(arr.shape[0], -1) if arr.ndim == 2 else arr.reshape(-1, 1)
    values, codes = np.unique(rows, axis=0, return_inverse=True)
    if len(values) < 2:
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} takes a single value ({values[0].tolist()!r}) "
            f"in all {arr.shape[0]} samples, so it carries no information; pass a variable "
            f"with at least two values.")
    return codes.reshape(-1).astype(np.int64), len(values)


def joint_pmf(*codes_and_sizes):
    """Empirical joint probability table of ``(codes, size)`` pairs, shape ``(size1, ...)``."""
    codes = [c for c, _ in codes_and_sizes]
    shape = tuple(k for _, k in codes_and_sizes)
    counts = np.zeros(shape)
    np.add.at(counts, tuple(codes), 1.0)
    return counts / counts.sum()


def _mi(pxy):
    """``I(X; Y)`` in nats of a 2-D joint table."""
    px = pxy.sum(axis=1, keepdims=True)
    py = pxy.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(xlogy(pxy, pxy) - xlogy(pxy, px * py)))


def _imin(p):
    """Williams-Beer redundancy (nats) of ``p[x1, x2, y]``."""
    py = p.sum(axis=(0, 1))
    spec = []
    for pxy in (p.sum(axis=1), p.sum(axis=0)):
        px = pxy.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            # sum_x p(x|y) log(p(x, y) / (p(x) p(y)))
            terms = xlogy(pxy, pxy) - xlogy(pxy, px * py[None, :])
        spec.append(terms.sum(axis=0) / np.where(py > 0, py, 1.0))
    return float(np.sum(py * np.minimum(spec[0], spec[1])))


def _broja_q(p, tol):
    """The distribution of the BROJA polytope that maximises ``H_q(Y | X1, X2)``."""
    p1, p2 = p.sum(axis=1), p.sum(axis=0)   # p(x1, y), p(x2, y)
    py = p.sum(axis=(0, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        start = np.where(py > 0, p1[:, None, :] * p2[None, :, :] / py, 0.0)
    support = np.argwhere(start > 0)          # (a, b, c) with p(a, c) > 0 and p(b, c) > 0
    q0 = start[tuple(support.T)]
    rows = []
    for axis, marg in ((0, p1), (1, p2)):
        for a, c in np.argwhere(marg > 0):
            rows.append(((support[:, axis] == a) & (support[:, 2] == c)).astype(float))
    basis = null_space(np.array(rows))
    if basis.shape[1] == 0:
        return start
    _, cell = np.unique(support[:, :2], axis=0, return_inverse=True)
    cells = np.eye(cell.max() + 1)[cell.reshape(-1)].T        # (cells, support) indicator
    t = _interior_point(q0, basis, cells, tol)
    q = np.zeros_like(p)
    q[tuple(support.T)] = np.maximum(q0 + basis @ t, 0.0)
    return q


def _interior_point(q0, basis, cells, tol):
    """Minimise the convex ``sum q log(q / q_cell)`` over ``q = q0 + basis t >= 0``.

    A log-barrier path (weight ``mu`` from 1e-3 down to ``tol``, Newton steps with a
    backtracking line search that keeps ``q > 0``); the optimality gap on exit is at most
    ``len(q0) * tol`` nats.
    """
    def parts(t, mu):
        q = q0 + basis @ t
        qab = cells.T @ (cells @ q)
        value = float(np.sum(q * np.log(q / qab)) - mu * np.sum(np.log(q)))
        return q, qab, value

    t = np.zeros(basis.shape[1])
    mu = 1e-3
    while True:
        for _ in range(100):
            q, qab, value = parts(t, mu)
            grad = basis.T @ (np.log(q / qab) - mu / q)
            hess_q = np.diag(1.0 / q + mu / q ** 2) - cells.T @ (cells / (cells @ q)[:, None])
            hess = basis.T @ hess_q @ basis
            step = -_solve(hess, grad)
            decrement = -float(grad @ step)
            if decrement < 1e-22:
                break
            direction = basis @ step
            shrink = q / np.maximum(-direction, 1e-300)
            alpha = min(1.0, 0.99 * float(shrink.min()))
            while alpha > 1e-16:
                trial = t + alpha * step
                if (np.all(q0 + basis @ trial > 0)
                        and parts(trial, mu)[2] <= value - 0.25 * alpha * decrement):
                    break
                alpha *= 0.5
            if alpha <= 1e-16:
                break
            t = trial
        if mu <= tol:
            return t
        mu = max(mu * 0.1, tol)


def _solve(hess, grad):
    """Newton step of a symmetric positive semi-definite system (pseudo-inverse where singular)."""
    try:
        return np.linalg.solve(hess, grad)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(hess, grad, rcond=1e-30)[0]


def _conditional_mi(q):
    """``I(Y; X1 | X2)`` in nats of ``q[x1, x2, y]``."""
    total = 0.0
    for b in range(q.shape[1]):
        block = q[:, b, :]
        mass = block.sum()
        if mass > 0:
            total += mass * _mi(block / mass)
    return total


def partial_information(X1, X2, Y, *, method="broja", base=2, tol=1e-14):
    """Partial information decomposition of ``I(X1, X2; Y)`` for discrete variables.

    Parameters
    ----------
    X1, X2 : array-like of shape (n_samples,) or (n_samples, n_columns)
        The two discrete sources (integers, booleans or strings; each row of a 2-D
        array is one symbol).
    Y : array-like of shape (n_samples,) or (n_samples, n_columns)
        The discrete target.
    method : {"broja", "imin"}, default="broja"
        ``"broja"``: Bertschinger et al. (2014), the unique information as the minimal
        conditional MI over distributions with the same source-target marginals;
        ``"imin"``: Williams & Beer (2010) minimum specific information.
    base : {2, "e", 10}, default=2
        Logarithm base: bits, nats or dits.
    tol : float, default=1e-14
        Final barrier weight of the BROJA optimisation: the optimality gap is at most
        ``tol`` times the support size, in nats.

    Returns
    -------
    Result
        ``value`` is ``I(X1, X2; Y)`` of the empirical distribution; ``details`` holds the
        four parts ``redundancy``, ``unique_1``, ``unique_2`` and ``synergy`` (their sum is
        ``value``), and ``mi_1`` = ``I(X1; Y)``, ``mi_2`` = ``I(X2; Y)``, all in ``unit``.
        Parts of size ~1e-9 below zero are optimisation rounding and are set to 0.

    Raises
    ------
    InvalidParameterError
        NaN, fewer than 10 samples, a variable with a single value, or unequal lengths.

    Examples
    --------
    >>> x1 = np.tile([0, 0, 1, 1], 5); x2 = np.tile([0, 1, 0, 1], 5)
    >>> r = partial_information(x1, x2, x1 ^ x2)
    >>> round(r.details["synergy"], 6)
    1.0
    """
    caller = "partial_information"
    method = check_option(method, "method", caller, PID_METHODS)
    log_base, unit = resolve_base(base, caller)
    n = len(np.asarray(X1)) if not hasattr(X1, "shape") else X1.shape[0]
    parts = [discrete_codes(V, name, caller, n) for V, name in ((X1, "X1"), (X2, "X2"), (Y, "Y"))]
    with stopwatch() as elapsed:
        p = joint_pmf(*parts)
        total = _mi(p.reshape(-1, p.shape[2]))
        mi_1, mi_2 = _mi(p.sum(axis=1)), _mi(p.sum(axis=0))
        if method == "imin":
            red = _imin(p)
            unique_1, unique_2 = mi_1 - red, mi_2 - red
        else:
            q = _broja_q(p, tol)
            unique_1 = _conditional_mi(q)
            unique_2 = _conditional_mi(q.transpose(1, 0, 2))
            red = mi_1 - unique_1
        synergy = total - red - unique_1 - unique_2
    details = {name: max(v, 0.0) / log_base if v > -1e-7 else v / log_base for name, v in (
        ("redundancy", red), ("unique_1", unique_1), ("unique_2", unique_2),
        ("synergy", synergy), ("mi_1", mi_1), ("mi_2", mi_2))}
    return build_result(caller, total / log_base, unit, {"method": method, "base": base,
                        "n_samples": n}, elapsed_s=elapsed[0], details=details)
