"""Diffusion spectral entropy and mutual information (DSE, DSMI) and the adjacency
variants (ASE, ASMI).

Definitions (Liao, Liu et al., arXiv 2312.04823): with ``P`` the diffusion
operator of a Gaussian-kernel graph on the ``N`` embeddings and ``lambda_i`` its
eigenvalues,

    DSE(Z, t) = - sum_i p_i log p_i,   p_i = |lambda_i|^t / sum_j |lambda_j|^t

    DSMI(Z; Y) = DSE(Z) - sum_y p(y) DSE(Z | Y = y)

where DSE(Z) in the difference is evaluated on random subsets of the size of
each class (see :mod:`infolens.measures.conditioning`).
"""

from __future__ import annotations

import numbers

import numpy as np

import infolens.spectrum.engine as _engine
from infolens.measures.conditioning import partition_mi, reference_subsample, subsample
from infolens.core.result import Result, stopwatch
from infolens.core.validation import (
    InvalidParameterError,
    check_bool,
    check_embeddings,
    check_int,
    check_option,
    check_real,
    check_reference,
    resolve_base,
)
from infolens.kernels.gaussian import (
    BANDWIDTH_RULES,
    diffusion_from_affinity,
    diffusion_operator,
    gaussian_affinity,
    resolve_bandwidth,
    squared_distances,
)
from infolens.measures.partition import REFERENCE_KINDS, partition_reference
from infolens.spectrum.exact import (
    PRECISIONS,
    check_dense_memory,
    entropy_of_weights,
    spectral_entropy,
    symmetric_eigenvalues,
)

__all__ = ["PRESETS", "ase", "asmi", "dse", "dsmi"]

#: ``"infolens"``: scale-aware bandwidth, no cap on the number of points.
#: ``"dse-dsmi"``: reproduce the reference package ``dse-dsmi`` 1.1 (sigma = 10,
#: at most 10,000 points drawn with Python's ``random``, its epsilon offset).
PRESETS = ("infolens", "dse-dsmi")
METHODS = _engine.METHODS
REFERENCE_MAX_N = 10000
REFERENCE_SIGMA = 10.0


def _check_sigma(sigma, caller, parity):
    """A positive finite number or a rule name; ``"auto"`` resolved for the preset."""
    if isinstance(sigma, str) and sigma == "auto":
        return REFERENCE_SIGMA if parity else "median"
    if isinstance(sigma, str) and sigma in BANDWIDTH_RULES:
        return sigma
    if (isinstance(sigma, numbers.Real) and not isinstance(sigma, bool)
            and np.isfinite(sigma) and sigma > 0):
        return float(sigma)
    rules = ", ".join(repr(r) for r in ("auto",) + BANDWIDTH_RULES)
    raise InvalidParameterError(
        f"The 'sigma' parameter of {caller} must be a float in the range (0, inf) or one of "
        f"{rules}. Got {sigma!r} instead. Pass a positive length in the units of Z, or "
        f"sigma='auto' for the scale-aware default."
    )


