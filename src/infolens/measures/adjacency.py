"""Adjacency spectral entropy and mutual information (ASE, ASMI).

The reference package's companions to DSE: the entropy of the normalised
eigenvalue magnitudes of a graph adjacency matrix on the embeddings, the
Gaussian affinities (optionally degree-normalised) or the binarised
k-nearest-neighbour graph, and the size-matched partition MI built on it.
"""

from __future__ import annotations

import numpy as np

from infolens.core.formulas import shannon_of_weights
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import (
    InvalidParameterError, check_bool, check_embeddings, check_int, check_option,
)
from infolens.kernels.distances import squared_distances
from infolens.kernels.gaussian import reference_float32_distances
from infolens.measures.spectral_settings import SpectralSettings, partition_measure
from infolens.spectrum.exact import symmetric_eigenvalues
from infolens.spectrum.planning import check_exact_memory
from infolens.spectrum.solve import solve

__all__ = ["ADJACENCIES", "ase", "asmi"]

ADJACENCIES = ("gaussian", "knn")


def _knn_spectrum(X, s, n_neighbors):
    """Eigenvalue magnitudes of the binarised kNN adjacency matrix (solved exactly)."""
    check_exact_memory(X.shape[0], s.caller, memory_limit=s.options["memory_limit"])
    # Any increasing function of the distance gives the same neighbours.
    if s.reference_float32:
        A = reference_float32_distances(X)
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
    """ASE of the rows of ``X`` (unit scale), in the unit of ``s``.

    Returns
    -------
    value : float
    standard_error : float or None
        In the unit of ``s`` (SLQ only).
    eigenvalues : ndarray or None
        The spectrum (exact methods).
    details : dict
        ``method`` used and, for SLQ, its details.
    """
    if s.method == "sparse" or (adjacency != "gaussian" and s.method == "slq"):
        raise InvalidParameterError(
            f"{s.caller}: method={s.method!r} is not available for adjacency={adjacency!r}; "
            f"the matrix-free method is 'slq' with adjacency='gaussian' (the kNN adjacency "
            f"is solved exactly). Use method='auto' or 'exact'."
        )
    if adjacency == "knn":
        values = _knn_spectrum(X, s, n_neighbors)
    else:
        # the float32 reference kernel has no matrix-free form: always exact
        method = "exact" if s.reference_float32 else s.method
        if anisotropic:
            request = s.request(X, sigma, operator="diffusion", method=method, t=1,
                                alpha=0.0, keep_trivial=None, torch_device=None)
        else:
            request = s.request(X, sigma, operator="affinity", method=method, order=1.0,
                                keep_trivial=None, torch_device=None)
        answer = solve(request)
        if answer.spectrum is None:
            se = answer.standard_error / s.log_base
            return (answer.entropy / s.log_base, se, None,
                    dict(answer.details, method=answer.method, standard_error=se))
        values = answer.spectrum.values
    value = shannon_of_weights(np.abs(values), reference_eps=s.parity) / s.log_base
    return value, None, values, {"method": "exact"}


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
    s = SpectralSettings("ase", Z, preset=preset, sigma=sigma, t=1, alpha=0.0, base=base,
                         keep_trivial=True, max_n=max_n, method=method, precision=precision,
                         random_state=random_state, method_options=method_options)
    adjacency, n_neighbors, anisotropic = _adjacency_args("ase", adjacency, n_neighbors,
                                                          anisotropic)
    return_result = check_bool(return_result, "return_result", "ase")
    X = check_embeddings(Z, caller="ase")
    with stopwatch() as clock:
        X, sigma = s.bandwidth(s.cap(X))
        value, _, values, info = _ase_value(X, s, sigma, adjacency, n_neighbors, anisotropic)
    method_used = info.pop("method")
    params = s.params(method_used, adjacency=adjacency, n_neighbors=n_neighbors,
                      anisotropic=anisotropic)
    details = {"n_used": X.shape[0]}
    if values is None:
        details.update(info, method=method_used)
    return build_result("ase", value, s.unit, params,
                        eigenvalues=None if values is None else np.sort(values),
                        elapsed_s=clock[0], details=details, return_result=return_result)


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
    s = SpectralSettings("asmi", Z, preset=preset, sigma=sigma, t=1, alpha=0.0, base=base,
                         keep_trivial=True, max_n=max_n, method=method, precision=precision,
                         random_state=random_state, method_options=method_options)
    adjacency, n_neighbors, anisotropic = _adjacency_args("asmi", adjacency, n_neighbors,
                                                          anisotropic)

    def entropy_for(sigma):
        def entropy(A):
            value, se, _, info = _ase_value(A, s, sigma, adjacency, n_neighbors, anisotropic)
            return value, se, info["method"]

        return entropy

    return partition_measure(s, Z, Y, y_kind=y_kind, n_clusters=n_clusters,
                             n_repeats=n_repeats, return_result=return_result,
                             entropy_for=entropy_for, adjacency=adjacency,
                             n_neighbors=n_neighbors, anisotropic=anisotropic)
