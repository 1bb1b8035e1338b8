"""Gaussian bandwidths: the one validation of ``sigma``, the rules, and unit scaling.

The Gaussian kernel is ``exp(-d**2 / (2 * sigma**2))`` on Euclidean distances
``d``: ``sigma`` is a length in the units of the embeddings, as in the
reference package ``dse-dsmi``.
"""

from __future__ import annotations

import numbers

import numpy as np

from infolens.core.validation import InvalidParameterError
from infolens.kernels.distances import squared_distances

__all__ = [
    "BANDWIDTH_RULES",
    "MEDIAN_SAMPLE_SIZE",
    "check_sigma",
    "resolve_bandwidth",
    "unit_scaled_bandwidth",
]

#: Named bandwidth rules.  Each is a degree-one homogeneous function of the
#: pairwise distances, so the kernel, and every measure built on it, is
#: unchanged by ``Z -> c * Z + b`` for any ``c > 0`` and shift ``b``.
BANDWIDTH_RULES = ("median", "rms")

#: Largest number of points whose pairwise distances enter the median rule;
#: larger inputs use a subsample drawn with a fixed seed (so the rule stays
#: deterministic and scale-invariant).
MEDIAN_SAMPLE_SIZE = 2048


def check_sigma(sigma, caller, *, name="sigma", rules=BANDWIDTH_RULES):
    """The one validation of a bandwidth parameter.

    Parameters
    ----------
    sigma : object
        What the caller received.
    caller : str
        Public function name, for the message.
    name : str, default="sigma"
        The parameter's name (e.g. ``"sigma_y"``).
    rules : tuple of str
        The rule names this caller accepts (e.g. ``("auto", "median", "rms")``).

    Returns
    -------
    float or str
        A positive finite length, or one of ``rules``.

    Raises
    ------
    InvalidParameterError
        For anything else (booleans, NaN, infinities, non-positive numbers,
        unknown names), with the accepted forms.
    """
    if isinstance(sigma, str) and sigma in rules:
        return sigma
    if (isinstance(sigma, numbers.Real) and not isinstance(sigma, bool)
            and np.isfinite(sigma) and sigma > 0):
        return float(sigma)
    raise InvalidParameterError(
        f"The {name!r} parameter of {caller} must be a float in the range (0, inf) or one of "
        f"{', '.join(map(repr, rules))}. Got {sigma!r} instead. Pass a positive length in "
        f"the units of the data, or {name}={rules[0]!r} for a scale-aware bandwidth."
    )


def resolve_bandwidth(Z, sigma, caller="dse"):
    """Turn ``sigma`` (a positive number or a rule name) into a number.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    sigma : float or {"median", "rms"}
        * a positive number: used as is (same units as ``Z``);
        * ``"median"``: the median Euclidean distance between distinct pairs of
          points (over a fixed-seed subsample of ``MEDIAN_SAMPLE_SIZE`` points
          when ``n_samples`` is larger);
        * ``"rms"``: the root-mean-square distance between distinct pairs,
          ``sqrt(2 n / (n - 1) * trace(cov(Z)))``, exact and O(n d).

    Returns
    -------
    float
        The bandwidth.  For a rule on data whose points all coincide, 1.0 (any
        value gives the same all-ones kernel there).
    """
    sigma = check_sigma(sigma, caller)
    if not isinstance(sigma, str):
        return sigma
    n = Z.shape[0]
    Z = np.asarray(Z, dtype=np.float64)
    if sigma == "rms":
        var = Z.var(axis=0).sum()
        value = float(np.sqrt(2.0 * n / (n - 1) * var))
    else:
        if n > MEDIAN_SAMPLE_SIZE:
            idx = np.random.default_rng(0).choice(n, MEDIAN_SAMPLE_SIZE, replace=False)
            Z = Z[np.sort(idx)]
        d2 = squared_distances(Z)
        pairs = np.sqrt(d2[np.triu_indices(Z.shape[0], k=1)])
        value = float(np.median(pairs))
        if value == 0.0:
            nonzero = pairs[pairs > 0]
            value = float(nonzero.mean()) if nonzero.size else 0.0
    return value if value > 0 else 1.0


def unit_scaled_bandwidth(X, sigma, caller):
    """Rescale ``X`` to unit size and resolve the bandwidth in those units.

    ``X`` is divided by a power of two, which is exact in floating point:
    every distance-to-bandwidth ratio, and so every value, is bit for bit
    what it would be unscaled, but squared distances of data at scales like
    1e-200 or 1e200 no longer underflow or overflow.  A fixed ``sigma`` so
    far from the data's scale that its square would leave the float range
    is clamped to where the kernel is already exactly the identity
    (``sigma`` -> 0) or all ones (``sigma`` -> inf).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    sigma : float or {"median", "rms"}
        A checked bandwidth (:func:`check_sigma`).
    caller : str

    Returns
    -------
    X_unit : ndarray of shape (n, d), float64
        The rescaled rows.
    sigma_unit : float
        The bandwidth in the units of ``X_unit``.
    sigma_value : float
        The bandwidth in the units of ``X``.
    """
    largest = float(np.max(np.abs(X))) if X.size else 0.0
    exponent = int(np.frexp(largest)[1]) if largest > 0 else 0
    X_unit = np.ldexp(np.asarray(X, dtype=np.float64), -exponent)
    if isinstance(sigma, str):
        sigma_unit = resolve_bandwidth(X_unit, sigma, caller)
        return X_unit, sigma_unit, float(np.ldexp(sigma_unit, exponent))
    sigma_unit = min(max(float(np.ldexp(sigma, -exponent)), 1e-150), 1e150)
    return X_unit, sigma_unit, sigma
