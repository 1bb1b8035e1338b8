"""One spectral engine behind ``method="auto" | "exact" | "slq" | "sparse"``.

``"exact"``
    Dense N x N diffusion matrix and all its eigenvalues (O(N^3) time,
    ``12 N^2`` bytes).  Torch inputs are solved on their own device with
    ``torch.linalg.eigvalsh`` (float64), falling back to ``"slq"`` when the
    solver fails or the device is out of memory.
``"slq"``
    The same Gaussian kernel, entropy by stochastic Lanczos quadrature
    (:mod:`infolens.spectrum.slq`); the operator is stored once in float32/float64
    when it fits in memory (``4 N^2`` bytes) and recomputed in row tiles
    otherwise (never N x N).  The value carries a standard error.
``"sparse"``
    A different, *local* kernel (self-tuning bandwidths, truncated on a kNN
    graph; :class:`infolens.kernels.operators.SparseKernelOperator`) with SLQ: for
    hundreds of thousands to millions of points.  Never chosen by ``"auto"``,
    since it changes the measure.
``"auto"``
    ``"exact"`` up to ``AUTO_EXACT_MAX_N`` points (and always under
    ``preset="dse-dsmi"``), ``"slq"`` above; if the chosen method does not fit
    in the available memory it switches to one that does and says so in one
    warning on the ``"infolens"`` logger.  An explicit method that cannot fit
    is refused with the memory it needs and the alternatives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from infolens.core.validation import InvalidParameterError
from infolens.kernels.operators import (
    dense_operator_bytes,
    gaussian_operator,
    sparse_operator,
    sparse_operator_bytes,
    tiled_operator_bytes,
)
from infolens.spectrum.slq import slq_entropy, slq_sizes

__all__ = [
    "AUTO_EXACT_MAX_N",
    "METHODS",
    "Plan",
    "check_method_options",
    "plan_method",
]

logger = logging.getLogger("infolens")

METHODS = ("auto", "exact", "slq", "sparse")

#: Largest ``n`` that ``method="auto"`` solves exactly under the default preset
#: (an exact solve at this size takes seconds on two cores; SLQ is faster above).
AUTO_EXACT_MAX_N = 4096

#: Share of the available memory a method may plan to use.
MEMORY_FRACTION = 0.8

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


def _available(options):
    if options.get("memory_limit") is not None:
        return int(options["memory_limit"])
    from infolens.spectrum.exact import available_memory_bytes

    have = available_memory_bytes()
    return None if have is None else int(MEMORY_FRACTION * have)


def exact_bytes(n):
    """Peak bytes of the dense exact path (float64 matrix plus a float32 copy)."""
    return 12 * n * n + 64 * n


def _slq_bytes(n, d, storage, options):
    b, m = slq_sizes(n, options.get("n_probes"), options.get("n_steps"))
    basis = 8 * n * b * (m + 2) + 8 * (m * b) ** 2 * 3
    if storage == "dense":
        return dense_operator_bytes(n, d, np.float64, b) + basis
    if storage == "dense32":
        return dense_operator_bytes(n, d, np.float32, b) + basis
    if storage == "tiled":
        return tiled_operator_bytes(n, d, np.float32, b) + basis
    return sparse_operator_bytes(n, d, options["n_neighbors"], b) + basis


def _gib(x):
    return f"{x / 2**30:.1f} GiB" if x >= 2**30 else f"{x / 2**20:.1f} MiB"


def plan_method(n, d, method, caller, *, parity=False, options=None, precision="auto"):
    """Choose the method and storage for ``n`` points of dimension ``d``.

    SLQ storage under ``"auto"``: the dense float64 operator if it fits, else
    dense float32 (half the memory; its rounding is reported in the standard
    error), else tiled recomputation.

    Raises
    ------
    InvalidParameterError
        When an explicitly requested method cannot fit in memory.
    """
    options = dict(METHOD_OPTIONS) if options is None else options
    have = _available(options)
    fits = lambda need: have is None or need <= have  # noqa: E731

    def slq_plan(reason):
        storage = options["storage"]
        if storage == "dense" and precision == "float32":
            storage = "dense32"
        if storage == "auto":
            order = ("dense32", "tiled") if precision == "float32" else \
                ("dense", "dense32", "tiled")
            storage = next((st for st in order if fits(_slq_bytes(n, d, st, options))),
                           "tiled")
        return Plan("slq", storage, _slq_bytes(n, d, storage, options), have, reason)

    if method == "exact":
        need = exact_bytes(n)
        if not fits(need):
            raise InvalidParameterError(
                f"{caller}: method='exact' for {n} points needs about {_gib(need)} (a dense "
                f"{n} x {n} matrix) but only {_gib(have)} is available. Use method='slq' "
                f"(same kernel, about {_gib(_slq_bytes(n, d, 'tiled', options))} with tiled "
                f"storage), method='sparse' (local kNN kernel), or max_n=<fewer points>."
            )
        return Plan("exact", None, need, have)
    if method == "slq":
        plan = slq_plan("requested")
        if not fits(plan.need_bytes):
            raise InvalidParameterError(
                f"{caller}: method='slq' for {n} points of dimension {d} needs about "
                f"{_gib(plan.need_bytes)} but only {_gib(have)} is available. Use "
                f"method='sparse' (local kNN kernel), or max_n=<fewer points>."
            )
        return plan
    if method == "sparse":
        need = _slq_bytes(n, d, "sparse", options)
        if not fits(need):
            raise InvalidParameterError(
                f"{caller}: method='sparse' for {n} points of dimension {d} needs about "
                f"{_gib(need)} but only {_gib(have)} is available. Lower "
                f"method_options['n_neighbors'] or pass max_n=<fewer points>."
            )
        return Plan("sparse", "sparse", need, have, "requested")
    # auto
    want_exact = parity or n <= AUTO_EXACT_MAX_N
    if want_exact:
        need = exact_bytes(n)
        if fits(need):
            return Plan("exact", None, need, have, "auto")
        plan = slq_plan("memory")
        logger.warning(
            "%s: exact method for %d points needs %s, %s available; switching to "
            "method='slq' (%s storage, %s)", caller, n, _gib(need), _gib(have),
            plan.storage, _gib(plan.need_bytes))
    else:
        plan = slq_plan("size")
        logger.info("%s: %d points > %d; using method='slq' (%s storage)", caller, n,
                    AUTO_EXACT_MAX_N, plan.storage)
    if not fits(plan.need_bytes):
        raise InvalidParameterError(
            f"{caller}: no method fits in memory for {n} points of dimension {d}: "
            f"method='slq' needs about {_gib(plan.need_bytes)}, {_gib(have)} is available. "
            f"Use method='sparse' (local kNN kernel) or max_n=<fewer points>."
        )
    return plan


def slq_dse(X, sigma, *, plan, t, alpha, keep_trivial, log_base, precision, options,
            caller, seed=0):
    """DSE (in the unit of ``log_base``) by SLQ on the planned operator.

    Returns
    -------
    value : float
    details : dict
        ``method``, ``storage``, ``standard_error`` (same unit), Krylov sizes,
        deflated count, and for the sparse kernel its diagnostics.
    """
    cache = None
    key = None
    if options.get("cache_dir") is not None:
        from infolens.spectrum.cache import SpectrumCache, content_key

        cache = SpectrumCache(options["cache_dir"])
        key = content_key(X, {
            "kind": "slq", "method": plan.method, "sigma": sigma, "alpha": alpha, "t": t,
            "keep_trivial": keep_trivial, "precision": precision, "seed": seed,
            **{k: options[k] for k in ("n_probes", "n_steps", "max_batches", "n_neighbors",
                                         "bandwidth_neighbor", "knn_backend")},
        })
        hit = cache.get(key)
        if hit is not None:
            H, se = float(hit["entropy"]), float(hit["standard_error"])
            return H / log_base, {"method": plan.method, "storage": plan.storage,
                                  "standard_error": se / log_base, "cache": "hit"}
    if plan.method == "sparse":
        op = sparse_operator(X, alpha, n_neighbors=options["n_neighbors"],
                             bandwidth_neighbor=options["bandwidth_neighbor"],
                             knn_backend=options["knn_backend"], random_state=seed)
    else:
        dense = plan.storage in ("dense", "dense32")
        op = gaussian_operator(X, sigma, alpha, storage="dense" if dense else "tiled",
                               precision="float32" if plan.storage == "dense32" else precision)
    est = slq_entropy(op, t, keep_trivial=keep_trivial, n_probes=options["n_probes"],
                      n_steps=options["n_steps"], seed=seed, label=f"{caller} {plan.method}",
                      max_batches=int(options["max_batches"]))
    details = _slq_details(est, plan, op, est.standard_error / log_base)
    if cache is not None:
        cache.put(key, entropy=est.entropy, standard_error=est.standard_error)
        details["cache"] = "miss"
    return est.entropy / log_base, details


# --------------------------------------------------------------------------- torch


def is_torch_tensor(Z):
    """True for a torch tensor (without importing torch when it is not loaded)."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(Z, torch.Tensor)


