"""Diffusion spectral entropy and mutual information (DSE, DSMI).

Definitions (Liao, Liu et al., arXiv 2312.04823): with ``P`` the diffusion
operator of a Gaussian-kernel graph on the ``N`` embeddings and ``lambda_i`` its
eigenvalues,

    DSE(Z, t) = - sum_i p_i log p_i,   p_i = |lambda_i|^t / sum_j |lambda_j|^t

    DSMI(Z; Y) = DSE(Z) - sum_y p(y) DSE(Z | Y = y)

where DSE(Z) in the difference is evaluated on random subsets of the size of
each class (see :mod:`infolens.measures.conditioning`).
"""

from __future__ import annotations

import numpy as np

from infolens.core import optional
from infolens.core.formulas import shannon_of_weights
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import check_bool, check_embeddings
from infolens.kernels.gaussian import diffusion_operator
from infolens.measures.spectral_settings import PRESETS, SpectralSettings, partition_measure
from infolens.spectrum.batched import BATCH_MAX_N, BATCH_MAX_ROWS, small_dse_many
from infolens.spectrum.exact import spectral_entropy
from infolens.spectrum.planning import check_exact_memory
from infolens.spectrum.solve import solve

__all__ = ["PRESETS", "dse", "dsmi"]


def _dse_value(X, s, sigma, subset=False):
    """DSE of the rows of ``X`` (unit scale) at bandwidth ``sigma``, in the unit of ``s``
    (``subset``: one of DSMI's class-sized subsets, see ``SpectralSettings.subset_request``).

    Returns
    -------
    value : float
    standard_error : float or None
        In the unit of ``s``; None for an exact spectrum.
    answer : infolens.spectrum.solve.SpectralAnswer
    """
    answer = solve(s.subset_request(X, sigma) if subset else s.request(X, sigma))
    if answer.spectrum is None:
        return answer.entropy / s.log_base, answer.standard_error / s.log_base, answer
    value = spectral_entropy(answer.spectrum, s.t, keep_trivial=s.keep_trivial,
                             log_base=s.log_base, reference_eps=s.parity)
    return value, None, answer


def _entry_entropy_value(X, s, sigma):
    """Entropy of the entries of the diffusion matrix (the "matrix-entry" variant)."""
    check_exact_memory(X.shape[0], s.caller, memory_limit=s.options["memory_limit"])
    op = diffusion_operator(X, sigma, s.alpha, reference_float32=s.reference_float32)
    if s.parity:
        # dse-dsmi row-normalises the symmetric matrix itself.
        P = op.matrix / op.matrix.sum(axis=1, keepdims=True)
    else:
        P = op.markov_matrix()
        if s.t > 1:
            P = np.linalg.matrix_power(P, s.t)
    return shannon_of_weights(np.abs(P), reference_eps=s.parity) / s.log_base


