"""The DSE paper's synthetic data (Liao, Liu et al., arXiv 2312.04823, section 4).

:func:`gaussian_blobs` with label corruption (:func:`corrupt_labels`),
:func:`branching_tree` and :func:`intrinsic_dimension_data`.
"""

from __future__ import annotations

import numpy as np

from infolens.core.validation import check_int, check_option, check_real
from infolens.datasets.ground_truth import seeded_rng

__all__ = ["branching_tree", "corrupt_labels", "gaussian_blobs", "intrinsic_dimension_data"]


def corrupt_labels(labels, ratio, *, n_classes=None, random_state=0):
    """Replace a fraction ``ratio`` of the labels by uniformly random classes.

    As in the paper, a corrupted label is redrawn from all classes (so it may
    by chance keep its value); at ``ratio = 1`` labels carry no information.

    Returns
    -------
    ndarray of shape (n_samples,), int
    """
    caller = "corrupt_labels"
    ratio = check_real(ratio, "ratio", caller, low=0.0, high=1.0)
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    k = int(labels.max()) + 1 if n_classes is None else n_classes
    rng = seeded_rng(random_state, caller)
    out = labels.copy()
    idx = rng.choice(labels.size, int(round(ratio * labels.size)), replace=False)
    out[idx] = rng.integers(0, k, idx.size)
    return out


def _uniform_noise(shape, amplitude, rng):
    return amplitude * rng.uniform(-1.0, 1.0, shape)


def gaussian_blobs(n=5000, dim=20, *, n_centers=3, cluster_std=1.0, corruption=0.0,
                   noise=0.01, random_state=0):
    """Isotropic Gaussian blobs with label corruption and additive uniform noise (paper Fig. 3).

    Centres are drawn uniformly in ``[-10, 10]^dim`` (as ``sklearn``'s
    ``make_blobs``); noise ``U(-1, 1) * noise * max|Z|`` is added to every
    coordinate; a fraction ``corruption`` of the labels is redrawn.

    Returns
    -------
    Z : ndarray of shape (n, dim)
    labels : ndarray of shape (n,), int
        Possibly corrupted labels.
    true_labels : ndarray of shape (n,), int
    """
    caller = "gaussian_blobs"
    n = check_int(n, "n", caller, low=2)
    dim = check_int(dim, "dim", caller, low=1)
    n_centers = check_int(n_centers, "n_centers", caller, low=1)
    cluster_std = check_real(cluster_std, "cluster_std", caller, low=0.0)
    noise = check_real(noise, "noise", caller, low=0.0)
    rng = seeded_rng(random_state, caller)
    centres = rng.uniform(-10.0, 10.0, (n_centers, dim))
    true = np.arange(n) % n_centers
    rng.shuffle(true)
    Z = centres[true] + cluster_std * rng.standard_normal((n, dim))
    Z += _uniform_noise(Z.shape, noise * np.abs(Z).max(), rng)
    labels = corrupt_labels(true, corruption, n_classes=n_centers,
                            random_state=None if random_state is None else random_state + 1)
    return Z, labels, true


def branching_tree(n_branches=5, n_per_branch=100, dim=20, *, step=1.0, noise=0.0,
                   random_state=0):
    """PHATE-style branching random walks (paper section 4, trees).

    Branch 0 is a random walk from the origin; every later branch starts at a
    random point of an earlier branch and walks on with Gaussian steps of
    scale ``step`` along a drift direction of its own, so that branches
    diverge.

    Returns
    -------
    Z : ndarray of shape (n_branches * n_per_branch, dim)
    branch : ndarray of shape (n_branches * n_per_branch,), int
    """
    caller = "branching_tree"
    n_branches = check_int(n_branches, "n_branches", caller, low=1)
    n_per_branch = check_int(n_per_branch, "n_per_branch", caller, low=2)
    dim = check_int(dim, "dim", caller, low=1)
    step = check_real(step, "step", caller, low=0.0, closed_low=False)
    noise = check_real(noise, "noise", caller, low=0.0)
    rng = seeded_rng(random_state, caller)
    pieces = []
    for b in range(n_branches):
        if b == 0:
            start = np.zeros(dim)
        else:
            parent = pieces[rng.integers(0, b)]
            start = parent[rng.integers(0, n_per_branch)]
        drift = rng.standard_normal(dim)
        drift *= step / np.linalg.norm(drift)
        walk = np.cumsum(drift + 0.5 * step / np.sqrt(dim) * rng.standard_normal(
            (n_per_branch, dim)), axis=0)
        pieces.append(start + walk)
    Z = np.vstack(pieces)
    if noise > 0:
        Z += noise * rng.standard_normal(Z.shape)
    return Z, np.repeat(np.arange(n_branches), n_per_branch)


def intrinsic_dimension_data(n=500, ambient_dim=2048, intrinsic_dim=102, *, noise=0.01,
                             distribution="uniform", random_state=0):
    """Points whose first ``intrinsic_dim`` coordinates vary, the rest constant (paper Fig. 2).

    Parameters
    ----------
    n : int, default=500
    ambient_dim : int, default=2048
    intrinsic_dim : int, default=102
        Number of varying coordinates (``<= ambient_dim``).
    noise : float, default=0.01
        Amplitude of ``U(-1, 1)`` noise added to every coordinate.
    distribution : {"uniform", "normal"}, default="uniform"
        ``U(-1, 1)`` or ``N(0, 1)`` on the varying coordinates.
    random_state : int or None, default=0

    Returns
    -------
    ndarray of shape (n, ambient_dim)
    """
    caller = "intrinsic_dimension_data"
    n = check_int(n, "n", caller, low=2)
    ambient_dim = check_int(ambient_dim, "ambient_dim", caller, low=1)
    intrinsic_dim = check_int(intrinsic_dim, "intrinsic_dim", caller, low=0, high=ambient_dim)
    noise = check_real(noise, "noise", caller, low=0.0)
    distribution = check_option(distribution, "distribution", caller, ("uniform", "normal"))
    rng = seeded_rng(random_state, caller)
    Z = np.zeros((n, ambient_dim))
    if distribution == "uniform":
        Z[:, :intrinsic_dim] = rng.uniform(-1.0, 1.0, (n, intrinsic_dim))
    else:
        Z[:, :intrinsic_dim] = rng.standard_normal((n, intrinsic_dim))
    Z += _uniform_noise(Z.shape, noise, rng)
    return Z
