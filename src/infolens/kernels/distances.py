"""Squared Euclidean distances, written once for numpy and torch.

Every kernel of the package starts here: the dense affinity, the tiles of the
matrix-free operators and the kept-mass check of the sparse kernel.
"""

from __future__ import annotations

from infolens.core.backend import NUMPY, backend_of

__all__ = ["squared_distance_block", "squared_distances"]


def squared_distance_block(A_rows, sq_rows, BT, sq_cols, xp=NUMPY):
    """``|a_i|^2 + |b_j|^2 - 2 a_i . b_j`` for a block of rows, clipped at 0.

    Parameters
    ----------
    A_rows : array of shape (r, d)
        Centred rows.
    sq_rows : array of shape (r,)
        Their squared norms.
    BT : array of shape (d, m)
        The centred columns' points, transposed into their own buffer.
    sq_cols : array of shape (m,)
        Their squared norms.
    xp : backend
        :data:`infolens.core.backend.NUMPY` or a ``TorchBackend``.

    Returns
    -------
    array of shape (r, m)
        Non-negative squared distances, in squared units of the input.
    """
    out = A_rows @ BT
    out *= -2.0
    out += sq_rows[:, None]
    out += sq_cols[None, :]
    return xp.clamp_min_(out, 0.0)


def squared_distances(A, B=None, xp=None):
    """Squared Euclidean distances by one matrix product on centred data.

    Parameters
    ----------
    A : array of shape (n, d)
        numpy array or torch tensor.
    B : array of shape (m, d), optional
        Defaults to ``A`` (then the diagonal is exactly 0).
    xp : backend, optional
        Default: the backend of ``A``.

    Returns
    -------
    array of shape (n, m), dtype of ``A``
        Non-negative squared distances, in squared units of the input.

    Notes
    -----
    Centring removes the cancellation error that ``|a|^2 + |b|^2 - 2 a.b``
    suffers when the data sit far from the origin.  The right-hand factor is an
    explicit transposed copy: ``A @ A.T`` on a view of the same buffer takes
    OpenBLAS's SYRK path, which crashes for large float64 inputs on some builds.
    """
    xp = backend_of(A) if xp is None else xp
    same = B is None
    mean = xp.column_means(A)
    Ac = A - mean
    Bc = Ac if same else B - mean
    out = squared_distance_block(Ac, xp.row_sq_norms(Ac), xp.transpose_copy(Bc),
                                 xp.row_sq_norms(Bc), xp)
    if same:
        xp.fill_diagonal_(out, 0.0)
    return out
