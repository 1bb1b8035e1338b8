"""Known answers, properties, provenance and packaging of the core measures.

Reference quantities are built here from the definitions in the docstrings
(kernel ``exp(-d^2 / (2 sigma^2))`` on Euclidean distances, density
normalisation ``G_ij / (q_i q_j)^alpha`` with ``q`` the row sums of ``G``,
``P`` the row-normalised result, ``DSE = -sum p_i log p_i`` with
``p_i = |lambda_i|^t / sum_j |lambda_j|^t``), never by calling infolens internals.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial.distance import cdist

import infolens
from infolens.spectrum import exact as spectral

LOG2 = np.log(2.0)


# --------------------------------------------------------------------------
# Independent constructions from the definitions
# --------------------------------------------------------------------------


def markov_matrix(Z, sigma, alpha=0.0):
    """The diffusion operator P (row-stochastic) built from the definition."""
    d2 = cdist(Z, Z, "sqeuclidean")
    G = np.exp(-d2 / (2 * sigma**2))
    q = G.sum(axis=1)
    K = G / np.outer(q, q) ** alpha
    return K / K.sum(axis=1, keepdims=True), K.sum(axis=1)


def eigenvalues_of_p(Z, sigma, alpha=0.0):
    """Eigenvalues of P via numpy's eigvalsh on the symmetric matrix similar to P,
    ``S = D^{1/2} P D^{-1/2}`` (P itself is not symmetric)."""
    P, degree = markov_matrix(Z, sigma, alpha)
    r = np.sqrt(degree)
    S = r[:, None] * P / r[None, :]
    return np.linalg.eigvalsh((S + S.T) / 2)


def entropy_bits(weights):
    p = np.asarray(weights, dtype=float)
    p = p / p.sum()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def blobs(k, n_per=50, d=3, distance=100.0, seed=0):
    """k unit-variance Gaussian blobs whose centres are at least ``distance`` apart."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    C = rng.normal(size=(k, d))
    gaps = [np.linalg.norm(a - b) for i, a in enumerate(C) for b in C[i + 1:]]
    C *= distance / min(gaps)
    return C[y] + rng.normal(size=(y.size, d)), y


MEASURES = [infolens.dse, infolens.dsmi, infolens.ase, infolens.asmi, infolens.cse,
            infolens.csmi]


def call(func, Z, y, **kw):
    if func.__name__.endswith("mi"):
        return func(Z, y, **kw)
    return func(Z, **kw)


# --------------------------------------------------------------------------
# Known answers
# --------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3, 5])
def test_separated_blobs_tend_to_log_k(k):
    Z, y = blobs(k, seed=k)
    target = np.log2(k)
    for t in (50, 100):
        assert infolens.dse(Z, sigma=2.0, t=t) == pytest.approx(target, abs=1e-3)
        assert infolens.dsmi(Z, y, sigma=2.0, t=t) == pytest.approx(target, abs=1e-3)
        # Dropping the trivial eigenvalue leaves the other k - 1 unit eigenvalues.
        assert infolens.dse(Z, sigma=2.0, t=t, keep_trivial=False) == pytest.approx(
            np.log2(k - 1), abs=1e-3)
    # At t = 1 the noise directions still count: DSE is well above log k.
    assert infolens.dse(Z, sigma=2.0, t=1) > target + 1.0


def test_tiny_bandwidth_gives_log_n():
    """sigma much smaller than every distance: P = I, all N eigenvalues are 1."""
    Z = np.random.default_rng(0).normal(size=(64, 4))
    assert infolens.dse(Z, sigma=1e-3) == pytest.approx(np.log2(64), abs=1e-12)
    assert infolens.dse(Z, sigma=1e-3, base="e") == pytest.approx(np.log(64), abs=1e-12)


