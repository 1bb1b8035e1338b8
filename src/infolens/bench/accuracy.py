"""Ground-truth accuracy harness: every calibrated estimator on every task with a known answer.

Three groups of rows:

* **MI tasks** (truth in nats, :mod:`infolens.datasets`): KSG 1 and 2, MINE,
  NWJ, InfoNCE, compressed KSG; bias = mean - truth, spread = standard
  deviation over seeds, time = mean seconds per call;
* **entropy tasks**: Kozachenko-Leonenko against Gaussian / uniform entropies;
* **exact cases**: Vendi on ``k`` orthogonal clusters (= k), RankMe on rank-r
  matrices (= r), Renyi / Cauchy-Schwarz on separated groups (= log k),
  alpha-ReQ on an exact power-law spectrum, and the DSE/DSMI properties
  (blobs -> log2 k as t grows, shuffled labels ~ 0, monotone correlation sweep).

:func:`~infolens.bench.accuracy_report.check_requirements` turns the rows into the
pass/fail list of the accuracy requirements, and
:func:`~infolens.bench.accuracy_report.write_accuracy` writes them out; both
are importable from here too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

import infolens
from infolens import datasets
from infolens.bench.accuracy_report import check_requirements, write_accuracy
from infolens.core import optional
from infolens.core.validation import InvalidParameterError

__all__ = ["AccuracyRow", "check_requirements", "run_accuracy", "write_accuracy"]


@dataclass
class AccuracyRow:
    """One (task, method) cell of the accuracy table; values in nats unless ``unit`` says."""

    group: str
    task: str
    method: str
    truth: float
    values: list = field(default_factory=list)
    times: list = field(default_factory=list)
    unit: str = "nats"

    @property
    def mean(self):
        return float(np.mean(self.values))

    @property
    def bias(self):
        return self.mean - self.truth

    @property
    def spread(self):
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else 0.0

    @property
    def time(self):
        return float(np.mean(self.times))

    @property
    def relative_error(self):
        return abs(self.bias) / abs(self.truth) if self.truth else abs(self.bias)


def _mi_tasks(quick):
    """``name -> (builder(n, seed) -> Task, dimension class)``."""
    t = {
        "normal-1x1-rho0.5": lambda n, s: datasets.bivariate_normal(n, 0.5, random_state=s),
        "normal-1x1-rho0.9": lambda n, s: datasets.bivariate_normal(n, 0.9, random_state=s),
        "normal-dense-2x2": lambda n, s: datasets.multivariate_normal(n, 2, 2, random_state=s),
        "normal-sparse-2x2": lambda n, s: datasets.multivariate_normal(
            n, 2, 2, correlation=0.8, interactions="sparse", random_state=s),
        "normal-dense-5x5": lambda n, s: datasets.multivariate_normal(n, 5, 5, random_state=s),
        "normal-dense-25x25": lambda n, s: datasets.multivariate_normal(n, 25, 25,
                                                                        random_state=s),
        "student-1x1-dof1": lambda n, s: datasets.student_t(n, 1, 1, 1, random_state=s),
        "student-2x2-dof2": lambda n, s: datasets.student_t(n, 2, 2, 2, random_state=s),
    }
    if not quick:
        t.update({
            "normal-1x1-rho0.75": lambda n, s: datasets.bivariate_normal(n, 0.75,
                                                                         random_state=s),
            "normal-sparse-5x5": lambda n, s: datasets.multivariate_normal(
                n, 5, 5, correlation=0.8, interactions="sparse", random_state=s),
            "student-2x2-dof1": lambda n, s: datasets.student_t(n, 2, 2, 1, random_state=s),
            "student-3x3-dof2": lambda n, s: datasets.student_t(n, 3, 3, 2, random_state=s),
            "normal-1x1-rho0.75-asinh": lambda n, s: datasets.transform(
                datasets.bivariate_normal(n, 0.75, random_state=s), "asinh"),
            "normal-1x1-rho0.75-half_cube": lambda n, s: datasets.transform(
                datasets.bivariate_normal(n, 0.75, random_state=s), "half_cube"),
            "normal-1x1-rho0.75-normal_cdf": lambda n, s: datasets.transform(
                datasets.bivariate_normal(n, 0.75, random_state=s), "normal_cdf"),
            "normal-dense-2x2-spiral": lambda n, s: datasets.transform(
                datasets.multivariate_normal(n, 2, 2, random_state=s), "spiral"),
        })
    return t


def _mi_methods(quick):
    fast = {
        "ksg1": lambda X, Y, s: infolens.ksg_mi(X, Y, algorithm=1, base="e", random_state=s),
        "ksg2": lambda X, Y, s: infolens.ksg_mi(X, Y, algorithm=2, base="e", random_state=s),
        "compressed-pca4": lambda X, Y, s: infolens.compressed_mi(X, Y, n_components=4,
                                                                  base="e", random_state=s),
    }
    neural = {
        "mine": lambda X, Y, s: infolens.mine_mi(X, Y, base="e", random_state=s),
        "nwj": lambda X, Y, s: infolens.nwj_mi(X, Y, base="e", random_state=s),
        "infonce": lambda X, Y, s: infolens.infonce_mi(X, Y, base="e", random_state=s),
    }
    return fast, neural


def _neural_available():
    try:
        optional.torch("the neural MI estimators")
    except ImportError:
        return False
    return True


def _timed(f, *args):
    start = time.perf_counter()
    value = f(*args)
    return float(value), time.perf_counter() - start


def run_accuracy(*, n=5000, seeds=(0, 1, 2), quick=False, neural=True, progress=None):
    """Run the harness.

    Parameters
    ----------
    n : int, default=5000
        Samples per task.
    seeds : sequence of int, default=(0, 1, 2)
        One data draw (and estimator seed) per entry.
    quick : bool, default=False
        Fewer tasks; neural bounds on the 5x5 and 25x25 Gaussians only.
    neural : bool, default=True
        Include MINE / NWJ / InfoNCE (needs torch; skipped without it).
    progress : callable or None
        Called with one line of text per finished cell.

    Returns
    -------
    list of AccuracyRow
    """
    if not seeds:
        raise InvalidParameterError("run_accuracy needs at least one seed; got none.")
    say = progress or (lambda line: None)
    rows = []
    fast, neural_methods = _mi_methods(quick)
    use_neural = neural and _neural_available()
    for name, build in _mi_tasks(quick).items():
        methods = dict(fast)
        dims = build(4, 0).X.shape[1]
        if dims <= 4:
            methods.pop("compressed-pca4")
        if use_neural and (not quick or name in ("normal-dense-5x5", "normal-dense-25x25")):
            methods.update(neural_methods)
        tasks = [build(n, s) for s in seeds]
        for mname, f in methods.items():
            row = AccuracyRow("mi", name, mname, tasks[0].mi)
            for s, task in zip(seeds, tasks):
                v, dt = _timed(f, task.X, task.Y, s)
                row.values.append(v)
                row.times.append(dt)
            rows.append(row)
            say(f"{name:32s} {mname:16s} bias {row.bias:+.3f} nats  ({row.time:.2f} s)")

    entropy_tasks = {
        "gaussian-1d": lambda s: (datasets.multivariate_normal(n, 1, 1, correlation=0.0,
                                                               random_state=s).X,
                                  datasets.gaussian_entropy(np.eye(1))),
        "gaussian-3d-corr": lambda s: _correlated_gaussian(n, s),
        "uniform-box-2d": lambda s: (datasets.uniform_box(n, [0, 0], [1, 3], random_state=s).X,
                                     float(np.log(3.0))),
    }
    for name, build in entropy_tasks.items():
        for metric in ("euclidean", "chebyshev"):
            row = None
            for s in seeds:
                X, truth = build(s)
                row = row or AccuracyRow("entropy", name, f"kl-{metric}", truth)
                v, dt = _timed(lambda A: infolens.kl_entropy(A, metric=metric, base="e"), X)
                row.values.append(v)
                row.times.append(dt)
            rows.append(row)
            say(f"{name:32s} kl-{metric:13s} bias {row.bias:+.3f} nats")

    rows.extend(_exact_rows(n, seeds, quick, say))
    return rows


def _correlated_gaussian(n, seed):
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 0.5]])
    X = np.random.default_rng(seed).multivariate_normal(np.zeros(3), cov, n)
    return X, datasets.gaussian_entropy(cov)


def _orthogonal_clusters(k, per, dim, seed):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((dim, k)))[0].T
    return np.repeat(Q, per, axis=0) * rng.uniform(0.5, 2.0, (k * per, 1))


def _exact_rows(n, seeds, quick, say):
    rows = []

    def add(group, task, method, truth, f, unit):
        row = AccuracyRow(group, task, method, truth, unit=unit)
        for s in seeds:
            v, dt = _timed(f, s)
            row.values.append(v)
            row.times.append(dt)
        rows.append(row)
        say(f"{task:32s} {method:16s} value {row.mean:.6g} (truth {truth:.6g})")

    n_exact = min(n, 2000)
    for k in (2, 5, 10):
        add("exact", f"orthogonal-clusters-k{k}", "vendi", float(k),
            lambda s, k=k: infolens.vendi_score(_orthogonal_clusters(k, n_exact // k, 32, s)),
            "effective samples")
        add("exact", f"orthogonal-clusters-k{k}", "rankme", float(k),
            lambda s, k=k: infolens.rankme(np.repeat(np.linalg.qr(
                np.random.default_rng(s).standard_normal((32, k)))[0].T, 50, axis=0)),
            "effective rank")
    m = 100 if quick else 200
    for k in (2, 4):
        labels = np.repeat(np.arange(k), m)
        far = np.eye(k)[labels] * 1e3
        add("exact", f"separated-groups-k{k}", "renyi-mi", float(np.log(k)),
            lambda s, far=far, labels=labels: infolens.renyi_mi(far, labels, order=1.0,
                                                               sigma=1.0, base="e"), "nats")
        add("exact", f"separated-groups-k{k}", "cs-mi", float(np.log(k)),
            lambda s, far=far, labels=labels: infolens.cs_mi(far, labels, sigma=1.0, base="e"),
            "nats")
    add("exact", "power-law-spectrum-alpha1", "alpha-req", 1.0,
        lambda s: infolens.alpha_req(_power_law(400, 40, 1.0, s)), "exponent")

    # DSE / DSMI properties (values in bits; the "truth" is the property's target).
    n_blob = 300 if quick else 600
    for k in (2, 3, 5):
        y = np.arange(n_blob) % k
        add("property", f"separated-blobs-k{k}-t50", "dse", float(np.log2(k)),
            lambda s, k=k, y=y: infolens.dse(_blobs(y, k, s), t=50, sigma=2.0), "bits")
        add("property", f"separated-blobs-k{k}-t50", "dsmi", float(np.log2(k)),
            lambda s, k=k, y=y: infolens.dsmi(_blobs(y, k, s), y, t=50, sigma=2.0), "bits")
        # the same property under the default bandwidth (sigma="auto")
        add("property", f"separated-blobs-k{k}-t50-default", "dse", float(np.log2(k)),
            lambda s, k=k, y=y: infolens.dse(_blobs(y, k, s), t=50), "bits")
        add("property", f"separated-blobs-k{k}-t50-default", "dsmi", float(np.log2(k)),
            lambda s, k=k, y=y: infolens.dsmi(_blobs(y, k, s), y, t=50), "bits")
    y3 = np.arange(n_blob) % 3
    add("property", "blobs-k3-shuffled-labels", "dsmi", 0.0,
        lambda s: infolens.dsmi(_blobs(y3, 3, s), np.random.default_rng(s + 7).permutation(y3)),
        "bits")
    for rho in (0.0, 0.5, 0.9, 0.99):
        add("property", f"correlation-sweep-rho{rho:g}", "dsmi", float("nan"),
            lambda s, rho=rho: _sweep_point(rho, n_blob, s), "bits")
    return rows


def _blobs(y, k, seed):
    rng = np.random.default_rng(seed)
    return np.eye(max(k, 2))[y] * 30.0 + rng.standard_normal((y.size, max(k, 2)))


def _sweep_point(rho, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    Y = rho * X[:, 0] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    groups = np.argsort(np.argsort(Y)) * 10 // n
    return infolens.dsmi(X, groups, y_kind="partition")


def _power_law(n, d, alpha, seed):
    rng = np.random.default_rng(seed)
    lam = np.arange(1, d + 1, dtype=float) ** -alpha
    U = rng.standard_normal((n, d))
    U = np.linalg.qr(U - U.mean(axis=0))[0]
    V = np.linalg.qr(rng.standard_normal((d, d)))[0]
    return U @ np.diag(np.sqrt(lam * (n - 1))) @ V.T
