"""Stochastic Lanczos quadrature (SLQ) for diffusion spectral entropy.

DSE in nats is ``log Z - G / Z`` with ``Z = tr |M|^t`` and
``G = tr(|M|^t log |M|^t)``: two traces of matrix functions, estimated here
from products with ``M`` only (Ubaru, Chen & Saad 2017).

Estimator
---------
1. The trivial eigenpair ``(1, v)`` is deflated analytically: probes are
   projected off ``v`` and the Krylov basis is kept orthogonal to it; its
   contribution ``1^t = 1`` (and ``0`` to ``G``) is added exactly when the
   trivial eigenvalue is kept.
2. ``b`` Rademacher probes projected off ``v`` form the starting block of a
   block Lanczos run of ``m`` steps with full reorthogonalisation (classical
   Gram-Schmidt, twice).  Block Gauss quadrature gives every probe's quadratic
   forms ``r_j^T f(M) r_j`` on the ``m b`` Ritz values, which are clipped to
   ``[-1, 1]``; ``f(x) = |x|^t`` and ``f(x) = |x|^t log |x|^t`` with
   ``0 log 0 = 0`` (no epsilon shift).
3. Krylov-aware deflation (after Chen & Hallman 2022): Ritz pairs whose
   residual ``|M u - theta u|`` is below ``residual_tol |theta|`` are eigenpairs to
   that relative accuracy.  Their exact contribution ``f(theta)`` replaces the probe's
   random share ``(u^T r_j)^2 f(theta)`` (whose expectation is ``f(theta)``),
   which removes the variance of the dominant eigen-directions; the number
   ``k`` deflated adapts to the spectrum.
4. While the probe standard error exceeds ``target_se``, further independent
   batches of ``b`` probes are run (at most ``max_batches``) and pooled.
5. ``Z`` and ``G`` come from the same probes, and the standard error of DSE
   is the spread over probes of the linearised combination
   ``(1/Z + G/Z^2) Z_j - G_j / Z`` (delta method), combined in quadrature
   with a quadrature-error estimate (the geometric tail, Aitken-style, of
   the changes over the last two Lanczos steps: ``d1 r / (1 - r)`` with
   ``r = d1 / d2``, at least ``d1``) and, for operators multiplied in float32, a
   precision-error proxy (the change when Ritz values are moved towards 0 by
   the rounding level ``eps32``), with a floor of ``SE_FLOOR``.  The probe seed is fixed,
   so repeated calls on nearby operators use common random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from infolens.core.progress import Progress

__all__ = ["SLQEstimate", "block_lanczos", "slq_entropy", "slq_sizes"]

#: Ritz pairs with a residual below this times |theta| are deflated (treated as exact).
RESIDUAL_TOL = 1e-4

#: Probe standard error (nats) below which no further batch of probes is run,
#: and the largest number of batches.
TARGET_SE = 0.002
MAX_BATCHES = 4

#: Largest convergence rate per Lanczos step assumed by the quadrature-error
#: estimate (the remaining error is then at most 9 times the last step's change).
MAX_RATE = 0.9

#: Rounding floor (nats) of the reported standard error: float64 arithmetic
#: alone leaves errors of 1e-16 to 1e-10 that no probe spread shows.
SE_FLOOR = 1e-8


@dataclass
class SLQEstimate:
    """Result of :func:`slq_entropy`.

    Attributes
    ----------
    entropy : float
        DSE in nats.
    standard_error : float
        Standard error of ``entropy`` (nats): spread over probes combined with
        the quadrature-error proxy (``details`` has both parts).
    Z, G : float
        The trace estimates (``G`` in nats).
    deflated : ndarray
        Eigenvalues handled exactly (the trivial one excluded), descending by
        magnitude.
    n_probes, n_steps, krylov_dim, n_products : int
    """

    entropy: float
    standard_error: float
    Z: float
    G: float
    deflated: np.ndarray
    n_probes: int
    n_steps: int
    krylov_dim: int
    n_products: int
    details: dict = field(default_factory=dict)


def slq_sizes(n, n_probes=None, n_steps=None, max_basis_bytes=None):
    """Default probe count ``b`` and step count ``m`` for ``n`` points.

    The Krylov basis holds ``(m + 1) b`` vectors of length ``n`` (float64);
    it is kept below ``n / 2`` columns and below ``max_basis_bytes``.
    """
    b = n_probes if n_probes is not None else (24 if n <= 4000 else 32)
    m = n_steps if n_steps is not None else 24
    b = int(max(2, min(b, n // 4)))
    m = int(max(2, min(m, (n // 2) // b - 1)))
    if max_basis_bytes is not None:
        m = int(max(2, min(m, max_basis_bytes // (8 * n * b) - 1)))
    return b, m


def _orthogonalise(W, bases):
    """Remove from ``W`` its components along each orthonormal basis, twice."""
    for _ in range(2):
        for Q in bases:
            if Q.shape[1]:
                W -= Q @ (Q.T @ W)
    return W


def _qr_block(W, bases, rng, scale):
    """Pivoted QR ``W = Q B`` with rank-deficient directions replaced by fresh ones."""
    Q, R, piv = scipy.linalg.qr(W, mode="economic", pivoting=True)
    B = np.empty_like(R)
    B[:, piv] = R
    tiny = np.abs(np.diag(R)) <= 1e-12 * max(scale, 1e-300)
    if tiny.any():
        B[tiny] = 0.0
        for i in np.flatnonzero(tiny):
            x = rng.standard_normal((W.shape[0], 1))
            x = _orthogonalise(x, list(bases) + [np.delete(Q, i, axis=1)])
            Q[:, i] = x[:, 0] / np.linalg.norm(x)
    return Q, B


def block_lanczos(matmat, V, n_steps, lock=None, *, progress=None, rng=None):
    """Block Lanczos with full reorthogonalisation.

    Parameters
    ----------
    matmat : callable
        ``matmat(X) -> M @ X`` for blocks of shape (n, b); ``M`` symmetric.
    V : ndarray of shape (n, b)
        Starting block, of full column rank and orthogonal to ``lock``.
    n_steps : int
        Number of blocks ``m``.
    lock : ndarray of shape (n, l), optional
        Orthonormal vectors the Krylov basis is kept orthogonal to.

    Returns
    -------
    T : ndarray of shape (m b, m b)
        Block tridiagonal projection ``Q^T M Q``.
    R0 : ndarray of shape (b, b)
        ``V = Q_1 R0``.
    B_last : ndarray of shape (b, b)
        The coupling to the next block (for Ritz residuals).
    """
    n, b = V.shape
    rng = np.random.default_rng(0) if rng is None else rng
    lock = np.zeros((n, 0)) if lock is None else lock
    Q1, R0 = np.linalg.qr(V)
    basis = np.empty((n, n_steps * b))
    basis[:, :b] = Q1
    T = np.zeros((n_steps * b, n_steps * b))
    B_prev = None
    B_last = np.zeros((b, b))
    scale = 1.0
    m_done = n_steps
    for j in range(n_steps):
        cols = slice(j * b, (j + 1) * b)
        Qj = basis[:, cols]
        W = matmat(Qj)
        if B_prev is not None:
            W -= basis[:, (j - 1) * b : j * b] @ B_prev.T
        A = Qj.T @ W
        A = 0.5 * (A + A.T)
        T[cols, cols] = A
        W -= Qj @ A
        scale = max(scale, float(np.abs(A).max()))
        W = _orthogonalise(W, [lock, basis[:, : (j + 1) * b]])
        Qn, Bn = _qr_block(W, [lock, basis[:, : (j + 1) * b]], rng, scale)
        if progress is not None:
            progress.update()
        if j + 1 == n_steps:
            B_last = Bn
            break
        basis[:, (j + 1) * b : (j + 2) * b] = Qn
        T[(j + 1) * b : (j + 2) * b, cols] = Bn
        T[cols, (j + 1) * b : (j + 2) * b] = Bn.T
        B_prev = Bn
    del basis
    return T[: m_done * b, : m_done * b], R0, B_last


def _f_pair(theta, t):
    """``|x|^t`` and ``|x|^t log |x|^t`` (0 at 0), for Ritz values clipped to [-1, 1]."""
    a = np.abs(np.clip(theta, -1.0, 1.0))
    ft = a**t
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(a > 0, ft * t * np.log(np.where(a > 0, a, 1.0)), 0.0)
    return ft, g


def _deflatable(theta, resid, b, rtol):
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


def _quadrature(T, R0, B_last, b, t, keep_trivial, rtol, shrink=0.0):
    """Per-probe estimates of ``Z`` and ``G`` (deflated part included), Ritz values, mask.

    ``shrink`` > 0 moves every Ritz value that much towards 0 (error proxy).
    """
    theta, Y = np.linalg.eigh(T)
    if shrink > 0:
        theta = np.sign(theta) * np.maximum(np.abs(theta) - shrink, 0.0)
    S = R0.T @ Y[:b, :]  # probe j, Ritz node i: square root of the quadrature weight
    W = S**2
    resid = np.linalg.norm(B_last @ Y[-b:, :], axis=0)
    converged = _deflatable(theta, resid, b, rtol)
    f, g = _f_pair(theta, t)
    rest = ~converged
    Zj = W[:, rest] @ f[rest] + float(f[converged].sum()) + (1.0 if keep_trivial else 0.0)
    Gj = W[:, rest] @ g[rest] + float(g[converged].sum())
    return Zj, Gj, theta, converged


def _combine(Zj, Gj):
    """DSE (nats) from pooled per-probe estimates, its standard error, Z, G (delta method)."""
    Z = float(Zj.mean())
    G = float(Gj.mean())
    if Z <= 0:
        return 0.0, 0.0, Z, G
    H = float(np.log(Z) - G / Z)
    h = (1.0 / Z + G / Z**2) * Zj - Gj / Z
    se = float(np.std(h, ddof=1) / np.sqrt(len(h)))
    return H, se, Z, G


def _one_batch(op, t, keep_trivial, b, m, rng, residual_tol, label):
    n = op.n
    if op.trivial_vector is None:  # no known eigenpair: nothing to deflate analytically
        v = np.zeros((n, 0))
        keep_trivial = False
    else:
        v = np.asarray(op.trivial_vector, dtype=np.float64)[:, None]
    R = rng.integers(0, 2, size=(n, b)).astype(np.float64)
    R *= 2.0
    R -= 1.0
    R -= v @ (v.T @ R)
    with Progress(m, f"{label} n={n}") as bar:
        T, R0, B_last = block_lanczos(op.matmat, R, m, lock=v, progress=bar, rng=rng)
    Zj, Gj, theta, converged = _quadrature(T, R0, B_last, b, t, keep_trivial, residual_tol)
    # quadrature error proxy: the same estimates from one and two Lanczos steps fewer
    prev = None
    if m >= 3:
        prev = [_quadrature(T[:k, :k], R0, T[k:k + b, k - b:k], b, t, keep_trivial,
                            residual_tol)[:2] for k in ((m - 1) * b, (m - 2) * b)]
    # rounding of float32 products blurs eigenvalues below ``noise_level``
    shrunk = None
    delta = float(getattr(op, "noise_level", 0.0) or 0.0)
    if delta > 0:
        shrunk = _quadrature(T, R0, B_last, b, t, keep_trivial, residual_tol,
                             shrink=delta)[:2]
    return Zj, Gj, prev, shrunk, theta[converged], T.shape[0]


def slq_entropy(op, t, *, keep_trivial=True, n_probes=None, n_steps=None, seed=0,
                residual_tol=RESIDUAL_TOL, max_basis_bytes=None, label="slq",
                target_se=TARGET_SE, max_batches=MAX_BATCHES):
    """Estimate DSE (nats) of a diffusion operator by stochastic Lanczos quadrature.

    Parameters
    ----------
    op : operator
        Has ``n``, ``trivial_vector`` (unit, eigenvalue 1; or None) and
        ``matmat(V) -> M @ V`` (see :mod:`infolens.kernels.operators`); ``M``
        symmetric with spectrum in ``[-1, 1]``.
    t : int
        Diffusion time.
    keep_trivial : bool
        Count the trivial eigenvalue 1.
    n_probes, n_steps : int, optional
        Block size ``b`` and Lanczos steps ``m`` of one batch (defaults:
        :func:`slq_sizes`).
    seed : int
        Probe seed (fixed: common random numbers across calls).
    residual_tol : float
        Ritz pairs with a smaller relative residual are deflated exactly.
    max_basis_bytes : int, optional
        Memory cap of the Krylov basis.
    target_se : float
        Further independent batches of ``b`` probes are run (at most
        ``max_batches`` in all) while the probe standard error exceeds this
        (nats).
    max_batches : int

    Returns
    -------
    SLQEstimate
    """
    n = op.n
    b, m = slq_sizes(n, n_probes, n_steps, max_basis_bytes)
    rng = np.random.default_rng(seed)
    Zs, Gs, prevs, shrunks, deflated = [], [], [], [], []
    for batch in range(max_batches):
        Zj, Gj, prev, shrunk, defl, dim = _one_batch(op, t, keep_trivial, b, m, rng,
                                                      residual_tol, label)
        Zs.append(Zj)
        Gs.append(Gj)
        prevs.append(prev)
        shrunks.append(shrunk)
        deflated.append(defl)
        H, se_probe, Z, G = _combine(np.concatenate(Zs), np.concatenate(Gs))
        if se_probe <= target_se:
            break
    bias = 0.0
    if all(p is not None for p in prevs):
        H1, H2 = (_combine(np.concatenate([p[i][0] for p in prevs]),
                           np.concatenate([p[i][1] for p in prevs]))[0] for i in (0, 1))
        bias = _geometric_tail(H, H1, H2)
    precision_error = 0.0
    if all(x is not None for x in shrunks):
        precision_error = abs(H - _combine(np.concatenate([x[0] for x in shrunks]),
                                           np.concatenate([x[1] for x in shrunks]))[0])
    se = float(np.sqrt(se_probe**2 + bias**2 + precision_error**2 + SE_FLOOR**2))
    defl = deflated[0][np.argsort(-np.abs(deflated[0]))]
    n_batches = len(Zs)
    return SLQEstimate(
        entropy=H, standard_error=se, Z=Z, G=G, deflated=defl, n_probes=b * n_batches,
        n_steps=m, krylov_dim=dim, n_products=m * n_batches,
        details={"n_deflated": int(defl.size), "n_batches": n_batches,
                 "probe_standard_error": se_probe, "quadrature_error_estimate": bias,
                 "precision_error_estimate": precision_error,
                 "log_z_standard_error": _log_z_error(Zs, prevs, shrunks)},
    )


def _geometric_tail(x0, x1, x2):
    """Remaining error of an iterate ``x0`` whose predecessors were ``x1``, ``x2``.

    Assumes geometric convergence (Aitken): with ``d1 = |x0 - x1|``, ``d2 =
    |x1 - x2|`` and rate ``r = d1 / d2`` (at most ``MAX_RATE``), the steps
    still to come add up to ``d1 r / (1 - r)``; never less than ``d1``.
    """
    d1, d2 = abs(x0 - x1), abs(x1 - x2)
    r = min(d1 / d2, MAX_RATE) if d2 > 0 else 0.0
    return max(d1, d1 * r / (1.0 - r))


def _log_z_error(Zs, prevs, shrunks):
    """Standard error of ``log Z`` (the Renyi entropies' trace), built like the DSE's:
    probe spread, geometric tail of the Lanczos steps, float32 rounding proxy."""
    Zj = np.concatenate(Zs)
    Z = float(Zj.mean())
    if Z <= 0:
        return 0.0
    parts = [np.std(Zj, ddof=1) / np.sqrt(Zj.size) / Z, SE_FLOOR]
    if all(x is not None for x in prevs):
        Z1, Z2 = (float(np.concatenate([p[i][0] for p in prevs]).mean()) for i in (0, 1))
        if Z1 > 0 and Z2 > 0:
            parts.append(_geometric_tail(np.log(Z), np.log(Z1), np.log(Z2)))
    if all(x is not None for x in shrunks):
        other = float(np.concatenate([x[0] for x in shrunks]).mean())
        parts.append(abs(np.log(Z) - np.log(other)) if other > 0 else 0.0)
    return float(np.sqrt(np.sum(np.square(parts))))
