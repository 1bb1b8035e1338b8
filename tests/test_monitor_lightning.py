"""The Lightning callback in a real Trainer.fit, including a resumed fit."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pl = pytest.importorskip("lightning.pytorch")

from infolens.monitor import Measure, read_runlog  # noqa: E402
from infolens.monitor.lightning import InfolensCallback  # noqa: E402


class Tiny(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU())
        self.head = torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.body(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _loader():
    from torch.utils.data import DataLoader, TensorDataset

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=gen)
    y = (x[:, 0] > 0).long()
    return DataLoader(TensorDataset(x, y), batch_size=16), (x[:48], y[:48].numpy())


def _trainer(root, epochs, callbacks=()):
    return pl.Trainer(max_epochs=epochs, callbacks=list(callbacks), default_root_dir=str(root),
                      accelerator="cpu",
                      logger=pl.loggers.CSVLogger(str(root)), enable_progress_bar=False,
                      enable_model_summary=False, enable_checkpointing=False,
                      num_sanity_val_steps=0)


def _measures():
    return [Measure("spread", lambda Z: float(Z.std()), unit="a.u.")]


def test_callback_logs_every_epoch_and_init_in_a_real_fit(tmp_path):
    torch.manual_seed(0)
    loader, probe = _loader()
    cb = InfolensCallback(["body", "head"], probe, run_dir=tmp_path / "run",
                          measures=_measures(), seed=3)
    model = Tiny()
    trainer = _trainer(tmp_path, 3, [cb])
    trainer.fit(model, loader)
    rows = read_runlog(tmp_path / "run" / "runlog.jsonl")
    spread = [(r["epoch"], r["layer"]) for r in rows if r["measure"] == "spread"]
    assert spread == [(e, layer) for e in range(4) for layer in ("body", "head")]
    losses = [r for r in rows if r["measure"] == "train_loss"]
    assert [r["epoch"] for r in losses] == [1, 2, 3]
    assert all(r["seed"] == 3 for r in rows)
    assert model.training  # the trainer's mode survives the measurements
    # The final measurement is of the trained model.
    Z = model.body(probe[0]).detach().numpy()
    last = [r["value"] for r in rows if r["measure"] == "spread" and r["layer"] == "body"][-1]
    assert last == pytest.approx(float(Z.std()), rel=1e-5)
    # Values went to the trainer's logger too.
    metrics = (tmp_path / "lightning_logs").rglob("metrics.csv")
    assert any("infolens/spread/body" in p.read_text() for p in metrics)


def test_resumed_fit_continues_the_log_without_duplicates(tmp_path):
    torch.manual_seed(0)
    loader, probe = _loader()
    run = tmp_path / "run"
    ckpt = tmp_path / "two.ckpt"
    cb = InfolensCallback(["body"], probe, run_dir=run, measures=_measures())
    trainer = _trainer(tmp_path, 2, [cb])
    trainer.fit(Tiny(), loader)
    trainer.save_checkpoint(str(ckpt))
    cb2 = InfolensCallback(["body"], probe, run_dir=run, measures=_measures())
    trainer = _trainer(tmp_path, 4, [cb2])
    trainer.fit(Tiny(), loader, ckpt_path=str(ckpt))
    rows = read_runlog(run / "runlog.jsonl")
    keys = [(r["epoch"], r["layer"], r["measure"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert sorted(r["epoch"] for r in rows if r["measure"] == "spread") == [0, 1, 2, 3, 4]
    assert np.all(np.isfinite([r["value"] for r in rows]))
