"""Cauchy-Schwarz quadratic mutual information (Principe 2010; Yu et al. 2024).

``D_CS(p(z, y) || p(z) p(y))`` with Gaussian Parzen estimates, from the same
Gram matrices as the kernel-matrix measures (:mod:`infolens.kernels.gram`).
The function is :func:`cauchy_schwarz_mi`; ``cs_mi`` is the same function
under its first name (one underscore away from the binning ``csmi``, hence the
long name).
"""

from __future__ import annotations

import numpy as np

from infolens.core.result import build_result, stopwatch
from infolens.core.validation import check_bool, resolve_base
from infolens.kernels.bandwidth import check_sigma
from infolens.kernels.gram import gram_matrix, label_gram
from infolens.measures.common import check_mi_inputs
from infolens.spectrum.planning import check_exact_memory

__all__ = ["cauchy_schwarz_mi", "cs_mi"]


def cauchy_schwarz_mi(Z, Y, *, sigma="median", sigma_y="median", y_kind="auto", base=2,
                      return_result=False):
    """Cauchy-Schwarz quadratic mutual information with Gaussian Parzen kernels.

    ``I_CS = log(V_joint) + log(V_z V_y) - 2 log(V_cross)`` with
    ``V_joint = <K o L>``, ``V_z = <K>``, ``V_y = <L>`` (means over all pairs)
    and ``V_cross = mean_i (<K_i.> <L_i.>)``; this is the Cauchy-Schwarz
    divergence between ``p(z, y)`` and ``p(z) p(y)``.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
        Continuous (Gaussian kernel) or labels (delta kernel).
    sigma, sigma_y : float or {"median", "rms"}, default="median"
        Bandwidths of the kernels on ``Z`` and continuous ``Y``.
    y_kind : {"auto", "continuous", "labels"}, default="auto"
    base : {2, "e", 10}, default=2
    return_result : bool, default=False

    Returns
    -------
    float or Result
        Non-negative (Cauchy-Schwarz inequality); 0 iff the kernel
        mean embeddings factorise.  Not calibrated to Shannon MI.

    References
    ----------
    J. C. Principe, Information Theoretic Learning, Springer (2010), ch. 2.
    S. Yu, X. Yu, S. Loekse, R. Jenssen, J. C. Principe, "Cauchy-Schwarz
    Divergence Information Bottleneck for Regression", ICLR (2024).
    """
    caller = "cauchy_schwarz_mi"
    check_bool(return_result, "return_result", caller)
    check_sigma(sigma, caller)
    check_sigma(sigma_y, caller, name="sigma_y")
    log_base, unit = resolve_base(base, caller)
    X, Yv, kind = check_mi_inputs(Z, Y, caller, y_kind)
    with stopwatch() as clock:
        check_exact_memory(X.shape[0], caller)
        K, s = gram_matrix(X, "gaussian", sigma, caller)
        if kind == "labels":
            L, sy = label_gram(Yv), None
        else:
            L, sy = gram_matrix(Yv, "gaussian", sigma_y, caller)
        v_joint = float(np.mean(K * L))
        v_prod = float(K.mean()) * float(L.mean())
        v_cross = float(np.mean(K.mean(axis=1) * L.mean(axis=1)))
        nats = max(np.log(v_joint) + np.log(v_prod) - 2.0 * np.log(v_cross), 0.0)
    params = {"sigma": s, "sigma_y": sy, "y_kind": kind, "base": base}
    return build_result(caller, nats / log_base, unit, params, elapsed_s=clock[0],
                        return_result=return_result)


#: The first name of :func:`cauchy_schwarz_mi` (the same function).
cs_mi = cauchy_schwarz_mi
