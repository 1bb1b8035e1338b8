"""Conditional mutual information: Gaussian closed form, chain rule, classifier CMI."""

from __future__ import annotations

import numpy as np
import pytest

from infolens import (
    InvalidParameterError,
    classifier_cmi,
    conditional_mutual_information,
    ksg_mi,
)

N = 5000


def _gaussian_task(seed, dims=(1, 1, 1), strength=1.0):
    """Samples of a random Gaussian ``(X, Y, Z)`` and its true ``I(X; Y | Z)`` in nats."""
    rng = np.random.default_rng(seed)
    d = sum(dims)
    A = rng.normal(size=(d, d)) * strength
    cov = A @ A.T + np.eye(d)
    W = rng.multivariate_normal(np.zeros(d), cov, size=N)
    ix = np.arange(dims[0])
    iy = np.arange(dims[0], dims[0] + dims[1])
    iz = np.arange(dims[0] + dims[1], d)

    def logdet(idx):
        return np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]

    truth = 0.5 * (logdet(np.r_[ix, iz]) + logdet(np.r_[iy, iz]) - logdet(iz)
                   - logdet(np.r_[ix, iy, iz]))
    return W[:, ix], W[:, iy], W[:, iz], truth


@pytest.mark.parametrize("seed, dims", [(0, (1, 1, 1)), (1, (1, 1, 2)), (2, (2, 1, 1))])
@pytest.mark.parametrize("method", ["ksg", "gaussian"])
def test_gaussian_truth_within_005_nats(seed, dims, method):
    X, Y, Z, truth = _gaussian_task(seed, dims)
    value = conditional_mutual_information(X, Y, Z, method=method, base="e")
    assert value == pytest.approx(truth, abs=0.05), (truth, value)


def test_gaussian_closed_form_is_exact_on_the_sample_covariance():
    X, Y, Z, _ = _gaussian_task(4)
    cov = np.cov(np.hstack([X, Y, Z]), rowvar=False)
    ld = lambda idx: np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]  # noqa: E731
    expected = 0.5 * (ld([0, 2]) + ld([1, 2]) - ld([2]) - ld([0, 1, 2]))
    assert conditional_mutual_information(X, Y, Z, method="gaussian", base="e") == \
        pytest.approx(expected, rel=1e-12)
    bits = conditional_mutual_information(X, Y, Z, method="gaussian")
    assert bits == pytest.approx(expected / np.log(2), rel=1e-12)


def test_conditionally_independent_is_near_zero():
    rng = np.random.default_rng(5)
    z = rng.normal(size=N)
    x, y = z + rng.normal(size=N), z + rng.normal(size=N)
    assert abs(conditional_mutual_information(x, y, z, base="e")) < 0.02
    assert ksg_mi(x[:, None], y, base="e") > 0.1   # marginally dependent: 0.144 nats


def test_chain_rule_within_the_estimators_error():
    X, Y, Z, _ = _gaussian_task(6)
    whole = ksg_mi(X, np.hstack([Y, Z]), base="e")
    parts = ksg_mi(X, Z, base="e") + conditional_mutual_information(X, Y, Z, base="e")
    assert whole == pytest.approx(parts, abs=0.03)
    g = conditional_mutual_information(X, Y, Z, method="gaussian", base="e")
    assert g >= 0


def test_invariant_under_monotone_maps():
    X, Y, Z, truth = _gaussian_task(7)
    a = conditional_mutual_information(X, Y, Z, base="e")
    b = conditional_mutual_information(np.exp(X), Y ** 3, np.arctan(Z), base="e")
    assert a == pytest.approx(b, abs=1e-9)


def test_discrete_conditioning_variable():
    rng = np.random.default_rng(8)
    z = rng.integers(0, 3, N)
    x = rng.normal(size=N) + z
    y = x + rng.normal(size=N) + z
    value = conditional_mutual_information(x, y, z, base="e")
    assert value == pytest.approx(0.5 * np.log(2), abs=0.05)
    gauss = conditional_mutual_information(x, y, z, method="gaussian", base="e")
    assert gauss == pytest.approx(0.5 * np.log(2), abs=0.03)


@pytest.mark.parametrize("bad, match", [
    (lambda x: (np.r_[x[:-1], np.nan], x, x), "finite"),
    (lambda x: (x, np.ones_like(x), x), "constant"),
    (lambda x: (x, x, np.zeros(len(x), int)), "single class"),
    (lambda x: (x[:5], x[:5], x[:5]), "at least 10"),
    (lambda x: (x, x[:50], x), "same number of rows"),
])
def test_bad_input_is_refused(bad, match):
    x = np.random.default_rng(0).normal(size=100)
    with pytest.raises(InvalidParameterError, match=match):
        conditional_mutual_information(*bad(x))


def test_classifier_cmi_is_the_mean_kl_from_class_centroids():
    rng = np.random.default_rng(9)
    P = rng.dirichlet(np.ones(4), size=300)
    y = rng.integers(0, 3, 300)
    expected = np.mean([np.sum(P[i] * np.log(P[i] / P[y == y[i]].mean(axis=0)))
                        for i in range(300)])
    assert classifier_cmi(P, y, base="e") == pytest.approx(expected, rel=1e-12)
    # identical outputs within each class: no intra-class spread
    Q = np.eye(3)[y] * 0.7 + 0.1
    assert classifier_cmi(Q, y) == pytest.approx(0.0, abs=1e-12)


def test_classifier_cmi_refuses_non_probabilities_and_one_class():
    P = np.random.default_rng(0).dirichlet(np.ones(3), size=50)
    with pytest.raises(InvalidParameterError, match="probability"):
        classifier_cmi(P * 2, np.arange(50) % 3)
    with pytest.raises(InvalidParameterError, match="single class"):
        classifier_cmi(P, np.zeros(50, int))


def test_monitor_records_unnecessary_information():
    pytest.importorskip("torch")
    from infolens.monitor import ProbeSet
    from infolens.monitor.measures import unnecessary_information

    rng = np.random.default_rng(10)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    probe = ProbeSet(x, y, n_clusters=4)
    measure = unnecessary_information(base="e")
    assert measure.reference == "x|y"
    # Z copies the input (plus a dead unit): it keeps information about X beyond Y.
    Z = np.hstack([x, np.zeros((300, 1))])
    value, unit, params, _ = measure(Z, probe)
    assert unit == "nats" and value > 0.3
    # Z is the label only: nothing about X beyond Y.
    label_only = np.c_[y + 0.01 * rng.normal(size=300)]
    assert measure(label_only, probe)[0] < 0.1