class _Settings:
    """Parameters shared by every diffusion measure, validated and resolved once."""

    def __init__(self, caller, *, preset, sigma, t, alpha, base, keep_trivial, max_n,
                 method, precision, random_state):
        self.caller = caller
        self.preset = check_option(preset, "preset", caller, PRESETS)
        self.parity = self.preset == "dse-dsmi"
        self.sigma = _check_sigma(sigma, caller, self.parity)
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

    def bandwidth(self, X):
        """Rescale ``X`` to unit size and resolve the bandwidth in those units.

        ``X`` is divided by a power of two, which is exact in floating point:
        every distance-to-bandwidth ratio, and so every value, is bit for bit
        what it would be unscaled, but squared distances of data at scales like
        1e-200 or 1e200 no longer underflow or overflow.  A fixed ``sigma`` so
        far from the data's scale that its square would leave the float range
        is clamped to where the kernel is already exactly the identity
        (``sigma`` -> 0) or all ones (``sigma`` -> inf).

        Returns
        -------
        X_unit : ndarray, the rescaled rows
        sigma_unit : float, the bandwidth in the units of ``X_unit``

        ``self.sigma_value`` is set to the bandwidth in the units of ``X``.
        """
        # dse-dsmi evaluates the kernel of float32 embeddings in float32.
        self.reference_float32 = self.parity and X.dtype == np.float32
        largest = float(np.max(np.abs(X))) if X.size else 0.0
        exponent = int(np.frexp(largest)[1]) if largest > 0 else 0
        X_unit = np.ldexp(np.asarray(X, dtype=np.float64), -exponent)
        if isinstance(self.sigma, str):
            sigma_unit = resolve_bandwidth(X_unit, self.sigma, self.caller)
            self.sigma_value = float(np.ldexp(sigma_unit, exponent))
        else:
            sigma_unit = min(max(float(np.ldexp(self.sigma, -exponent)), 1e-150), 1e150)
            self.sigma_value = self.sigma
        return X_unit, sigma_unit

    def cap(self, Z):
        """Subsample ``Z`` to ``max_n`` rows (reference draws under the parity preset)."""
        n = Z.shape[0]
        if self.max_n is None or n <= self.max_n:
            return Z
        if self.parity:
            import random

            return Z[reference_subsample(n, self.max_n, self.random_state, random.Random())]
        return Z[subsample(n, self.max_n, self.random_state)]

    def params(self, **extra):
        out = {
            "preset": self.preset,
            "sigma": self.sigma_value,
            "sigma_rule": self.sigma if isinstance(self.sigma, str) else None,
            "t": self.t,
            "alpha": self.alpha,
            "base": self.base,
            "keep_trivial": self.keep_trivial,
            "max_n": self.max_n,
            "method": getattr(self, "method_used", "exact"),
            "precision": self.precision,
            "random_state": self.random_state,
        }
        out.update(extra)
        return out


def _dse_value(Z, s, sigma):
    """DSE of the rows of ``Z`` with a resolved bandwidth; returns (value, spectrum).

    The method (exact, SLQ, sparse) is planned by :mod:`infolens.spectrum.engine`; the
    spectrum is None for the trace-estimation methods, whose details (standard
    error, operator diagnostics) go to ``s.engine_details``.
    """
    options = getattr(s, "options", None) or _engine.check_method_options(None, s.caller)
    plan = _engine.plan_method(Z.shape[0], Z.shape[1], s.method, s.caller, parity=s.parity,
                               options=options, precision=s.precision)
    spectrum = None
    reference32 = getattr(s, "reference_float32", False)
    if (plan.method == "exact" and getattr(s, "torch_device", None) is not None
            and not reference32):
        spectrum = _engine.torch_exact_spectrum_or_none(Z, sigma, s.alpha, s.torch_device,
                                                        s.caller)
        if spectrum is None:
            plan = _engine.plan_method(Z.shape[0], Z.shape[1], "slq", s.caller,
                                       options=options)
    s.method_used = plan.method
    if plan.method != "exact":
        value, s.engine_details = _engine.slq_dse(
            Z, sigma, plan=plan, t=s.t, alpha=s.alpha, keep_trivial=s.keep_trivial,
            log_base=s.log_base, precision=s.precision, options=options, caller=s.caller,
            seed=s.random_state or 0)
        return value, None
    if spectrum is None:
        def solve():
            check_dense_memory(Z.shape[0], s.caller)
            op = _operator(Z, s, sigma, s.alpha)
            return symmetric_eigenvalues(
                op.matrix, op.trivial_vector, s.precision, t=s.t, overwrite=True,
                keep_trivial=s.keep_trivial,
            )

        if reference32:  # not in the cache's key
            spectrum = solve()
        else:
            spectrum = _engine.cached_spectrum(Z, sigma, s.alpha, s.precision, s.t, options,
                                               solve, keep_trivial=s.keep_trivial)
    value = spectral_entropy(
        spectrum, s.t, keep_trivial=s.keep_trivial, log_base=s.log_base,
        reference_eps=s.parity,
    )
    return value, spectrum


def _reference_float32_distances(X):
    """Distances as dse-dsmi gets them for float32 embeddings (scikit-learn's float32
    path): squared distances rounded to float32, square root taken in float32."""
    d2 = squared_distances(np.asarray(X, dtype=np.float64)).astype(np.float32)
    return np.sqrt(d2)