def test_extreme_fixed_bandwidths_reach_their_limits():
    """sigma -> 0: P = I and DSE = log N; sigma -> inf: P = ones / N and DSE = 0.
    Neither may fail on sigma**2 leaving the float range."""
    Z = np.random.default_rng(0).normal(size=(40, 3))
    for alpha in (0.0, 0.5, 1.0):
        assert infolens.dse(Z, sigma=1e-300, alpha=alpha) == pytest.approx(np.log2(40), abs=1e-12)
        assert infolens.dse(Z, sigma=1e300, alpha=alpha) == pytest.approx(0.0, abs=1e-12)
    assert infolens.ase(Z, sigma=1e-300) == pytest.approx(np.log2(40), abs=1e-12)
    assert infolens.dse(Z, sigma=1e-300, matrix_entry=True) == pytest.approx(np.log2(40),
                                                                             abs=1e-12)


def test_dse_is_between_zero_and_log_n():
    rng = np.random.default_rng(1)
    for n, sigma in [(30, "auto"), (80, 0.3), (120, 5.0), (60, "rms")]:
        Z = rng.normal(size=(n, 5))
        for t in (1, 2, 7):
            value = infolens.dse(Z, sigma=sigma, t=t)
            assert 0.0 <= value <= np.log2(n) + 1e-12


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
def test_identical_points_give_zero(func):
    Z = np.tile([[0.3, -1.0, 2.0]], (40, 1))
    y = np.arange(40) % 2
    value = call(func, Z, y)
    assert np.isfinite(value)
    assert value == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("preset", ["infolens", "dse-dsmi"])
def test_duplicates_and_constant_features_are_defined(func, preset):
    rng = np.random.default_rng(2)
    base = rng.normal(size=(20, 3))
    Z = np.vstack([base, base, base[:5]])  # every point duplicated at least once
    Z = np.hstack([Z, np.full((len(Z), 2), 7.25)])  # two zero-variance features
    y = np.arange(len(Z)) % 3
    value = call(func, Z, y, preset=preset)
    assert np.isfinite(value)
    # A zero-variance feature changes no distance, so it changes nothing.
    assert value == pytest.approx(call(func, Z[:, :3], y, preset=preset), abs=1e-10)


def test_all_features_constant_in_one_class():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(60, 4))
    y = np.repeat([0, 1], 30)
    Z[y == 1] = 5.0  # class 1 collapsed to a single point: conditional DSE 0
    res = infolens.dsmi(Z, y, return_result=True)
    assert np.isfinite(res.value)
    collapsed = [g for g in res.details["groups"] if g["group"] == 1][0]
    assert collapsed["conditional"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("sigma", [0.7, "auto"])
def test_eigenvalues_match_the_definition(alpha, sigma):
    rng = np.random.default_rng(4)
    Z = np.vstack([rng.normal(size=(60, 5)), 3 + rng.normal(size=(90, 5))])
    res = infolens.dse(Z, sigma=sigma, alpha=alpha, precision="float64", return_result=True)
    s = res.params["sigma"]
    expected = eigenvalues_of_p(Z, s, alpha)
    assert res.eigenvalues.shape == (len(Z),)
    np.testing.assert_allclose(res.eigenvalues, expected, atol=1e-10)
    # Also against the non-symmetric P itself (a second, independent route).
    P, _ = markov_matrix(Z, s, alpha)
    np.testing.assert_allclose(np.sort(np.linalg.eigvals(P).real), expected, atol=1e-8)
    for t in (1, 2, 3):
        value = infolens.dse(Z, sigma=sigma, alpha=alpha, t=t)
        assert value == pytest.approx(entropy_bits(np.abs(expected) ** t), abs=1e-10)


@pytest.mark.parametrize("t", [1, 3])
def test_keep_trivial_false_drops_exactly_one_eigenvalue(t):
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(120, 6))
    res = infolens.dse(Z, sigma=1.5, t=t, keep_trivial=False, return_result=True)
    lam = eigenvalues_of_p(Z, 1.5)
    top = np.argmax(lam)
    assert lam[top] == pytest.approx(1.0, abs=1e-12)
    without_one = np.delete(lam, top)
    assert res.value == pytest.approx(entropy_bits(np.abs(without_one) ** t), abs=1e-10)
    assert res.value != pytest.approx(entropy_bits(np.abs(lam) ** t), abs=1e-6)
    assert res.params["keep_trivial"] is False