def torch_exact_spectrum(X, sigma, alpha, device):
    """All eigenvalues of the diffusion matrix computed with torch on ``device``.

    Mirrors :func:`infolens.kernels.gaussian.diffusion_operator` and the trivial-pair
    deflation of :func:`infolens.spectrum.exact.symmetric_eigenvalues` in float64.

    Returns
    -------
    Spectrum
    """
    import torch

    from infolens.spectrum.exact import Spectrum

    n = X.shape[0]
    if torch.device(device).type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        need = 3 * 8 * n * n  # matrix, distances, eigen-solver workspace (float64)
        if need > MEMORY_FRACTION * free:
            raise MemoryError(
                f"exact solve of {n} points needs about {_gib(need)} on {device}, "
                f"{_gib(free)} free")
    A = torch.as_tensor(np.asarray(X, dtype=np.float64), device=device)
    A = A - A.mean(dim=0)
    sq = (A * A).sum(dim=1)
    D2 = A @ A.T.contiguous()
    D2.mul_(-2.0).add_(sq[:, None]).add_(sq[None, :]).clamp_(min=0.0)
    D2.fill_diagonal_(0.0)
    K = torch.exp(D2.mul_(-0.5 / sigma**2))
    del D2
    if alpha > 0:
        q = K.sum(dim=1) ** -alpha
        K.mul_(q[:, None]).mul_(q[None, :])
    degree = K.sum(dim=1)
    s = degree.rsqrt()
    K.mul_(s[:, None]).mul_(s[None, :])
    v = degree.sqrt()
    v = v / torch.linalg.vector_norm(v)
    K.sub_(v[:, None] * v[None, :])
    values = torch.linalg.eigvalsh(K).cpu().numpy().astype(np.float64)
    k = int(np.argmin(np.abs(values)))
    values = np.sort(np.concatenate([np.delete(values, k), [1.0]]))
    trivial_index = int(np.searchsorted(values, 1.0, side="right") - 1)
    return Spectrum(values, trivial_index, "float64", None)