def _reference_float32_affinity(X, sigma):
    """dse-dsmi's Gaussian kernel of float32 embeddings, evaluated in float32."""
    d = _reference_float32_distances(X)
    return np.exp(-(d * d) / np.float32(2.0 * sigma**2)).astype(np.float64)


def _operator(X, s, sigma, alpha):
    """The diffusion operator of ``X``; under ``preset="dse-dsmi"`` with float32
    embeddings its kernel is evaluated in float32, as the reference does."""
    if not getattr(s, "reference_float32", False) or alpha > 0:
        return diffusion_operator(X, sigma, alpha)
    return diffusion_from_affinity(_reference_float32_affinity(X, sigma), sigma)


def _entry_entropy_value(Z, s, sigma):
    """Entropy of the entries of the diffusion matrix (the "matrix-entry" variant)."""
    check_dense_memory(Z.shape[0], s.caller)
    op = _operator(Z, s, sigma, s.alpha)
    if s.parity:
        # dse-dsmi row-normalises the symmetric matrix itself.
        P = op.matrix / op.matrix.sum(axis=1, keepdims=True)
    else:
        P = op.markov_matrix()
        if s.t > 1:
            P = np.linalg.matrix_power(P, s.t)
    return entropy_of_weights(np.abs(P).ravel(), s.log_base, reference_eps=s.parity)


_SHARED_DOC = """
    sigma : float or {"auto", "median", "rms"}, default="auto"
        Gaussian bandwidth, a length in the units of ``Z``: the kernel is
        ``exp(-d^2 / (2 sigma^2))`` on Euclidean distances ``d``.  ``"auto"``
        means ``"median"`` (the median pairwise distance, computed on at most
        2048 points drawn with a fixed seed) under the default preset and
        ``10`` under ``preset="dse-dsmi"``.  Rules make the value invariant
        under ``Z -> c Z + b``; a fixed number does not (the reference's
        ``sigma=10`` on unit-scale data gives a nearly constant kernel and a
        DSE near zero whatever the structure).  ``"rms"`` is the
        root-mean-square pairwise distance (exact, O(N D)).
    t : int, default=1
        Diffusion time: eigenvalues enter as ``|lambda|^t``.  Larger ``t``
        suppresses noise directions.
    alpha : float in [0, 1], default=0.0
        Density normalisation power: 0 is the plain random walk (what
        ``dse-dsmi`` computes), 0.5 the paper's propositions, 1 the
        Laplace-Beltrami normalisation.
    base : {2, "e", 10}, default=2
        Logarithm base: 2 gives bits, ``"e"`` nats.
    keep_trivial : bool, default=True
        Keep the trivial eigenvalue 1 of the diffusion operator (the
        reference keeps it).  Dropping it makes well-separated ``k`` clusters
        tend to ``log k - ...`` from below without the constant mode.
    max_n : int, None or "auto", default="auto"
        Cap on the number of points of one eigen-solve; larger inputs are
        subsampled without replacement with ``random_state``.  ``"auto"`` is
        no cap under the default preset and 10,000 under ``preset="dse-dsmi"``.
    method : {"auto", "exact", "slq", "sparse"}, default="auto"
        Spectral method (see :mod:`infolens.spectrum.engine`).  ``"exact"``: the dense
        N x N operator and all its eigenvalues.  ``"slq"``: the same kernel,
        entropy by stochastic Lanczos quadrature from matrix products (never
        all eigenvalues; the result's ``details["standard_error"]`` is its
        uncertainty).  ``"sparse"``: SLQ on a local self-tuning kernel
        truncated on a kNN graph, for 10^5 to 10^6 points (a different
        kernel; its kept row mass is reported).  ``"auto"``: exact up to 4096
        points (always under ``preset="dse-dsmi"``), SLQ above.  Memory is
        estimated first: ``"auto"`` switches to a method that fits (one log
        line), an explicit method that cannot fit is refused with the
        alternatives.  Torch tensors are solved on their device (exact) with a
        fallback to SLQ.
    precision : {"auto", "float64", "mixed", "float32"}, default="auto"
        Precision of the eigen-solver.  ``"mixed"`` runs it in float32 for
        N >= 1024 (after the trivial eigenpair is deflated analytically) and
        keeps that result only when its estimated entropy error is at most
        1e-6 bits, solving again in float64 otherwise; about twice as fast
        when accepted.  ``"auto"`` is ``"float64"`` under the default preset
        (whose scale invariance holds to 1e-9 relative, closer than a float32
        solve) and ``"mixed"`` under ``preset="dse-dsmi"`` (whose parity
        tolerance is 1e-6 bits).
    preset : {"infolens", "dse-dsmi"}, default="infolens"
        ``"dse-dsmi"`` reproduces the numbers of the reference package
        ``dse-dsmi`` 1.1 (to 1e-6 bits): sigma 10, at most 10,000 points drawn
        with Python's ``random`` and seed ``random_state``, and its epsilon
        offset on the probabilities.  Explicit arguments still win.
    random_state : int or None, default=0
        Seed of every random draw (subsampling, random subsets, clustering).
    return_result : bool, default=False
        Return a :class:`infolens.Result` (value, unit, resolved parameters,
        eigenvalues, timing) instead of a float.
    method_options : dict, optional
        Tuning of the scalable methods: ``n_probes``, ``n_steps``,
        ``max_batches`` (SLQ probes per batch, Lanczos steps, batches run
        while the standard error exceeds 0.002 nats),
        ``storage`` ("auto", "dense", "dense32", "tiled"), ``n_neighbors`` (30),
        ``bandwidth_neighbor`` (7), ``knn_backend`` ("auto", "faiss",
        "sklearn") for ``"sparse"``, ``cache_dir`` (on-disk spectrum cache)
        and ``memory_limit`` (bytes; default: 80 % of the available memory).
"""


