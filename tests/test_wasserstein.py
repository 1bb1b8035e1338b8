"""Wasserstein dependency: closed forms, the analytic bracket of the neural dual, bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import infolens
from infolens import InvalidParameterError, wasserstein_dependency

RHO = 0.8


def _pair_w2(rho):
    """W2 between a standardised Gaussian pair with correlation ``rho`` and its product."""
    return math.sqrt(4 - 2 * (math.sqrt(1 + rho) + math.sqrt(1 - rho)))


def _shared(k, n, rho=RHO, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, k))
    return a, rho * a + math.sqrt(1 - rho ** 2) * rng.normal(size=(n, k))


def _bracket(k, rho=RHO):
    """[c_k (1 - sqrt(1 - rho)), sqrt(k) W2_pair]: f = |x - y| / sqrt(2) and W1 <= W2."""
    c_k = math.sqrt(2) * math.exp(math.lgamma((k + 1) / 2) - math.lgamma(k / 2))
    return c_k * (1 - math.sqrt(1 - rho)), math.sqrt(k) * _pair_w2(rho)


def test_bracket_matches_the_seed_numbers():
    for k, (lo, hi) in {1: (0.441, 0.650), 4: (1.040, 1.300), 16: (2.18, 2.599)}.items():
        assert _bracket(k) == pytest.approx((lo, hi), abs=0.006)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, -0.7])
def test_gaussian_closed_form(rho):
    rng = np.random.default_rng(1)
    x = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=50_000)
    value = wasserstein_dependency(x[:, :1], x[:, 1], method="gaussian")
    assert value == pytest.approx(_pair_w2(rho), abs=0.01)


def test_gaussian_closed_form_on_the_sample_covariance_and_k_pairs():
    a, b = _shared(3, 2000)
    # k independent pairs: W2 = sqrt(k) x the pair's, from the fitted correlations
    r = [np.corrcoef(a[:, i], b[:, i])[0, 1] for i in range(3)]
    expected = math.sqrt(sum(_pair_w2(v) ** 2 for v in r))
    fit = wasserstein_dependency(a, b, method="gaussian", return_result=True)
    assert fit.value == pytest.approx(expected, abs=0.02)
    assert fit.unit == "standardised distance" and fit.params["p"] == 2


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.25, 0.5, 0.8])
def test_binary_symmetric_channel_exact(eps):
    pytest.importorskip("ot")
    rng = np.random.default_rng(2)
    n = 20_000
    x = rng.integers(0, 2, n)
    y = np.where(rng.random(n) < eps, 1 - x, x)
    value = wasserstein_dependency(x[:, None].astype(float), y, method="exact",
                                   standardize=False)
    assert value == pytest.approx(abs(1 - 2 * eps) / 2, abs=0.02)


def test_exact_refuses_large_n_and_names_the_alternatives():
    a, b = _shared(1, 5001)
    with pytest.raises(InvalidParameterError, match="sliced.*neural"):
        wasserstein_dependency(a, b, method="exact")


def test_exact_and_sliced_on_a_small_gaussian_pair():
    pytest.importorskip("ot")
    a, b = _shared(1, 800, rho=0.5)
    exact = wasserstein_dependency(a, b, method="exact", p=2)
    assert 0.25 < exact < 0.6    # truth 0.369 plus the plug-in bias (about 0.2 at N=500)
    with pytest.warns(UserWarning, match="decreases"):
        sliced = wasserstein_dependency(a, b, method="sliced", p=2)
    assert sliced == pytest.approx(0.1825, abs=0.08)


def test_independent_data_is_near_zero():
    rng = np.random.default_rng(3)
    z, y = rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2))
    assert wasserstein_dependency(z, y, method="gaussian") <= 0.05
    pytest.importorskip("torch")
    assert abs(wasserstein_dependency(z, y, method="neural", epochs=60)) <= 0.05


@pytest.mark.parametrize("k", [1, 4, 16])
def test_neural_inside_the_analytic_bracket(k):
    pytest.importorskip("torch")
    a, b = _shared(k, 4000)
    lo, hi = _bracket(k)
    result = wasserstein_dependency(a, b, return_result=True)
    assert lo <= result.value <= hi, (k, result.value, (lo, hi), result.details)


def test_neural_is_seeded():
    pytest.importorskip("torch")
    a, b = _shared(1, 300)
    kw = {"epochs": 5, "hidden": (16,)}
    assert wasserstein_dependency(a, b, **kw) == wasserstein_dependency(a, b, **kw)


def test_labels_are_one_hot_at_distance_one():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 4000)
    z = np.c_[y + 0.0]
    # Z determines Y: same as the BSC with eps = 0
    value = wasserstein_dependency(z, y, method="exact", standardize=False)
    assert value == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("bad, match", [
    (lambda z, y: (np.r_[z[:-1], [[np.nan]]], y), "finite"),
    (lambda z, y: (np.c_[z, np.ones(len(z))], y), "constant"),
    (lambda z, y: (z, np.zeros(len(z), int)), "single class"),
    (lambda z, y: (z[:5], y[:5]), "at least 10"),
])
def test_bad_input_is_refused(bad, match):
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(50, 1)), rng.integers(0, 2, 50)
    with pytest.raises(InvalidParameterError, match=match):
        wasserstein_dependency(*bad(z, y), method="gaussian")


def test_orders_the_method_cannot_compute_are_refused():
    a, b = _shared(1, 100)
    with pytest.raises(InvalidParameterError, match="W2 only"):
        wasserstein_dependency(a, b, method="gaussian", p=1)
    with pytest.raises(InvalidParameterError, match="W1 only"):
        wasserstein_dependency(a, b, method="neural", p=2)


def test_registered_as_a_dependence_not_a_mutual_information():
    info = infolens.list_methods("dependence")[0]
    assert info.func is wasserstein_dependency and info.unit == "standardised distance"
    with pytest.raises(InvalidParameterError, match="'method'"):
        infolens.mutual_information(np.zeros((20, 1)), np.zeros(20), method="wasserstein")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(wasserstein_dependency(*_shared(1, 200), method="gaussian"))
