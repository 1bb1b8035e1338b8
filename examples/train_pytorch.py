"""Monitor DSE / DSMI of two layers in a plain PyTorch training loop, then write a report.

    python examples/train_pytorch.py --out runs/mlp
    infolens report runs/mlp --out runs/mlp-report      # (also done at the end here)

Data: scikit-learn's bundled 8x8 digits (no download).  Runs in ~30 s on a laptop CPU.
"""

import argparse

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from infolens.monitor import Monitor, default_measures
from infolens.runs.report import write_report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/digits-mlp", help="run folder")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_tr, x_val, y_tr, y_val = train_test_split(x, digits.target, test_size=400,
                                                stratify=digits.target, random_state=0)
    torch.manual_seed(args.seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(),   # "1": an earlier layer
        torch.nn.Linear(128, 64), torch.nn.ReLU(),   # "3": the penultimate layer
        torch.nn.Linear(64, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)

    # 1. attach: layer names from model.named_modules(), a fixed probe set, measures.
    monitor = Monitor(
        model, ["1", "3"], (torch.from_numpy(x_val), y_val),
        measures=default_measures() + default_measures(sigma=10),  # scale-aware and paper's
        run_dir=args.out, seed=args.seed, settings={"group": "mlp"}, blas_threads=1,
    )
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(yt))
        for i in range(0, len(perm), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        # 2. once per epoch: log whatever you like; the monitor measures when due.
        monitor.epoch_end({"train_loss": loss.item()})
        dsmi = monitor.history("dsmi_y", "3")[2][-1]
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}  DSMI(Z;Y) penultimate {dsmi:.3f} bits")
    # 3. close the run log.
    monitor.close()
    print(f"monitoring overhead: {monitor.overhead_s:.1f} s")
    out = write_report([args.out], args.out + "-report")
    print(f"report: {out['html']}")


if __name__ == "__main__":
    main()
