"""What the training monitor costs per measured epoch, against the training it watches.

Trains ``examples/train_pytorch.py``'s MLP on scikit-learn's digits (1397 training
rows, 400 probe rows, two monitored layers, torch on one thread) for ``--epochs``
epochs, measuring every epoch, once with ``default_measures()`` and once with the
example's ``default_measures() + default_measures(sigma=10)``; prints the median
training time per epoch, the median time ``Monitor.epoch_end`` takes (the first
measurement excluded), their ratio and the cost per layer and measure.

Usage
-----
    python benchmarks/bench_monitor.py              # 8 epochs
    python benchmarks/bench_monitor.py --epochs 20
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from infolens.monitor import Monitor, default_measures

LAYERS = ["1", "3"]


def run(measures, x_tr, y_tr, probe, epochs):
    """``(training seconds per epoch, monitor seconds per measured epoch)``, both medians."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    with tempfile.TemporaryDirectory() as folder:
        monitor = Monitor(model, LAYERS, probe, measures=measures, run_dir=folder, seed=0,
                          blas_threads=1)
        train, measure = [], []
        for _ in range(epochs):
            start = time.perf_counter()
            for batch in torch.randperm(len(yt)).split(64):
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch])
                loss.backward()
                opt.step()
            train.append(time.perf_counter() - start)
            start = time.perf_counter()
            monitor.epoch_end({"train_loss": loss.item()})
            measure.append(time.perf_counter() - start)
        monitor.close()
    return statistics.median(train), statistics.median(measure[1:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_tr, x_val, y_tr, y_val = train_test_split(x, digits.target, test_size=400,
                                                stratify=digits.target, random_state=0)
    probe = (torch.from_numpy(x_val), y_val)
    print("| measures | training per epoch | monitor per measured epoch | ratio | per layer "
          "and measure |")
    print("|---|---|---|---|---|")
    for label, measures in (("default_measures()", default_measures()),
                            ("default_measures() + default_measures(sigma=10)",
                             default_measures() + default_measures(sigma=10))):
        train, measure = run(measures, x_tr, y_tr, probe, args.epochs)
        print(f"| {label} | {1e3 * train:.0f} ms | {1e3 * measure:.0f} ms | "
              f"{measure / train:.1f}x | {1e3 * measure / len(measures) / len(LAYERS):.0f} ms |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
