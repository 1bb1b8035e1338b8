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
bandwidth.  :func:`assess_findings` then states, from the logged numbers,
whether each of the paper's findings held, and :func:`run_study` writes the
report.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

__all__ = ["REGIMES", "StudyConfig", "assess_findings", "run_study"]

#: name -> (train on permuted labels?, weight std or None for PyTorch's default init)
REGIMES = {
    "supervised": (False, None),
    "random labels": (True, None),
    "init std 0.01": (False, 0.01),
    "init std 0.1": (False, 0.1),
}
LAYERS = ("block2", "penultimate")
PAPER_SIGMA = 10.0
#: Initial DSEs closer than this (bits) leave no "low-DSE" initialisation.
INIT_TIE_BITS = 1e-3


class StudyConfig:
    """Sizes of the study.

    Parameters
    ----------
    quick : bool
        A smoke-test size (a few epochs, 2 seeds, small probe) instead of the
        full study.
    """

    def __init__(self, quick=False):
        self.quick = quick
        self.seeds = (0, 1) if quick else (0, 1, 2)
        self.epochs = 4 if quick else 40
        self.every = 1 if quick else 4
        self.probe_size = 200 if quick else 500
        self.batch_size = 64
        # 3e-3 lets the random-label runs memorise (~85 % training accuracy in 40 epochs).
        self.lr = 3e-3
        self.n_repeats = 3 if quick else 5

    def to_dict(self):
        return {k: v for k, v in vars(self).items()}


def _model():
    import torch.nn as nn

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
    import torch.nn as nn

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)


