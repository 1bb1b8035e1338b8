"""Squared Euclidean distances, written once for numpy and torch.

Every kernel of the package starts here: the dense affinity, the tiles of the
matrix-free operators and the kept-mass check of the sparse kernel.
"""

from __future__ import annotations

import numpy as np

from infolens.core.backend import NUMPY, backend_of

__all__ = ["CANCELLATION", "median_centred", "squared_distance_block", "squared_distances"]

#: Relative size below which a squared distance from the matrix-product formula
#: is recomputed as a direct difference (see ``squared_distance_block``).
CANCELLATION = 2.0 ** -16

#: Entries recomputed per chunk (bounds the temporary of the direct differences).
_REDO_CHUNK = 1 << 16


def squared_distance_block(A_rows, sq_rows, BT, sq_cols, xp=NUMPY, self_offset=None):
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
    self_offset : int, optional
        The rows are the points of columns ``self_offset, self_offset + 1, ...``
        (a block of a square distance matrix, numpy only): their distances to
        themselves are set to exactly 0, and the cancellation check, which would
        otherwise find those near-zero entries in every row, usually has nothing
        to redo.

    Returns
    -------
    array of shape (r, m)
        Non-negative squared distances, in squared units of the input.  Entries
        small against ``|a_i|^2 + |b_j|^2`` (where the product formula cancels)
        are recomputed as direct differences, so copies of a row are exactly 0.
    """
    out = A_rows @ BT
    out *= -2.0
    out += sq_rows[:, None]
    out += sq_cols[None, :]
    xp.clamp_min_(out, 0.0)
    if self_offset is None:
        _redo_cancelled(out, A_rows, sq_rows, BT, sq_cols, xp)
        return out
    rows = np.arange(out.shape[0])
    out[rows, rows + self_offset] = np.inf  # not suspects
    _redo_cancelled(out, A_rows, sq_rows, BT, sq_cols, xp)
    out[rows, rows + self_offset] = 0.0
    return out


def _redo_cancelled(out, A_rows, sq_rows, BT, sq_cols, xp):
    """Recompute by direct differences the entries that cancellation may have ruined.

    ``|a|^2 + |b|^2 - 2 a.b`` carries an absolute error of a few ulps of
    ``|a|^2 + |b|^2``: an entry below ``CANCELLATION`` times that is mostly
    rounding (copies of one row, or rows far from the centre, as beside one
    huge outlier).  Those entries become ``sum((a - b)^2)``, exact to
    rounding (exactly 0 for copies).  Ordinary data has none, so the check
    costs one comparison pass.
    """
    if not sq_rows.shape[0] or not sq_cols.shape[0]:
        return
    rough = CANCELLATION * (sq_rows.max() + sq_cols.max())
    near = out <= rough
    if not near.any():  # the usual case; ``any`` is ten times cheaper than ``nonzero``
        return
    rows, cols = xp.nonzero(near)
    suspect = out[rows, cols] <= CANCELLATION * (sq_rows[rows] + sq_cols[cols])
    rows, cols = rows[suspect], cols[suspect]
    for start in range(0, rows.shape[0], _REDO_CHUNK):
        r, c = rows[start:start + _REDO_CHUNK], cols[start:start + _REDO_CHUNK]
        diff = A_rows[r] - BT[:, c].T
        out[r, c] = (diff * diff).sum(1)


def median_centred(X):
    """``X`` in float64 minus its column-wise median: the centring of
    :func:`squared_distances` for numpy callers that build kernels in tiles."""
    X = np.asarray(X, dtype=np.float64)
    return X - np.median(X, axis=0)


def squared_distances(A, B=None, xp=None):
    """Squared Euclidean distances by one matrix product on median-centred data.

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
    suffers when the data sit far from the origin; the centre is the
    column-wise median, which one huge outlier row cannot drag away from the
    other rows (the mean can, and subtracting it would round them).  The right-hand factor is an
    explicit transposed copy: ``A @ A.T`` on a view of the same buffer takes
    OpenBLAS's SYRK path, which crashes for large float64 inputs on some builds.
    """
    xp = backend_of(A) if xp is None else xp
    same = B is None
    centre = xp.column_medians(A)
    Ac = A - centre
    Bc = Ac if same else B - centre
    out = squared_distance_block(Ac, xp.row_sq_norms(Ac), xp.transpose_copy(Bc),
                                 xp.row_sq_norms(Bc), xp,
                                 self_offset=0 if same and xp is NUMPY else None)
    if same and xp is not NUMPY:  # numpy's diagonal is already exactly 0
        xp.fill_diagonal_(out, 0.0)
    return out
