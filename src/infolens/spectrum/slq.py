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
   block Lanczos run with full reorthogonalisation
   (:mod:`infolens.spectrum.lanczos`).  Block Gauss quadrature gives every
   probe's quadratic forms ``r_j^T f(M) r_j`` on the Ritz values
   (:mod:`infolens.spectrum.quadrature`), clipped to ``[-1, 1]``.
3. Krylov-aware deflation (after Chen & Hallman 2022): Ritz pairs whose
   residual ``|M u - theta u|`` is below ``residual_tol |theta|`` are eigenpairs
   to that relative accuracy; their exact contribution ``f(theta)`` replaces
   the probe's random share, which removes the variance of the dominant
   eigen-directions.
4. Adaptive number of Lanczos steps: after ``MIN_STEPS`` blocks, and then
   every few blocks, the quadrature error is estimated from the geometric
   tail (Aitken) of the changes over the last two steps, ``d1 r / (1 - r)``
   with ``r = d1 / d2``, and at least the change over the last two and four
   steps (:func:`quadrature_error`); the run stops when it is below
   ``STOP_FRACTION`` of the probe standard error (or ``QUADRATURE_TOL``), or
   at the step cap.  Slowly converging spectra (noise-like kernels) get more
   steps; fast ones fewer.
5. While the probe standard error exceeds ``target_se``, further independent
   batches of ``b`` probes are run (at most ``max_batches``) and pooled.
6. Control variates: the quadrature is exact for ``r^T p(M) r`` with ``p``
   of degree 2, and ``tr 1``, ``tr M``, ``tr M^2`` are known from the stored
   operator (one pass over it).  Every probe's estimate is corrected by its
   excess of a quadratic fitted to ``f`` on the spectral density
   (:func:`infolens.spectrum.quadrature.control_variate`), so only the part
   of ``f`` no quadratic follows adds probe noise.  Operators that cannot
   give those traces cheaply (recomputed tiles) skip this.
7. The standard error of DSE is the spread over probes of the linearised
   combination ``(1/Z + G/Z^2) Z_j - G_j / Z`` (delta method), combined in
   quadrature with the quadrature-error estimate and, for operators multiplied
   in float32, the rounding model of
   :func:`infolens.spectrum.quadrature.rounding_error`, with a floor of
   ``SE_FLOOR``.  The probe seed is fixed, so repeated calls on nearby
   operators use common random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from infolens.core.progress import Progress
from infolens.spectrum.lanczos import BlockLanczos
from infolens.spectrum.quadrature import (
    combine,
    geometric_tail,
    quadrature,
    rounding_error,
)

__all__ = ["SLQEstimate", "probe_space_moments", "slq_entropy", "slq_sizes"]

#: Ritz pairs with a relative residual below this are deflated (treated as exact).
RESIDUAL_TOL = 1e-4

#: Probe standard error (nats) below which no further batch of probes is run,
#: and the largest number of batches.
TARGET_SE = 0.002
MAX_BATCHES = 4

