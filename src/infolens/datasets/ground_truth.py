"""Ground-truth tasks: samples whose mutual information or entropy is known in closed form.

Values in **nats**, as in the literature they come from (Czyz et al., "Beyond
Normal: On the Evaluation of Mutual Information Estimators", NeurIPS 2023):

* :func:`bivariate_normal`, :func:`multivariate_normal` (dense or sparse
  interactions): ``I(X; Y) = 1/2 log(det S_X det S_Y / det S)``;
* :func:`student_t`: multivariate Student-t with identity dispersion, where
  ``X`` and ``Y`` are uncorrelated yet dependent;
* :func:`transform` applies an invertible per-variable map (normal CDF,
  half-cube, asinh, spiral) that leaves the MI unchanged;
* :func:`uniform_box`: entropy ``log(volume)``; :func:`gaussian_entropy`.

Every task generator returns a :class:`Task` with the samples and the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import digamma, gammaln, ndtr

from infolens.core.validation import InvalidParameterError, check_int, check_option, check_real

__all__ = [
    "TRANSFORMS",
    "Task",
    "bivariate_normal",
    "gaussian_entropy",
    "gaussian_mi",
    "multivariate_normal",
    "seeded_rng",
    "student_t",
    "student_t_mi",
    "transform",
    "uniform_box",
]


@dataclass(frozen=True)
class Task:
    """Samples with a known information quantity.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"normal-1x1-rho0.75"``.
    X : ndarray of shape (n_samples, dim_x)
    Y : ndarray of shape (n_samples, dim_y) or None
        None for entropy tasks.
    mi : float or None
        True ``I(X; Y)`` in nats.
    entropy : float or None
        True differential entropy of ``X`` in nats (entropy tasks).
    params : dict
        The generator's arguments.
    """

    name: str
    X: np.ndarray
    Y: np.ndarray | None
    mi: float | None = None
    entropy: float | None = None
    params: dict = field(default_factory=dict)


def seeded_rng(random_state, caller):
    """A numpy Generator seeded with ``random_state`` (checked: an int >= 0 or None)."""
    check_int(random_state, "random_state", caller, low=0, allow_none=True)
    return np.random.default_rng(random_state)


def gaussian_mi(cov, dim_x):
    """``I(X; Y)`` in nats for jointly Gaussian ``(X, Y)`` with covariance ``cov``.

    Parameters
    ----------
    cov : ndarray of shape (dim_x + dim_y, dim_x + dim_y)
        Positive-definite joint covariance, ``X`` first.
    dim_x : int

    Returns
    -------
    float
        ``1/2 (log det S_XX + log det S_YY - log det S)``.
    """
    cov = np.asarray(cov, dtype=np.float64)
    ld = [np.linalg.slogdet(c) for c in (cov[:dim_x, :dim_x], cov[dim_x:, dim_x:], cov)]
    if any(sign <= 0 for sign, _ in ld):
        raise InvalidParameterError(
            "gaussian_mi needs a positive-definite covariance; got one with a non-positive "
            "determinant. Lower the correlations.")
    return 0.5 * (ld[0][1] + ld[1][1] - ld[2][1])


def gaussian_entropy(cov):
    """Differential entropy in nats of ``N(mu, cov)``: ``1/2 log((2 pi e)^d det cov)``."""
    cov = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        raise InvalidParameterError(
            "gaussian_entropy needs a positive-definite covariance; got a singular or "
            "indefinite one.")
    return 0.5 * (cov.shape[0] * np.log(2 * np.pi * np.e) + logdet)


def _sample_normal(cov, n, rng):
    L = np.linalg.cholesky(cov)
    return rng.standard_normal((n, cov.shape[0])) @ L.T


def bivariate_normal(n, rho, *, random_state=0):
    """One-dimensional ``X`` and ``Y``, standard normal with correlation ``rho``.

    Returns
    -------
    Task
        ``mi = -1/2 log(1 - rho^2)`` nats.
    """
    caller = "bivariate_normal"
    n = check_int(n, "n", caller, low=2)
    rho = check_real(rho, "rho", caller, low=-0.999999, high=0.999999)
    cov = np.array([[1.0, rho], [rho, 1.0]])
    XY = _sample_normal(cov, n, seeded_rng(random_state, caller))
    return Task(f"normal-1x1-rho{rho:g}", XY[:, :1], XY[:, 1:], mi=-0.5 * np.log1p(-rho**2),
                params={"n": n, "rho": rho})


def multivariate_normal(n, dim_x, dim_y, *, correlation=0.5, interactions="dense",
                        n_interacting=2, random_state=0):
    """Jointly Gaussian ``X``, ``Y`` with unit variances.

    Parameters
    ----------
    n, dim_x, dim_y : int
    correlation : float, default=0.5
        ``"dense"``: every pair of distinct coordinates (within and across
        ``X`` and ``Y``) has this correlation, as in ``bmi``'s dense task.
        ``"sparse"``: only the pairs ``(X_i, Y_i)``, ``i < n_interacting``, do;
        all other correlations are 0.
    interactions : {"dense", "sparse"}, default="dense"
    n_interacting : int, default=2
        Interacting pairs of the sparse design.
    random_state : int or None, default=0

    Returns
    -------
    Task
        ``mi`` from :func:`gaussian_mi` (e.g. dense 5x5 at 0.5: 0.593 nats).
    """
    caller = "multivariate_normal"
    n = check_int(n, "n", caller, low=2)
    dim_x = check_int(dim_x, "dim_x", caller, low=1)
    dim_y = check_int(dim_y, "dim_y", caller, low=1)
    correlation = check_real(correlation, "correlation", caller, low=-1.0, high=1.0)
    interactions = check_option(interactions, "interactions", caller, ("dense", "sparse"))
    cov = np.eye(dim_x + dim_y)
    if interactions == "dense":
        cov[:] = correlation
        np.fill_diagonal(cov, 1.0)
    else:
        n_interacting = check_int(n_interacting, "n_interacting", caller, low=1,
                                  high=min(dim_x, dim_y))
        for i in range(n_interacting):
            cov[i, dim_x + i] = cov[dim_x + i, i] = correlation
    if np.linalg.eigvalsh(cov)[0] <= 0:
        raise InvalidParameterError(
            f"The 'correlation' parameter of {caller} gives a covariance that is not positive "
            f"definite for dim_x={dim_x}, dim_y={dim_y} ({interactions}); got "
            f"{correlation!r}. Dense interactions need correlation in "
            f"({-1 / (dim_x + dim_y - 1):.4f}, 1).")
    XY = _sample_normal(cov, n, seeded_rng(random_state, caller))
    return Task(f"normal-{interactions}-{dim_x}x{dim_y}", XY[:, :dim_x], XY[:, dim_x:],
                mi=gaussian_mi(cov, dim_x),
                params={"n": n, "dim_x": dim_x, "dim_y": dim_y, "correlation": correlation,
                        "interactions": interactions})


def _student_f(x):
    return gammaln(x / 2.0) - (x / 2.0) * digamma(x / 2.0)


def student_t_mi(dof, dim_x, dim_y):
    """``I(X; Y)`` in nats of a Student-t vector with identity dispersion.

    With identity dispersion the Gaussian part vanishes and what is left is
    ``f(nu) + f(nu + m + n) - f(nu + m) - f(nu + n)``,
    ``f(x) = log Gamma(x / 2) - (x / 2) psi(x / 2)`` (Czyz et al. 2023, app. D).
    """
    caller = "student_t_mi"
    dof = check_real(dof, "dof", caller, low=0.0, closed_low=False)
    m = check_int(dim_x, "dim_x", caller, low=1)
    k = check_int(dim_y, "dim_y", caller, low=1)
    return float(_student_f(dof) + _student_f(dof + m + k) - _student_f(dof + m)
                 - _student_f(dof + k))


def student_t(n, dim_x, dim_y, dof, *, random_state=0):
    """Multivariate Student-t ``(X, Y)`` with identity dispersion and ``dof`` degrees of freedom.

    ``X`` and ``Y`` are uncorrelated but dependent (they share the scale
    ``sqrt(dof / W)``, ``W ~ chi^2(dof)``), so linear/Gaussian estimators give
    about 0 here.

    Returns
    -------
    Task
        ``mi`` from :func:`student_t_mi` (e.g. 1x1, dof 1: 0.224 nats).
    """
    caller = "student_t"
    n = check_int(n, "n", caller, low=2)
    truth = student_t_mi(dof, dim_x, dim_y)
    rng = seeded_rng(random_state, caller)
    G = rng.standard_normal((n, dim_x + dim_y))
    W = rng.chisquare(dof, size=(n, 1))
    XY = G * np.sqrt(dof / W)
    return Task(f"student-{dim_x}x{dim_y}-dof{dof:g}", XY[:, :dim_x], XY[:, dim_x:], mi=truth,
                params={"n": n, "dim_x": dim_x, "dim_y": dim_y, "dof": dof})


def _spiral(A, speed=0.5):
    if A.shape[1] < 2:
        raise InvalidParameterError(
            "The spiral transform rotates the first two coordinates and needs at least 2 "
            f"features; got {A.shape[1]}. Use 'normal_cdf', 'half_cube' or 'asinh' for 1-D "
            "variables.")
    # The angle depends on the norm, which the rotation preserves: invertible.
    theta = speed * (A**2).sum(axis=1)
    c, s = np.cos(theta), np.sin(theta)
    out = A.copy()
    out[:, 0] = c * A[:, 0] - s * A[:, 1]
    out[:, 1] = s * A[:, 0] + c * A[:, 1]
    return out


def _normal_cdf(A):
    return ndtr(A)


TRANSFORMS = {
    "normal_cdf": _normal_cdf,
    "half_cube": lambda A: A * np.sqrt(np.abs(A)),
    "asinh": np.arcsinh,
    "spiral": _spiral,
}


def transform(task, kind, *, which="both"):
    """Apply an invertible map that leaves ``I(X; Y)`` unchanged.

    Parameters
    ----------
    task : Task
        An MI task.
    kind : {"normal_cdf", "half_cube", "asinh", "spiral"}
        Per-coordinate ``Phi(x)``, ``x sqrt|x|``, ``asinh x``, or a rotation of the
        first two coordinates by an angle proportional to ``|x|^2``.
    which : {"both", "x", "y"}, default="both"

    Returns
    -------
    Task
        Same ``mi``; ``name`` gains the transform.
    """
    caller = "transform"
    kind = check_option(kind, "kind", caller, tuple(TRANSFORMS))
    which = check_option(which, "which", caller, ("both", "x", "y"))
    if task.Y is None:
        raise InvalidParameterError(
            "transform needs an MI task (with Y); entropy changes under these maps.")
    f = TRANSFORMS[kind]
    X = f(task.X) if which in ("both", "x") else task.X
    Y = f(task.Y) if which in ("both", "y") else task.Y
    params = dict(task.params, transform=kind, transformed=which)
    return Task(f"{task.name}-{kind}", X, Y, mi=task.mi, params=params)


def uniform_box(n, lows, highs, *, random_state=0):
    """Uniform samples in the box ``prod_i [lows_i, highs_i]``.

    Returns
    -------
    Task
        ``entropy = sum_i log(highs_i - lows_i)`` nats; ``Y`` is None.
    """
    caller = "uniform_box"
    n = check_int(n, "n", caller, low=2)
    lows = np.atleast_1d(np.asarray(lows, dtype=np.float64))
    highs = np.atleast_1d(np.asarray(highs, dtype=np.float64))
    if lows.shape != highs.shape or lows.ndim != 1 or np.any(highs <= lows):
        raise InvalidParameterError(
            f"uniform_box needs 1-D 'lows' and 'highs' of the same length with highs > lows; "
            f"got lows={lows.tolist()} and highs={highs.tolist()}.")
    X = lows + (highs - lows) * seeded_rng(random_state, caller).random((n, lows.size))
    return Task(f"uniform-{lows.size}d", X, None, entropy=float(np.log(highs - lows).sum()),
                params={"n": n, "lows": lows.tolist(), "highs": highs.tolist()})
