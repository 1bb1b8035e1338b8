"""Parameters shared by the spectral measures (DSE, DSMI, ASE, ASMI), validated once.

The presets, the bandwidth resolved in unit-scaled coordinates, the
subsampling cap and the resolved-parameter record of a :class:`Result` live
here; :mod:`infolens.measures.diffusion` and :mod:`infolens.measures.adjacency`
build one :class:`SpectralSettings` per call and hand its fields to
:func:`infolens.spectrum.solve.solve`.
"""

from __future__ import annotations

import contextlib

import numpy as np

from infolens.core import optional
from infolens.core.result import build_result, stopwatch
from infolens.core.threads import choose_threads, thread_limit, use_threads
from infolens.core.validation import (
    check_bool,
    check_embeddings,
    check_int,
    check_option,
    check_real,
    check_reference,
    resolve_base,
)
from infolens.kernels.bandwidth import (BANDWIDTH_RULES, DEFAULT_RULE, check_sigma,
                                        unit_scaled_bandwidth)
from infolens.measures.conditioning import (
    REFERENCE_KINDS,
    bin_details,
    cap_rows,
    partition_reference,
    scalar_bins,
)
from infolens.measures.partition_mi import partition_mi
from infolens.spectrum.planning import (
    METHODS,
    SUBSET_EXACT_MAX_N,
    SUBSET_SLQ_OPTIONS,
    check_method_options,
)
from infolens.spectrum.precision import PRECISIONS
from infolens.spectrum.solve import SpectralRequest

__all__ = ["PRESETS", "REFERENCE_MAX_N", "REFERENCE_SIGMA", "SpectralSettings",
           "partition_measure"]

#: ``"infolens"``: scale-aware bandwidth, no cap on the number of points.
#: ``"dse-dsmi"``: reproduce the reference package ``dse-dsmi`` 1.1 (sigma = 10,
#: at most 10,000 points drawn with Python's ``random``, its epsilon offset).
PRESETS = ("infolens", "dse-dsmi")
REFERENCE_MAX_N = 10000
REFERENCE_SIGMA = 10.0


