"""Block Lanczos with full reorthogonalisation, resumable step by step.

:class:`BlockLanczos` builds the block tridiagonal projection ``T = Q^T M Q``
of a symmetric operator on the block Krylov space of a starting block; it can
be extended a few steps at a time, so that :mod:`infolens.spectrum.slq` stops
as soon as its quadrature has converged.  :func:`block_lanczos` runs a fixed
number of steps.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BlockLanczos", "block_lanczos"]


def _orthogonalise(W, bases):
    """Remove from ``W`` its components along each orthonormal basis, twice."""
    for _ in range(2):
        for Q in bases:
            if Q.shape[1]:
                W -= Q @ (Q.T @ W)
    return W


def _qr_block(W, bases, rng, scale):
    """QR ``W = Q B`` with rank-deficient directions replaced by fresh ones.

    numpy's QR, not scipy's: the block products run in numpy's BLAS, and
    alternating two BLAS libraries (scipy ships its own) leaves one's threads
    spinning on the cores the other wants; with two threads a 1500-point
    Lanczos run took twice as long as with one.  Without pivoting, a column
    that depends on the ones before it still shows as a tiny diagonal of ``R``.
    """
    Q, B = np.linalg.qr(W)
    tiny = np.abs(np.diag(B)) <= 1e-12 * max(scale, 1e-300)
    if tiny.any():
        B[tiny] = 0.0
        for i in np.flatnonzero(tiny):
            x = rng.standard_normal((W.shape[0], 1))
            x = _orthogonalise(x, list(bases) + [np.delete(Q, i, axis=1)])
            Q[:, i] = x[:, 0] / np.linalg.norm(x)
    return Q, B


class BlockLanczos:
    """Resumable block Lanczos run of a symmetric operator.

    Parameters
    ----------
    matmat : callable
        ``matmat(X) -> M @ X`` for blocks of shape (n, b).
    V : ndarray of shape (n, b)
        Starting block, of full column rank and orthogonal to ``lock``.
    max_steps : int
        Largest number of blocks (the basis is allocated for them).
    lock : ndarray of shape (n, l), optional
        Orthonormal vectors the Krylov basis is kept orthogonal to.
    rng : numpy Generator, optional
        Source of fresh directions after a breakdown.

    Attributes
    ----------
    steps : int
        Blocks done so far (``T`` has ``steps * b`` rows).
    R0 : ndarray of shape (b, b)
        ``V = Q_1 R0``.
    """

    def __init__(self, matmat, V, max_steps, lock=None, rng=None):
        n, b = V.shape
        self.matmat, self.n, self.b, self.max_steps = matmat, n, b, int(max_steps)
        self.rng = np.random.default_rng(0) if rng is None else rng
        self.lock = np.zeros((n, 0)) if lock is None else lock
        Q1, self.R0 = np.linalg.qr(V)
        self.basis = np.empty((n, (self.max_steps + 1) * b))
        self.basis[:, :b] = Q1
        self.T = np.zeros((self.max_steps * b, self.max_steps * b))
        self.B_prev = None
        self.B_last = np.zeros((b, b))
        self.scale = 1.0
        self.steps = 0

    def step(self):
        """One block step: a product with ``M``, the projection, reorthogonalisation, QR."""
        b, j = self.b, self.steps
        cols = slice(j * b, (j + 1) * b)
        Qj = self.basis[:, cols]
        W = self.matmat(Qj)
        if self.B_prev is not None:
            W -= self.basis[:, (j - 1) * b : j * b] @ self.B_prev.T
        A = Qj.T @ W
        A = 0.5 * (A + A.T)
        self.T[cols, cols] = A
        W -= Qj @ A
        self.scale = max(self.scale, float(np.abs(A).max()))
        done = [self.lock, self.basis[:, : (j + 1) * b]]
        W = _orthogonalise(W, done)
        Qn, Bn = _qr_block(W, done, self.rng, self.scale)
        self.basis[:, (j + 1) * b : (j + 2) * b] = Qn
        if j + 1 < self.max_steps:
            self.T[(j + 1) * b : (j + 2) * b, cols] = Bn
            self.T[cols, (j + 1) * b : (j + 2) * b] = Bn.T
        self.B_prev = self.B_last = Bn
        self.steps += 1

    def projection(self, steps=None):
        """``(T, B)``: the projection after ``steps`` blocks (default: all done) and the
        coupling to the next block (for Ritz residuals)."""
        k = self.steps if steps is None else int(steps)
        b = self.b
        T = self.T[: k * b, : k * b]
        if k == self.steps:
            return T, self.B_last
        return T, self.T[k * b : (k + 1) * b, (k - 1) * b : k * b]

    def release(self):
        """Free the basis (the projection stays)."""
        self.basis = None


def block_lanczos(matmat, V, n_steps, lock=None, *, progress=None, rng=None):
    """Block Lanczos with full reorthogonalisation, ``n_steps`` blocks.

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
    progress : Progress, optional
        Advanced by one per step.

    Returns
    -------
    T : ndarray of shape (m b, m b)
        Block tridiagonal projection ``Q^T M Q``.
    R0 : ndarray of shape (b, b)
        ``V = Q_1 R0``.
    B_last : ndarray of shape (b, b)
        The coupling to the next block (for Ritz residuals).
    """
    run = BlockLanczos(matmat, V, n_steps, lock=lock, rng=rng)
    for _ in range(n_steps):
        run.step()
        if progress is not None:
            progress.update()
    run.release()
    T, B = run.projection()
    return T.copy(), run.R0, B
