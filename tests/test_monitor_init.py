"""The monitor's epoch-0 row is the untrained network, in every calling pattern.

Before the fix, ``start()`` ran on the first ``epoch_end``/``step`` call, i.e. after the
first epoch (or step) of training: probe accuracy "at initialisation" was ~0.9 on digits
and epoch 0 equalled epoch 1.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from infolens.monitor import Measure, Monitor  # noqa: E402


def _data(n=300, seed=0):
    # Two linearly separable classes: one epoch of Adam at lr 0.05 reaches ~100 %.
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    x[:, 0] += np.where(y == 1, 3.0, -3.0)
    return torch.from_numpy(x), torch.from_numpy(y)


def _model(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():  # an untrained net that is confidently wrong: accuracy ~0
        model[2].weight.zero_()
        model[2].bias.copy_(torch.tensor([1.0, 0.0]))
    return model


def _measures():
    return [Measure("mean", lambda Z: float(np.mean(Z)), unit="a.u.")]


def _train_epoch(model, x, y, opt, mon=None, per_step=False):
    model.train()
    for i in range(0, len(y), 30):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x[i:i + 30]), y[i:i + 30])
        loss.backward()
        opt.step()
        if per_step:
            mon.step()


def _value(mon, measure, epoch, layer=""):
    rows = [r for r in mon.rows if r["measure"] == measure and r["epoch"] == epoch
            and r["layer"] == layer]
    assert rows, f"no {measure} row at epoch {epoch}"
    return rows[0]["value"]


def test_readme_pattern_measures_the_untrained_network():
    """Build the monitor, train an epoch, then epoch_end: epoch 0 must be before training."""
    x, y = _data()
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    mon = Monitor(model, ["1"], (x, y), measures=_measures(), accuracy=True)
    for _ in range(2):
        _train_epoch(model, x, y, opt)
        mon.epoch_end({"train_loss": 0.0})
    acc0, acc1 = _value(mon, "probe_accuracy", 0), _value(mon, "probe_accuracy", 1)
    assert acc0 < 0.6 < 0.9 < acc1          # chance or worse at init; trained after one epoch
    assert _value(mon, "mean", 0, "1") != _value(mon, "mean", 1, "1")


def test_step_pattern_measures_before_the_first_step():
    x, y = _data()
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    mon = Monitor(model, ["1"], (x, y), measures=_measures(), accuracy=True, unit="step",
                  every=5)
    _train_epoch(model, x, y, opt, mon, per_step=True)
    steps = [r["step"] for r in mon.rows if r["measure"] == "probe_accuracy"]
    assert steps[0] == 0 and steps[1] == 5
    acc = [r["value"] for r in mon.rows if r["measure"] == "probe_accuracy"]
    assert acc[0] < 0.6 and acc[-1] > 0.9


def test_explicit_start_is_not_measured_twice():
    x, y = _data()
    model = _model()
    mon = Monitor(model, ["1"], (x, y), measures=_measures())
    mon.start()
    n_rows = len(mon.rows)
    model(x[:4])        # the first forward pass no longer triggers anything
    mon.start()
    assert len(mon.rows) == n_rows


def test_resumed_monitor_does_not_remeasure_init():
    """A monitor restored from a checkpoint must not log the trained net as epoch 0."""
    x, y = _data()
    model = _model()
    mon = Monitor(model, ["1"], (x, y), measures=_measures())
    mon.load_state_dict({"epoch": 3, "step": 30, "started": True})
    model(x[:4])
    assert [r for r in mon.rows if r["epoch"] == 0] == []


def test_at_init_false_registers_nothing():
    x, y = _data()
    model = _model()
    mon = Monitor(model, ["1"], (x, y), measures=_measures(), at_init=False)
    model(x[:4])
    mon.epoch_end()
    assert {r["epoch"] for r in mon.rows} == {1}
