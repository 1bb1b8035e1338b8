"""Trace estimation on planned operators: entropies by SLQ, with their standard errors.

Each runner builds the operator its :class:`~infolens.spectrum.planning.Plan`
chose (dense, dense float32, tiled or the sparse local kernel), runs
:func:`infolens.spectrum.slq.slq_entropy` and returns the entropy in nats, its
standard error in nats and the details (method, storage, Krylov sizes,
operator diagnostics).
"""

from __future__ import annotations

import time

import numpy as np

from infolens.core.progress import Progress
from infolens.kernels.operators import AdjacencyOperator, gaussian_operator
from infolens.kernels.sparse import sparse_operator
from infolens.spectrum.cache import SpectrumCache, content_key
from infolens.spectrum.fastop import symmetric_float32_operator
from infolens.spectrum.planning import stage_costs
from infolens.spectrum.slq import slq_entropy

__all__ = ["slq_diffusion_entropy", "slq_kernel_renyi"]

#: ``method_options`` that change an SLQ estimate (part of its cache key).
_SLQ_KEY_OPTIONS = ("n_probes", "n_steps", "max_batches", "n_neighbors", "bandwidth_neighbor",
                    "knn_backend")


def _kernel_operator(X, sigma, alpha, plan, precision, symmetric=False):
    """The Gaussian diffusion operator with the plan's storage (``symmetric``: dense float32
    stored as ``M`` itself, one GEMM per product)."""
    if symmetric and plan.storage == "dense32":
        return symmetric_float32_operator(X, sigma, alpha)
    dense = plan.storage in ("dense", "dense32")
    return gaussian_operator(X, sigma, alpha, storage="dense" if dense else "tiled",
                             precision="float32" if plan.storage == "dense32" else precision)


def _run(build, order, keep_trivial, options, seed, label, plan, X):
    """Build the operator and run SLQ under one progress bar (stages kernel, probes)."""
    n, d = X.shape
    costs = stage_costs(n, d, plan.method, plan.storage, options)
    with Progress(1, f"{label} n={n}", stages=costs) as bar:
        bar.stage("kernel")
        start = time.perf_counter()
        op = build()
        built = time.perf_counter()
        bar.stage("probes", total=options["n_steps"] or 12)
        est = slq_entropy(op, order, keep_trivial=keep_trivial, n_probes=options["n_probes"],
                          n_steps=options["n_steps"], seed=seed, label=label,
                          max_batches=int(options["max_batches"]), progress=bar)
    est.details["stage_seconds"] = {"kernel": built - start,
                                    "probes": time.perf_counter() - built}
    return op, est


def slq_diffusion_entropy(X, sigma, *, plan, t, alpha, keep_trivial, precision, options,
                          caller, seed=0):
    """DSE (nats) by SLQ on the planned diffusion operator (Gaussian or sparse).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    sigma : float
        Resolved bandwidth, units of ``X`` (unused by the sparse kernel).
    plan : Plan
    t : int
        Diffusion time.
    alpha : float
        Density-normalisation power.
    keep_trivial : bool
    precision : str
        Eigen-solver precision (selects float32 tiles where they are accurate).
    options : dict
        Checked ``method_options``.
    caller : str
    seed : int
        Probe seed.

    Returns
    -------
    nats : float
    standard_error : float
        In nats.
    details : dict
        ``method``, ``storage``, Krylov sizes, deflated count, operator
        diagnostics, ``stage_seconds`` (wall seconds of the kernel build and of the
        probes) and, with a cache, ``cache`` ("hit" or "miss").
    """
    cache = None
    if options.get("cache_dir") is not None:
        cache = SpectrumCache(options["cache_dir"])
        key = content_key(X, {
            "kind": "slq", "method": plan.method, "storage": plan.storage, "sigma": sigma,
            "alpha": alpha, "t": t,
            "keep_trivial": keep_trivial, "precision": precision, "seed": seed,
            **{k: options[k] for k in _SLQ_KEY_OPTIONS},
        })
        hit = cache.get(key)
        if hit is not None:
            return (float(hit["entropy"]), float(hit["standard_error"]),
                    {"method": plan.method, "storage": plan.storage, "cache": "hit"})
    def build():
        if plan.method == "sparse":
            return sparse_operator(X, alpha, n_neighbors=options["n_neighbors"],
                                   bandwidth_neighbor=options["bandwidth_neighbor"],
                                   knn_backend=options["knn_backend"], random_state=seed)
        return _kernel_operator(X, sigma, alpha, plan, precision, symmetric=True)

    op, est = _run(build, t, keep_trivial, options, seed, f"{caller} {plan.method}", plan, X)
    details = slq_details(est, plan, op)
    if cache is not None:
        cache.put(key, entropy=est.entropy, standard_error=est.standard_error)
        details["cache"] = "miss"
    return est.entropy, est.standard_error, details


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
        From :func:`infolens.spectrum.planning.plan_method` (its SLQ storage).
    precision, options, caller, seed
        As for :func:`slq_diffusion_entropy`.

    Returns
    -------
    nats, standard_error, details
        As for :func:`slq_diffusion_entropy` (no cache status).
    """
    op, est = _run(lambda: AdjacencyOperator(_kernel_operator(X, sigma, 0.0, plan, precision)),
                   order, False, options, seed, f"{caller} slq", plan, X)
    if order == 1.0:
        nats, se = est.entropy, est.standard_error
    else:
        log_sum = np.log(est.Z) + order * np.log(op.scale / X.shape[0])
        nats = float(log_sum / (1.0 - order))
        se = est.details["log_z_standard_error"] / abs(1.0 - order)
    return nats, float(se), slq_details(est, plan, op)


def slq_details(est, plan, op):
    """The ``details`` of an SLQ estimate: method, storage, Krylov sizes, diagnostics."""
    return {
        "method": plan.method,
        "storage": plan.storage,
        "n_probes": est.n_probes,
        "n_steps": est.n_steps,
        "krylov_dim": est.krylov_dim,
        "n_deflated": est.details["n_deflated"],
        "n_batches": est.details["n_batches"],
        "memory_estimate_bytes": plan.need_bytes,
        "operator": dict(op.details),
        "stage_seconds": dict(est.details["stage_seconds"]),
    }
