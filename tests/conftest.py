"""Shared fixtures: deterministic data generators and the reference oracle.

The reference package ``dse-dsmi`` calls ``warnings.filterwarnings("ignore")``
at import time, which would silence warnings in every other test of the
session; it is therefore imported inside ``warnings.catch_warnings()`` so the
global filters are restored afterwards.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest


def _import_reference():
    with warnings.catch_warnings():
        import dse_dsmi.dse
        import dse_dsmi.dsmi
    return dse_dsmi


@pytest.fixture(scope="session")
def reference():
    """The ``dse_dsmi`` package (test-only oracle, installed with the ``test`` extra)."""
    return _import_reference()


def labels_with_min_count(rng, n, n_classes, *, min_count=2, concentration=1.0):
    """Unbalanced integer labels 0..n_classes-1 with at least ``min_count`` of each.

    Class proportions are drawn from a Dirichlet distribution so that the
    classes have clearly different sizes.
    """
    if n < min_count * n_classes:
        raise ValueError("too few samples for the requested classes")
    base = np.repeat(np.arange(n_classes), min_count)
    p = rng.dirichlet(np.full(n_classes, concentration))
    rest = rng.choice(n_classes, size=n - base.size, p=p)
    y = np.concatenate([base, rest])
    rng.shuffle(y)
    return y.astype(np.int64)


def clustered_embeddings(rng, labels, n_features, *, separation=3.0, noise=1.0, scale=1.0):
    """Gaussian blobs, one per label value, in ``n_features`` dimensions."""
    classes, codes = np.unique(labels, return_inverse=True)
    centres = rng.normal(scale=separation, size=(classes.size, n_features))
    Z = centres[codes] + rng.normal(scale=noise, size=(labels.size, n_features))
    return scale * Z


@pytest.fixture
def make_labels():
    return labels_with_min_count


@pytest.fixture
def make_blobs():
    return clustered_embeddings