def dse(
    Z,
    *,
    t=1,
    sigma="auto",
    alpha=0.0,
    base=2,
    keep_trivial=True,
    matrix_entry=False,
    max_n="auto",
    method="auto",
    precision="auto",
    preset="infolens",
    random_state=0,
    return_result=False,
    method_options=None,
):
    """Diffusion spectral entropy of a set of embeddings.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Embeddings (numpy array, torch tensor or nested lists), real and finite.
    matrix_entry : bool, default=False
        Compute the entropy of the entries of the diffusion matrix ``P^t``
        instead of its eigenvalues (the reference's "matrix entry entropy";
        under ``preset="dse-dsmi"`` ``t`` is ignored, as there).
    {shared}
    Returns
    -------
    float or Result
        DSE in the unit of ``base`` (bits by default), between 0 and
        ``log(n_samples)``.

    Examples
    --------
    >>> import numpy as np, infolens
    >>> Z = np.random.default_rng(0).normal(size=(500, 16))
    >>> h = infolens.dse(Z)                          # scale-aware bandwidth
    >>> h_ref = infolens.dse(Z, preset="dse-dsmi")   # the reference's numbers
    """
    s = _Settings("dse", preset=preset, sigma=sigma, t=t, alpha=alpha, base=base,
                  keep_trivial=keep_trivial, max_n=max_n, method=method,
                  precision=precision, random_state=random_state)
    matrix_entry = check_bool(matrix_entry, "matrix_entry", "dse")
    return_result = check_bool(return_result, "return_result", "dse")
    s.options = _engine.check_method_options(method_options, "dse")
    s.torch_device = Z.device if _engine.is_torch_tensor(Z) else None
    X = check_embeddings(Z, caller="dse")
    with stopwatch() as clock:
        X, sigma = s.bandwidth(s.cap(X))
        spectrum = None
        if matrix_entry:
            value = _entry_entropy_value(X, s, sigma)
        else:
            value, spectrum = _dse_value(X, s, sigma)
    if not return_result:
        return value
    details = {"n_used": X.shape[0]}
    if spectrum is not None:
        details.update(precision_used=spectrum.precision,
                       float32_error_estimate_bits=spectrum.error_estimate_bits)
    details.update(getattr(s, "engine_details", {}))
    return Result("dse", value, s.unit, s.params(matrix_entry=matrix_entry),
                  None if spectrum is None else spectrum.values, clock[0], details)


