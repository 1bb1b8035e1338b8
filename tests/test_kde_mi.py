"""FFT-KDE mutual information: Gaussian truth, monotone invariance, labels, KDEpy oracle."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

import infolens
from infolens.datasets import ground_truth
from infolens.measures.kde_grid import bandwidth_factor, class_densities


def _pair(n, rho, seed):
    task = ground_truth.bivariate_normal(n, rho, random_state=seed)
    return task.X, task.Y[:, 0], task.mi


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_gaussian_truth_within_003_nats_at_5000(rho):
    X, y, truth = _pair(5000, rho, seed=1)
    assert infolens.kde_mi(X, y, base="e") == pytest.approx(truth, abs=0.03)


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_gaussian_truth_within_003_nats_at_1000_on_average(rho):
    # One draw of N = 1000 has a sampling sd of 0.013 (rho 0.5) to 0.025 (rho 0.9) nats;
    # the mean over seeds isolates the estimator's bias (about +0.01).
    values = [infolens.kde_mi(*_pair(1000, rho, seed)[:2], base="e") for seed in range(8)]
    assert np.mean(values) == pytest.approx(-0.5 * np.log(1 - rho**2), abs=0.03)


def test_independent_pair_is_small_and_non_negative():
    X, y, _ = _pair(2000, 0.0, seed=3)
    value = infolens.kde_mi(X, y, base="e")
    assert 0.0 <= value < 0.02


@pytest.mark.parametrize("transform", [np.exp, lambda v: v**3, np.arctan, lambda v: -v,
                                       lambda v: -np.exp(v)],
                         ids=["exp", "cube", "arctan", "negate", "minus-exp"])
def test_invariant_under_monotone_maps(transform):
    X, y, _ = _pair(1500, 0.7, seed=4)
    ref = infolens.kde_mi(X, y)
    assert abs(infolens.kde_mi(transform(X), y) - ref) < 1e-12
    assert abs(infolens.kde_mi(X, transform(y)) - ref) < 1e-12
    labels = (y > 0.3).astype(int)
    ref_labels = infolens.kde_mi(X, labels)
    assert abs(infolens.kde_mi(transform(X), labels) - ref_labels) < 1e-12


def test_copula_off_agrees_on_gaussian_data_and_is_not_invariant():
    X, y, truth = _pair(5000, 0.6, seed=5)
    assert infolens.kde_mi(X, y, base="e", copula=False) == pytest.approx(truth, abs=0.03)
    assert abs(infolens.kde_mi(np.exp(X), y, copula=False)
               - infolens.kde_mi(X, y, copula=False)) > 1e-3


def _mixture_truth(shift):
    """I(X; C) for C ~ Bernoulli(1/2), X | C ~ N(shift * C, 1), in nats."""
    def integrand(x):
        f = 0.5 * stats.norm.pdf(x) + 0.5 * stats.norm.pdf(x, loc=shift)
        return -f * np.log(f)
    h = integrate.quad(integrand, -12, 12 + shift)[0]
    return h - 0.5 * np.log(2 * np.pi * np.e)


@pytest.mark.parametrize("shift, copula", [(0.5, True), (2.0, True), (4.0, False)])
def test_labels_match_the_mixture_truth(shift, copula):
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 2, 5000)
    X = (rng.normal(size=5000) + shift * labels)[:, None]
    value = infolens.kde_mi(X, labels, base="e", copula=copula)
    assert value == pytest.approx(_mixture_truth(shift), abs=0.02)


def test_copula_understates_well_separated_classes_as_documented():
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 2, 5000)
    X = (rng.normal(size=5000) + 4.0 * labels)[:, None]
    assert infolens.kde_mi(X, labels, base="e") == pytest.approx(0.583, abs=0.01)
    assert "0.583" in infolens.kde_mi.__doc__


def test_one_d_class_densities_match_kdepy():
    kdepy = pytest.importorskip("KDEpy")
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(size=400), rng.standard_t(3, size=300) + 2.0])
    codes = np.zeros(x.size, dtype=np.int64)
    density, lo, step, h = class_densities(x[None, :], codes, 1, size=512)
    grid = lo[0] + step[0] * np.arange(512)
    assert h[0, 0] == pytest.approx(bandwidth_factor("scott", x.size, 1) * x.std(ddof=1))
    estimator = kdepy.FFTKDE(kernel="gaussian", bw=h[0, 0]).fit(x)
    # KDEpy cuts the Gaussian where it drops below 1e-4; cut both at 6 sd to compare densities.
    estimator._kernel_practical_support = 6.0 * h[0, 0]
    reference = estimator.evaluate(grid)
    assert np.max(np.abs(density[0, 0] - reference)) <= 1e-6


def test_several_columns_use_sample_densities():
    task = ground_truth.multivariate_normal(1000, 2, 1, correlation=0.5, random_state=0)
    result = infolens.kde_mi(task.X, task.Y, base="e", return_result=True)
    assert result.params["evaluation"] == "samples"
    assert result.value == pytest.approx(task.mi, abs=0.06)
    with pytest.raises(infolens.InvalidParameterError, match="evaluation='samples'"):
        infolens.kde_mi(task.X, task.Y, evaluation="grid")


def test_dispatcher_units_and_result():
    X, y, _ = _pair(800, 0.5, seed=8)
    bits = infolens.kde_mi(X, y)
    assert infolens.mutual_information(X, y, method="kde") == bits
    with pytest.raises(infolens.InvalidParameterError, match="2-D array"):
        infolens.kde_mi(X[:, 0], y)
    assert infolens.kde_mi(X, y, base="e") == pytest.approx(bits * np.log(2))
    result = infolens.kde_mi(X, y, return_result=True, bandwidth=0.4, grid_size=64)
    assert result.unit == "bits" and result.params["bandwidth"] == 0.4
    assert result.params["evaluation"] == "grid"
    smoother = infolens.kde_mi(X, y, bandwidth_multiplier=3.0)
    assert smoother < bits


@pytest.mark.parametrize("bad, match", [
    (lambda X, y: (np.where(np.arange(len(X))[:, None] == 3, np.nan, X), y), "finite|NaN"),
    (lambda X, y: (np.ones_like(X), y), "constant"),
    (lambda X, y: (X, np.zeros(len(y), dtype=int)), "two classes"),
    (lambda X, y: (X[:9], y[:9]), "at least 10"),
    (lambda X, y: (X, np.full(len(y), 2.5)), "constant"),
])
def test_bad_input_is_refused(bad, match):
    X, y, _ = _pair(100, 0.5, seed=9)
    with pytest.raises(infolens.InvalidParameterError, match=match):
        infolens.kde_mi(*bad(X, y))


@pytest.mark.parametrize("kwargs", [{"bandwidth": "isj"}, {"bandwidth": -1.0},
                                    {"grid_size": 8}, {"bandwidth_multiplier": 0.0},
                                    {"copula": "yes"}, {"evaluation": "mesh"}])
def test_bad_parameters_are_refused(kwargs):
    X, y, _ = _pair(100, 0.5, seed=9)
    with pytest.raises(infolens.InvalidParameterError, match="parameter of kde_mi"):
        infolens.kde_mi(X, y, **kwargs)