def load_data(probe_size, seed=0):
    """Digits as (x_train, y_train, x_probe, y_probe): inputs in [0, 1], shape (n, 1, 8, 8).

    The probe (held-out) split is stratified and fixed by ``seed``.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    x_tr, x_pr, y_tr, y_pr = train_test_split(x, y, test_size=probe_size, stratify=y,
                                              random_state=seed)
    return x_tr, y_tr, x_pr, y_pr


class _Bar:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, total, enabled=True, stream=None):
        self.total = total
        self.done = 0
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self._last_pct = -1

    def update(self, n, label):
        self.done += n
        if not self.enabled:
            return
        frac = self.done / self.total
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        width = 28
        fill = int(round(width * frac))
        text = (f"[{'#' * fill}{'.' * (width - fill)}] {100 * frac:3.0f}%  {label}  "
                f"elapsed {_clock(elapsed)}  eta {_clock(eta) if frac >= 0.05 else '--'}")
        if self.tty:
            self.stream.write("\r" + text.ljust(110)[:110])
            if self.done >= self.total:
                self.stream.write("\n")
        elif int(100 * frac) // 10 != self._last_pct // 10 or self.done >= self.total:
            self.stream.write(text + "\n")
        self._last_pct = int(100 * frac)
        self.stream.flush()


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


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
    import torch

    from infolens.monitor import Measure, Monitor, default_measures

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


# ----------------------------------------------------------------------- findings
def _series(run, measure, layer=""):
    rows = sorted((r["epoch"], r["value"]) for r in run.rows
                  if r["measure"] == measure and r["layer"] == layer)
    return np.array([e for e, _ in rows]), np.array([v for _, v in rows])


def _by_seed(runs, group):
    return {r.seed: r for r in runs if r.group == group}


def _fmt(values):
    values = np.asarray(values, dtype=float)
    per_seed = ", ".join("never" if np.isinf(v) else f"{v:+.3f}" for v in values)
    if not np.all(np.isfinite(values)):
        return f"(per seed: {per_seed})"
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():+.3f} ± {sd:.3f} (per seed: {per_seed})"


def _variant_name(suffix):
    return "σ = 10 (paper)" if suffix else "σ = scale-aware median rule"


def _epochs_to(run, target):
    epochs, acc = _series(run, "val_accuracy")
    hit = epochs[acc >= target]
    return float(hit[0]) if len(hit) else float("inf")


def assess_findings(runs, layer="penultimate", early_layer="block2"):
    """State from the logged numbers whether each of the paper's findings held.

    Parameters
    ----------
    runs : list of infolens.runs.report.Run
    layer : str
        The layer the paper measured (penultimate).
    early_layer : str
        The earlier layer, reported alongside.

    Returns
    -------
    findings : list of dict
        ``{"finding", "held", "evidence", "variant"}`` rows for the report.
    numbers : dict
        The numbers behind them (JSON-serialisable).
    """
    findings, numbers = [], {}
    sup, rnd = _by_seed(runs, "supervised"), _by_seed(runs, "random labels")
    lo, hi = _by_seed(runs, "init std 0.01"), _by_seed(runs, "init std 0.1")
    verdicts = {}
    for suffix in ("", f"@sigma={PAPER_SIGMA:g}"):
        var = _variant_name(suffix)
        tag = "sigma10" if suffix else "scale_aware"
        nums = numbers.setdefault(tag, {})
        # (1) DSMI(Z;Y): supervised vs random labels, paired by seed.
        seeds = sorted(set(sup) & set(rnd))
        gaps = np.array([_series(sup[s], "dsmi_y" + suffix, layer)[1][-1]
                         - _series(rnd[s], "dsmi_y" + suffix, layer)[1][-1] for s in seeds])
        early_gaps = np.array([_series(sup[s], "dsmi_y" + suffix, early_layer)[1][-1]
                               - _series(rnd[s], "dsmi_y" + suffix, early_layer)[1][-1]
                               for s in seeds])
        rnd_end = np.array([_series(rnd[s], "dsmi_y" + suffix, layer)[1][-1] for s in seeds])
        rnd_init = np.array([_series(rnd[s], "dsmi_y" + suffix, layer)[1][0] for s in seeds])
        sup_end = np.array([_series(sup[s], "dsmi_y" + suffix, layer)[1][-1] for s in seeds])
        held = bool(len(gaps) and np.all(gaps > 0))
        verdicts[("gap", tag)] = held
        nums["dsmi_y_gap_bits"] = gaps.tolist()
        nums["dsmi_y_gap_early_layer_bits"] = early_gaps.tolist()
        findings.append({
            "finding": f"DSMI(Z;Y) ends higher under supervised training than under random "
                       f"labels [{var}]",
            "held": held, "variant": tag,
            "evidence": f"final {layer} gap supervised − random labels, bits: {_fmt(gaps)}; "
                        f"smallest {gaps.min():+.3f}. Supervised ends at "
                        f"{sup_end.mean():.3f}, random labels at {rnd_end.mean():.3f} bits "
                        f"(from {rnd_init.mean():.3f} at init). Layer '{early_layer}': gap "
                        f"{_fmt(early_gaps)}."})
        flat = bool(np.all(np.abs(rnd_end - rnd_init) < 0.25 * np.maximum(np.abs(gaps), 1e-9)))
        memo = np.array([_series(rnd[s], "train_accuracy")[1][-1] for s in seeds
                         if len(_series(rnd[s], "train_accuracy")[1])])
        verdicts[("flat", tag)] = flat
        findings.append({
            "finding": f"DSMI(Z;Y) stays near its initial value under random labels [{var}]",
            "held": flat, "variant": tag,
            "evidence": f"{layer}: change init → end {_fmt(rnd_end - rnd_init)} bits, against "
                        f"a supervised-vs-random gap of {gaps.mean():.3f} bits (held if every "
                        f"seed's change is under a quarter of the gap)."
                        + (f" Training accuracy on the permuted labels reached "
                           f"{memo.mean():.3f} (chance 0.1)." if len(memo) else "")})
        # (2) DSE(Z) during training, per regime.
        parts, all_up = [], True
        for group in REGIMES:
            members = _by_seed(runs, group)
            deltas = np.array([_series(r, "dse" + suffix, layer)[1][-1]
                               - _series(r, "dse" + suffix, layer)[1][0]
                               for r in members.values()])
            early = np.array([_series(r, "dse" + suffix, early_layer)[1][-1]
                              - _series(r, "dse" + suffix, early_layer)[1][0]
                              for r in members.values()])
            nums[f"dse_change_{group}"] = deltas.tolist()
            all_up &= bool(np.all(deltas > 0))
            parts.append(f"{group}: {_fmt(deltas)} ({early_layer}: {early.mean():+.3f})")
        verdicts[("dse", tag)] = all_up
        scale = []
        for group in REGIMES:
            ratio = [_series(r, "rms_distance", layer)[1] for r in _by_seed(runs, group).values()]
            ratio = [v[-1] / v[0] for v in ratio if len(v) and v[0] > 0]
            if ratio:
                scale.append(f"{group} ×{np.mean(ratio):.3g}")
        scale_note = (" Meanwhile the RMS pairwise distance of the representation (its scale, "
                      "which σ = 10 does not adapt to) changed by " + ", ".join(scale) + "."
                      ) if scale else ""
        findings.append({
            "finding": f"DSE(Z) increases during training in every regime [{var}]",
            "held": all_up, "variant": tag,
            "evidence": f"{layer} DSE change init → end, bits — " + "; ".join(parts) + "."
                        + scale_note})
        # (3) Initialisation: which start has the lower DSE, and did it train better?
        dse0 = {name: np.array([_series(r, "dse" + suffix, layer)[1][0] for r in g.values()])
                for name, g in (("0.01", lo), ("0.1", hi))}
        low = "0.01" if dse0["0.01"].mean() < dse0["0.1"].mean() else "0.1"
        high = "0.1" if low == "0.01" else "0.01"
        # With zero biases and ReLU the weight std only rescales every representation,
        # which a scale-aware bandwidth ignores: then neither start has the lower DSE.
        tie = abs(dse0["0.01"].mean() - dse0["0.1"].mean()) < INIT_TIE_BITS
        groups = {"0.01": lo, "0.1": hi}
        final_acc = {k: np.array([_series(r, "val_accuracy")[1][-1] for r in g.values()])
                     for k, g in groups.items()}
        target = 0.9
        speed = {k: np.array([_epochs_to(r, target) for r in g.values()])
                 for k, g in groups.items()}
        auc = {k: np.array([_series(r, "val_accuracy")[1].mean() for r in g.values()])
               for k, g in groups.items()}
        nums["init_dse_bits"] = {k: v.tolist() for k, v in dse0.items()}
        nums["init_final_accuracy"] = {k: v.tolist() for k, v in final_acc.items()}
        nums["init_epochs_to_90pct"] = {k: v.tolist() for k, v in speed.items()}
        faster = bool(speed[low].mean() < speed[high].mean()
                      or (speed[low].mean() == speed[high].mean()
                          and auc[low].mean() > auc[high].mean()))
        higher = bool(final_acc[low].mean() > final_acc[high].mean())
        if tie:
            faster = higher = None
        verdicts[("faster", tag)] = faster
        verdicts[("higher", tag)] = higher
        n_probe = next((r["n_samples"] for run in runs for r in run.rows if "n_samples" in r),
                       2)
        start = (f"Initial {layer} DSE: std 0.01 → {dse0['0.01'].mean():.4f}, std 0.1 → "
                 f"{dse0['0.1'].mean():.4f} bits (paper, ResNet-50: ≈ 0 vs ≈ log2 N = "
                 f"{np.log2(n_probe):.2f} here). "
                 + ("Neither start has a lower DSE: with zero biases and ReLU the two "
                    "initialisations differ only by a scale factor, which this bandwidth "
                    "ignores, so the question has no subject. For the record: " if tie else
                    f"The low-DSE start is std {low}"
                    + (" (by a small margin: both are far below log2 N). " if abs(
                        dse0['0.01'].mean() - dse0['0.1'].mean()) < 1.0 else ". ")))
        findings.append({
            "finding": f"The low-DSE initialisation trains faster [{var}]",
            "held": faster, "variant": tag,
            "evidence": start + f"Epochs to {target:.0%} validation accuracy: std {low} "
                        f"{_fmt(speed[low])}, std {high} {_fmt(speed[high])}; mean probe "
                        f"accuracy over the run {auc[low].mean():.3f} vs "
                        f"{auc[high].mean():.3f}."})
        findings.append({
            "finding": f"The low-DSE initialisation ends with higher accuracy [{var}]",
            "held": higher, "variant": tag,
            "evidence": start + f"Final validation accuracy: std {low} {_fmt(final_acc[low])}, "
                        f"std {high} {_fmt(final_acc[high])}."})
        # DSMI(Z;X) trend under supervised training (MNIST: keeps rising).
        dx = [_series(r, "dsmi_x" + suffix, layer)[1] for r in sup.values()]
        rise = np.array([v[-1] - v[0] for v in dx])
        peak_drop = np.array([v.max() - v[-1] for v in dx])
        climb = np.array([v.max() - v[0] for v in dx])
        # "Keeps rising": ends within 10 % of its climb below its peak (else: peaks, falls).
        rising = bool(np.all(rise > 0) and np.all(peak_drop <= 0.1 * climb))
        verdicts[("dsmix", tag)] = rising
        findings.append({
            "finding": f"DSMI(Z;X) keeps rising under supervised training (paper: MNIST) "
                       f"[{var}]",
            "held": rising, "variant": tag,
            "evidence": f"{layer} change init → end {_fmt(rise)} bits; drop from its peak to "
                        f"the end {_fmt(peak_drop)} bits, against a climb from init to peak "
                        f"of {_fmt(climb)} bits (held if every seed ends within 10 % of its "
                        f"climb below the peak; otherwise it peaked then fell, as the paper "
                        f"saw on CIFAR-10 and STL-10)."})
    keys = sorted({k for k, _ in verdicts})
    differ = [k for k in keys if verdicts[(k, "scale_aware")] != verdicts[(k, "sigma10")]]
    word = {True: "held", False: "did not hold", None: "inconclusive"}
    labels = {"gap": "supervised > random DSMI(Z;Y)", "flat": "flat DSMI(Z;Y) under random "
              "labels", "dse": "DSE rises", "faster": "low-DSE init faster",
              "higher": "low-DSE init ends higher", "dsmix": "DSMI(Z;X) rises"}
    findings.append({
        "finding": "The conclusions are the same under σ = 10 and the scale-aware bandwidth",
        "held": not differ, "variant": "both",
        "evidence": ("every verdict above agrees between the two bandwidths" if not differ
                     else "verdicts differ for: " + "; ".join(
                         f"{labels[k]} (scale-aware: {word[verdicts[(k, 'scale_aware')]]}, "
                         f"σ=10: {word[verdicts[(k, 'sigma10')]]})"
                         for k in differ))})
    numbers["verdicts"] = {f"{k}/{t}": v for (k, t), v in verdicts.items()}
    return findings, numbers


def _findings_markdown(findings):
    lines = ["| paper finding | on this data | measured evidence |", "|---|---|---|"]
    for f in findings:
        verdict = {True: "held", False: "**did not hold**", None: "inconclusive"}[f["held"]]
        lines.append(f"| {f['finding']} | {verdict} | {f['evidence']} |")
    return "\n".join(lines) + "\n"


def run_study(out_dir, quick=False, progress=True):
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

    Returns
    -------
    dict
        ``{"report_dir", "html", "findings", "numbers", "wall_s"}``.
    """
    import torch

    from infolens.runs.report import find_runs, write_report

    cfg = StudyConfig(quick)
    out_dir = os.fspath(out_dir)
    run_root = os.path.join(out_dir, "runs")
    report_dir = os.path.join(out_dir, "report")
    data = load_data(cfg.probe_size)
    plan = [(regime, seed) for regime in REGIMES for seed in cfg.seeds]
    bar = _Bar(len(plan) * (cfg.epochs + 1), enabled=progress)
    start = time.perf_counter()
    cpu_start = time.process_time()
    threads = torch.get_num_threads()
    # A CNN this small trains fastest on one thread; many threads only contend.
    torch.set_num_threads(1)
    run_dirs = []
    try:
        for k, (regime, seed) in enumerate(plan, start=1):
            run_dir = os.path.join(run_root, f"{regime.replace(' ', '-')}-seed{seed}")
            run_dirs.append(run_dir)
            train_run(regime, seed, data, cfg, run_dir, on_epoch=lambda e, r=regime, s=seed, k=k:
                      bar.update(1, f"run {k}/{len(plan)} {r} seed {s} epoch {e}/{cfg.epochs}"))
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
        "the paper's σ = 10 ('@sigma=10') and with the scale-aware median-distance bandwidth.",
        "An extra measure, rms_distance (RMS pairwise distance of the representation, in "
        "activation units), shows its scale: σ = 10 is a fixed length, so DSE/DSMI at σ = 10 "
        "move when the scale moves even if the geometry does not.",
        f"Total wall time {wall:.0f} s (CPU {cpu:.0f} s in this process), of which "
        f"{overhead:.0f} s measuring"
        f"{' (quick mode: smoke-test sizes, not the study)' if quick else ''}.",
    ]
    out = write_report(runs, report_dir, title="infolens: training dynamics on digits "
                       "(DSE / DSMI, paper §5)", findings=findings, notes=notes)
    with open(os.path.join(report_dir, "findings.md"), "w", encoding="utf-8") as fh:
        fh.write(_findings_markdown(findings))
    with open(os.path.join(report_dir, "findings.json"), "w", encoding="utf-8") as fh:
        json.dump({"findings": findings, "numbers": numbers, "config": cfg.to_dict(),
                   "wall_s": wall, "cpu_s": cpu, "monitor_overhead_s": overhead}, fh, indent=1)
    return {"report_dir": report_dir, "html": out["html"], "findings": findings,
            "numbers": numbers, "wall_s": wall, "cpu_s": cpu}


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
    """The study's options of ``infolens demo`` (``--out``, ``--quick``, ``--no-progress``)."""
    parser.add_argument("--out", metavar="DIR", default=None,
                        help=f"folder for the runs and the report (default: ./"
                             f"{DEFAULT_DEMO_DIR}, or -2, -3 ... if it exists)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke-test sizes (~1 min instead of ~3-5): not the study")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")


