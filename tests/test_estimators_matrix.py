"""Kernel-matrix measures and spectral-quality scores against exact values."""

import numpy as np
import pytest

import infolens


def _orthogonal_clusters(k, per_cluster, dim, scale_rows=True, seed=0):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((dim, k)))[0].T  # k orthonormal directions
    rows = np.repeat(Q, per_cluster, axis=0)
    if scale_rows:  # cosine similarity ignores the length of each row
        rows = rows * rng.uniform(0.5, 3.0, (rows.shape[0], 1))
    return rows


@pytest.mark.parametrize("k", [1, 2, 3, 7])
@pytest.mark.parametrize("q", [0.5, 1.0, 2.0, np.inf])
def test_vendi_equals_k_on_orthogonal_equal_weight_clusters(k, q):
    Z = _orthogonal_clusters(k, per_cluster=10, dim=12)
    for dual in (True, False):
        assert infolens.vendi_score(Z, q=q, dual=dual) == pytest.approx(k, rel=1e-9)


def test_vendi_dual_matches_primal_and_bounds():
    Z = np.random.default_rng(0).standard_normal((200, 6))
    for kernel in ("cosine", "linear"):
        for q in (0.0, 1.0, 3.0):
            a = infolens.vendi_score(Z, q=q, kernel=kernel, dual=True)
            b = infolens.vendi_score(Z, q=q, kernel=kernel, dual=False)
            assert a == pytest.approx(b, rel=1e-8)
    # Identical samples: 1; n distinct orthogonal samples: n.
    assert infolens.vendi_score(np.ones((30, 4))) == pytest.approx(1.0)
    assert infolens.vendi_score(np.eye(5), dual=False) == pytest.approx(5.0)
    g = infolens.vendi_score(Z, kernel="gaussian")
    assert 1.0 <= g <= 200.0


def test_von_neumann_and_renyi_exact_cases():
    # Gaussian kernel on k far-apart tight groups of equal size: A = block diag / n
    # with k eigenvalues 1/k, so every Renyi order gives log k.
    k, m = 4, 25
    centres = np.eye(k) * 1e3
    Z = np.repeat(centres, m, axis=0)
    for alpha in (0.5, 1.0, 1.01, 2.0):
        assert infolens.renyi_entropy(Z, order=alpha, sigma=1.0) == pytest.approx(
            np.log2(k), abs=1e-6)
    assert infolens.von_neumann_entropy(Z, sigma=1.0, base="e") == pytest.approx(np.log(k),
                                                                                abs=1e-6)
    # Linear kernel on orthonormal rows: A = I / n, entropy log n.
    assert infolens.renyi_entropy(np.eye(8), order=2.0, kernel="linear") == pytest.approx(3.0)


def test_renyi_mi_properties():
    k, m = 3, 30
    labels = np.repeat(np.arange(k), m)
    Z = np.eye(k)[labels] * 1e3
    # Z determines Y and vice versa: I = S(A) = S(B) = log k.
    assert infolens.renyi_mi(Z, labels, order=1.0, sigma=1.0) == pytest.approx(np.log2(k),
                                                                              abs=1e-6)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((300, 2))
    y = rng.integers(0, 3, 300)
    weak = infolens.renyi_mi(W, y, order=1.0)
    strong = infolens.renyi_mi(W + 4 * np.eye(3)[y][:, :2], y, order=1.0)
    assert 0 <= weak < strong


def test_cs_mi_exact_and_properties():
    # With kernels that are block indicators (delta on labels, far-apart groups) the
    # CS divergence is exactly log(number of equal-size groups).
    k, m = 4, 20
    labels = np.repeat(np.arange(k), m)
    Z = np.eye(k)[labels] * 1e3
    assert infolens.cs_mi(Z, labels, sigma=1.0, base="e") == pytest.approx(np.log(k),
                                                                            rel=1e-9)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 1))
    values = [infolens.cs_mi(X, rho * X + np.sqrt(1 - rho**2) * rng.standard_normal((400, 1)))
              for rho in (0.0, 0.5, 0.9)]
    assert values[0] < 0.02 and values[0] < values[1] < values[2]


def test_nuclear_norm_bounds():
    Z = _orthogonal_clusters(4, per_cluster=4, dim=8)  # 16 rows spread over 4 directions
    r = infolens.nuclear_norm(Z, return_result=True)
    # Singular values: 4 directions x sqrt(4 rows) each.
    assert r.value == pytest.approx(4 * 2.0)
    assert infolens.nuclear_norm(np.ones((9, 3))) == pytest.approx(3.0)  # sqrt(9)
    assert infolens.nuclear_norm(np.eye(6), return_result=True).details["relative"] == (
        pytest.approx(1.0))
    assert infolens.nuclear_norm(np.eye(3) * 5, normalize=False) == pytest.approx(15.0)


def test_rankme_exact():
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((50, 50)))[0]
    for r in (1, 3, 10):
        Z = Q[:, :r] @ np.linalg.qr(rng.standard_normal((20, r)))[0].T * 7.0
        assert infolens.rankme(Z) == pytest.approx(r, rel=1e-9)
    # Two singular values in ratio 3:1: p = (3/4, 1/4).
    Z = np.diag([3.0, 1.0])
    h = -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
    assert infolens.rankme(Z) == pytest.approx(np.exp(h))


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_alpha_req_recovers_power_law(alpha):
    rng = np.random.default_rng(0)
    n, d = 400, 40
    lam = np.arange(1, d + 1, dtype=float) ** -alpha
    U = np.linalg.qr(rng.standard_normal((n, d)))[0]
    U -= U.mean(axis=0)  # centred columns keep the covariance spectrum exact
    U = np.linalg.qr(U)[0]
    V = np.linalg.qr(rng.standard_normal((d, d)))[0]
    Z = U @ np.diag(np.sqrt(lam * (n - 1))) @ V.T
    r = infolens.alpha_req(Z, return_result=True)
    assert r.value == pytest.approx(alpha, abs=1e-6)
    assert r.details["r2"] == pytest.approx(1.0)


