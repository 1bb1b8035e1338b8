"""The unified API, uncertainty, compressed and adaptive-binning MI."""

import inspect

import numpy as np
import pytest

import infolens
from infolens import datasets


def test_list_methods_is_complete_and_callable():
    methods = infolens.list_methods()
    assert {m.kind for m in methods} == {"entropy", "mi", "score", "dependence"}
    for m in methods:
        func = getattr(infolens, m.function)
        assert callable(func) and func.__doc__
        assert m.unit and m.cost and m.reference
        if m.kind in ("mi", "dependence"):
            assert m.y_kinds
            assert "Y" in inspect.signature(func).parameters
    names = {m.name for m in infolens.list_methods("mi")}
    assert {"dsmi", "csmi", "ksg", "mine", "infonce", "nwj", "renyi", "cs", "compressed",
            "adaptive_binning"} <= names
    assert {"dse", "cse", "kl", "renyi", "von_neumann"} <= {
        m.name for m in infolens.list_methods("entropy")}
    stochastic = {m.name: m.stochastic for m in infolens.list_methods("mi")}
    assert stochastic["mine"] and stochastic["infonce"] and not stochastic["ksg"]


def test_dispatch_equals_direct_call():
    task = datasets.bivariate_normal(800, 0.8)
    assert infolens.mutual_information(task.X, task.Y, method="ksg", k=5) == \
        infolens.ksg_mi(task.X, task.Y, k=5)
    assert infolens.mutual_information(task.X, task.Y, method="ksg_mi") == \
        infolens.ksg_mi(task.X, task.Y)
    Z = np.random.default_rng(0).standard_normal((200, 3))
    assert infolens.entropy(Z) == infolens.dse(Z)
    assert infolens.entropy(Z, method="kl", base="e") == infolens.kl_entropy(Z, base="e")
    y = np.arange(200) % 2
    assert infolens.mutual_information(Z, y) == infolens.dsmi(Z, y)


def test_spectral_method_reaches_the_measure_as_its_own_method():
    Z = np.random.default_rng(0).standard_normal((300, 3))
    y = np.arange(300) % 3
    assert infolens.entropy(Z, spectral_method="slq") == infolens.dse(Z, method="slq")
    assert infolens.entropy(Z, method="von_neumann", spectral_method="slq") == \
        infolens.von_neumann_entropy(Z, method="slq")
    assert infolens.mutual_information(Z, y, spectral_method="slq", n_repeats=2) == \
        infolens.dsmi(Z, y, method="slq", n_repeats=2)
    with pytest.raises(infolens.InvalidParameterError, match="has no spectral method"):
        infolens.mutual_information(Z, y, method="ksg", spectral_method="slq")


def test_dispatch_errors_list_options():
    Z = np.zeros((10, 2))
    with pytest.raises(infolens.InvalidParameterError, match="'ksg'.*list_methods"):
        infolens.mutual_information(Z, Z, method="npeet")
    with pytest.raises(infolens.InvalidParameterError, match="unknown keyword.*'sigmaa'"):
        infolens.entropy(Z + np.arange(20).reshape(10, 2), method="renyi", sigmaa=1.0)
    with pytest.raises(infolens.InvalidParameterError, match="'kind' parameter"):
        infolens.list_methods("entropies")
    from infolens.measures.common import check_mi_inputs

    with pytest.raises(infolens.InvalidParameterError, match="does not support labels"):
        check_mi_inputs(np.ones((10, 2)), np.arange(10) % 2, "x", supported=("continuous",))
    with pytest.raises(infolens.InvalidParameterError, match="needs numeric Y"):
        infolens.ksg_mi(np.ones((4, 1)), np.array(["a", "b", "a", "b"]), y_kind="continuous")


def test_units_are_consistent_across_methods():
    task = datasets.bivariate_normal(300, 0.9)
    for name in ("ksg", "cs", "renyi", "adaptive_binning", "compressed"):
        bits = infolens.mutual_information(task.X, task.Y, method=name)
        nats = infolens.mutual_information(task.X, task.Y, method=name, base="e")
        assert bits == pytest.approx(nats / np.log(2), rel=1e-9), name


def test_permutation_test_detects_dependence_and_independence():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 1))
    dep = infolens.permutation_test(X, X + rng.standard_normal((400, 1)), n_permutations=30)
    assert dep.details["p_value"] == pytest.approx(1 / 31)
    ind = infolens.permutation_test(X, rng.standard_normal((400, 1)), n_permutations=30)
    assert ind.details["p_value"] > 0.05
    assert len(ind.details["null"]) == 30