def torch_exact_spectrum_or_none(X, sigma, alpha, device, caller):
    """:func:`torch_exact_spectrum`, or None (with one warning) when it fails.

    Failures are out-of-memory errors of the device and solver errors
    (``torch.linalg.eigvalsh`` not converging); the caller then falls back to
    SLQ.
    """
    try:
        return torch_exact_spectrum(X, sigma, alpha, device)
    except (RuntimeError, MemoryError) as exc:  # torch OOM and LinAlgError are RuntimeErrors
        logger.warning("%s: exact torch solve on %s failed (%s); falling back to "
                       "method='slq'", caller, device, str(exc).splitlines()[0][:200])
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:  # pragma: no cover - best effort only
            pass
        return None


def cached_spectrum(X, sigma, alpha, precision, t, options, solve, keep_trivial=None):
    """``solve()`` (a Spectrum), read from or written to the on-disk cache if one is set."""
    from infolens.spectrum.exact import Spectrum

    if options.get("cache_dir") is None:
        return solve()
    from infolens.spectrum.cache import SpectrumCache, content_key

    cache = SpectrumCache(options["cache_dir"])
    # t and keep_trivial enter only through the checked-float32 error estimate
    checked = precision in ("auto", "mixed")
    key = content_key(X, {"kind": "exact", "sigma": sigma, "alpha": alpha,
                          "precision": precision, "t": t if checked else None,
                          "keep_trivial": keep_trivial if checked else None})
    hit = cache.get(key)
    if hit is not None:
        idx = int(hit["trivial_index"])
        est = float(hit["error_estimate_bits"])
        return Spectrum(hit["values"], None if idx < 0 else idx, str(hit["precision"]),
                        None if np.isnan(est) else est)
    spectrum = solve()
    cache.put(key, values=spectrum.values,
              trivial_index=-1 if spectrum.trivial_index is None else spectrum.trivial_index,
              precision=spectrum.precision,
              error_estimate_bits=np.nan if spectrum.error_estimate_bits is None
              else spectrum.error_estimate_bits)
    return spectrum


