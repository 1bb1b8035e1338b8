"""The training-dynamics study of the paper (§5), on scikit-learn's digits, on CPU.

A small CNN is trained on the 8x8 handwritten digits bundled with
scikit-learn (no download) in four groups of runs:

* ``supervised``: default PyTorch initialisation, true labels;
* ``random labels``: the same, trained on permuted labels (memorisation);
* ``init std 0.01`` and ``init std 0.1``: true labels, every conv/linear
  weight drawn from N(0, std^2), biases zero (the paper's ResNet-50
  initialisation experiment).

Each run is monitored with :class:`infolens.monitor.Monitor` on a fixed
held-out probe set (true labels) at an earlier layer (``block2``, the last
conv block, flattened) and the penultimate layer, with DSE(Z), DSMI(Z; Y) and
DSMI(Z; X) under both the paper's ``sigma = 10`` and the scale-aware default
bandwidth.  :func:`~infolens.bench.findings.assess_findings` then states, from
the logged numbers, whether each of the paper's findings held, and
:func:`run_study` writes the report.  The design (regimes, layers, sizes) is
in :mod:`infolens.bench.regimes`; both modules' names are importable from here.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np

from infolens.bench.findings import assess_findings, findings_markdown
from infolens.bench.regimes import INIT_TIE_BITS, LAYERS, PAPER_SIGMA, REGIMES, StudyConfig
from infolens.core import optional
from infolens.core.progress import Progress
from infolens.core.validation import InvalidParameterError
from infolens.bench.resume import check_resumable, run_complete
from infolens.monitor import Measure, Monitor, default_measures
from infolens.runs.report import find_runs, write_report

__all__ = ["INIT_TIE_BITS", "LAYERS", "PAPER_SIGMA", "REGIMES", "StudyConfig", "assess_findings",
           "load_data", "run_study", "train_run"]


def _model():
    nn = optional.torch("the training-dynamics study").nn

    class DigitsCNN(nn.Module):
        """conv(16) -> conv(32) + pool -> linear(64) -> linear(10), ReLU activations."""

        def __init__(self):
            super().__init__()
            self.block1 = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU())
            self.block2 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                                        nn.MaxPool2d(2))
            self.penultimate = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU())
            self.head = nn.Linear(64, 10)

        def forward(self, x):
            return self.head(self.penultimate(self.block2(self.block1(x))))

    return DigitsCNN()


def _init_weights(model, std):
    nn = optional.torch("the training-dynamics study").nn
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)


def load_data(probe_size, seed=0):
    """Digits as (x_train, y_train, x_probe, y_probe): inputs in [0, 1], shape (n, 1, 8, 8).

    The probe (held-out) split is stratified and fixed by ``seed``.
    """
    digits = optional.scikit_learn("datasets").load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    split = optional.scikit_learn("model_selection").train_test_split
    x_tr, x_pr, y_tr, y_pr = split(x, y, test_size=probe_size, stratify=y, random_state=seed)
    return x_tr, y_tr, x_pr, y_pr


def rms_distance(Z):
    """Root-mean-square distance between distinct rows of ``Z`` (the representation's scale),
    ``sqrt(2 n / (n - 1) * trace(cov(Z)))``, in the units of ``Z``."""
    Z = np.asarray(Z, dtype=np.float64)
    n = Z.shape[0]
    return float(np.sqrt(2.0 * n / (n - 1) * Z.var(axis=0).sum()))


def train_run(regime, seed, data, cfg, run_dir, on_epoch=None):
    """Train one CNN under ``regime`` with ``seed``, monitored into ``run_dir``.

    Returns
    -------
    dict
        ``{"wall_s", "overhead_s"}`` of the run.
    """
    torch = optional.torch("the training-dynamics study")
    permute, std = REGIMES[regime]
    x_tr, y_tr, x_pr, y_pr = data
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = _model()
    if std is not None:
        _init_weights(model, std)
    y_fit = rng.permutation(y_tr) if permute else y_tr
    xt = torch.from_numpy(x_tr)
    yt = torch.from_numpy(y_fit)
    xp, yp = torch.from_numpy(x_pr), torch.from_numpy(y_pr)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    measures = (default_measures(n_repeats=cfg.n_repeats)
                + default_measures(sigma=PAPER_SIGMA, n_repeats=cfg.n_repeats)
                + [Measure("rms_distance", rms_distance, unit="activation units")])
    settings = {"group": regime, "regime": regime, "seed": seed, "train_on_permuted_labels":
                permute, "init_weight_std": "pytorch default" if std is None else std,
                "optimizer": f"Adam(lr={cfg.lr})", "batch_size": cfg.batch_size,
                "epochs": cfg.epochs, "n_train": int(len(y_tr)), "data": "sklearn digits 8x8"}
    start = time.perf_counter()
    with Monitor(model, list(LAYERS), (torch.from_numpy(x_pr), y_pr), measures=measures,
                 every=cfg.every, run_dir=run_dir, seed=seed, settings=settings,
                 fsync=False, blas_threads=1, accuracy=False) as mon:
        mon.start()
        model.eval()
        with torch.no_grad():
            logits = model(xp)
        mon.log_metrics({"val_loss": float(torch.nn.functional.cross_entropy(logits, yp)),
                         "val_accuracy": float((logits.argmax(1) == yp).float().mean())})
        if on_epoch:
            on_epoch(0)
        for epoch in range(cfg.epochs):
            model.train()
            order = torch.from_numpy(rng.permutation(len(yt)))
            total, correct = 0.0, 0
            for i in range(0, len(order), cfg.batch_size):
                idx = order[i:i + cfg.batch_size]
                opt.zero_grad()
                logits = model(xt[idx])
                loss = torch.nn.functional.cross_entropy(logits, yt[idx])
                loss.backward()
                opt.step()
                mon.step()
                total += loss.item() * len(idx)
                correct += int((logits.argmax(1) == yt[idx]).sum())
            model.eval()
            with torch.no_grad():
                logits = model(xp)
                val_loss = float(torch.nn.functional.cross_entropy(logits, yp))
                val_acc = float((logits.argmax(1) == yp).float().mean())
            mon.epoch_end({"train_loss": total / len(yt), "train_accuracy": correct / len(yt),
                           "val_loss": val_loss, "val_accuracy": val_acc})
            if on_epoch:
                on_epoch(epoch + 1)
    return {"wall_s": time.perf_counter() - start, "overhead_s": mon.overhead_s}


SMOKE_NOTE = ("SMOKE RUN (--quick): a few epochs, 2 seeds and a small probe set check that "
              "everything runs; the verdicts below mean nothing. Run without --quick for "
              "the study.")


def _train_in_worker(job):
    """One run in a worker process (one torch thread); ``job`` = train_run's arguments."""
    optional.torch("the training-dynamics study").set_num_threads(1)
    return train_run(*job)


def _train_parallel(jobs, workers, bar, cfg):
    """Train ``jobs`` in ``workers`` processes; the bar moves one run at a time."""
    context = multiprocessing.get_context("spawn")  # no fork of a process holding torch
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_train_in_worker, job) for job in jobs]
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                future.result()
                bar.update(cfg.epochs + 1, detail=f"{done}/{len(jobs)} runs done "
                                                  f"({workers} in parallel)")
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def run_study(out_dir, quick=False, progress=True, resume=False, workers=1):
    """Run the training-dynamics study and write its report.

    Parameters
    ----------
    out_dir : str
        Folder for ``runs/<regime>-seed<k>/`` (run logs) and ``report/``
        (``index.html``, PNG figures, ``findings.md``, ``findings.json``).
    quick : bool, default=False
        Smoke-test sizes (about a tenth of the full study's time).
    progress : bool, default=True
        Draw a progress bar on stderr.
    resume : bool, default=False
        Continue a study in ``out_dir`` that was interrupted: finished runs are
        kept, an unfinished one is trained again from the start (same seed).
    workers : int, default=1
        Runs trained at once, each in its own process on one thread (the
        verdicts do not depend on it: every run has its own seed).

    Returns
    -------
    dict
        ``{"report_dir", "html", "findings", "numbers", "wall_s"}``.
    """
    torch = optional.torch("the training-dynamics study")
    cfg = StudyConfig(quick)
    out_dir = os.fspath(out_dir)
    run_root = os.path.join(out_dir, "runs")
    report_dir = os.path.join(out_dir, "report")
    check_resumable(out_dir, cfg, resume)
    data = load_data(cfg.probe_size)
    plan = [(regime, seed) for regime in REGIMES for seed in cfg.seeds]
    bar = Progress(len(plan) * (cfg.epochs + 1), enabled=progress, show_after=0.0, lines=10)
    kept = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    threads = torch.get_num_threads()
    # A CNN this small trains fastest on one thread; many threads only contend.
    torch.set_num_threads(1)
    run_dirs, jobs = [], []
    try:
        with bar:
            for k, (regime, seed) in enumerate(plan, start=1):
                run_dir = os.path.join(run_root, f"{regime.replace(' ', '-')}-seed{seed}")
                run_dirs.append(run_dir)
                if resume and run_complete(run_dir, cfg):
                    kept += 1
                    bar.update(cfg.epochs + 1, detail=f"run {k}/{len(plan)} kept")
                    continue
                if os.path.exists(run_dir):  # interrupted: train it again from the start
                    shutil.rmtree(run_dir)
                if workers > 1:
                    jobs.append((regime, seed, data, cfg, run_dir))
                    continue
                train_run(regime, seed, data, cfg, run_dir,
                          on_epoch=lambda e, r=regime, s=seed, k=k: bar.update(
                              1, detail=f"run {k}/{len(plan)} {r} seed {s} epoch {e}/"
                                        f"{cfg.epochs}"))
            if jobs:
                _train_parallel(jobs, workers, bar, cfg)
    finally:
        torch.set_num_threads(threads)
    runs = find_runs(run_dirs)
    findings, numbers = assess_findings(runs)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    overhead = sum(r["value"] for run in runs for r in run.rows
                   if r["measure"] == "monitor_overhead_s")
    notes = [
        f"Data: scikit-learn digits (8x8 images, {len(data[1])} training and {cfg.probe_size} "
        f"held-out probe images; the probe set is also the validation set, with true labels). "
        f"Model: 2 conv blocks + 64-unit penultimate layer, Adam lr {cfg.lr}, batch "
        f"{cfg.batch_size}, {cfg.epochs} epochs, seeds {list(cfg.seeds)}; measured at "
        f"initialisation and every {cfg.every} epoch(s).",
        "Layers: 'block2' (second conv block after pooling, 32x4x4 maps flattened to 512 "
        "features) and 'penultimate' (64 ReLU units). DSMI(Z;X) conditions on 10 spectral "
        "clusters of the flattened probe inputs, computed once. Each measure is logged with "
        "the paper's σ = 10 ('@sigma=10') and with the scale-aware default bandwidth "
        "(the k-NN rule: the median distance to the ceil(2 ln N)-th nearest neighbour / √2).",
        "An extra measure, rms_distance (RMS pairwise distance of the representation, in "
        "activation units), shows its scale: σ = 10 is a fixed length, so DSE/DSMI at σ = 10 "
        "move when the scale moves even if the geometry does not.",
        f"Wall time of this invocation {wall:.0f} s (CPU {cpu:.0f} s in this process"
        f"{f'; {kept} finished run(s) kept from an interrupted study' if kept else ''}); "
        f"{overhead:.0f} s of all runs' time was spent measuring.",
        "How a verdict is reached: at the penultimate layer (the paper's), per seed; held "
        "when at least 4 of 5 seeds (3 of 3) show it, did not hold when at most 1 of 5 "
        "does, inconclusive in between; inconclusive too when its premise was not met "
        "(supervised training learned, the measure is not stuck at 0, the initialisations "
        "start at low and high DSE). The earlier layer's seed count is given beside it.",
    ] + ([SMOKE_NOTE] if quick else [])
    out = write_report(runs, report_dir, title="infolens: training dynamics on digits "
                       "(DSE / DSMI, paper §5)", findings=findings, notes=notes)
    with open(os.path.join(report_dir, "findings.md"), "w", encoding="utf-8") as fh:
        fh.write(findings_markdown(findings, smoke=quick))
    with open(os.path.join(report_dir, "findings.json"), "w", encoding="utf-8") as fh:
        json.dump({"findings": findings, "numbers": numbers, "config": cfg.to_dict(),
                   "smoke_run": quick, "wall_s": wall, "cpu_s": cpu, "kept_runs": kept,
                   "monitor_overhead_s": overhead}, fh, indent=1)
    return {"report_dir": report_dir, "html": out["html"], "findings": findings,
            "numbers": numbers, "wall_s": wall, "cpu_s": cpu, "kept_runs": kept}