class SpectralSettings:
    """Validated parameters of one call of a spectral measure.

    Parameters
    ----------
    caller : str
        Public function name.
    Z : object
        The embeddings as passed (only to find a torch tensor's device).
    preset, sigma, t, alpha, base, keep_trivial, max_n, method, precision,
    random_state, method_options
        As documented on :func:`infolens.dse`.

    Attributes
    ----------
    parity : bool
        ``preset == "dse-dsmi"``.
    sigma : float or str
        The checked bandwidth (``"auto"`` resolved for the preset).
    options : dict
        Checked ``method_options``.
    torch_device : torch.device or None
        The device of a torch tensor ``Z``.
    sigma_value : float or None
        The bandwidth in the units of the data, once :meth:`bandwidth` ran.
    reference_float32 : bool
        Under the parity preset with float32 embeddings, the kernel is evaluated
        in float32 as ``dse-dsmi`` does (set by :meth:`bandwidth`).
    """

    def __init__(self, caller, Z=None, *, preset, sigma, t, alpha, base, keep_trivial, max_n,
                 method, precision, random_state, method_options=None):
        self.caller = caller
        self.preset = check_option(preset, "preset", caller, PRESETS)
        self.parity = self.preset == "dse-dsmi"
        if isinstance(sigma, str) and sigma == "auto":
            sigma = REFERENCE_SIGMA if self.parity else DEFAULT_RULE
        else:
            sigma = check_sigma(sigma, caller, rules=("auto",) + BANDWIDTH_RULES)
        self.sigma = sigma
        self.t = check_int(t, "t", caller, low=1)
        self.alpha = check_real(alpha, "alpha", caller, low=0.0, high=1.0)
        self.log_base, self.unit = resolve_base(base, caller)
        self.base = base
        self.keep_trivial = check_bool(keep_trivial, "keep_trivial", caller)
        if isinstance(max_n, str) and max_n == "auto":
            max_n = REFERENCE_MAX_N if self.parity else None
        self.max_n = check_int(max_n, "max_n", caller, low=2, allow_none=True,
                               also=("auto",))
        self.method = check_option(method, "method", caller, METHODS)
        precision = check_option(precision, "precision", caller, PRECISIONS)
        if precision == "auto":
            # The default preset promises invariance under Z -> cZ + b to 1e-9 relative,
            # which a single-precision solve (error up to 1e-6 bits) cannot keep.
            precision = "mixed" if self.parity else "float64"
        self.precision = precision
        self.random_state = check_int(random_state, "random_state", caller, low=0,
                                      allow_none=True)
        self.options = check_method_options(method_options, caller)
        self.options_given = frozenset(method_options or ())
        self.torch_device = Z.device if optional.is_torch_tensor(Z) else None
        self.sigma_value = None
        self.reference_float32 = False

    def bandwidth(self, X):
        """Rescale ``X`` to unit size and resolve the bandwidth in those units.

        See :func:`infolens.kernels.bandwidth.unit_scaled_bandwidth`; sets
        :attr:`sigma_value` and :attr:`reference_float32`.

        Returns
        -------
        X_unit : ndarray, the rescaled rows
        sigma_unit : float, the bandwidth in the units of ``X_unit``
        """
        # dse-dsmi evaluates the kernel of float32 embeddings in float32.
        self.reference_float32 = self.parity and X.dtype == np.float32
        X_unit, sigma_unit, self.sigma_value = unit_scaled_bandwidth(X, self.sigma, self.caller)
        return X_unit, sigma_unit

    def cap(self, Z):
        """Subsample ``Z`` to ``max_n`` rows (reference draws under the parity preset)."""
        return cap_rows(Z, self.max_n, random_state=self.random_state, parity=self.parity)

    def request(self, X, sigma, **fields):
        """The :class:`SpectralRequest` of rows ``X`` at bandwidth ``sigma`` (unit scale)."""
        base = dict(points=X, sigma=sigma, alpha=self.alpha, t=self.t,
                    keep_trivial=self.keep_trivial, precision=self.precision,
                    method=self.method, options=self.options, parity=self.parity,
                    reference_float32=self.reference_float32,
                    torch_device=self.torch_device, caller=self.caller,
                    seed=self.random_state or 0)
        base.update(fields)
        return SpectralRequest(**base)

    def subset_request(self, X, sigma):
        """:meth:`request` for one of DSMI's class-sized subsets: under ``method="auto"``
        solved exactly up to ``SUBSET_EXACT_MAX_N`` points and above by one small SLQ
        batch (``SUBSET_SLQ_OPTIONS``, where ``method_options`` leave them unset)."""
        options = dict(self.options)
        options.update({k: v for k, v in SUBSET_SLQ_OPTIONS.items()
                        if k not in self.options_given})
        return self.request(X, sigma, exact_max_n=SUBSET_EXACT_MAX_N, options=options)

    def params(self, method="exact", **extra):
        """The resolved parameters of a :class:`Result` (``method``: the one used)."""
        out = {
            "preset": self.preset,
            "sigma": self.sigma_value,
            "sigma_rule": self.sigma if isinstance(self.sigma, str) else None,
            "t": self.t,
            "alpha": self.alpha,
            "base": self.base,
            "keep_trivial": self.keep_trivial,
            "max_n": self.max_n,
            "method": method,
            "precision": self.precision,
            "random_state": self.random_state,
        }
        out.update(extra)
        if extra.get("adjacency") == "knn":   # an unweighted kNN graph: no bandwidth used
            out["sigma"] = out["sigma_rule"] = None
        return out


#: Smallest class-sized subset whose entropies DSMI evaluates in several threads: below,
#: Python's own overhead (which holds the interpreter lock) is most of each entropy.
PARALLEL_MIN_N = 300

#: Most threads evaluating subset entropies at once, and the memory their operators may
#: take together (each holds one dense N x N matrix).
MAX_WORKERS = 8
WORKERS_BYTES = 2**30