def test_matrix_errors():
    Z = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(infolens.InvalidParameterError, match="'q' parameter of vendi_score"):
        infolens.vendi_score(Z, q=-1)
    with pytest.raises(infolens.InvalidParameterError, match="no exact dual"):
        infolens.vendi_score(Z, kernel="gaussian", dual=True)
    with pytest.raises(infolens.InvalidParameterError, match="non-zero"):
        infolens.vendi_score(np.vstack([Z, np.zeros((1, 3))]))
    with pytest.raises(infolens.InvalidParameterError, match="'kernel' parameter"):
        infolens.renyi_entropy(Z, kernel="poly")
    with pytest.raises(infolens.InvalidParameterError, match="non-zero covariance eigen"):
        infolens.alpha_req(np.ones((10, 3)))
    with pytest.raises(infolens.InvalidParameterError, match="'sigma' parameter"):
        infolens.cs_mi(Z, Z, sigma=-1.0)


# --------------------------------------------------------------------------
# The spectral engine behind the Gaussian-kernel entropies
# --------------------------------------------------------------------------


def _three_blobs(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(3, 6))
    return centres[rng.integers(0, 3, n)] + rng.normal(size=(n, 6))


@pytest.mark.parametrize("func,kwargs", [
    (infolens.von_neumann_entropy, {}),
    (infolens.renyi_entropy, {"order": 2.0}),
    (infolens.renyi_entropy, {"order": 3.0}),
    (infolens.vendi_score, {"kernel": "gaussian"}),
])
def test_slq_matches_the_exact_kernel_spectrum_within_its_standard_error(func, kwargs):
    # Orders >= 1: below 1 the hundreds of eigenvalues at round-off level of a
    # smooth kernel weigh in, and the exact value itself is uncertain (~1e-4 bits).
    Z = _three_blobs()
    exact = func(Z, method="exact", return_result=True, **kwargs)
    slq = func(Z, method="slq", return_result=True, **kwargs)
    assert exact.standard_error is None and exact.details["method"] == "exact"
    assert slq.details["method"] == "slq" and slq.eigenvalues is None
    assert 0 < slq.standard_error < 0.05 * abs(exact.value)
    assert abs(slq.value - exact.value) <= 4 * slq.standard_error + 1e-6


def test_auto_switches_to_slq_when_the_dense_matrix_does_not_fit(caplog):
    Z = _three_blobs(1500)
    exact = infolens.von_neumann_entropy(Z)
    # 22 MiB: the exact path needs ~26 MiB, SLQ with this budget ~19 MiB.
    options = {"memory_limit": 22 * 2**20, "n_probes": 8, "n_steps": 12}
    with caplog.at_level("WARNING", logger="infolens"):
        res = infolens.von_neumann_entropy(Z, return_result=True, method_options=options)
    assert res.details["method"] == "slq"
    assert "switching to method='slq'" in caplog.text
    assert abs(res.value - exact) <= 4 * res.standard_error + 1e-6


def test_orders_the_stochastic_estimate_cannot_give_are_refused():
    Z = _three_blobs(300)
    for q in (0.0, np.inf):
        with pytest.raises(infolens.InvalidParameterError, match="finite positive orders"):
            infolens.vendi_score(Z, q=q, kernel="gaussian", method="slq")
    with pytest.raises(infolens.InvalidParameterError, match="Gaussian kernel"):
        infolens.renyi_entropy(Z, kernel="linear", method="slq")
    with pytest.raises(infolens.InvalidParameterError, match="'auto', 'exact', 'slq'"):
        infolens.von_neumann_entropy(Z, method="sparse")


def test_linear_kernel_entropy_uses_the_dual_when_samples_outnumber_features():
    Z = _three_blobs(500)
    res = infolens.renyi_entropy(Z, kernel="linear", order=2.0, return_result=True)
    assert res.eigenvalues.size == Z.shape[1]  # the 6 x 6 dual
    X = Z / np.sqrt(np.trace(Z @ Z.T))
    lam = np.linalg.eigvalsh(X @ X.T)
    expected = np.log2((np.clip(lam, 0, None) ** 2).sum()) / (1 - 2.0)
    assert res.value == pytest.approx(expected, rel=1e-9)


def test_renyi_order_keeps_its_old_name_alpha_with_a_deprecation_warning():
    Z = _three_blobs(60)
    for func, args in ((infolens.renyi_entropy, (Z,)), (infolens.renyi_mi, (Z, np.arange(60) % 3))):
        expected = func(*args, order=2.0, sigma=1.0)
        with pytest.warns(DeprecationWarning, match="'alpha' parameter of .* order=2.0"):
            assert func(*args, alpha=2.0, sigma=1.0) == expected
        with pytest.warns(DeprecationWarning), \
                pytest.raises(infolens.InvalidParameterError, match="'alpha' parameter"):
            func(*args, alpha=-1.0)


def test_cauchy_schwarz_mi_is_cs_mi():
    from infolens.measures.cauchy_schwarz import cauchy_schwarz_mi, cs_mi

    assert infolens.cauchy_schwarz_mi is infolens.cs_mi is cauchy_schwarz_mi is cs_mi

