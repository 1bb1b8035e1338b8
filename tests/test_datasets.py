"""Ground-truth generators: closed forms against the published values and against sampling."""

import numpy as np
import pytest

import infolens
from infolens import datasets


@pytest.mark.parametrize("rho,truth", [(0.5, 0.144), (0.75, 0.413), (0.9, 0.830), (0.99, 1.959)])
def test_bivariate_normal_truth(rho, truth):
    task = datasets.bivariate_normal(4000, rho, random_state=1)
    assert task.mi == pytest.approx(truth, abs=5e-4)
    assert np.corrcoef(task.X[:, 0], task.Y[:, 0])[0, 1] == pytest.approx(rho, abs=0.03)


@pytest.mark.parametrize("d,truth", [(2, 0.294), (3, 0.413), (5, 0.593), (25, 1.292),
                                     (50, 1.624)])
def test_dense_multinormal_truth(d, truth):
    task = datasets.multivariate_normal(20000, d, d)
    assert task.mi == pytest.approx(truth, abs=5e-4)
    C = np.corrcoef(np.hstack([task.X, task.Y]).T)
    off = C[~np.eye(2 * d, dtype=bool)]
    assert np.abs(off - 0.5).max() < 0.05


def test_sparse_multinormal_truth_any_dimension():
    for dx, dy in [(2, 2), (5, 7), (20, 3)]:
        task = datasets.multivariate_normal(10, dx, dy, correlation=0.8, interactions="sparse")
        assert task.mi == pytest.approx(1.0217, abs=1e-4)


@pytest.mark.parametrize("m,n,dof,truth", [(1, 1, 1, 0.224), (2, 2, 1, 0.432), (2, 2, 2, 0.193),
                                           (3, 3, 2, 0.291), (5, 5, 2, 0.448)])
def test_student_t_truth(m, n, dof, truth):
    assert datasets.student_t_mi(dof, m, n) == pytest.approx(truth, abs=1e-3)
    task = datasets.student_t(50, m, n, dof)
    assert task.mi == datasets.student_t_mi(dof, m, n)
    assert task.X.shape == (50, m) and task.Y.shape == (50, n)


def test_student_t_mi_vanishes_for_large_dof():
    # Identity dispersion -> independent Gaussians in the limit.
    assert datasets.student_t_mi(1e6, 2, 3) < 1e-5


def test_gaussian_mi_agrees_with_entropy_identity():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    cov = A @ A.T + np.eye(5)
    h = datasets.gaussian_entropy
    assert datasets.gaussian_mi(cov, 2) == pytest.approx(
        h(cov[:2, :2]) + h(cov[2:, 2:]) - h(cov), rel=1e-12)
    assert h(np.eye(3)) == pytest.approx(1.5 * np.log(2 * np.pi * np.e))


def test_uniform_box_entropy_and_support():
    box = datasets.uniform_box(1000, [0, -1], [2, 3])
    assert box.entropy == pytest.approx(np.log(8.0))
    assert (box.X >= [0, -1]).all() and (box.X <= [2, 3]).all()


@pytest.mark.parametrize("kind", ["normal_cdf", "half_cube", "asinh", "spiral"])
def test_transforms_keep_truth_and_are_invertible(kind):
    task = datasets.multivariate_normal(500, 2, 2, random_state=2)
    moved = datasets.transform(task, kind)
    assert moved.mi == task.mi and moved.name.endswith(kind)
    # Invertibility: distinct inputs stay distinct, and the map is deterministic.
    assert len(np.unique(moved.X, axis=0)) == 500
    assert np.array_equal(moved.X, datasets.transform(task, kind).X)
    if kind == "spiral":
        np.testing.assert_allclose(np.linalg.norm(moved.X, axis=1),
                                   np.linalg.norm(task.X, axis=1))


def test_gaussian_blobs_corruption_and_noise():
    Z, y, true = datasets.gaussian_blobs(3000, 10, corruption=0.0, random_state=0)
    assert Z.shape == (3000, 10) and np.array_equal(y, true)
    assert np.bincount(true).tolist() == [1000, 1000, 1000]
    _, y5, true5 = datasets.gaussian_blobs(3000, 10, corruption=0.5, random_state=0)
    # Half the labels are redrawn among 3 classes: 1/3 of those keep their value.
    assert np.mean(y5 != true5) == pytest.approx(0.5 * 2 / 3, abs=0.03)
    _, y1, t1 = datasets.gaussian_blobs(3000, 10, corruption=1.0, random_state=0)
    assert abs(np.corrcoef(y1, t1)[0, 1]) < 0.06


def test_branching_tree_and_intrinsic_dimension():
    Z, b = datasets.branching_tree(5, 100, 20)
    assert Z.shape == (500, 20) and np.bincount(b).tolist() == [100] * 5
    X = datasets.intrinsic_dimension_data(50, 64, 10, noise=0.0)
    assert np.linalg.matrix_rank(X - X.mean(axis=0)) == 10
    assert np.abs(X).max() <= 1.0
    Xn = datasets.intrinsic_dimension_data(50, 64, 10, noise=0.1)
    assert np.abs(Xn[:, 10:]).max() <= 0.1 and np.abs(Xn[:, 10:]).max() > 0


def test_dataset_errors():
    with pytest.raises(infolens.InvalidParameterError, match="'rho' parameter"):
        datasets.bivariate_normal(10, 1.0)
    with pytest.raises(infolens.InvalidParameterError, match="correlation in"):
        datasets.multivariate_normal(10, 3, 3, correlation=-0.5)
    with pytest.raises(infolens.InvalidParameterError, match="at least 2 features"):
        datasets.transform(datasets.bivariate_normal(10, 0.5), "spiral")
    with pytest.raises(infolens.InvalidParameterError, match="highs > lows"):
        datasets.uniform_box(10, [0, 1], [1, 0])
    with pytest.raises(infolens.InvalidParameterError, match="'intrinsic_dim' parameter"):
        datasets.intrinsic_dimension_data(10, 5, 6)
