"""Kozachenko-Leonenko entropy and KSG mutual information against closed-form truths."""

import numpy as np
import pytest

import infolens
from infolens import datasets
from scipy.special import ndtri

from infolens.measures.knn import TREE_MAX_DIM, count_within, knn_distances, preprocess_columns

N = 5000
TOL = 0.05  # nats, issue 4 item 5


@pytest.mark.parametrize("algorithm", [1, 2])
@pytest.mark.parametrize("make", [
    lambda s: datasets.bivariate_normal(N, 0.5, random_state=s),
    lambda s: datasets.bivariate_normal(N, 0.9, random_state=s),
    lambda s: datasets.multivariate_normal(N, 2, 2, random_state=s),
    lambda s: datasets.multivariate_normal(N, 2, 2, correlation=0.8, interactions="sparse",
                                           random_state=s),
    lambda s: datasets.student_t(N, 1, 1, dof=1, random_state=s),
    lambda s: datasets.student_t(N, 2, 2, dof=2, random_state=s),
], ids=["normal1d-0.5", "normal1d-0.9", "normal2d-dense", "normal2d-sparse", "student1d",
        "student2d"])
def test_ksg_within_005_nats_at_5000(make, algorithm):
    values = []
    for seed in (0, 1):
        task = make(seed)
        values.append(infolens.ksg_mi(task.X, task.Y, algorithm=algorithm, base="e"))
    assert abs(np.mean(values) - task.mi) < TOL, (values, task.mi)


def test_ksg_sees_student_t_dependence_that_correlation_misses():
    task = datasets.student_t(N, 1, 1, dof=1, random_state=3)
    # (X, Y) and (X, -Y) have the same law, so every correlation is 0.
    from scipy.stats import spearmanr

    rho = spearmanr(task.X[:, 0], task.Y[:, 0])[0]
    assert -0.5 * np.log(1 - rho**2) < 0.01
    assert infolens.ksg_mi(task.X, task.Y, base="e") > 0.15


def test_ksg_independent_near_zero_and_units():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3000, 1)), rng.standard_normal((3000, 2))
    # The spread at N = 3000 is about 0.012 nats.
    assert abs(infolens.ksg_mi(X, Y, base="e")) < 0.04
    task = datasets.bivariate_normal(2000, 0.75)
    nats = infolens.ksg_mi(task.X, task.Y, base="e")
    bits = infolens.ksg_mi(task.X, task.Y)
    assert bits == pytest.approx(nats / np.log(2), rel=1e-12)


def test_ksg_invariant_under_monotone_transforms():
    task = datasets.bivariate_normal(N, 0.75, random_state=5)
    base = infolens.ksg_mi(task.X, task.Y, base="e")
    for kind in ("normal_cdf", "half_cube", "asinh"):
        moved = datasets.transform(task, kind)
        assert abs(infolens.ksg_mi(moved.X, moved.Y, base="e") - base) < 0.03, kind


