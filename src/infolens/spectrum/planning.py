"""Planning: which spectral method and storage one computation uses, and its memory.

``"exact"``
    Dense N x N diffusion matrix and all its eigenvalues (O(N^3) time,
    ``12 N^2`` bytes: :func:`exact_bytes`, the one memory model of every
    dense path).  Torch inputs are solved on their own device
    (:mod:`infolens.spectrum.torch_exact`), falling back to ``"slq"``.
``"slq"``
    The same Gaussian kernel, entropy by stochastic Lanczos quadrature
    (:mod:`infolens.spectrum.slq`); the operator is stored once in float32/float64
    when it fits in memory (``4 N^2`` bytes) and recomputed in row tiles
    otherwise (never N x N).  The value carries a standard error.
``"sparse"``
    A different, *local* kernel (:mod:`infolens.kernels.sparse`) with SLQ: for
    hundreds of thousands to millions of points.  Never chosen by ``"auto"``,
    since it changes the measure.
``"auto"``
    ``"exact"`` up to ``AUTO_EXACT_MAX_N`` points (and always under
    ``preset="dse-dsmi"``), ``"slq"`` above;  ``"slq"`` itself computes exactly
    below ``SLQ_EXACT_BELOW`` points; if the chosen method does not fit
    in the available memory it switches to one that does and says so in one
    warning on the ``"infolens"`` logger.  An explicit method that cannot fit
    is refused with the memory it needs and the alternatives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from infolens.core.memory import format_bytes, memory_budget
from infolens.core.validation import InvalidParameterError
from infolens.kernels.operators import dense_operator_bytes, tiled_operator_bytes
from infolens.kernels.sparse import sparse_operator_bytes
from infolens.spectrum.slq import slq_sizes

__all__ = [
    "AUTO_EXACT_MAX_N",
    "SUBSET_EXACT_MAX_N",
    "SUBSET_SLQ_OPTIONS",
    "DENSE32_MIN_N",
    "METHODS",
    "METHOD_OPTIONS",
    "Plan",
    "SLQ_EXACT_BELOW",
    "UNCHECKED_BYTES",
    "check_exact_memory",
    "check_method_options",
    "exact_bytes",
    "plan_method",
    "slq_bytes",
    "stage_costs",
]

logger = logging.getLogger("infolens")

METHODS = ("auto", "exact", "slq", "sparse")

#: Largest ``n`` that ``method="auto"`` solves exactly under the default preset
#: (an exact solve at this size takes seconds on two cores; SLQ is faster above).
AUTO_EXACT_MAX_N = 4096

#: Largest class-sized subset that DSMI's ``method="auto"`` solves exactly.  A
#: DSMI makes ``(n_repeats + 1)`` entropies per class; above this size one batch of
#: ``SUBSET_SLQ_OPTIONS`` with control variates costs less than an exact solve
#: (the crossover is measured by ``benchmarks/bench_scale.py subsets``) and errs by
#: about 0.001 nats per entropy, which the DSMI's standard error reports.
SUBSET_EXACT_MAX_N = 600

#: The SLQ budget of one DSMI subset entropy under ``method="auto"`` (options a
#: user sets in ``method_options`` take precedence).
SUBSET_SLQ_OPTIONS = {"n_probes": 8, "n_steps": 12, "max_batches": 1, "storage": "dense32"}

#: Below this many points ``method="slq"`` computes exactly: an exact solve takes
#: milliseconds there, and a Krylov space of at most ``n / 2`` dimensions with a
#: handful of probes gives a standard error that means little (N = 4: the 95 %
#: interval covered the exact value in 18 of 40 cases).
SLQ_EXACT_BELOW = 200

#: From this many points, SLQ under ``storage="auto"`` stores the operator as
#: ``M`` in float32 (:mod:`infolens.spectrum.fastop`) even when float64 fits:
#: each pass over it costs half the memory traffic and runs at the float32 GEMM
#: rate (profile in ``benchmarks/RESULTS.md``, issue 16); its rounding is in the
#: standard error.  Below, a float64 pass is cheap and kept.
DENSE32_MIN_N = 8192

#: A dense exact solve needing at most this many bytes is planned without reading the
#: memory limits (``/proc/meminfo``, the cgroup files): those reads cost more than the
#: solve itself for the many small spectra of DSMI and the monitor, and a process that
#: cannot find 16 MiB is failing anyway.
UNCHECKED_BYTES = 16 * 2**20

#: Options accepted in ``method_options`` and their defaults.
METHOD_OPTIONS = {
    "n_probes": None,        # SLQ block size (probes); default from slq_sizes
    "n_steps": None,         # SLQ block Lanczos steps
    "max_batches": 4,        # SLQ: at most this many probe batches (more while SE is large)
    "storage": "auto",       # SLQ Gaussian operator: "auto", "dense", "dense32", "tiled"
    "n_neighbors": 30,       # sparse: kNN graph degree
    "bandwidth_neighbor": 7,  # sparse: sigma_i = distance to this neighbour
    "knn_backend": "auto",   # sparse: "auto", "faiss", "sklearn"
    "cache_dir": None,       # directory of the on-disk cache (None: no cache)
    "memory_limit": None,    # bytes the engine may plan to use (None: measured)
}


#: The cost model of :func:`stage_costs` (2 cores, measured for issue 16):
#: float64 / float32 GEMM rates (flop/s), Gaussian entries per second (exp and
#: scaling) and the dense symmetric eigenvalue solve's seconds per ``n^3``.
GEMM64_RATE = 3.7e10
GEMM32_RATE = 7.0e10
ENTRY_RATE = 1.3e8
SOLVE_SECONDS_PER_N3 = 2.0e-10


def stage_costs(n, d, method, storage=None, options=None):
    """Predicted seconds of each stage of one spectral computation (the progress bar's ETA).

    Parameters
    ----------
    n, d : int
        Points and dimension.
    method : {"exact", "slq", "sparse"}
    storage : str, optional
        SLQ storage (``"dense32"`` products run at the float32 rate; ``"tiled"``
        recomputes the kernel at every product).
    options : dict, optional
        ``method_options`` (probe block and steps).

    Returns
    -------
    dict
        ``{"kernel": s, "solve": s}`` (exact) or ``{"kernel": s, "probes": s}``.
    """
    kernel = n * n * (2.0 * d / GEMM64_RATE + 1.0 / ENTRY_RATE)
    if method == "exact":
        return {"kernel": kernel, "solve": SOLVE_SECONDS_PER_N3 * float(n) ** 3}
    options = METHOD_OPTIONS if options is None else options
    b, m = slq_sizes(n, options.get("n_probes"), options.get("n_steps"))
    steps = m if options.get("n_steps") is not None else min(m, 16)
    rate = GEMM32_RATE if storage == "dense32" else GEMM64_RATE
    per_step = 2.0 * n * n * b / rate + 4.0 * n * b * b * steps / GEMM64_RATE
    if storage == "tiled":
        per_step += kernel
    return {"kernel": kernel, "probes": steps * per_step}


def check_method_options(options, caller):
    """Validate ``method_options`` and fill in the defaults."""
    if options is None:
        return dict(METHOD_OPTIONS)
    if not isinstance(options, dict):
        raise InvalidParameterError(
            f"The 'method_options' parameter of {caller} must be a dict or None; got "
            f"{options!r} ({type(options).__name__}). Pass e.g. "
            f"method_options={{'n_probes': 64}}."
        )
    unknown = sorted(set(options) - set(METHOD_OPTIONS))
    if unknown:
        raise InvalidParameterError(
            f"Unknown key(s) {', '.join(map(repr, unknown))} in method_options of {caller}; "
            f"valid keys are {', '.join(map(repr, METHOD_OPTIONS))}."
        )
    out = dict(METHOD_OPTIONS)
    out.update(options)
    if not isinstance(out["max_batches"], (int, np.integer)) or out["max_batches"] < 1:
        raise InvalidParameterError(
            f"method_options['max_batches'] of {caller} must be an int >= 1; got "
            f"{out['max_batches']!r}."
        )
    for key in ("n_probes", "n_steps"):
        if out[key] is not None and (not isinstance(out[key], (int, np.integer))
                                     or isinstance(out[key], bool) or out[key] < 2):
            raise InvalidParameterError(
                f"method_options[{key!r}] of {caller} must be an int >= 2 or None; got "
                f"{out[key]!r}."
            )
    for key, low in (("n_neighbors", 2), ("bandwidth_neighbor", 1)):
        if not isinstance(out[key], (int, np.integer)) or isinstance(out[key], bool) \
                or out[key] < low:
            raise InvalidParameterError(
                f"method_options[{key!r}] of {caller} must be an int >= {low}; got "
                f"{out[key]!r}."
            )
    if out["storage"] not in ("auto", "dense", "dense32", "tiled"):
        raise InvalidParameterError(
            f"method_options['storage'] of {caller} must be 'auto', 'dense', 'dense32' or "
            f"'tiled'; got {out['storage']!r}."
        )
    if out["knn_backend"] not in ("auto", "faiss", "sklearn"):
        raise InvalidParameterError(
            f"method_options['knn_backend'] of {caller} must be 'auto', 'faiss' or "
            f"'sklearn'; got {out['knn_backend']!r}."
        )
    return out


@dataclass
class Plan:
    """The method and storage chosen for one computation, with its memory estimate."""

    method: str
    storage: str | None
    need_bytes: int
    available_bytes: int | None
    reason: str = ""
    extra: dict = field(default_factory=dict)


def exact_bytes(n):
    """Peak bytes of the dense exact path for ``n`` points (float64 matrix plus a float32
    copy): the one memory model of every dense N x N computation."""
    return 12 * n * n + 64 * n


def check_exact_memory(n, caller, *, memory_limit=None, advice=None):
    """Refuse, with the alternatives, a dense N x N computation that would not fit.

    Parameters
    ----------
    n : int
        Number of points.
    caller : str
    memory_limit : int, optional
        Bytes that may be used (default: :func:`infolens.core.memory.memory_budget`).
    advice : str, optional
        What to do instead (default: subsample with ``max_n`` or split the data).

    Returns
    -------
    int
        The bytes needed (:func:`exact_bytes`).
    """
    need = exact_bytes(n)
    have = memory_budget(memory_limit)
    if have is not None and need > have:
        raise InvalidParameterError(
            f"{caller}: the exact method for {n} points needs about {format_bytes(need)} (a "
            f"dense {n} x {n} matrix) but only {format_bytes(have)} is available. "
            + (advice or "Pass max_n=<smaller n> to subsample, or split the data.")
        )
    return need


def slq_bytes(n, d, storage, options):
    """Peak bytes of SLQ with ``storage`` ("dense", "dense32", "tiled" or "sparse")."""
    b, m = slq_sizes(n, options.get("n_probes"), options.get("n_steps"))
    basis = 8 * n * b * (m + 2) + 8 * (m * b) ** 2 * 3
    if storage == "dense":
        return dense_operator_bytes(n, d, np.float64, b) + basis
    if storage == "dense32":
        return dense_operator_bytes(n, d, np.float32, b) + basis
    if storage == "tiled":
        return tiled_operator_bytes(n, d, np.float32, b) + basis
    return sparse_operator_bytes(n, d, options["n_neighbors"], b) + basis


def plan_method(n, d, method, caller, *, parity=False, options=None, precision="auto",
                exact_max_n=AUTO_EXACT_MAX_N):
    """Choose the method and storage for ``n`` points of dimension ``d``.

    ``method="auto"`` solves exactly up to ``exact_max_n`` points (always under
    ``parity``) and by SLQ above.

    SLQ storage under ``"auto"``: below ``DENSE32_MIN_N`` points the dense
    float64 operator if it fits, else dense float32 (half the memory; its
    rounding is reported in the standard error), else tiled recomputation;
    from ``DENSE32_MIN_N`` points dense float32 first.

    Raises
    ------
    InvalidParameterError
        When an explicitly requested method cannot fit in memory.
    """
    options = dict(METHOD_OPTIONS) if options is None else options
    small_exact = exact_bytes(n) <= UNCHECKED_BYTES and options.get("memory_limit") is None
    if small_exact and (method == "exact" or (method == "slq" and n < SLQ_EXACT_BELOW)
                        or (method == "auto" and (parity or n <= exact_max_n))):
        return Plan("exact", None, exact_bytes(n), None,
                    "tiny" if method == "slq" else "auto" if method == "auto" else "")
    have = memory_budget(options.get("memory_limit"))
    fits = lambda need: have is None or need <= have  # noqa: E731

    def slq_plan(reason):
        storage = options["storage"]
        if storage == "dense" and precision == "float32":
            storage = "dense32"
        if storage == "auto":
            order = ("dense32", "tiled") if precision == "float32" or n >= DENSE32_MIN_N \
                else ("dense", "dense32", "tiled")
            storage = next((st for st in order if fits(slq_bytes(n, d, st, options))),
                           "tiled")
        return Plan("slq", storage, slq_bytes(n, d, storage, options), have, reason)

    if method == "exact":
        need = check_exact_memory(n, caller, memory_limit=have, advice=(
            f"Use method='slq' (same kernel, about "
            f"{format_bytes(slq_bytes(n, d, 'tiled', options))} with tiled storage), "
            f"method='sparse' (local kNN kernel), or max_n=<fewer points>."))
        return Plan("exact", None, need, have)
    if method == "slq" and n < SLQ_EXACT_BELOW:
        return Plan("exact", None, exact_bytes(n), have, "tiny")
    if method == "slq":
        plan = slq_plan("requested")
        if not fits(plan.need_bytes):
            raise InvalidParameterError(
                f"{caller}: method='slq' for {n} points of dimension {d} needs about "
                f"{format_bytes(plan.need_bytes)} but only {format_bytes(have)} is available. "
                f"Use method='sparse' (local kNN kernel), or max_n=<fewer points>."
            )
        return plan
    if method == "sparse":
        need = slq_bytes(n, d, "sparse", options)
        if not fits(need):
            raise InvalidParameterError(
                f"{caller}: method='sparse' for {n} points of dimension {d} needs about "
                f"{format_bytes(need)} but only {format_bytes(have)} is available. Lower "
                f"method_options['n_neighbors'] or pass max_n=<fewer points>."
            )
        return Plan("sparse", "sparse", need, have, "requested")
    # auto
    want_exact = parity or n <= exact_max_n
    if want_exact:
        need = exact_bytes(n)
        if fits(need):
            return Plan("exact", None, need, have, "auto")
        plan = slq_plan("memory")
        logger.warning(
            "%s: exact method for %d points needs %s, %s available; switching to "
            "method='slq' (%s storage, %s)", caller, n, format_bytes(need), format_bytes(have),
            plan.storage, format_bytes(plan.need_bytes))
    else:
        plan = slq_plan("size")
        logger.info("%s: %d points > %d; using method='slq' (%s storage)", caller, n,
                    exact_max_n, plan.storage)
    if not fits(plan.need_bytes):
        raise InvalidParameterError(
            f"{caller}: no method fits in memory for {n} points of dimension {d}: "
            f"method='slq' needs about {format_bytes(plan.need_bytes)}, {format_bytes(have)} is "
            f"available. Use method='sparse' (local kNN kernel) or max_n=<fewer points>."
        )
    return plan