# --------------------------------------------------------------------------- CLI glue
DEFAULT_DEMO_DIR = "infolens-demo"


def fresh_folder(base=DEFAULT_DEMO_DIR):
    """``base``, or ``base-2``, ``base-3`` ... : the first name that does not exist yet."""
    if not os.path.exists(base):
        return base
    k = 2
    while os.path.exists(f"{base}-{k}"):
        k += 1
    return f"{base}-{k}"


def add_demo_arguments(parser):
    """The study's options of ``infolens demo`` (``--out``, ``--quick``, ``--resume``,
    ``--no-progress``)."""
    parser.add_argument("--out", metavar="DIR", default=None,
                        help=f"folder for the runs and the report (default: ./"
                             f"{DEFAULT_DEMO_DIR}, or -2, -3 ... if it exists)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run (~{StudyConfig(True).minutes(2)} min): checks that "
                             f"everything runs; its verdicts mean nothing")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="runs trained at once, one process and one thread each "
                             "(default 2: two cores)")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted study in --out (finished runs are kept)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")


def demo_command(args, out=None):
    """Run the study for ``infolens demo``; prints the findings and the report folder."""
    out = out or sys.stdout
    for require, package in ((optional.torch, "torch"), (optional.matplotlib_pyplot,
                                                         "matplotlib")):
        try:
            require("infolens demo")
        except ImportError:
            raise InvalidParameterError(
                f"infolens demo trains a small network and draws figures: it needs {package}. "
                f"Install it with 'pip install {package}' (CPU builds are enough), or run "
                f"'infolens demo --table' for the table demo without it."
            ) from None
    resume = getattr(args, "resume", False)
    if resume and not args.out:
        raise InvalidParameterError("--resume needs --out DIR: the folder of the interrupted "
                                    "study.")
    folder = args.out or fresh_folder()
    if args.out and os.path.exists(os.path.join(folder, "runs")) and not resume:
        raise InvalidParameterError(
            f"{folder} already holds a study (runs/); continue it with 'infolens demo "
            f"--resume --out {folder}{' --quick' if args.quick else ''}', or pass another "
            f"--out."
        )
    cfg = StudyConfig(args.quick)
    print(f"infolens demo: training a small CNN on scikit-learn's digits in 4 regimes x "
          f"{len(cfg.seeds)} seeds, monitoring DSE/DSMI at 2 layers (CPU, about "
          f"{cfg.minutes(getattr(args, 'workers', 1))} min on free cores)"
          f"{' - resuming' if resume else ''} ...",
          file=out, flush=True)
    if args.quick:
        print(SMOKE_NOTE, file=out, flush=True)
    try:
        result = run_study(folder, quick=args.quick, progress=args.progress, resume=resume,
                           workers=max(1, getattr(args, "workers", 1)))
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: infolens demo --resume --out {folder}"
              f"{' --quick' if args.quick else ''}", file=out, flush=True)
        return 130
    word = {True: "held", False: "DID NOT HOLD", None: "inconclusive"}
    head = "Smoke-run verdicts (meaningless)" if args.quick else "Paper findings on this data"
    print(f"\n{head} ({result['wall_s']:.0f} s):", file=out)
    for f in result["findings"]:
        seeds = f" ({f['seeds']})" if f.get("seeds") else ""
        print(f"  [{word[f['held']]:>12}] {f['finding']}{seeds}", file=out)
        if f.get("premise"):
            print(f"  {'':>14} premise not met: {f['premise']}", file=out)
    print(f"\nreport: {result['html']}", file=out)
    print(f"report folder: {result['report_dir']}", file=out)
    return 0