#: Adaptive steps: the first check after ``MIN_STEPS`` blocks, then every
#: ``CHECK_EVERY``; stop once the quadrature error estimate is below
#: ``STOP_FRACTION`` times the batch's probe standard error or below
#: ``QUADRATURE_TOL`` nats.
MIN_STEPS = 12
CHECK_EVERY = 4
STOP_FRACTION = 0.5
QUADRATURE_TOL = 2e-4

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
        the quadrature-error and rounding estimates (``details`` has each part).
    Z, G : float
        The trace estimates (``G`` in nats).
    deflated : ndarray
        Eigenvalues handled exactly (the trivial one excluded), descending by
        magnitude.
    n_probes, n_steps, krylov_dim, n_products : int
        ``n_steps`` is the largest number of blocks of one batch.
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
    """Probe count ``b`` and the most Lanczos steps ``m`` of one batch for ``n`` points.

    Defaults: ``b`` = 24 up to 4000 points, 48 above (larger blocks make each
    pass over a stored operator cheaper per probe); ``m`` = 36 up to 4000
    points (SLQ's memory then stays below the exact path's) and 48 above, of
    which the adaptive rule usually runs 12-30.  The Krylov basis holds
    ``(m + 1) b`` vectors of length ``n`` (float64); it is kept below ``n / 2``
    columns and below ``max_basis_bytes``.
    """
    b = n_probes if n_probes is not None else (24 if n <= 4000 else 48)
    m = n_steps if n_steps is not None else (36 if n <= 4000 else 48)
    b = int(max(2, min(b, n // 4)))
    m = int(max(2, min(m, (n // 2) // b - 1)))
    if max_basis_bytes is not None:
        m = int(max(2, min(m, max_basis_bytes // (8 * n * b) - 2)))
    return b, m


def _probes(op, b, rng):
    """Rademacher block projected off the trivial vector, and that vector (n, 0 or 1)."""
    n = op.n
    v = (np.zeros((n, 0)) if op.trivial_vector is None
         else np.asarray(op.trivial_vector, dtype=np.float64)[:, None])
    R = rng.integers(0, 2, size=(n, b)).astype(np.float64)
    R *= 2.0
    R -= 1.0
    R -= v @ (v.T @ R)
    return R, v


def quadrature_error(h0, h1, h2, h4=None):
    """Error estimate of the last quadrature ``h0`` from those one, two and four
    steps before (``h4`` None: fewer than five steps were run).

    The geometric tail of the last two changes, but never less than the change
    over the last two or four steps: with control variates the probe spread no
    longer hides the quadrature's own error, and block Lanczos converges
    unevenly near 0, where ``|x| log |x|`` is not smooth.  One small step
    between two large ones made the tail alone claim convergence 3 standard
    errors early, and on a spectrum with 99 % of its eigenvalues below 1e-3 a
    slow stretch of two steps left errors of about twice the change over them.
    """
    return max(geometric_tail(h0, h1, h2), abs(h0 - h2), 0.0 if h4 is None else abs(h0 - h4))


def probe_space_moments(op):
    """``tr p(M)`` on the probes' space (orthogonal to the trivial vector) for
    ``p = 1, x, x^2``, or None when ``op`` has no ``trace_moments()``.

    With ``P`` the projector off the trivial vector ``v``, the Lanczos run sees
    ``P M P``: ``tr P = n - 1``, ``tr PMP = tr M - v^T M v`` and
    ``tr (PMP)^2 = |M|_F^2 - 2 |M v|^2 + (v^T M v)^2`` (one product with ``v``).
    """
    get = getattr(op, "trace_moments", None)
    found = get() if get is not None else None
    if found is None:
        return None
    trace, frobenius_sq = found
    if op.trivial_vector is None:
        return np.array([op.n, trace, frobenius_sq], dtype=np.float64)
    v = np.asarray(op.trivial_vector, dtype=np.float64)
    Mv = np.asarray(op.matmat(v[:, None]), dtype=np.float64)[:, 0]
    vMv = float(v @ Mv)
    return np.array([op.n - 1.0, trace - vMv, frobenius_sq - 2.0 * float(Mv @ Mv) + vMv**2])


def _run_batch(op, t, keep_trivial, b, m, adaptive, rng, residual_tol, bar, moments):
    """One probe batch: Lanczos steps (adaptive or ``m``) and its quadratures.

    Returns the quadrature at the last step, those one, two and four steps
    before (None when fewer than three, or five, steps were run) and the steps.
    """
    R, v = _probes(op, b, rng)
    run = BlockLanczos(op.matmat, R, m, lock=v, rng=rng)
    quads = {}

    def estimate(k):
        if k not in quads:
            T, B = run.projection(k)
            quads[k] = quadrature(T, run.R0, B, t, keep_trivial, residual_tol, moments)
        return quads[k]

    target = min(MIN_STEPS, m) if adaptive else m
    while True:
        while run.steps < target:
            run.step()
            if bar is not None:
                bar.update(detail=f"probes {b}, step {run.steps}")
        k = run.steps
        if k < 3:
            break
        H = [combine(estimate(j).Zj, estimate(j).Gj)[:2] for j in (k, k - 1, k - 2)]
        h4 = combine(estimate(k - 4).Zj, estimate(k - 4).Gj)[0] if k >= 5 else None
        tail = quadrature_error(H[0][0], H[1][0], H[2][0], h4)
        if not adaptive or k >= m or tail <= max(STOP_FRACTION * H[0][1], QUADRATURE_TOL):
            break
        target = min(m, k + CHECK_EVERY)
        if bar is not None:
            bar.update(0, total=bar.total + (target - k))
    run.release()
    k = run.steps
    return estimate(k), (estimate(k - 1) if k >= 3 else None), \
        (estimate(k - 2) if k >= 3 else None), (estimate(k - 4) if k >= 5 else None), k


def slq_entropy(op, t, *, keep_trivial=True, n_probes=None, n_steps=None, seed=0,
                residual_tol=RESIDUAL_TOL, max_basis_bytes=None, label="slq",
                target_se=TARGET_SE, max_batches=MAX_BATCHES, progress=None,
                control_variates=True):
    """Estimate DSE (nats) of a diffusion operator by stochastic Lanczos quadrature.

    Parameters
    ----------
    op : operator
        Has ``n``, ``trivial_vector`` (unit, eigenvalue 1; or None) and
        ``matmat(V) -> M @ V`` (see :mod:`infolens.kernels.operators`); ``M``
        symmetric with spectrum in ``[-1, 1]``.  An attribute ``noise_level``
        (relative rounding of its products) enters the standard error.
    t : int
        Diffusion time.
    keep_trivial : bool
        Count the trivial eigenvalue 1.
    n_probes, n_steps : int, optional
        Block size ``b`` and Lanczos steps ``m`` of one batch.  ``n_steps``
        given: exactly that many steps; None: adaptive (see the module notes).
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
    label : str
        Label of the progress bar made when ``progress`` is None.
    progress : Progress, optional
        A bar of the caller to advance (one step per Lanczos block).
    control_variates : bool
        Correct the probes by the exact traces of ``1, M, M^2`` when the
        operator gives them (module notes, item 6).

    Returns
    -------
    SLQEstimate
    """
    n = op.n
    b, m = slq_sizes(n, n_probes, n_steps, max_basis_bytes)
    adaptive = n_steps is None
    rng = np.random.default_rng(seed)
    own = progress is None
    bar = Progress(min(MIN_STEPS, m) if adaptive else m, f"{label} n={n}") if own else progress
    moments = probe_space_moments(op) if control_variates else None
    lasts, prevs, prev2s, prev4s, steps = [], [], [], [], []
    try:
        for _ in range(max_batches):
            last, prev, prev2, prev4, k = _run_batch(op, t, keep_trivial, b, m, adaptive,
                                                     rng, residual_tol, bar, moments)
            lasts.append(last)
            prevs.append(prev)
            prev2s.append(prev2)
            prev4s.append(prev4)
            steps.append(k)
            H, se_probe, Z, G = _pooled(lasts)
            if se_probe <= target_se or len(lasts) == max_batches:
                break
            if bar is not None:
                bar.update(0, total=bar.done + k)
    finally:
        if own:
            bar.close()
    bias = 0.0
    if all(p is not None for p in prevs):
        H4 = _pooled(prev4s)[0] if all(p is not None for p in prev4s) else None
        bias = quadrature_error(H, _pooled(prevs)[0], _pooled(prev2s)[0], H4)
    delta = float(getattr(op, "noise_level", 0.0) or 0.0)
    precision_error, log_z_rounding = rounding_error(lasts, t, keep_trivial, delta)
    se = float(np.sqrt(se_probe**2 + bias**2 + precision_error**2 + SE_FLOOR**2))
    deflated = lasts[0].theta[lasts[0].converged]
    deflated = deflated[np.argsort(-np.abs(deflated))]
    n_batches = len(lasts)
    return SLQEstimate(
        entropy=H, standard_error=se, Z=Z, G=G, deflated=deflated, n_probes=b * n_batches,
        n_steps=max(steps), krylov_dim=max(steps) * b, n_products=int(sum(steps)),
        details={"n_deflated": int(deflated.size), "n_batches": n_batches,
                 "steps_per_batch": steps, "adaptive_steps": adaptive,
                 "control_variates": moments is not None,
                 "probe_standard_error": se_probe, "quadrature_error_estimate": bias,
                 "precision_error_estimate": precision_error,
                 "log_z_standard_error": _log_z_error(lasts, prevs, prev2s, log_z_rounding)},
    )


def _pooled(quads):
    """:func:`~infolens.spectrum.quadrature.combine` of the probes of several batches."""
    return combine(np.concatenate([q.Zj for q in quads]), np.concatenate([q.Gj for q in quads]))


def _log_z_error(lasts, prevs, prev2s, rounding):
    """Standard error of ``log Z`` (the Renyi entropies' trace), built like the DSE's:
    probe spread, geometric tail of the Lanczos steps, rounding model."""
    Zj = np.concatenate([q.Zj for q in lasts])
    Z = float(Zj.mean())
    if Z <= 0:
        return 0.0
    parts = [np.std(Zj, ddof=1) / np.sqrt(Zj.size) / Z, SE_FLOOR, rounding]
    if all(p is not None for p in prevs):
        Z1, Z2 = (float(np.concatenate([q.Zj for q in qs]).mean()) for qs in (prevs, prev2s))
        if Z1 > 0 and Z2 > 0:
            parts.append(geometric_tail(np.log(Z), np.log(Z1), np.log(Z2)))
    return float(np.sqrt(np.sum(np.square(parts))))
