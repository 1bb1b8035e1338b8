"""Mutual information after lossy compression (Butakov et al.).

High-dimensional representations are first compressed to ``n_components``
dimensions (PCA, or a small autoencoder trained with torch), then KSG is run
on the compressed variables.  By the data-processing inequality
``I(f(Z); g(Y)) <= I(Z; Y)``; the estimate is meaningful when the compressor
keeps the information-bearing directions.

Reference: I. Butakov, A. Tolmachev, S. Malanchuk, A. Neopryatnaya,
A. Frolov, K. Andreev, "Information Bottleneck Analysis of Deep Neural
Networks via Lossy Compression", ICLR (2024).
"""

from __future__ import annotations

import numpy as np

from infolens.core import optional
from infolens.core.backend import power_of_two_scaled
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import check_bool, check_int, check_option, check_real, resolve_base
from infolens.measures.common import check_mi_inputs, standardize
from infolens.measures.knn import ksg_mi
from infolens.measures.neural import mlp

__all__ = ["compress", "compressed_mi"]

COMPRESSORS = ("pca", "autoencoder")


def compress(A, n_components, method="pca", *, epochs=100, lr=1e-3, random_state=0):
    """Compress the rows of ``A`` to ``n_components`` dimensions.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_features)
    n_components : int
        Target dimension; inputs already that small are only standardised.
    method : {"pca", "autoencoder"}
        PCA (``sklearn``), or an MLP autoencoder (``D -> 128 -> k -> 128 -> D``,
        MSE, Adam) whose bottleneck is returned.
    epochs, lr : autoencoder training length and learning rate.
    random_state : int or None

    Returns
    -------
    ndarray of shape (n_samples, min(n_components, n_features))
    """
    if A.shape[1] <= n_components:
        return standardize(A)
    # Centre and divide by one global scale: per-column standardisation would erase the
    # variance ranking that PCA (and a reconstruction loss) relies on.  The power of two
    # first (exact) keeps that scale finite for data at 1e300 or 1e-300.
    A = power_of_two_scaled(A)[0]
    A = A - A.mean(axis=0)
    scale = A.std()
    A = A / (scale if scale > 0 else 1.0)
    if method == "pca":
        pca = optional.scikit_learn("decomposition").PCA(n_components=n_components,
                                                         random_state=random_state)
        return pca.fit_transform(A)
    torch = optional.torch("the autoencoder compressor")
    seed = 0 if random_state is None else random_state
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    enc = mlp(torch, A.shape[1], (128,), n_components)
    dec = mlp(torch, n_components, (128,), A.shape[1])
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=lr)
    data = torch.as_tensor(A, dtype=torch.float32)
    bsz = min(256, data.shape[0])
    for _ in range(epochs):
        order = torch.randperm(data.shape[0], generator=gen)
        for s in range(0, data.shape[0], bsz):
            x = data[order[s:s + bsz]]
            loss = ((dec(enc(x)) - x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return enc(data).numpy().astype(np.float64)


def compressed_mi(Z, Y, *, n_components=4, compressor="pca", k=3, y_kind="auto", epochs=100,
                  lr=1e-3, base=2, random_state=0, return_result=False):
    """KSG mutual information between compressed ``Z`` and (compressed) ``Y``.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
        Continuous vectors (compressed like ``Z`` when wider than
        ``n_components``) or labels (left as they are; Ross's estimator).
    n_components : int, default=4
        Compressed dimension (KSG degrades above about 10).
    compressor : {"pca", "autoencoder"}, default="pca"
    k : int, default=3
        KSG neighbour order.
    y_kind : {"auto", "continuous", "labels"}, default="auto"
    epochs, lr : autoencoder training (``compressor="autoencoder"`` only).
    base : {2, "e", 10}, default=2
    random_state : int or None, default=0
    return_result : bool, default=False

    Returns
    -------
    float or Result
        An estimate of ``I(f(Z); g(Y)) <= I(Z; Y)``, in the unit of ``base``.
    """
    caller = "compressed_mi"
    check_bool(return_result, "return_result", caller)
    n_components = check_int(n_components, "n_components", caller, low=1)
    compressor = check_option(compressor, "compressor", caller, COMPRESSORS)
    k = check_int(k, "k", caller, low=1)
    epochs = check_int(epochs, "epochs", caller, low=1)
    lr = check_real(lr, "lr", caller, low=0.0, closed_low=False)
    random_state = check_int(random_state, "random_state", caller, low=0, allow_none=True)
    resolve_base(base, caller)
    X, Yv, kind = check_mi_inputs(Z, Y, caller, y_kind)
    with stopwatch() as clock:
        cz = compress(X, n_components, compressor, epochs=epochs, lr=lr,
                      random_state=random_state)
        cy = Yv if kind == "labels" else compress(Yv, n_components, compressor, epochs=epochs,
                                                   lr=lr, random_state=random_state)
        inner = ksg_mi(cz, cy, k=k, y_kind=kind, base=base, random_state=random_state,
                       return_result=True)
    params = {"n_components": n_components, "compressor": compressor, "k": k, "y_kind": kind,
              "base": base, "random_state": random_state}
    if compressor == "autoencoder":
        params.update(epochs=epochs, lr=lr)
    details = {"compressed_dims": (cz.shape[1], None if kind == "labels" else cy.shape[1])}
    return build_result(caller, inner.value, inner.unit, params, elapsed_s=clock[0],
                        details=details, return_result=return_result)
