"""Neural MI bounds (torch): accuracy on Gaussian tasks with known MI, seeds, held-out estimate."""

import sys

import numpy as np
import pytest

import infolens
from infolens import datasets
from infolens.measures.neural import mlp

torch = pytest.importorskip("torch")

N = 5000


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # The machine is shared; one thread is also what makes timings repeatable.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("dim", [5, 25])
@pytest.mark.parametrize("estimator", [infolens.mine_mi, infolens.nwj_mi, infolens.infonce_mi])
def test_neural_within_15_percent_on_5x5_and_25x25(estimator, dim):
    task = datasets.multivariate_normal(N, dim, dim, random_state=dim)
    value = estimator(task.X, task.Y, base="e")
    assert abs(value - task.mi) / task.mi < 0.15, (value, task.mi)
    assert value < task.mi * 1.05  # a lower bound, up to held-out noise


def test_weight_decay_delays_infonce_overfitting():
    big = datasets.multivariate_normal(N, 25, 25, random_state=25)
    plain = infolens.infonce_mi(big.X, big.Y, base="e", weight_decay=0.0)
    decayed = infolens.infonce_mi(big.X, big.Y, base="e")
    assert decayed > plain


def test_seeded_runs_repeat_and_details():
    task = datasets.bivariate_normal(1500, 0.8)
    a = infolens.nwj_mi(task.X, task.Y, epochs=5, random_state=3, return_result=True)
    b = infolens.nwj_mi(task.X, task.Y, epochs=5, random_state=3, return_result=True)
    assert a.value == b.value
    assert a.details["n_heldout"] == 300 and a.details["n_train"] == 1200
    assert len(a.details["heldout_history"]) == a.details["epochs_run"] <= 5
    assert a.params["critic"] == "concat" and a.unit == "bits"


def test_independent_variables_give_small_values_and_labels_work():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2000, 3)), rng.standard_normal((2000, 3))
    assert abs(infolens.mine_mi(X, Y, base="e", epochs=30)) < 0.05
    y = rng.integers(0, 3, 2000)
    Z = rng.standard_normal((2000, 2)) + 6 * np.eye(3)[y][:, :2]
    # Two of three classes are separated from the third only partly; the bound must
    # approach H(Y) = log 3 from below.
    v = infolens.infonce_mi(Z, y, base="e", epochs=40)
    assert 0.6 < v <= np.log(3) + 0.05


def test_early_stopping_stops():
    task = datasets.bivariate_normal(1000, 0.5)
    r = infolens.mine_mi(task.X, task.Y, epochs=500, patience=3, return_result=True)
    assert r.details["epochs_run"] < 500
    assert r.details["best_epoch"] == r.details["epochs_run"] - 4


def test_neural_errors():
    Z = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(infolens.InvalidParameterError, match="'hidden' parameter of mine_mi"):
        infolens.mine_mi(Z, Z, hidden=(0,))
    with pytest.raises(infolens.InvalidParameterError, match="'critic' parameter"):
        infolens.nwj_mi(Z, Z, critic="bilinear")
    with pytest.raises(infolens.InvalidParameterError, match="held-out"):
        infolens.infonce_mi(Z[:3], Z[:3], val_fraction=0.1)


def test_rank_preprocessing_handles_heavy_tails():
    # Cauchy-tailed inputs saturate a critic fed standardised values; normal scores
    # (MI-preserving) recover the dependence.
    task = datasets.student_t(3000, 1, 1, dof=1, random_state=0)
    ranked = infolens.nwj_mi(task.X, task.Y, base="e", epochs=60)
    assert abs(ranked - task.mi) < 0.06, (ranked, task.mi)
    r = infolens.nwj_mi(task.X, task.Y, base="e", epochs=2, preprocess="standardize",
                        return_result=True)
    assert r.params["preprocess"] == "standardize"


def test_mlp_layer_widths():
    net = mlp(torch, 3, (5, 4), 2)
    widths = [m.out_features for m in net if isinstance(m, torch.nn.Linear)]
    assert widths == [5, 4, 2]
    assert net(torch.zeros(7, 3)).shape == (7, 2)


def test_missing_torch_names_the_estimator_and_the_extra(monkeypatch):
    Z = np.random.default_rng(0).standard_normal((40, 6))
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match=r"MINE/NWJ/InfoNCE needs torch.*infolens\[torch\]"):
        infolens.mine_mi(Z, Z)
    with pytest.raises(ImportError, match="autoencoder compressor needs torch"):
        infolens.compressed_mi(Z, Z, n_components=2, compressor="autoencoder")