def subset_workers(s, largest, n_entropies):
    """Threads for DSMI's ``n_entropies`` subset entropies of at most ``largest`` points.

    One unless the draws are infolens's own (not the parity preset's, which
    depend on the order), the solves run on the CPU, the subsets are large
    enough (``PARALLEL_MIN_N``) and idle cores exist (the thread policy of
    :mod:`infolens.core.threads`); then one per idle core, each with one BLAS
    thread, within ``MAX_WORKERS`` and ``WORKERS_BYTES``.  On 2 cores, 60
    entropies of 1000 points took 1.27 s instead of 2.35 s.
    """
    if s.parity or s.torch_device is not None or largest < PARALLEL_MIN_N or n_entropies < 2:
        return 1
    by_memory = WORKERS_BYTES // max(8 * largest * largest, 1)
    return int(max(1, min(choose_threads(largest), MAX_WORKERS, by_memory, n_entropies)))


def partition_measure(s, Z, Y, *, y_kind, n_clusters, n_repeats, return_result, entropy_for,
                      parallel=False, entropy_many_for=None, **extra_params):
    """Shared body of DSMI and ASMI: validate, partition ``Y``, resolve one bandwidth on
    all of ``Z`` and compute the size-matched partition MI.

    Parameters
    ----------
    s : SpectralSettings
    Z, Y : array-like
        As passed to the measure.
    y_kind, n_clusters, n_repeats, return_result
        As documented on :func:`infolens.dsmi`.
    entropy_for : callable
        ``entropy_for(sigma)`` returns a function of a subset of rows giving
        ``(value, standard_error or None, method used)``.
    parallel : bool
        The entropies may be evaluated by several threads at once
        (:func:`subset_workers` decides how many).
    entropy_many_for : callable, optional
        ``entropy_many_for(sigma)`` returns the ``entropy_many`` of
        :func:`~infolens.measures.partition_mi.partition_mi`: exact entropies of
        the subsets it can take at once (the result's method is that of the
        others, or "exact" when it took them all).
    **extra_params
        Recorded in the result's ``params``.

    Returns
    -------
    float or Result
    """
    caller = s.caller
    return_result = check_bool(return_result, "return_result", caller)
    X = check_embeddings(Z, caller=caller)
    Yv = check_reference(Y, X.shape[0], caller=caller)
    y_kind = check_option(y_kind, "y_kind", caller, REFERENCE_KINDS)
    n_clusters = check_int(n_clusters, "n_clusters", caller, low=2)
    n_repeats = check_int(n_repeats, "n_repeats", caller, low=1)
    methods = []
    with stopwatch() as clock:
        partition = partition_reference(Yv, kind=y_kind, n_clusters=n_clusters,
                                        random_state=0 if s.parity else s.random_state,
                                        caller=caller, scalar_bins=scalar_bins(s.parity))
        X, sigma = s.bandwidth(X)  # one kernel for every class and subset
        entropy = entropy_for(sigma)

        def entropy_with_error(A):
            value, se, method = entropy(A)
            methods.append(method)
            return value, se

        many = None if entropy_many_for is None else entropy_many_for(sigma)
        largest = int(partition.counts.max())
        workers = subset_workers(s, largest, partition.counts.size * (n_repeats + 1)) \
            if parallel else 1
        # One thread setting for the group-sized solves (they would each set it again);
        # with several workers, one BLAS thread each.
        with use_threads(1) if workers > 1 else contextlib.nullcontext(), \
                thread_limit(largest):
            terms = partition_mi(X, partition, entropy_with_error, n_repeats=n_repeats,
                                 random_state=s.random_state, parity=s.parity,
                                 max_n=s.max_n, caller=caller, workers=workers,
                                 entropy_many=many)
    params = s.params(methods[-1] if methods else "exact", y_kind=partition.kind,
                      n_clusters=n_clusters, n_repeats=n_repeats, **extra_params)
    details = {"groups": terms.groups, "standard_error": terms.standard_error,
               "partition": partition.codes, **bin_details(partition, s.parity)}
    return build_result(caller, terms.value, s.unit, params, elapsed_s=clock[0],
                        details=details, return_result=return_result)
