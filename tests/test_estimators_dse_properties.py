"""DSE/DSMI are not calibrated in nats; issue 4 validates them by properties."""

import numpy as np
import pytest

import infolens


def _blobs(k, n=600, gap=30.0, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    Z = np.eye(max(k, 2))[y] * gap + rng.standard_normal((n, max(k, 2)))
    return Z, y


@pytest.mark.parametrize("k", [2, 3, 5])
def test_k_separated_blobs_tend_to_log2_k_as_t_grows(k):
    Z, y = _blobs(k)
    # sigma fixed at the within-blob scale: blobs are separated relative to it.
    dse = [infolens.dse(Z, t=t, sigma=2.0) for t in (1, 5, 50)]
    dsmi = [infolens.dsmi(Z, y, t=t, sigma=2.0) for t in (1, 5, 50)]
    assert dse[0] > dse[1] > dse[2]
    assert dse[2] == pytest.approx(np.log2(k), abs=1e-6)
    assert abs(dsmi[2] - np.log2(k)) <= abs(dsmi[0] - np.log2(k))
    assert dsmi[2] == pytest.approx(np.log2(k), abs=1e-6)


def test_one_blob_goes_to_zero():
    Z = np.random.default_rng(0).standard_normal((400, 3))
    assert infolens.dse(Z, t=1000, sigma=2.0) < 1e-6


def test_shuffled_labels_give_dsmi_near_zero():
    Z, y = _blobs(3)
    rng = np.random.default_rng(1)
    true = infolens.dsmi(Z, y)
    shuffled = [infolens.dsmi(Z, rng.permutation(y)) for _ in range(3)]
    assert true > 0.5
    assert max(abs(v) for v in shuffled) < 0.05 * true
    # The same holds with the reference parity preset.
    assert abs(infolens.dsmi(Z, rng.permutation(y), preset="dse-dsmi")) < 0.05


def test_dsmi_monotone_along_correlation_sweep():
    rng = np.random.default_rng(0)
    n = 600
    X = rng.standard_normal((n, 2))
    noise = rng.standard_normal(n)
    values = []
    for rho in (0.0, 0.5, 0.8, 0.95, 0.99):
        Y = rho * X[:, 0] + np.sqrt(1 - rho**2) * noise
        # Ten equal-count groups of Y (equal-width bins leave single-sample tail bins).
        groups = np.argsort(np.argsort(Y)) * 10 // n
        values.append(infolens.dsmi(X, groups, y_kind="partition"))
    assert np.all(np.diff(values) > 0), values
    # Independence: small next to the strongly dependent end of the sweep.
    assert abs(values[0]) < 0.1 * values[-1], values


def test_dsmi_monotone_along_label_corruption():
    from infolens import datasets

    values = []
    for ratio in (0.0, 0.3, 0.6, 1.0):
        Z, y, _ = datasets.gaussian_blobs(900, 5, corruption=ratio, random_state=0)
        values.append(infolens.dsmi(Z, y))
    assert np.all(np.diff(values) < 0), values
    assert abs(values[-1]) < 0.1 * values[0]