def test_ksg_on_raw_values_keeps_the_ratio_of_column_scales():
    """preprocess="none" works on the raw values: a common rescaling of X and Y changes
    nothing (also at 1e-300 and 1e299, where the jitter must stay small against the data),
    while rescaling one column changes the max-norm neighbourhoods.  Before, each column
    was first divided by its own power of two, so x * 1.5 gave another value."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2)) * [1.0, 3.0]
    Y = X[:, :1] + rng.normal(size=(500, 1))
    raw = infolens.mutual_information(X, Y, method="ksg", preprocess="none")
    for c in (1.5, 1e-300, 1e299):
        assert infolens.mutual_information(c * X, c * Y, method="ksg",
                                           preprocess="none") == pytest.approx(raw, abs=1e-12)
    squeezed = infolens.mutual_information(X * [1.0, 0.1], Y, method="ksg", preprocess="none")
    assert abs(squeezed - raw) > 0.01


def test_ross_estimator_for_labels():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, N)
    centres = np.array([[0, 0], [20, 0], [0, 20], [20, 20]], float)
    Z = centres[y] + rng.standard_normal((N, 2))
    # Separated classes: I(Z; Y) = H(Y) = log 4.
    assert infolens.ksg_mi(Z, y, base="e") == pytest.approx(np.log(4), abs=0.02)
    assert abs(infolens.ksg_mi(Z, rng.permutation(y), base="e")) < 0.02


@pytest.mark.parametrize("d", [1, 3])
def test_kl_entropy_gaussian_and_uniform(d):
    rng = np.random.default_rng(d)
    A = rng.standard_normal((d, d))
    cov = A @ A.T + d * np.eye(d)
    Z = rng.multivariate_normal(np.zeros(d), cov, N)
    truth = datasets.gaussian_entropy(cov)
    for metric in ("euclidean", "chebyshev"):
        assert infolens.kl_entropy(Z, metric=metric, base="e") == pytest.approx(truth, abs=0.05)
    box = datasets.uniform_box(N, [0] * d, [2.0 + i for i in range(d)])
    # Bounded support biases KL upward near the faces (about 0.08 nats in 3-D at N=5000).
    assert infolens.kl_entropy(box.X, base="e") == pytest.approx(box.entropy, abs=0.1)


def test_kl_entropy_scaling_law():
    Z = np.random.default_rng(0).standard_normal((2000, 2))
    h = infolens.kl_entropy(Z, base="e")
    assert infolens.kl_entropy(3 * Z, base="e") == pytest.approx(h + 2 * np.log(3), abs=1e-9)


def test_brute_force_path_matches_tree():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5))
    wide = np.hstack([X, np.zeros((400, TREE_MAX_DIM))])  # same distances, > TREE_MAX_DIM
    for p in (np.inf, 2.0):
        d1, i1 = knn_distances(X, 4, p)
        d2, i2 = knn_distances(wide, 4, p)
        np.testing.assert_allclose(d1, d2, rtol=1e-12)
        np.testing.assert_array_equal(i1, i2)
        r = d1[:, -1]
        np.testing.assert_array_equal(count_within(X, r, p), count_within(wide, r, p))
        # Inclusive counts at exactly the k-th distance are only reproducible where the
        # distance is computed without round-off (max-norm: differences and abs only).
        if np.isinf(p):
            np.testing.assert_array_equal(count_within(X, r, p, strict=False),
                                          count_within(wide, r, p, strict=False))
    # Brute-force distances against a direct computation.
    D = np.abs(X[:, None, :] - X[None, :, :]).max(axis=2)
    np.fill_diagonal(D, np.inf)
    np.testing.assert_allclose(knn_distances(wide, 3, np.inf)[0], np.sort(D, axis=1)[:, :3])


def test_ksg_high_dimensional_runs_and_detects_dependence():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((800, 30))
    y = Z[:, :1] + 0.3 * rng.standard_normal((800, 1))
    # True MI is 1.25 nats; KSG in 31 dimensions is strongly biased down (curse of
    # dimensionality), but it must still separate dependence from independence.
    dependent = infolens.ksg_mi(Z, y, base="e")
    independent = infolens.ksg_mi(Z, rng.permutation(y), base="e")
    assert dependent > 0.1 > abs(independent) + 0.05


def test_errors_are_clear():
    Z = np.random.default_rng(0).standard_normal((50, 2))
    with pytest.raises(infolens.InvalidParameterError, match="'k' parameter of ksg_mi"):
        infolens.ksg_mi(Z, Z, k=0)
    with pytest.raises(infolens.InvalidParameterError, match="'algorithm' parameter"):
        infolens.ksg_mi(Z, Z, algorithm=3)
    with pytest.raises(infolens.InvalidParameterError, match="same number of rows"):
        infolens.ksg_mi(Z, Z[:10])
    with pytest.raises(infolens.InvalidParameterError, match="finite"):
        bad = Z.copy()
        bad[3, 1] = np.nan
        infolens.ksg_mi(bad, Z)
    with pytest.raises(infolens.InvalidParameterError, match="duplicates"):
        infolens.kl_entropy(np.zeros((20, 2)))
    with pytest.raises(infolens.InvalidParameterError, match="'metric' parameter"):
        infolens.kl_entropy(Z, metric="manhattan")


def test_result_provenance():
    task = datasets.bivariate_normal(500, 0.5)
    r = infolens.ksg_mi(task.X, task.Y, k=4, algorithm=2, return_result=True)
    assert r.measure == "ksg_mi" and r.unit == "bits"
    assert r.params["k"] == 4 and r.details["estimator"] == "ksg2"
    assert r.value == infolens.ksg_mi(task.X, task.Y, k=4, algorithm=2)


@pytest.mark.parametrize("strict", [True, False])
def test_one_dimensional_counts_match_the_tree(strict):
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(0)
    # Rounded values create exact ties and boundary cases.
    x = np.round(rng.standard_normal(3000), 2)[:, None]
    r = np.abs(np.round(rng.standard_normal(3000), 2)) + np.where(rng.random(3000) < 0.2, 0, 0.005)
    rr = np.nextafter(r, 0) if strict else r
    tree = cKDTree(x).query_ball_point(x, rr, p=np.inf, return_length=True) - 1
    np.testing.assert_array_equal(count_within(x, r, np.inf, strict=strict), tree)


def test_preprocess_columns_maps():
    A = np.array([[3.0, 1.0], [1.0, 1.0], [2.0, 5.0], [2.0, 7.0]])
    # Ties share their average rank; normal scores are Phi^-1(rank / (n + 1)).
    ranks = np.array([[4.0, 1.5], [1.0, 1.5], [2.5, 3.0], [2.5, 4.0]])
    np.testing.assert_allclose(preprocess_columns(A, "rank"), ndtri(ranks / 5.0))
    unit = preprocess_columns(A, "standardize")
    np.testing.assert_allclose(unit.mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(unit.std(axis=0), 1.0)
    raw = preprocess_columns(A.astype(np.float32), "none")
    assert raw.dtype == np.float64
    np.testing.assert_array_equal(raw, A)