_SHARED_DOC = """
    sigma : float or {"auto", "knn", "median", "rms"}, default="auto"
        Gaussian bandwidth, a length in the units of ``Z``: the kernel is
        ``exp(-d^2 / (2 sigma^2))`` on Euclidean distances ``d``.  ``"auto"``
        means ``"knn"`` under the default preset and ``10`` under
        ``preset="dse-dsmi"``.  ``"knn"``: the median over rows of the distance
        to the ``ceil(2 ln N)``-th nearest neighbour, divided by ``sqrt(2)``
        (local: k well-separated clusters give DSE -> log2 k as t grows);
        ``"median"``: the median pairwise distance (the former default; it
        joins separated clusters); ``"rms"``: the root-mean-square pairwise
        distance (exact, O(N D)).  Rules ignore zero distances (copies of a
        row), depend only on the multiset of rows, never on their order, and
        make the value invariant under ``Z -> c Z + b``; a fixed number does
        not (the reference's ``sigma=10`` on unit-scale data gives a nearly
        constant kernel and a DSE near zero whatever the structure).  See
        :func:`infolens.kernels.bandwidth.resolve_bandwidth`.
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
        Spectral method (see :mod:`infolens.spectrum.planning`).  ``"exact"``: the dense
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
    s = SpectralSettings("dse", Z, preset=preset, sigma=sigma, t=t, alpha=alpha, base=base,
                         keep_trivial=keep_trivial, max_n=max_n, method=method,
                         precision=precision, random_state=random_state,
                         method_options=method_options)
    matrix_entry = check_bool(matrix_entry, "matrix_entry", "dse")
    return_result = check_bool(return_result, "return_result", "dse")
    X = check_embeddings(Z, caller="dse")
    with stopwatch() as clock:
        X, sigma = s.bandwidth(s.cap(X))
        spectrum = None
        details = {"n_used": X.shape[0]}
        method_used = "exact"
        if matrix_entry:
            value = _entry_entropy_value(X, s, sigma)
        else:
            value, se, answer = _dse_value(X, s, sigma)
            spectrum, method_used = answer.spectrum, answer.method
            if spectrum is not None:
                details.update(precision_used=spectrum.precision,
                               float32_error_estimate_bits=spectrum.error_estimate_bits)
            else:
                details.update(answer.details, standard_error=se)
    return build_result("dse", value, s.unit, s.params(method_used, matrix_entry=matrix_entry),
                        eigenvalues=None if spectrum is None else spectrum.values,
                        elapsed_s=clock[0], details=details, return_result=return_result)


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
        string ``Y`` are labels, a float column is a scalar, several columns
        are vectors (spectral clustering into ``n_clusters`` clusters on a
        10-nearest-neighbour graph).  A scalar is cut into ``n_clusters``
        equal-frequency bins (quantiles; a bin left with one sample by ties is
        merged into its neighbour, noted in ``details["reference_notes"]``);
        under ``preset="dse-dsmi"`` into the reference's equal-width bins, where
        a one-sample tail bin contributes a zero term, as in the reference.
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
        per-class terms, the partition codes and ``standard_error``: the
        Monte-Carlo error of the random subsets (and of SLQ spectra), **not**
        the sampling error of the data, with ``subset_interval_95`` (a
        t-interval, ``n_repeats - 1`` degrees of freedom).  Over fresh data
        sets DSMI varies 1.3-1.6 times more than this standard error; a
        sampling interval is ``infolens.bootstrap_ci(Z, Y, method="dsmi")``.

    Notes
    -----
    **DSMI(A; A) and DSE(A).**  For Shannon entropy ``I(A; A) = H(A)``; for
    DSMI it does not hold, because ``Y = A`` is first turned into groups and
    DSMI is a size-matched difference of spectral entropies:
    ``DSMI = sum_c p_c [E DSE(random n_c points) - DSE(A in group c)]``.

    * ``y_kind="vector"`` (several columns; ``A`` clustered into ``n_clusters``
      groups) or ``"scalar"`` (one column, binned): DSMI(A; A) is at most
      ``log2(n_clusters)``-like and is the entropy the partition explains,
      not DSE(A); it is below DSE(A) whenever DSE(A) exceeds the entropy of
      the grouping (tested: ``tests/test_references.py``).
    * ``y_kind="labels"`` or ``"partition"`` with one group per sample is
      refused (a group needs two samples); with groups of two or more, each
      group's conditional DSE is small, so DSMI(A; A) approaches the mean
      DSE of random subsets of the group size, which is below DSE(A) (fewer
      points, lower ceiling ``log2 n_c``).
    * Hence ``DSMI(A; A) <= DSE(A)`` up to the random subsets' noise, with
      equality only in the limit of well-separated groups at large ``t``,
      where both tend to ``log2(number of groups)``.
    """
    s = SpectralSettings("dsmi", Z, preset=preset, sigma=sigma, t=t, alpha=alpha, base=base,
                         keep_trivial=keep_trivial, max_n=max_n, method=method,
                         precision=precision, random_state=random_state,
                         method_options=method_options)
    matrix_entry = check_bool(matrix_entry, "matrix_entry", "dsmi")
    return_result = check_bool(return_result, "return_result", "dsmi")

    def entropy_for(sigma):
        if matrix_entry:
            return lambda A: (_entry_entropy_value(A, s, sigma), None, "exact")

        def entropy(A):
            value, se, answer = _dse_value(A, s, sigma, subset=True)
            return value, se, answer.method

        return entropy

    def entropy_many_for(sigma):
        def many(rows, subsets):
            if rows.shape[0] > BATCH_MAX_ROWS:  # the whole kernel would be too large
                return [None] * len(subsets)
            small = [len(r) <= BATCH_MAX_N for r in subsets]
            values = iter(small_dse_many(rows, [r for r, ok in zip(subsets, small) if ok],
                                         sigma, alpha=s.alpha, t=s.t,
                                         keep_trivial=s.keep_trivial, log_base=s.log_base)
                          if any(small) else [])
            return [next(values) if ok else None for ok in small]

        return many

    # The stacked exact solve of small subsets gives what the exact path would: not under
    # the reference preset (its own epsilon and draws), nor where options ask otherwise.
    stacked = (not matrix_entry and not s.parity and s.method in ("auto", "exact")
               and s.precision == "float64" and s.torch_device is None
               and s.options.get("cache_dir") is None)
    result = partition_measure(s, Z, Y, y_kind=y_kind, n_clusters=n_clusters,
                               n_repeats=n_repeats, return_result=True,
                               entropy_for=entropy_for, matrix_entry=matrix_entry,
                               parallel=True,
                               entropy_many_for=entropy_many_for if stacked else None)
    _subset_interval(result, n_repeats)
    return result if return_result else result.value


def _subset_interval(result, n_repeats):
    """Say what DSMI's standard error covers and add its 95 % t-interval (``n_repeats - 1``
    degrees of freedom: with 5 random subsets per class the normal quantile is too small)."""
    se = result.standard_error
    result.details["standard_error_covers"] = (
        "the random subsets (Monte-Carlo error) and stochastic spectra only, not the "
        "sampling of the data; for that use infolens.bootstrap_ci(Z, Y, method='dsmi')")
    if se is None or n_repeats < 2:
        return
    half = float(optional.scipy_stats().t.ppf(0.975, n_repeats - 1)) * se
    result.details["standard_error_dof"] = n_repeats - 1
    result.details["subset_interval_95"] = (result.value - half, result.value + half)


dse.__doc__ = dse.__doc__.replace("{shared}", _SHARED_DOC.strip("\n").lstrip() + "\n")
dsmi.__doc__ = dsmi.__doc__.replace("{shared}", _SHARED_DOC.strip("\n").lstrip() + "\n")
