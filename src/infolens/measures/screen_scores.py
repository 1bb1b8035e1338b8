"""Per-feature dependence scores of one outcome, batched over features (nats).

Each scorer is built once from the features (``prepare``) and then scores any
outcome vector, so that permutation nulls re-use the prepared features.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from infolens.measures.kde_grid import class_mi, joint_mi, plugin_mi
from infolens.measures.knn import ksg_mi, normal_scores

__all__ = ["SCREEN_METHODS", "make_scorer"]

#: Scoring methods of :func:`infolens.feature_screen`.
SCREEN_METHODS = ("kde", "binning", "ksg", "pearson")
#: Grid cells per feature chunk (bounds the FFT workspace to a few tens of MB).
_CELLS_PER_CHUNK = 2**20


def _chunks(n_features, size):
    step = max(1, _CELLS_PER_CHUNK // (size * size))
    return [slice(s, min(n_features, s + step)) for s in range(0, n_features, step)]


def _run(tasks, n_jobs):
    if n_jobs == 1 or len(tasks) == 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        return list(pool.map(lambda task: task(), tasks))


def _gaussian_mi(r2):
    return -0.5 * np.log1p(-np.clip(r2, 0.0, 1.0 - 1e-15))


class _Scorer:
    """Scores of the columns of ``X`` against an outcome; ``kind`` is "labels" or "continuous"."""

    def __init__(self, method, X, kind, n_classes, options, n_jobs):
        self.method, self.kind, self.n_classes = method, kind, n_classes
        self.options, self.n_jobs = options, n_jobs
        self.n, self.d = X.shape
        if method in ("kde", "binning"):
            U = normal_scores(X)
            self.U = np.ascontiguousarray(U.T)
            if method == "binning":
                self.bins = self._bins(self.n)
                ranks = np.argsort(np.argsort(U, axis=0, kind="stable"), axis=0, kind="stable")
                self.xcodes = np.ascontiguousarray((ranks * self.bins // self.n).T)
        elif method == "pearson":
            Xc = X - X.mean(axis=0)
            self.Xs = Xc / np.linalg.norm(Xc, axis=0)
        else:
            self.X = X

    def _bins(self, n):
        return self.options.get("n_bins") or max(2, int(round(n ** (1.0 / 3.0))))

    def prepare_outcome(self, y):
        """The outcome as the method reads it: normal scores, bin codes or class codes."""
        if self.kind == "labels":
            return y
        if self.method == "kde":
            return normal_scores(y[:, None])[:, 0]
        if self.method == "binning":
            ranks = np.argsort(np.argsort(y, kind="stable"), kind="stable")
            return ranks * self._bins(self.n) // self.n
        return y

    def score(self, t):
        """Scores (nats) of every column against the prepared outcome ``t``."""
        if self.method == "pearson":
            return self._pearson(t)
        if self.method == "ksg":
            y_kind = "labels" if self.kind == "labels" else "continuous"
            tasks = [lambda j=j: ksg_mi(self.X[:, j:j + 1], t, y_kind=y_kind, base="e",
                                        k=self.options.get("k", 3)) for j in range(self.d)]
            return np.array(_run(tasks, self.n_jobs))
        if self.method == "binning":
            return self._binning(t)
        size = self.options["grid_size"]
        kw = {"rule": self.options["bandwidth"], "multiplier": self.options["multiplier"],
              "size": size}
        if self.kind == "labels":
            tasks = [lambda s=s: class_mi(self.U[s], t, self.n_classes, **kw)
                     for s in _chunks(self.d, size)]
        else:
            tasks = [lambda s=s: joint_mi(self.U[s], np.broadcast_to(t, self.U[s].shape), **kw)
                     for s in _chunks(self.d, size)]
        return np.concatenate(_run(tasks, self.n_jobs))

    def _pearson(self, t):
        if self.kind == "labels":
            # Correlation ratio: the share of each feature's variance between classes
            # (the squared point-biserial correlation for two classes).
            onehot = np.eye(self.n_classes)[t]
            means = (self.Xs.T @ onehot) / onehot.sum(axis=0)
            r2 = (means ** 2 * onehot.sum(axis=0)).sum(axis=1)
        else:
            tc = t - t.mean()
            r2 = (self.Xs.T @ (tc / np.linalg.norm(tc))) ** 2
        return _gaussian_mi(r2)

    def _binning(self, t):
        by = self.n_classes if self.kind == "labels" else self._bins(self.n)
        bx = self.bins
        cells = bx * by
        idx = np.arange(self.d)[:, None] * cells + self.xcodes * by + t[None, :]
        joint = np.bincount(idx.ravel(), minlength=self.d * cells).reshape(self.d, bx, by)
        return plugin_mi(joint.astype(np.float64))


def make_scorer(method, X, kind, n_classes, options, n_jobs):
    """A scorer of the columns of ``X`` (n, d), all of which vary, by ``method``.

    Returns an object with ``prepare_outcome(y)`` and ``score(t) -> ndarray (d,)`` in nats;
    ``options`` holds ``bandwidth``, ``multiplier``, ``grid_size`` (kde), ``n_bins``
    (binning, None for ``round(n ** (1/3))`` equal-frequency bins) and ``k`` (ksg).
    """
    return _Scorer(method, X, kind, n_classes, options, n_jobs)