def dsmi(
    Z,
    Y,
    *,
    y_kind="auto",
    n_clusters=10,
    n_repeats=5,
    t=1,
    sigma="auto",
    alpha=0.0,
    base=2,
    keep_trivial=True,
    matrix_entry=False,
    max_n="auto",
    method="auto",
    precision="auto",
    preset="infolens",
    random_state=0,
    return_result=False,
    method_options=None,
):
    """Diffusion spectral mutual information between embeddings and a reference variable.

    ``DSMI(Z; Y) = sum_y p(y) [mean_r DSE(Z*_{y,r}) - DSE(Z | Y = y)]`` where
    ``Z*_{y,r}`` are ``n_repeats`` random subsets of all of ``Z`` with as many
    points as class ``y`` (DSE depends on the number of points, so each class
    is compared with the unconditioned data at equal size).  The bandwidth is
    resolved once on the whole of ``Z`` and that same kernel is used for every
    class and every subset.  Values can be slightly negative when ``Y`` says
    nothing about ``Z``.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Embeddings.
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
        Reference variable: class labels, a continuous scalar, vectors (e.g.
        flattened inputs) or a precomputed partition; see ``y_kind``.
    y_kind : {"auto", "labels", "scalar", "vector", "partition"}, default="auto"
        How ``Y`` is turned into groups.  ``"auto"``: integer, boolean or
        string ``Y`` are labels, a float column is a scalar (``n_clusters``
        equal-width bins), several columns are vectors (spectral clustering
        into ``n_clusters`` clusters on a 10-nearest-neighbour graph).
    n_clusters : int, default=10
        Number of bins (scalar ``Y``) or clusters (vector ``Y``).
    n_repeats : int, default=5
        Random subsets per class for the unconditioned term.
    matrix_entry : bool, default=False
        Use the matrix-entry entropy instead of the spectral one.
    {shared}
    Returns
    -------
    float or Result
        DSMI in the unit of ``base``.  The result's ``details`` hold the
        per-class terms, the partition codes and a standard error from the
        spread of the random subsets.
    """
    s = _Settings("dsmi", preset=preset, sigma=sigma, t=t, alpha=alpha, base=base,
                  keep_trivial=keep_trivial, max_n=max_n, method=method,
                  precision=precision, random_state=random_state)
    matrix_entry = check_bool(matrix_entry, "matrix_entry", "dsmi")
    s.options = _engine.check_method_options(method_options, "dsmi")
    s.torch_device = Z.device if _engine.is_torch_tensor(Z) else None

    def entropy_for(sigma):
        if matrix_entry:
            return lambda A: _entry_entropy_value(A, s, sigma)
        return lambda A: _dse_value(A, s, sigma)[0]

    return _partition_measure(s, Z, Y, y_kind=y_kind, n_clusters=n_clusters,
                              n_repeats=n_repeats, return_result=return_result,
                              entropy_for=entropy_for, matrix_entry=matrix_entry)


def _partition_measure(s, Z, Y, *, y_kind, n_clusters, n_repeats, return_result, entropy_for,
                       **extra_params):
    """Shared body of :func:`dsmi` and :func:`asmi`: validate, partition ``Y``, resolve one
    bandwidth on all of ``Z`` and compute the size-matched partition MI.

    ``entropy_for(sigma)`` returns the entropy function of a subset of rows.
    """
    caller = s.caller
    return_result = check_bool(return_result, "return_result", caller)
    X = check_embeddings(Z, caller=caller)
    Yv = check_reference(Y, X.shape[0], caller=caller)
    y_kind = check_option(y_kind, "y_kind", caller, REFERENCE_KINDS)
    n_clusters = check_int(n_clusters, "n_clusters", caller, low=2)
    n_repeats = check_int(n_repeats, "n_repeats", caller, low=1)
    with stopwatch() as clock:
        partition = partition_reference(Yv, kind=y_kind, n_clusters=n_clusters,
                                        random_state=0 if s.parity else s.random_state,
                                        caller=caller)
        X, sigma = s.bandwidth(X)  # one kernel for every class and subset
        entropy = entropy_for(sigma)

        def entropy_with_error(A):
            # SLQ leaves its standard error in s.engine_details; exact solves leave none.
            s.engine_details = {}
            return entropy(A), s.engine_details.get("standard_error")

        terms = partition_mi(X, partition, entropy_with_error, n_repeats=n_repeats,
                             random_state=s.random_state, parity=s.parity,
                             max_n=s.max_n, caller=caller)
    if not return_result:
        return terms.value
    params = s.params(y_kind=partition.kind, n_clusters=n_clusters, n_repeats=n_repeats,
                      **extra_params)
    details = {"groups": terms.groups, "standard_error": terms.standard_error,
               "partition": partition.codes}
    return Result(caller, terms.value, s.unit, params, None, clock[0], details)


