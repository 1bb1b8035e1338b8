"""Gauss quadrature of DSE from a block Lanczos projection, and its error terms.

Used by :mod:`infolens.spectrum.slq`: per-probe estimates of ``Z = tr |M|^t``
and ``G = tr(|M|^t log |M|^t)`` on the Ritz values (with Krylov-aware
deflation of converged Ritz pairs, and control variates from the exact
traces of ``1, M, M^2``), DSE with its probe standard error (delta
method), the geometric-tail estimate of the quadrature error, and the
float-rounding error model of operators multiplied in float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_RATE", "Quadrature", "combine", "control_variate", "geometric_tail",
           "quadrature", "rounding_error"]

#: Largest convergence rate per Lanczos step assumed by the quadrature-error
#: estimate (the remaining error is then at most 9 times the last step's change).
MAX_RATE = 0.9


@dataclass
class Quadrature:
    """Per-probe estimates ``Zj``, ``Gj`` (nats), Ritz values, converged mask and the
    mean quadrature weight of each Ritz node (eigenvalues it stands for)."""

    Zj: np.ndarray
    Gj: np.ndarray
    theta: np.ndarray
    converged: np.ndarray
    weights: np.ndarray


def f_pair(theta, t):
    """``|x|^t`` and ``|x|^t log |x|^t`` (0 at 0), for Ritz values clipped to [-1, 1]."""
    a = np.abs(np.clip(theta, -1.0, 1.0))
    ft = a**t
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(a > 0, ft * t * np.log(np.where(a > 0, a, 1.0)), 0.0)
    return ft, g


def deflatable(theta, resid, b, rtol):
    """Ritz pairs that are eigenpairs to relative accuracy ``rtol``.

    A small *absolute* residual does not make a Ritz vector an eigenvector
    when the eigenvalues around it are themselves that small: the node then
    stands for many eigenvalues, and its probe weights must stay.  Hence the
    relative test ``|M u - theta u| <= rtol |theta|``.  A block Krylov space
    holds ``min(multiplicity, b)`` dimensions of a degenerate eigenspace, so a
    group of ``b`` or more (nearly) equal converged values may be only part of
    its eigenspace; such a group is left to the quadrature.
    """
    ok = resid <= rtol * np.abs(theta)
    if not ok.any():
        return ok
    order = np.argsort(theta)
    vals = theta[order]
    start = 0
    for i in range(1, len(vals) + 1):
        if i == len(vals) or abs(vals[i] - vals[i - 1]) > 1e-8 * max(abs(vals[i]), 1e-300):
            group = order[start:i]
            if ok[group].sum() >= b:
                ok[group] = False
            start = i
    return ok


def quadrature(T, R0, B_last, t, keep_trivial, rtol, moments=None):
    """Per-probe estimates of ``Z`` and ``G`` (deflated part included) from one projection.

    Parameters
    ----------
    T : ndarray of shape (k b, k b)
        Block tridiagonal projection.
    R0 : ndarray of shape (b, b)
        Starting block ``V = Q_1 R0``.
    B_last : ndarray of shape (b, b)
        Coupling to the next block (Ritz residuals).
    t : int
    keep_trivial : bool
        Add the trivial eigenvalue's 1 to every ``Zj``.
    rtol : float
        Relative residual below which a Ritz pair is deflated.
    moments : ndarray of shape (3,), optional
        Exact ``tr p(M)`` over the probes' space for ``p = 1, x, x^2``; given,
        the estimates are corrected by :func:`control_variate`.

    Returns
    -------
    Quadrature
    """
    b = R0.shape[0]
    theta, Y = np.linalg.eigh(T)
    S = R0.T @ Y[:b, :]  # probe j, Ritz node i: square root of the quadrature weight
    W = S**2
    resid = np.linalg.norm(B_last @ Y[-b:, :], axis=0)
    converged = deflatable(theta, resid, b, rtol)
    f, g = f_pair(theta, t)
    rest = ~converged
    Zj = W[:, rest] @ f[rest] + float(f[converged].sum()) + (1.0 if keep_trivial else 0.0)
    Gj = W[:, rest] @ g[rest] + float(g[converged].sum())
    weights = np.where(converged, 1.0, W.mean(axis=0))
    if moments is not None:
        Zj, Gj = control_variate(W, theta, converged, (f, g), (Zj, Gj), moments)
    return Quadrature(Zj, Gj, theta, converged, weights)


def control_variate(W, theta, converged, functions, estimates, moments):
    """Per-probe trace estimates corrected by the exactly known ``tr 1, tr M, tr M^2``.

    For a polynomial ``p`` of degree 2 the quadrature gives each probe's
    ``r^T p(M) r`` exactly, and its expectation ``tr p(M)`` is known.  Each
    function ``f`` is fitted by ``p_f = c_0 + c_1 x + c_2 x^2`` (least squares
    weighted by the spectral density the quadrature sees, converged nodes
    excluded: their values are exact already), and every probe's estimate
    becomes ``f_j - (p_j - tr p)``: the same expectation, but the spread over
    probes is that of ``f - p_f``, which is small wherever the spectrum is
    dense.  Exactly quadratic functions (``|x|^2`` of a PSD operator at
    ``t = 2``) come out without probe noise.

    Parameters
    ----------
    W : ndarray of shape (b, k)
        Quadrature weights of probe ``j`` on Ritz node ``i``.
    theta : ndarray of shape (k,)
        Ritz values.
    converged : ndarray of shape (k,), bool
        Nodes handled as exact eigenpairs (counted once, not by weight).
    functions : tuple of ndarray of shape (k,)
        Each function's values on the nodes.
    estimates : tuple of ndarray of shape (b,)
        Each function's per-probe trace estimate.
    moments : ndarray of shape (3,)
        ``tr p(M)`` over the probes' space for ``p = 1, x, x^2``.

    Returns
    -------
    tuple of ndarray of shape (b,)
        The corrected estimates, in the order of ``estimates``.
    """
    rest = ~converged
    density = W[:, rest].mean(axis=0)
    if np.count_nonzero(density > 0) < 3:
        return estimates
    basis = np.vander(theta, 3, increasing=True)
    forms = W[:, rest] @ basis[rest] + basis[converged].sum(axis=0)  # (b, 3): r_j^T p(M) r_j
    excess = forms - np.asarray(moments, dtype=np.float64)
    b = W.shape[0]
    # Leave-one-out fits: probe j's correction uses a quadratic fitted to the
    # density of the other probes, so it does not chase probe j's own noise
    # (a fit that includes it biases the corrected mean by O(1 / b)).  The
    # basis is taken in x / max|x| (columns of comparable size) and the 3 x 3
    # weighted normal equations of all probes are solved at once.
    others = (W[:, rest].sum(axis=0)[None, :] - W[:, rest]) / (b - 1) if b > 1 \
        else density[None, :]
    scale = max(float(np.abs(theta[rest]).max()), 1e-300) ** -np.arange(3.0)
    phi = basis[rest] * scale
    gram = np.einsum("jk,ka,kc->jac", others, phi, phi)
    inverse = np.linalg.pinv(gram, hermitian=True)
    out = []
    for values, per_probe in zip(functions, estimates):
        coef = np.einsum("jac,jc->ja", inverse, (others * values[rest]) @ phi)
        out.append(per_probe - np.einsum("ja,ja->j", excess * scale, coef))
    return tuple(out)


def combine(Zj, Gj):
    """DSE (nats) from pooled per-probe estimates, its standard error, Z, G (delta method)."""
    Z = float(Zj.mean())
    G = float(Gj.mean())
    if Z <= 0:
        return 0.0, 0.0, Z, G
    H = float(np.log(Z) - G / Z)
    h = (1.0 / Z + G / Z**2) * Zj - Gj / Z
    se = float(np.std(h, ddof=1) / np.sqrt(len(h)))
    return H, se, Z, G


def geometric_tail(x0, x1, x2):
    """Remaining error of an iterate ``x0`` whose predecessors were ``x1``, ``x2``.

    Assumes geometric convergence (Aitken): with ``d1 = |x0 - x1|``, ``d2 =
    |x1 - x2|`` and rate ``r = d1 / d2`` (at most ``MAX_RATE``), the steps
    still to come add up to ``d1 r / (1 - r)``; never less than ``d1``.
    """
    d1, d2 = abs(x0 - x1), abs(x1 - x2)
    r = min(d1 / d2, MAX_RATE) if d2 > 0 else 0.0
    return max(d1, d1 * r / (1.0 - r))


def rounding_error(quads, t, keep_trivial, delta):
    """Entropy error (nats) of products rounded at relative level ``delta``, and of ``log Z``.

    Model: every eigenvalue is moved by an independent error of size
    ``delta`` (the backward error of one rounded product, relative to
    ``|M| = 1``).  Its effect is the first-order spread
    ``delta sqrt(sum_i w_i g_i^2)`` (``g_i = dH / d lambda_i``, ``w_i`` the
    eigenvalues each Ritz node stands for) plus the bias of the second
    difference ``(f(x + delta) + f(x - delta)) / 2 - f(x)``, which is where
    ``|x|^t`` is not smooth (eigenvalues within ``delta`` of 0) and where it is
    curved.  Unlike moving every eigenvalue towards 0 by ``delta`` (the
    earlier proxy, a fully correlated error), errors of both signs are
    allowed to cancel, as rounding errors of many products do.

    Parameters
    ----------
    quads : list of Quadrature
        One per probe batch (weights are averaged over batches).
    t : int
    keep_trivial : bool
    delta : float
        Eigenvalue error level (0: exact products).

    Returns
    -------
    entropy_error, log_z_error : float
        In nats.
    """
    if delta <= 0 or not quads:
        return 0.0, 0.0
    theta = np.concatenate([q.theta for q in quads])
    w = np.concatenate([q.weights for q in quads]) / len(quads)
    f, g = f_pair(theta, t)
    one = 1.0 if keep_trivial else 0.0
    Z = float(w @ f) + one
    G = float(w @ g)
    if Z <= 0:
        return 0.0, 0.0
    H = np.log(Z) - G / Z
    a = np.maximum(np.abs(theta), delta)
    fa, _ = f_pair(a, t)
    slope = t * a ** (t - 1)  # |d f / d lambda|
    dH = slope * np.abs(G / Z - np.log(np.maximum(fa, 1e-300))) / Z
    spread = delta * np.sqrt(float(w @ dH**2))
    fp, gp = f_pair(theta + delta, t)
    fm, gm = f_pair(theta - delta, t)
    Zb = float(w @ (0.5 * (fp + fm))) + one
    Gb = float(w @ (0.5 * (gp + gm)))
    bias = abs(np.log(Zb) - Gb / Zb - H) if Zb > 0 else 0.0
    z_spread = delta * np.sqrt(float(w @ slope**2)) / Z
    z_bias = abs(np.log(Zb / Z))
    return float(np.hypot(spread, bias)), float(np.hypot(z_spread, z_bias))