def test_bootstrap_ci_covers_truth():
    task = datasets.bivariate_normal(1500, 0.75, random_state=4)
    r = infolens.bootstrap_ci(task.X, task.Y, method="ksg", base="e", n_resamples=40)
    lo, hi = r.details["ci_low"], r.details["ci_high"]
    assert lo < task.mi < hi and lo < r.value < hi and hi - lo < 0.3
    r = infolens.bootstrap_ci(task.X[:300], task.Y[:300], method="cs", n_resamples=10,
                              scheme="bootstrap")
    assert r.unit == "bits" and r.params["method"] == "cs"
    assert r.details["ci_low"] < r.value < r.details["ci_high"]
    with pytest.raises(infolens.InvalidParameterError, match="nearest neighbours"):
        infolens.bootstrap_ci(task.X, task.Y, method="ksg", scheme="bootstrap")
    with pytest.raises(infolens.InvalidParameterError, match="'confidence' parameter"):
        infolens.bootstrap_ci(task.X, task.Y, confidence=1.0)


def test_compressed_mi_keeps_information_in_leading_directions():
    rng = np.random.default_rng(0)
    n = 3000
    signal = rng.standard_normal((n, 1))
    y = signal + 0.5 * rng.standard_normal((n, 1))
    truth = 0.5 * np.log(1.25 / 0.25)
    Z = np.hstack([3 * signal, 0.1 * rng.standard_normal((n, 99))])  # 100-D, signal on top
    v = infolens.compressed_mi(Z, y, n_components=1, base="e")
    assert v == pytest.approx(truth, abs=0.06)
    # Data processing: compression can only lose information (up to estimator noise).
    assert infolens.compressed_mi(Z, y, n_components=3, base="e") < truth + 0.05


def test_compressed_mi_autoencoder_runs():
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((400, 12))
    y = np.arange(400) % 2
    Z[:, 0] += 6 * y
    r = infolens.compressed_mi(Z, y, n_components=2, compressor="autoencoder", epochs=10,
                               base="e", return_result=True)
    assert r.details["compressed_dims"][0] == 2
    assert 0.3 < r.value <= np.log(2) + 0.05


def test_adaptive_binning_exact_cases():
    y = np.repeat([0, 1, 2, 3], 250)
    Z = (y[:, None] + np.zeros((1000, 3))).astype(float)
    # Z is a function of Y with 4 equiprobable values: I = H(Y) = 2 bits.
    assert infolens.adaptive_binning_mi(Z, y, n_bins=4) == pytest.approx(2.0)
    rng = np.random.default_rng(0)
    # Heavy-tailed unit: equal-mass bins stay informative where equal-width bins would not.
    a = rng.standard_cauchy(4000)
    yy = (a > np.median(a)).astype(int)
    r = infolens.adaptive_binning_mi(a[:, None], yy, n_bins=8, return_result=True)
    assert r.value == pytest.approx(1.0, abs=1e-9)
    assert r.details["n_states"] == 8
    assert infolens.adaptive_binning_mi(rng.standard_normal((4000, 1)), yy, n_bins=8) < 0.01


def _callers():
    return [(m.function, m.kind) for m in infolens.list_methods()
            if m.function not in ("dse", "dsmi", "ase", "asmi", "cse", "csmi")]


@pytest.mark.parametrize("name,kind", _callers())
def test_every_new_method_rejects_bad_input_clearly(name, kind):
    func = getattr(infolens, name)
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((40, 2))
    args = (lambda A: (A, Z[:, :1])) if kind in ("mi", "dependence") else (lambda A: (A,))
    bad = Z.copy()
    bad[5, 0] = np.nan
    with pytest.raises(infolens.InvalidParameterError, match=f"'Z' parameter of {name}.*finite"):
        func(*args(bad))
    with pytest.raises(infolens.InvalidParameterError, match=f"{name}.*2-D array"):
        func(*args(Z[:, 0]))
    with pytest.raises(infolens.InvalidParameterError, match="real numeric array"):
        func(*args(np.array([["a", "b"]] * 40)))
    if kind in ("mi", "dependence"):
        with pytest.raises(infolens.InvalidParameterError, match="same number of rows"):
            func(Z, Z[:30, :1])