def demo_command(args, out=None):
    """Run the study for ``infolens demo``; prints the findings and the report folder."""
    from infolens.core.validation import InvalidParameterError

    out = out or sys.stdout
    for module, package in (("torch", "torch"), ("matplotlib", "matplotlib")):
        try:
            __import__(module)
        except ImportError:
            raise InvalidParameterError(
                f"infolens demo trains a small network and draws figures: it needs {package}. "
                f"Install it with 'pip install {package}' (CPU builds are enough), or run "
                f"'infolens demo --table' for the table demo without it."
            ) from None
    folder = args.out or fresh_folder()
    if args.out and os.path.exists(os.path.join(folder, "runs")):
        raise InvalidParameterError(
            f"{folder} already holds a study (runs/); pass another --out or remove it."
        )
    print(f"infolens demo: training a small CNN on scikit-learn's digits in 4 regimes x "
          f"{len(StudyConfig(args.quick).seeds)} seeds, monitoring DSE/DSMI at 2 layers "
          f"(CPU, {'~1' if args.quick else '~3-5'} min) ...", file=out, flush=True)
    result = run_study(folder, quick=args.quick, progress=args.progress)
    word = {True: "held", False: "DID NOT HOLD", None: "inconclusive"}
    print(f"\nPaper findings on this data ({result['wall_s']:.0f} s):", file=out)
    for f in result["findings"]:
        print(f"  [{word[f['held']]:>12}] {f['finding']}", file=out)
    print(f"\nreport: {result['html']}", file=out)
    print(f"report folder: {result['report_dir']}", file=out)
    return 0
