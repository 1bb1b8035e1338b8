"""The one entry point of the spectral pipeline: :func:`solve`.

A measure describes what it needs in a :class:`SpectralRequest` (the points,
the resolved bandwidth, the operator, its parameters, the method, precision
and options) and gets back a :class:`SpectralAnswer`: either a
:class:`~infolens.spectrum.exact.Spectrum` (exact methods: numpy, or torch on
the tensor's device) or an entropy estimate with its standard error (SLQ, the
sparse kernel).  The method is planned here (:mod:`infolens.spectrum.planning`),
memory is checked once by that plan, and the cache is consulted when
``options["cache_dir"]`` is set.  Nothing here calls back into the measures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from infolens.core.memory import explain_memory_error
from infolens.core.progress import Progress
from infolens.core.threads import limit_threads
from infolens.core.validation import InvalidParameterError
from infolens.kernels.gaussian import affinity_matrix, diffusion_operator
from infolens.spectrum.cache import cached_spectrum
from infolens.spectrum.estimate import slq_diffusion_entropy, slq_kernel_renyi
from infolens.spectrum.exact import Spectrum, symmetric_eigenvalues
from infolens.spectrum.planning import (
    AUTO_EXACT_MAX_N,
    METHOD_OPTIONS,
    plan_method,
    stage_costs,
)
from infolens.spectrum.torch_exact import torch_exact_spectrum_or_none

__all__ = ["OPERATORS", "SpectralAnswer", "SpectralRequest", "solve"]

#: ``"diffusion"``: the symmetric diffusion matrix (DSE, ASE with ``anisotropic``);
#: ``"affinity"``: the Gaussian affinity itself (ASE, the kernel-matrix entropies).
OPERATORS = ("diffusion", "affinity")


@dataclass(frozen=True)
class SpectralRequest:
    """What one spectral computation needs.

    Attributes
    ----------
    points : ndarray of shape (n, d)
        The points, float64 (units of ``sigma``).
    sigma : float
        Resolved Gaussian bandwidth.
    operator : {"diffusion", "affinity"}
    alpha : float
        Density-normalisation power (diffusion operator).
    t : int
        Diffusion time (the float32 error model and SLQ's ``|lambda|^t``).
    keep_trivial : bool or None
        Whether the entropy keeps the trivial eigenvalue (None: unknown, the
        float32 error model then takes the larger estimate).
    order : float
        Renyi order of an estimated affinity entropy (1: von Neumann).
    precision : {"auto", "float64", "float32", "mixed"}
    method : {"auto", "exact", "slq", "sparse"}
    options : dict or None
        Checked ``method_options`` (None: the defaults).
    parity : bool
        ``preset="dse-dsmi"`` (``"auto"`` then stays exact).
    reference_float32 : bool
        Evaluate the kernel in float32 as ``dse-dsmi`` does for float32 embeddings.
    torch_device : torch.device or None
        Solve exactly on this device with torch (falls back to SLQ).
    caller : str
        Public function name, for messages.
    seed : int
        Seed of the SLQ probes.
    exact_max_n : int
        Largest ``n`` that ``method="auto"`` solves exactly.
    """

    points: np.ndarray
    sigma: float
    operator: str = "diffusion"
    alpha: float = 0.0
    t: int = 1
    keep_trivial: bool | None = True
    order: float = 1.0
    precision: str = "float64"
    method: str = "auto"
    options: dict | None = None
    parity: bool = False
    reference_float32: bool = False
    torch_device: object = None
    caller: str = "dse"
    seed: int = 0
    exact_max_n: int = AUTO_EXACT_MAX_N


@dataclass
class SpectralAnswer:
    """The result of :func:`solve`.

    Attributes
    ----------
    method : str
        The method used (``"exact"``, ``"slq"`` or ``"sparse"``).
    spectrum : Spectrum or None
        All eigenvalues (exact methods).
    entropy : float or None
        The estimated entropy in nats (estimates): DSE at ``t`` for the
        diffusion operator, the order-``order`` Renyi entropy of the
        trace-normalised affinity otherwise.
    standard_error : float or None
        Standard error of ``entropy`` in nats.
    details : dict
        Method, storage, Krylov sizes, operator diagnostics, cache status.
    """

    method: str
    spectrum: Spectrum | None = None
    entropy: float | None = None
    standard_error: float | None = None
    details: dict = field(default_factory=dict)


@limit_threads(lambda request: len(request.points))
@explain_memory_error(lambda r: (
    f"{r.caller} on {len(r.points)} points ({r.method})", None,
    "Pass method='slq' (or 'sparse'), a smaller method_options['memory_limit'] so the plan "
    "fits, or fewer points."))
def solve(request):
    """Plan and run one spectral computation.

    Parameters
    ----------
    request : SpectralRequest

    Returns
    -------
    SpectralAnswer

    Raises
    ------
    InvalidParameterError
        When the requested method cannot fit in memory (with alternatives).
    """
    r = request
    options = dict(METHOD_OPTIONS) if r.options is None else r.options
    n, d = r.points.shape
    plan = plan_method(n, d, r.method, r.caller, parity=r.parity, options=options,
                       precision=r.precision, exact_max_n=r.exact_max_n)
    if (plan.method == "exact" and r.torch_device is not None and r.operator == "diffusion"
            and not r.reference_float32):
        spectrum = torch_exact_spectrum_or_none(r.points, r.sigma, r.alpha, r.torch_device,
                                                r.caller)
        if spectrum is not None:
            return SpectralAnswer("exact", spectrum)
        plan = plan_method(n, d, "slq", r.caller, options=options)
    if plan.method == "exact":
        spectrum = cached_spectrum(options.get("cache_dir"), r.points, _cache_params(r),
                                   lambda: _exact_spectrum(r))
        return SpectralAnswer("exact", spectrum)
    if r.operator == "diffusion":
        nats, se, details = slq_diffusion_entropy(
            r.points, r.sigma, plan=plan, t=r.t, alpha=r.alpha,
            keep_trivial=True if r.keep_trivial is None else r.keep_trivial,
            precision=r.precision, options=options, caller=r.caller, seed=r.seed)
    else:
        if r.order == 0.0 or np.isinf(r.order):
            raise InvalidParameterError(
                f"{r.caller}: order {r.order} needs every eigenvalue (q = 0 counts the non-zero "
                f"ones, inf takes the largest exactly); the stochastic estimate ({n} points "
                f"take method='{plan.method}') covers finite positive orders. Use an order in "
                f"(0, inf), or method='exact' if an {n} x {n} matrix fits in memory.")
        nats, se, details = slq_kernel_renyi(r.points, r.sigma, r.order, plan=plan,
                                             precision=r.precision, options=options,
                                             caller=r.caller, seed=r.seed)
    return SpectralAnswer(plan.method, None, nats, se, details)


def _exact_spectrum(r):
    """All eigenvalues of the requested dense operator (numpy), under one progress bar
    (stages kernel, solve)."""
    n, d = r.points.shape
    with Progress(1, f"{r.caller} exact n={n}", stages=stage_costs(n, d, "exact")) as bar:
        bar.stage("kernel")
        if r.operator == "affinity":
            A = affinity_matrix(r.points, r.sigma, reference_float32=r.reference_float32)
            bar.stage("solve")
            return symmetric_eigenvalues(A, None, r.precision, overwrite=True)
        op = diffusion_operator(r.points, r.sigma, r.alpha,
                                reference_float32=r.reference_float32)
        bar.stage("solve")
        return symmetric_eigenvalues(op.matrix, op.trivial_vector, r.precision, t=r.t,
                                     overwrite=True, keep_trivial=r.keep_trivial)


def _cache_params(r):
    """Every parameter that changes an exact spectrum (the cache key besides the points)."""
    # t and keep_trivial enter only through the checked-float32 error estimate
    checked = r.precision in ("auto", "mixed")
    params = {"kind": "exact", "sigma": r.sigma, "alpha": r.alpha, "precision": r.precision,
              "t": r.t if checked else None,
              "keep_trivial": r.keep_trivial if checked else None}
    if r.operator != "diffusion":
        params["operator"] = r.operator
    if r.reference_float32:
        params["reference_float32"] = True
    return params