@pytest.mark.parametrize("t", [1, 2, 4])
def test_matrix_entry_entropy_matches_the_definition(t):
    rng = np.random.default_rng(6)
    Z = rng.normal(size=(50, 3))
    P, _ = markov_matrix(Z, 0.8)
    expected = entropy_bits(np.abs(np.linalg.matrix_power(P, t)).ravel())
    assert infolens.dse(Z, sigma=0.8, t=t, matrix_entry=True) == pytest.approx(
        expected, abs=1e-10)


def test_adjacency_spectra_match_the_definition():
    rng = np.random.default_rng(7)
    Z = rng.normal(size=(70, 4))
    sigma = 1.3
    G = np.exp(-cdist(Z, Z, "sqeuclidean") / (2 * sigma**2))
    res = infolens.ase(Z, sigma=sigma, precision="float64", return_result=True)
    np.testing.assert_allclose(res.eigenvalues, np.linalg.eigvalsh(G), atol=1e-10)
    assert res.value == pytest.approx(entropy_bits(np.abs(np.linalg.eigvalsh(G))), abs=1e-10)
    # Anisotropic: D^{-1/2} G D^{-1/2}.
    r = 1 / np.sqrt(G.sum(axis=1))
    aniso = np.linalg.eigvalsh(r[:, None] * G * r[None, :])
    assert infolens.ase(Z, sigma=sigma, anisotropic=True) == pytest.approx(
        entropy_bits(np.abs(aniso)), abs=1e-10)
    # kNN (default preset): each point linked to its k nearest (itself included),
    # symmetrised with "or".
    k = 6
    order = np.argsort(cdist(Z, Z), axis=1)[:, :k]
    A = np.zeros((len(Z), len(Z)), dtype=bool)
    A[np.repeat(np.arange(len(Z)), k), order.ravel()] = True
    A = (A | A.T).astype(float)
    assert infolens.ase(Z, adjacency="knn", n_neighbors=k) == pytest.approx(
        entropy_bits(np.abs(np.linalg.eigvalsh(A))), abs=1e-10)