ADJACENCIES = ("gaussian", "knn")


def _adjacency_spectrum(X, s, sigma, adjacency, n_neighbors, anisotropic):
    """Eigenvalue magnitudes of the Gaussian or binarised kNN adjacency matrix."""
    check_dense_memory(X.shape[0], s.caller)
    if adjacency == "gaussian" and anisotropic:
        op = _operator(X, s, sigma, 0.0)
        return symmetric_eigenvalues(op.matrix, op.trivial_vector, s.precision,
                                     overwrite=True).values
    reference32 = getattr(s, "reference_float32", False)
    if adjacency == "gaussian":
        if reference32:
            A = _reference_float32_affinity(X, sigma)
        else:
            A = gaussian_affinity(squared_distances(np.asarray(X, dtype=np.float64)), sigma)
        return symmetric_eigenvalues(A, None, s.precision, overwrite=True).values
    # kNN: any increasing function of the distance gives the same neighbours.
    if reference32:
        A = _reference_float32_distances(X)
    else:
        A = squared_distances(np.asarray(X, dtype=np.float64))
    n = A.shape[0]
    k = min(n_neighbors, n)
    threshold = np.partition(A, k - 1, axis=1)[:, k - 1]
    directed = A <= threshold[:, None]  # each row: its k nearest points, itself included
    if s.parity:
        # dse-dsmi keeps the directed graph; its eigenvalues may be complex.
        if np.array_equal(directed, directed.T):
            return np.linalg.eigvalsh(directed.astype(np.float64))
        return np.abs(np.linalg.eigvals(directed.astype(np.float64)))
    sym = (directed | directed.T).astype(np.float64)
    return symmetric_eigenvalues(sym, None, "float64", overwrite=True).values


def _adjacency_args(caller, adjacency, n_neighbors, anisotropic):
    adjacency = check_option(adjacency, "adjacency", caller, ADJACENCIES)
    n_neighbors = check_int(n_neighbors, "n_neighbors", caller, low=1)
    anisotropic = check_bool(anisotropic, "anisotropic", caller)
    if anisotropic and adjacency == "knn":
        raise InvalidParameterError(
            f"anisotropic=True in {caller} applies to the Gaussian adjacency only; got "
            f"adjacency='knn'. Drop anisotropic or use adjacency='gaussian'."
        )
    return adjacency, n_neighbors, anisotropic


def _ase_value(X, s, sigma, adjacency, n_neighbors, anisotropic):
    """ASE with the planned method; returns (value, eigenvalues or None for SLQ)."""
    options = getattr(s, "options", None) or _engine.check_method_options(None, s.caller)
    if s.method == "sparse" or (adjacency != "gaussian" and s.method == "slq"):
        raise InvalidParameterError(
            f"{s.caller}: method={s.method!r} is not available for adjacency={adjacency!r}; "
            f"the matrix-free method is 'slq' with adjacency='gaussian' (the kNN adjacency "
            f"is solved exactly). Use method='auto' or 'exact'."
        )
    if adjacency == "gaussian" and not getattr(s, "reference_float32", False):
        plan = _engine.plan_method(X.shape[0], X.shape[1], s.method, s.caller,
                                   parity=s.parity, options=options, precision=s.precision)
        s.method_used = plan.method
        if plan.method == "slq":
            value, s.engine_details = _engine.slq_ase(
                X, sigma, plan=plan, anisotropic=anisotropic, log_base=s.log_base,
                precision=s.precision, options=options, caller=s.caller,
                seed=s.random_state or 0)
            return value, None
    values = _adjacency_spectrum(X, s, sigma, adjacency, n_neighbors, anisotropic)
    return entropy_of_weights(np.abs(values), s.log_base, reference_eps=s.parity), values


