"""Matrix nuclear norm: the exact SVD value and the published L1,2 Matrix Nuclear-Norm."""

import numpy as np
import pytest

import infolens
from infolens import InvalidParameterError


def published_mnn(R):
    """The formula of MLGroupJLU/MatrixNuclearNorm's MNN.py, restated in torch (the oracle):
    centre columns, divide rows by their L2 norm, sum the min(N, D) largest column L2 norms,
    divide by the number of tokens."""
    torch = pytest.importorskip("torch")
    R = torch.as_tensor(R, dtype=torch.float64)
    R = R - R.mean(dim=0)
    R = R / torch.norm(R, p=2, dim=1, keepdim=True)
    col = torch.sqrt((R**2).sum(dim=0))
    top = torch.sort(col, descending=True).values[:min(R.shape)]
    return float(top.sum()) / R.shape[0]


@pytest.mark.parametrize("shape", [(7, 30), (64, 16), (200, 200), (3, 2)])
@pytest.mark.parametrize("seed", [0, 1])
def test_l12_matches_the_published_formula(shape, seed):
    rng = np.random.default_rng(seed)
    R = rng.standard_t(3, size=shape) + rng.normal(size=shape[1])  # heavy tails, offset columns
    value = infolens.nuclear_norm(R, method="l12")
    assert value == pytest.approx(published_mnn(R), abs=1e-6, rel=0)
    n, d = shape
    m = min(n, d)
    assert np.sqrt(m / (d * n)) - 1e-12 <= value <= np.sqrt(m / n) + 1e-12


def test_l12_closed_forms_and_invariances():
    # centred rows +-e_1 (and +-e_2): every unit row lies on one axis
    R = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    # column norms are sqrt(2) each, D = 2, n = 4: 2 sqrt(2) / 4
    assert infolens.nuclear_norm(R, method="l12") == pytest.approx(np.sqrt(2) / 2)
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(40, 12))
    base = infolens.nuclear_norm(Z, method="l12")
    assert infolens.nuclear_norm(Z * 7.5 + 3.0, method="l12") == pytest.approx(base)
    Q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    assert infolens.nuclear_norm(Z[rng.permutation(40)], method="l12") == pytest.approx(base)
    assert infolens.nuclear_norm(Z @ Q, method="l12") != pytest.approx(base)  # L1,2 is not
    assert infolens.nuclear_norm(Z @ Q) == pytest.approx(infolens.nuclear_norm(Z))  # SVD is


def test_default_stays_the_exact_svd():
    Z = np.random.default_rng(4).normal(size=(30, 5))
    r = infolens.nuclear_norm(Z, return_result=True)
    rows = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    assert r.params["method"] == "svd"
    assert r.value == pytest.approx(np.linalg.svd(rows, compute_uv=False).sum())


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_scale_invariant_measures_survive_extreme_scales(scale):
    Z = np.random.default_rng(5).normal(size=(50, 8))
    for f in (infolens.nuclear_norm, infolens.rankme, infolens.alpha_req,
              lambda X: infolens.nuclear_norm(X, method="l12"),
              lambda X: infolens.rankme(X, center=True)):
        assert f(Z * scale) == pytest.approx(f(Z), rel=1e-9)
    # the unnormalised norm scales linearly: tiny is fine, 1e300 * 50 rows overflows -> refused
    if scale < 1:
        assert infolens.nuclear_norm(Z * scale, normalize=False) == pytest.approx(
            infolens.nuclear_norm(Z, normalize=False) * scale, rel=1e-9)
    else:
        with pytest.raises(InvalidParameterError, match="non-finite"):
            infolens.nuclear_norm(Z * 1e307, normalize=False)


def test_l12_refusals():
    with pytest.raises(InvalidParameterError, match="normalize=False"):
        infolens.nuclear_norm(np.eye(3), method="l12", normalize=False)
    with pytest.raises(InvalidParameterError, match="column mean"):
        infolens.nuclear_norm(np.ones((4, 3)), method="l12")
    with pytest.raises(InvalidParameterError, match="'svd', 'l12'"):
        infolens.nuclear_norm(np.eye(3), method="exact")