def slq_ase(X, sigma, *, plan, anisotropic, log_base, precision, options, caller, seed=0):
    """ASE of the Gaussian adjacency (in the unit of ``log_base``) by SLQ.

    ``anisotropic=True`` is the diffusion operator at ``t = 1`` with the
    trivial eigenvalue kept (:func:`slq_dse`); otherwise the affinity matrix
    itself, scaled into ``[0, 1]`` (:class:`infolens.kernels.operators.AdjacencyOperator`).
    Only the Gaussian adjacency has a matrix-free form here; the binarised kNN
    adjacency stays exact.

    Returns
    -------
    value : float
    details : dict
    """
    if anisotropic:
        return slq_dse(X, sigma, plan=plan, t=1, alpha=0.0, keep_trivial=True,
                       log_base=log_base, precision=precision, options=options,
                       caller=caller, seed=seed)
    nats, details = slq_kernel_renyi(X, sigma, 1.0, plan=plan, precision=precision,
                                     options=options, caller=caller, seed=seed)
    details["standard_error"] /= log_base
    return nats / log_base, details


def slq_kernel_renyi(X, sigma, order, *, plan, precision, options, caller, seed=0):
    """Renyi entropy (nats) of the trace-normalised Gaussian kernel matrix, by SLQ.

    The spectrum of ``A = K / tr K`` (``K`` the Gaussian affinity, unit
    diagonal, so ``tr K = n``) is reached through ``K / c``
    (:class:`infolens.kernels.operators.AdjacencyOperator`, ``c`` its largest row sum):
    ``sum_i lambda_i(A)^q = (c / n)^q tr (K / c)^q``.  Order 1 is the von
    Neumann entropy (and the ASE of the Gaussian adjacency).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    sigma : float
        Resolved bandwidth (units of ``X``).
    order : float
        Renyi order, positive and finite.
    plan : Plan
        From :func:`plan_method` (its SLQ storage).
    precision, options, caller, seed
        As for :func:`slq_dse`.

    Returns
    -------
    nats : float
    details : dict
        ``method``, ``storage``, ``standard_error`` (nats), Krylov sizes.
    """
    from infolens.kernels.operators import AdjacencyOperator

    dense = plan.storage in ("dense", "dense32")
    base = gaussian_operator(X, sigma, 0.0, storage="dense" if dense else "tiled",
                             precision="float32" if plan.storage == "dense32" else precision)
    op = AdjacencyOperator(base)
    est = slq_entropy(op, order, keep_trivial=False, n_probes=options["n_probes"],
                      n_steps=options["n_steps"], seed=seed, label=f"{caller} slq",
                      max_batches=int(options["max_batches"]))
    if order == 1.0:
        nats, se = est.entropy, est.standard_error
    else:
        log_sum = np.log(est.Z) + order * np.log(op.scale / X.shape[0])
        nats = float(log_sum / (1.0 - order))
        se = est.details["log_z_standard_error"] / abs(1.0 - order)
    return nats, _slq_details(est, plan, op, float(se))


def _slq_details(est, plan, op, standard_error):
    """The ``details`` of an SLQ result: method, storage, its standard error, Krylov sizes."""
    return {
        "method": plan.method,
        "storage": plan.storage,
        "standard_error": standard_error,
        "n_probes": est.n_probes,
        "n_steps": est.n_steps,
        "krylov_dim": est.krylov_dim,
        "n_deflated": est.details["n_deflated"],
        "n_batches": est.details["n_batches"],
        "memory_estimate_bytes": plan.need_bytes,
        "operator": dict(op.details),
    }