def ase(
    Z,
    *,
    adjacency="gaussian",
    n_neighbors=10,
    anisotropic=False,
    sigma="auto",
    base=2,
    max_n="auto",
    precision="auto",
    preset="infolens",
    random_state=0,
    return_result=False,
    method="auto",
    method_options=None,
):
    """Adjacency spectral entropy: entropy of the normalised eigenvalue magnitudes of
    the graph adjacency matrix (the reference package's companion to DSE).

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    adjacency : {"gaussian", "knn"}, default="gaussian"
        Gaussian affinities, or the binarised k-nearest-neighbour graph (each
        point linked to its ``n_neighbors`` nearest points, itself included).
        The default preset symmetrises the kNN graph (``A or A^T``) so its
        spectrum is real; ``preset="dse-dsmi"`` keeps the directed graph and
        the moduli of its complex eigenvalues, as the reference does.
    n_neighbors : int, default=10
    anisotropic : bool, default=False
        Apply the symmetric degree normalisation ``D^{-1/2} G D^{-1/2}``.
    sigma, base, max_n, precision, preset, random_state, return_result
        As in :func:`dse`.
    method : {"auto", "exact", "slq"}, default="auto"
        As in :func:`dse` for the Gaussian adjacency (``"slq"`` estimates the
        entropy of the affinity matrix's spectrum from products); the kNN
        adjacency is always solved exactly.
    method_options : dict, optional
        As in :func:`dse`.

    Returns
    -------
    float or Result
        ASE in the unit of ``base``.
    """
    s = _Settings("ase", preset=preset, sigma=sigma, t=1, alpha=0.0, base=base,
                  keep_trivial=True, max_n=max_n, method=method,
                  precision=precision, random_state=random_state)
    s.options = _engine.check_method_options(method_options, "ase")
    adjacency, n_neighbors, anisotropic = _adjacency_args("ase", adjacency, n_neighbors,
                                                          anisotropic)
    return_result = check_bool(return_result, "return_result", "ase")
    X = check_embeddings(Z, caller="ase")
    with stopwatch() as clock:
        X, sigma = s.bandwidth(s.cap(X))
        value, values = _ase_value(X, s, sigma, adjacency, n_neighbors, anisotropic)
    if not return_result:
        return value
    params = s.params(adjacency=adjacency, n_neighbors=n_neighbors, anisotropic=anisotropic)
    details = {"n_used": X.shape[0]}
    details.update(getattr(s, "engine_details", {}))
    return Result("ase", value, s.unit, params, None if values is None else np.sort(values),
                  clock[0], details)


def asmi(
    Z,
    Y,
    *,
    y_kind="auto",
    n_clusters=10,
    n_repeats=5,
    adjacency="gaussian",
    n_neighbors=10,
    anisotropic=False,
    sigma="auto",
    base=2,
    max_n="auto",
    precision="auto",
    preset="infolens",
    random_state=0,
    return_result=False,
    method="auto",
    method_options=None,
):
    """Adjacency spectral mutual information: :func:`dsmi` with :func:`ase` as the entropy.

    Parameters are those of :func:`dsmi` and :func:`ase`.

    Returns
    -------
    float or Result
        ASMI in the unit of ``base``.
    """
    s = _Settings("asmi", preset=preset, sigma=sigma, t=1, alpha=0.0, base=base,
                  keep_trivial=True, max_n=max_n, method=method,
                  precision=precision, random_state=random_state)
    s.options = _engine.check_method_options(method_options, "asmi")
    adjacency, n_neighbors, anisotropic = _adjacency_args("asmi", adjacency, n_neighbors,
                                                          anisotropic)

    def entropy_for(sigma):
        return lambda A: _ase_value(A, s, sigma, adjacency, n_neighbors, anisotropic)[0]

    return _partition_measure(s, Z, Y, y_kind=y_kind, n_clusters=n_clusters,
                              n_repeats=n_repeats, return_result=return_result,
                              entropy_for=entropy_for, adjacency=adjacency,
                              n_neighbors=n_neighbors, anisotropic=anisotropic)


dse.__doc__ = dse.__doc__.replace("{shared}", _SHARED_DOC.strip("\n").lstrip() + "\n")
dsmi.__doc__ = dsmi.__doc__.replace("{shared}", _SHARED_DOC.strip("\n").lstrip() + "\n")