def test_cse_and_csmi_on_a_grid():
    """Four equally filled cells of a 2 x 2 grid: CSE = 2 bits; MI with the cell id
    is 2 bits, with a label balanced within every cell it is 0."""
    cell = np.repeat(np.arange(4), 10)
    Z = np.column_stack([cell % 2, cell // 2]).astype(float)
    Z += np.random.default_rng(8).uniform(0, 0.2, Z.shape)
    assert infolens.cse(Z) == pytest.approx(2.0, abs=1e-12)
    assert infolens.csmi(Z, cell) == pytest.approx(2.0, abs=1e-12)
    balanced = np.arange(40) % 2
    assert infolens.csmi(Z, balanced) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("preset", ["infolens", "dse-dsmi"])
def test_binning_near_the_float_limits(preset):
    """Min-max scaling of data at +-1e308 must not overflow its span to inf."""
    Z = np.random.default_rng(15).uniform(-1, 1, size=(120, 2))
    y = np.arange(120) % 2
    for c in (1e308, 1e-310):
        assert infolens.cse(c * Z, preset=preset) == infolens.cse(Z, preset=preset)
        assert infolens.csmi(c * Z, y, preset=preset) == infolens.csmi(Z, y, preset=preset)


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
def test_base_e_and_10_are_bits_times_log_of_2(func):
    Z, y = blobs(3, n_per=20, distance=4.0, seed=9)
    bits = call(func, Z, y, base=2)
    assert abs(bits) > 1e-3
    assert call(func, Z, y, base="e") == pytest.approx(bits * LOG2, rel=1e-12)
    assert call(func, Z, y, base=10) == pytest.approx(bits * np.log10(2.0), rel=1e-12)
    res = call(func, Z, y, base="e", return_result=True)
    assert res.unit == "nats"


@pytest.mark.parametrize("func", [infolens.dsmi, infolens.asmi, infolens.csmi],
                         ids=lambda f: f.__name__)
def test_shuffled_labels_give_mi_near_zero(func):
    Z, y = blobs(4, n_per=40, d=5, distance=6.0, seed=10)
    true = func(Z, y)
    shuffled = func(Z, np.random.default_rng(11).permutation(y))
    assert true > 0.3
    assert abs(shuffled) < 0.1 * true


# --------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
def test_result_provenance(func):
    Z, y = blobs(3, n_per=20, distance=4.0, seed=12)
    res = call(func, Z, y, return_result=True)
    assert isinstance(res, infolens.Result)
    assert res.measure == func.__name__
    assert res.value == pytest.approx(call(func, Z, y), abs=1e-12)
    assert float(res) == res.value
    assert res.unit == "bits"
    assert res.elapsed_s > 0
    assert res.params["preset"] == "infolens"
    assert res.params["base"] == 2
    if "sigma" in res.params:  # the diffusion and adjacency measures
        assert isinstance(res.params["sigma"], float) and res.params["sigma"] > 0
        assert res.params["sigma_rule"] == "knn"
    if func in (infolens.dse, infolens.ase):
        assert res.eigenvalues.shape == (len(Z),)
        assert np.all(np.diff(res.eigenvalues) >= 0)  # ascending
    text = json.dumps(res.to_dict())  # JSON-serialisable, numpy types included
    back = json.loads(text)
    assert back["value"] == res.value and back["measure"] == func.__name__


def test_result_params_record_every_resolved_setting():
    Z = np.random.default_rng(13).normal(size=(40, 3))
    res = infolens.dse(Z, t=3, alpha=0.5, keep_trivial=False, base="e", max_n=30,
                       random_state=4, return_result=True)
    p = res.params
    assert (p["t"], p["alpha"], p["keep_trivial"], p["base"], p["max_n"],
            p["random_state"]) == (3, 0.5, False, "e", 30, 4)
    assert res.details["n_used"] == 30 and res.eigenvalues.shape == (30,)
    ref = infolens.dse(Z, preset="dse-dsmi", return_result=True)
    assert ref.params["sigma"] == 10.0 and ref.params["max_n"] == 10000


def test_dsmi_result_details():
    Z, y = blobs(3, n_per=15, distance=5.0, seed=14)
    res = infolens.dsmi(Z, y, n_repeats=4, return_result=True)
    groups = res.details["groups"]
    assert [g["group"] for g in groups] == [0, 1, 2]
    assert sum(g["weight"] for g in groups) == pytest.approx(1.0)
    assert all(len(g["subsets"]) == 4 for g in groups)
    assert res.details["standard_error"] > 0
    np.testing.assert_array_equal(res.details["partition"], y)
    assert res.params["n_repeats"] == 4 and res.params["y_kind"] == "labels"


# --------------------------------------------------------------------------
# Single-precision eigen-solver
# --------------------------------------------------------------------------

# Spread-out spectra (bandwidth below the typical distance), where the error
# estimate accepts a single-precision solve with a wide margin.
FLOAT32_CASES = [
    (0, 1024, 8, 3.0, 2),
    (1, 1100, 16, 10.0, 2),
    (2, 1024, 4, 2.0, 1),
]


@pytest.mark.parametrize("seed,n,d,sigma,t", FLOAT32_CASES)
def test_mixed_precision_float32_is_within_1e6_bits(seed, n, d, sigma, t):
    Z = 8.0 * np.random.default_rng(seed).normal(size=(n, d))
    auto = infolens.dse(Z, sigma=sigma, t=t, precision="mixed", return_result=True)
    exact = infolens.dse(Z, sigma=sigma, t=t, precision="float64", return_result=True)
    assert auto.details["precision_used"] == "float32"  # the fast path was taken
    assert exact.details["precision_used"] == "float64"
    error = abs(auto.value - exact.value)
    assert error <= 1e-6
    # The estimate that justified float32 bounds the actual error.
    assert error <= auto.details["float32_error_estimate_bits"]


def test_auto_precision_is_float64_by_default_and_mixed_under_the_parity_preset():
    Z = 8.0 * np.random.default_rng(0).normal(size=(1024, 8))
    default = infolens.dse(Z, sigma=3.0, t=2, return_result=True)
    assert default.params["precision"] == "float64"
    assert default.details["precision_used"] == "float64"
    parity = infolens.dse(Z, sigma=3.0, t=2, preset="dse-dsmi", return_result=True)
    assert parity.params["precision"] == "mixed"
    assert parity.details["precision_used"] == "float32"


@pytest.mark.parametrize("sigma,t,keep", [(3.0, 2, True), (20.0, 1, True), (20.0, 1, False),
                                          (6.0, 3, False)])
def test_float32_forecast_tracks_the_estimate_made_after_the_solve(sigma, t, keep):
    from infolens.kernels.gaussian import diffusion_operator

    op = diffusion_operator(8.0 * np.random.default_rng(5).normal(size=(1024, 8)), sigma)
    forecast = spectral.float32_error_forecast(op.matrix, t, trivial_vector=op.trivial_vector,
                                               keep_trivial=keep)
    values = spectral._eigvalsh(
        spectral._deflate(op.matrix, op.trivial_vector, np.float32, overwrite=False))
    # The estimate without its trace term is what the forecast predicts; it
    # runs low (to ~0.4x) when many eigenvalues sit near 0 (sigma = 20 here).
    no_trace = spectral.float32_error_estimate(values, t, trace=float(values.sum()),
                                               keep_trivial=keep)
    assert 0.3 * no_trace <= forecast <= 2.0 * no_trace


def test_mixed_precision_skips_a_float32_solve_the_forecast_rejects(monkeypatch):
    # A Swiss roll at t = 1: hundreds of eigenvalues near 0, where float32
    # cannot be certified (forecast ~4e-4 bits); the solve must run once, in float64.
    rng = np.random.default_rng(0)
    s = 1.5 * np.pi * (1 + 2 * rng.uniform(size=1100))
    Z = np.column_stack([s * np.cos(s), 21 * rng.uniform(size=1100), s * np.sin(s)])
    solved = []
    real = spectral._eigvalsh
    monkeypatch.setattr(spectral, "_eigvalsh", lambda A: solved.append(A.dtype) or real(A))
    res = infolens.dse(Z, sigma="median", t=1, precision="mixed", return_result=True)
    assert res.details["precision_used"] == "float64"
    assert solved == [np.float64]


def test_small_inputs_stay_in_float64():
    Z = np.random.default_rng(3).normal(size=(300, 4))
    res = infolens.dse(Z, sigma=0.5, precision="mixed", return_result=True)
    assert res.details["precision_used"] == "float64"


# --------------------------------------------------------------------------
# Packaging
# --------------------------------------------------------------------------


def test_import_is_light():
    code = (
        "import sys, infolens; "
        "heavy = [m for m in ('torch', 'dask', 'distributed', 'matplotlib') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "", f"import infolens imported: {out.stdout.strip()}"


def test_every_public_name_resolves():
    assert len(set(infolens.__all__)) == len(infolens.__all__)
    for name in infolens.__all__:
        assert getattr(infolens, name) is not None
    assert sorted(infolens.__all__) == list(infolens.__all__)
    assert isinstance(infolens.__version__, str)



def test_large_t_without_the_trivial_eigenvalue_does_not_underflow():
    # Two tied eigenvalues of 0.5 after dropping the trivial 1: 0.5**2000 underflows to 0 in
    # float64, but the two normalised powers are equal, so the entropy is exactly 1 bit.
    from infolens.spectrum.exact import spectral_entropy

    assert spectral_entropy(np.array([0.5, -0.5, 0.0]), 2000) == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------
# Result: standard error and interval
# --------------------------------------------------------------------------


def test_result_interval_is_value_plus_minus_z_standard_errors():
    from infolens.core.result import Result

    res = Result("dse", 2.0, "bits", {}, details={"standard_error": 0.1})
    assert res.standard_error == 0.1
    low, high = res.interval(0.95)
    assert low == pytest.approx(2.0 - 0.195996, abs=1e-6)
    assert high == pytest.approx(2.0 + 0.195996, abs=1e-6)
    assert res.interval(0.6827) == pytest.approx((1.9, 2.1), abs=1e-5)
    exact = Result("dse", 2.0, "bits", {})
    assert exact.standard_error is None and exact.interval() == (2.0, 2.0)
    for bad in (0.0, 1.0, 1.5, -0.1, "0.9", float("nan")):
        with pytest.raises(infolens.InvalidParameterError, match="level"):
            res.interval(bad)
