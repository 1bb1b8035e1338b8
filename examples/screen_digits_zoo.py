"""Screening demo (a): a zoo of small networks trained on scikit-learn's digits.

Trains fully connected ReLU networks of varied width, depth and training
length on 60% of ``sklearn.datasets.load_digits`` (offline, shipped with
scikit-learn), measures their held-out accuracy on the other 40%, and saves
each ``state_dict`` with a screening manifest.  The manifest is then run by
``infolens screen``: every checkpoint is rebuilt with
``infolens.batch.screening:make_mlp``, loaded with
``torch.load(weights_only=True)``, and its last hidden layer (``body``) is
measured on the held-out digits (the probe set): DSE, DSMI(Z; digit) and the
binning baselines.  The correlations with accuracy (Pearson and Spearman with
95% bootstrap intervals) and one scatter plot per measure land in ``--out``.

    python examples/screen_digits_zoo.py --out screening_digits
    python examples/screen_digits_zoo.py --out screening_digits --scheduler tcp://HOST:8786

Needs torch, matplotlib (and dask[distributed] for the default LocalCluster;
``--engine sequential`` runs without it).
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

WIDTHS = (8, 32, 128)
DEPTHS = (1, 2, 3)
EPOCHS = (1, 3, 30)


def _data(seed=0):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)


def train_zoo(folder, *, seed=0, lr=3e-3, batch_size=64):
    """Train one network per (width, depth, epochs); returns the manifest entries."""
    import torch

    from infolens.batch.screening import make_mlp

    torch.set_num_threads(1)
    folder = Path(folder)
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    X_tr, X_te, y_tr, y_te = _data(seed)
    np.savez(folder / "probe.npz", X=X_te, y=y_te)
    Xt, yt = torch.from_numpy(X_tr), torch.from_numpy(y_tr).long()
    Xv = torch.from_numpy(X_te)
    entries = []
    for k, (width, depth, epochs) in enumerate(itertools.product(WIDTHS, DEPTHS, EPOCHS)):
        torch.manual_seed(seed + k)
        widths = [width] * depth
        model = make_mlp(64, widths, 10)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(seed + k)
        for _ in range(epochs):
            order = torch.randperm(len(Xt), generator=gen)
            for i in range(0, len(order), batch_size):
                idx = order[i:i + batch_size]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()
        with torch.no_grad():
            acc = float((model(Xv).argmax(1).numpy() == y_te).mean())
        name = f"w{width}-d{depth}-e{epochs}"
        torch.save(model.state_dict(), folder / "checkpoints" / f"{name}.pt")
        entries.append({
            "name": name, "checkpoint": f"checkpoints/{name}.pt",
            "factory": "infolens.batch.screening:make_mlp",
            "factory_kwargs": {"in_features": 64, "widths": widths, "n_classes": 10},
            "probe": "probe.npz", "layer": "body", "accuracy": round(acc, 6),
            "meta": {"width": width, "depth": depth, "epochs": epochs},
        })
    return entries


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="screening_digits", help="output folder")
    parser.add_argument("--scheduler", default=None, help="tcp://HOST:PORT of a Dask scheduler")
    parser.add_argument("--engine", default="auto", choices=("auto", "sequential", "local", "dask"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import yaml

    from infolens.cli.main import main as infolens_main

    out = Path(args.out)
    start = time.perf_counter()
    entries = train_zoo(out / "zoo", seed=args.seed)
    print(f"trained {len(entries)} networks in {time.perf_counter() - start:.1f} s; held-out "
          f"accuracy {min(e['accuracy'] for e in entries):.3f} .. "
          f"{max(e['accuracy'] for e in entries):.3f}")
    manifest = {
        "measures": ["dse", "dsmi", "cse", "csmi"],
        "entries": entries,
    }
    (out / "zoo" / "zoo.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    cmd = ["screen", str(out / "zoo" / "zoo.yaml"), "--out", str(out),
           "--store", str(out / "results.sqlite"), "--engine", args.engine,
           "--workers", str(args.workers)]
    if args.scheduler:
        cmd += ["--scheduler", args.scheduler]
    print("infolens " + " ".join(cmd))
    return infolens_main(cmd)


if __name__ == "__main__":
    raise SystemExit(main())
