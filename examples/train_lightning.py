"""Monitor DSE / DSMI in a PyTorch Lightning fit with the InfolensCallback.

    pip install lightning
    python examples/train_lightning.py --out runs/lightning
    infolens report runs/lightning --out runs/lightning-report

Data: scikit-learn's bundled 8x8 digits (no download).
"""

import argparse

import lightning.pytorch as pl
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

from infolens.monitor import default_measures
from infolens.monitor.lightning import InfolensCallback


class DigitsMLP(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU())
        self.penultimate = torch.nn.Sequential(torch.nn.Linear(128, 64), torch.nn.ReLU())
        self.head = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.head(self.penultimate(self.body(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/digits-lightning")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_tr, x_val, y_tr, y_val = train_test_split(x, digits.target, test_size=400,
                                                stratify=digits.target, random_state=0)
    loader = DataLoader(TensorDataset(torch.from_numpy(x_tr), torch.from_numpy(y_tr)),
                        batch_size=64, shuffle=True)
    pl.seed_everything(0)
    callback = InfolensCallback(
        ["body", "penultimate"], (torch.from_numpy(x_val), y_val), run_dir=args.out,
        measures=default_measures() + default_measures(sigma=10), seed=0,
        settings={"group": "lightning-mlp"}, blas_threads=1,
    )
    trainer = pl.Trainer(max_epochs=args.epochs, callbacks=[callback], accelerator="cpu",
                         default_root_dir=args.out, enable_checkpointing=False)
    trainer.fit(DigitsMLP(), loader)
    print(f"run log: {args.out}/runlog.jsonl; monitoring overhead "
          f"{callback.monitor.overhead_s:.1f} s")
    print(f"next: infolens report {args.out} --out {args.out}-report")


if __name__ == "__main__":
    main()
