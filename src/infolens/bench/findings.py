"""The paper's findings (§5) checked against the numbers logged by the training-dynamics study.

Each finding is one small function of a :class:`_View` (the runs seen through
one bandwidth variant) that returns its verdicts; :data:`CHECKS` lists them in
report order.  Every verdict has

* a **premise**: what must have happened for the finding to be testable here
  (supervised training learned; the measure is not stuck at 0; the two
  initialisations really start at low and high DSE ...).  A premise not met
  makes the verdict ``None`` (inconclusive), saying why;
* **seed agreement**: the finding is checked per seed at the paper's layer
  (penultimate); it *held* when at least :data:`AGREE` of the seeds show it,
  *did not hold* when at most ``1 - AGREE`` do, and is inconclusive in between
  ("3/5 seeds");
* the same count at the earlier layer, reported beside it (``layers``).

:func:`assess_findings` runs every check under both bandwidths and adds a last
row saying whether the two bandwidths agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infolens.bench.regimes import INIT_TIE_BITS, PAPER_SIGMA, REGIMES

__all__ = ["AGREE", "CHECKS", "VERDICT_LABELS", "assess_findings", "findings_markdown"]

#: Short name of each verdict, for the row that compares the two bandwidths.
VERDICT_LABELS = {"gap": "supervised > random DSMI(Z;Y)", "flat": "flat DSMI(Z;Y) under random "
                  "labels", "dse": "DSE rises", "faster": "low-DSE init faster",
                  "higher": "low-DSE init ends higher", "dsmix": "DSMI(Z;X) keeps rising"}
_WORD = {True: "held", False: "did not hold", None: "inconclusive"}
#: Validation accuracy the "trains faster" finding counts epochs to.
TARGET_ACCURACY = 0.9
#: Fraction of seeds that must agree for "held" (or, at most 1 - AGREE, "did not hold"):
#: 4 of 5 seeds, 3 of 3.  A finding that one seed in two shows is no finding.
AGREE = 0.8
#: Supervised runs must end above this validation accuracy (chance 0.1) for the
#: supervised-vs-random comparison to mean anything.
LEARNED_ACCURACY = 0.5
#: A spectral measure that never leaves [0, this) bits in any run resolves nothing.
DEGENERATE_BITS = 0.05
#: The paper's initialisations start at DSE ~0 and ~log2 N; we require the two starts
#: to differ by at least this fraction of log2 N.
INIT_PREMISE_FRACTION = 0.5


def _series(run, measure, layer=""):
    rows = sorted((r["epoch"], r["value"]) for r in run.rows
                  if r["measure"] == measure and r["layer"] == layer)
    return np.array([e for e, _ in rows], dtype=float), np.array([v for _, v in rows])


def _by_seed(runs, group):
    return {r.seed: r for r in runs if r.group == group}


def _fmt(values):
    values = np.asarray(values, dtype=float)
    per_seed = ", ".join("never" if np.isinf(v) else f"{v:+.3f}" for v in values)
    if not np.all(np.isfinite(values)):
        return f"(per seed: {per_seed})"
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():+.3f} ± {sd:.3f} (per seed: {per_seed})"


def _epochs_to(run, target):
    epochs, acc = _series(run, "val_accuracy")
    hit = epochs[acc >= target]
    return float(hit[0]) if len(hit) else float("inf")


def agreement(flags):
    """``(verdict, "k/n seeds")`` from per-seed booleans (see :data:`AGREE`)."""
    flags = [bool(f) for f in flags]
    n, k = len(flags), sum(flags)
    if n == 0:
        return None, "no seeds"
    need = int(np.ceil(AGREE * n - 1e-9))  # 4 of 5, 3 of 3, 2 of 2
    verdict = True if k >= need else (False if n - k >= need else None)
    return verdict, f"{k}/{n} seeds"


def rising_trend(epochs, values):
    """Does the curve still rise over the second half of training?

    A least-squares line through the measurements at epochs ``>= last / 2``:
    rising when its slope is positive with ``t >= 2`` *and* the rise it
    predicts over that half is at least a tenth of the curve's whole range (a
    flat curve with a tiny steady drift is not "rising").

    Returns
    -------
    rising : bool or None
        None when fewer than three measurements fall in the second half.
    slope_rise : float
        Rise over the second half predicted by the line, in the curve's unit.
    """
    epochs, values = np.asarray(epochs, float), np.asarray(values, float)
    half = epochs >= epochs.max() / 2.0
    x, y = epochs[half], values[half]
    if x.size < 3 or np.ptp(x) == 0:
        return None, float("nan")
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    se = np.sqrt(resid @ resid / max(x.size - 2, 1) / np.sum((x - x.mean()) ** 2))
    rise = float(slope * np.ptp(x))
    t = np.inf if se == 0 else slope / se
    return bool(slope > 0 and t >= 2.0 and rise >= 0.1 * np.ptp(values)), rise


@dataclass
class _View:
    """The runs through one bandwidth variant (``suffix`` "" or "@sigma=10")."""

    runs: list
    layer: str
    early_layer: str
    suffix: str

    @property
    def tag(self):
        return "sigma10" if self.suffix else "scale_aware"

    @property
    def name(self):
        return "σ = 10 (paper)" if self.suffix else "σ = scale-aware default"

    def values(self, members, measure, layer=None, at=-1):
        """Value of ``measure`` (in this variant) at position ``at`` for each run."""
        return np.array([_series(r, measure + self.suffix, layer or self.layer)[1][at]
                         for r in members])

    def degenerate(self, measure="dse"):
        """A premise failure text when ``measure`` stays in [0, DEGENERATE_BITS) everywhere."""
        top = max((np.max(np.abs(_series(r, measure + self.suffix, self.layer)[1]), initial=0.0)
                   for r in self.runs), default=0.0)
        if top < DEGENERATE_BITS:
            return (f"{measure}{self.suffix} never exceeds {top:.3f} bits at {self.layer} in "
                    f"any run: at this bandwidth the kernel cannot resolve the representation")
        return None


def _verdict(key, finding, flags, early_flags, evidence, v, premise=None):
    """One verdict dict: seed agreement at the paper's layer, the count at the early layer."""
    held, seeds = agreement(flags)
    early_held, early_seeds = agreement(early_flags)
    if premise:
        held = None
    layers = {v.layer: {"held": held, "seeds": seeds},
              v.early_layer: {"held": early_held, "seeds": early_seeds}}
    head = (f"premise not met: {premise}. " if premise else "") + (
        f"{v.layer}: {seeds} ({_WORD[agreement(flags)[0]]} by seeds); {v.early_layer}: "
        f"{early_seeds}. ")
    return {"key": key, "finding": finding, "held": held, "seeds": seeds, "premise": premise,
            "layers": layers, "evidence": head + evidence}


def _learned(v, members):
    acc = np.array([_series(r, "val_accuracy")[1][-1] for r in members])
    if len(acc) and acc.mean() < LEARNED_ACCURACY:
        return (f"supervised training reached only {acc.mean():.2f} validation accuracy "
                f"(needs {LEARNED_ACCURACY}; chance 0.1)")
    return None


def _supervised_vs_random(v, nums):
    """(1) DSMI(Z;Y): supervised ends above random labels; random labels stay flat."""
    sup, rnd = _by_seed(v.runs, "supervised"), _by_seed(v.runs, "random labels")
    seeds = sorted(set(sup) & set(rnd))
    sup_runs, rnd_runs = [sup[s] for s in seeds], [rnd[s] for s in seeds]
    gaps = v.values(sup_runs, "dsmi_y") - v.values(rnd_runs, "dsmi_y")
    early = (v.values(sup_runs, "dsmi_y", v.early_layer)
             - v.values(rnd_runs, "dsmi_y", v.early_layer))
    rnd_end, rnd_init = v.values(rnd_runs, "dsmi_y"), v.values(rnd_runs, "dsmi_y", at=0)
    nums["dsmi_y_gap_bits"] = gaps.tolist()
    nums["dsmi_y_gap_early_layer_bits"] = early.tolist()
    premise = _learned(v, sup_runs) or v.degenerate("dsmi_y")
    gap = _verdict(
        "gap", "DSMI(Z;Y) ends higher under supervised training than under random labels",
        gaps > 0, early > 0,
        f"final gap supervised − random labels, bits: {v.layer} {_fmt(gaps)}; "
        f"{v.early_layer} {_fmt(early)}. Supervised ends at "
        f"{v.values(sup_runs, 'dsmi_y').mean():.3f}, random labels at {rnd_end.mean():.3f} "
        f"bits.", v, premise)
    change = rnd_end - rnd_init
    early_change = (v.values(rnd_runs, "dsmi_y", v.early_layer)
                    - v.values(rnd_runs, "dsmi_y", v.early_layer, at=0))
    scale = abs(gaps.mean()) if len(gaps) else 0.0
    flat_premise = premise or (None if gaps.mean() > 0 else
                               "there is no positive supervised-vs-random gap to measure the "
                               "change against")
    memo = np.array([s[-1] for s in (_series(r, "train_accuracy")[1] for r in rnd_runs)
                     if len(s)])
    flat = _verdict(
        "flat", "DSMI(Z;Y) stays near its initial value under random labels",
        np.abs(change) < 0.25 * scale, np.abs(early_change) < 0.25 * abs(early.mean()),
        f"change init → end, bits: {v.layer} {_fmt(change)}; {v.early_layer} "
        f"{_fmt(early_change)}; a seed counts when its change is under a quarter of the mean "
        f"supervised-vs-random gap ({scale:.3f} bits)."
        + (f" Training accuracy on the permuted labels reached {memo.mean():.3f} (chance "
           f"0.1)." if len(memo) else ""), v, flat_premise)
    return [gap, flat]


def _dse_rises(v, nums):
    """(2) DSE(Z) increases during training in every regime (per regime, by seeds)."""
    parts, flags, early_flags, regime_verdicts, scale = [], [], [], [], []
    for group in REGIMES:
        members = list(_by_seed(v.runs, group).values())
        deltas = v.values(members, "dse") - v.values(members, "dse", at=0)
        early = (v.values(members, "dse", v.early_layer)
                 - v.values(members, "dse", v.early_layer, at=0))
        nums[f"dse_change_{group}"] = deltas.tolist()
        flags += list(deltas > 0)
        early_flags += list(early > 0)
        held, seeds = agreement(deltas > 0)
        regime_verdicts.append(held)
        parts.append(f"{group} {seeds}: {_fmt(deltas)} ({v.early_layer} {early.mean():+.3f})")
        ratio = [_series(r, "rms_distance", v.layer)[1] for r in members]
        ratio = [s[-1] / s[0] for s in ratio if len(s) and s[0] > 0]
        if ratio:
            scale.append(f"{group} ×{np.mean(ratio):.3g}")
    out = _verdict("dse", "DSE(Z) increases during training in every regime", flags,
                   early_flags, "change init → end per regime, bits — " + "; ".join(parts)
                   + "." + ((" The RMS pairwise distance of the representation (its scale, "
                             "which σ = 10 does not adapt to) changed by " + ", ".join(scale)
                             + ".") if scale else ""), v, v.degenerate("dse"))
    if out["premise"] is None:  # every regime must hold on its own seeds
        out["held"] = (True if all(h is True for h in regime_verdicts) else
                       False if any(h is False for h in regime_verdicts) else None)
    return [out]


def _low_dse_init(v, nums):
    """(3) Initialisation: the paper's low-DSE (≈ 0) start against its high (≈ log2 N) one."""
    g = {k: _by_seed(v.runs, f"init std {k}") for k in ("0.01", "0.1")}
    seeds = sorted(set(g["0.01"]) & set(g["0.1"]))
    groups = {k: [g[k][s] for s in seeds] for k in g}
    dse0 = {k: v.values(m, "dse", at=0) for k, m in groups.items()}
    low = "0.01" if dse0["0.01"].mean() <= dse0["0.1"].mean() else "0.1"
    high = "0.1" if low == "0.01" else "0.01"
    n_probe = next((r["n_samples"] for run in v.runs for r in run.rows if "n_samples" in r), 2)
    ceiling = float(np.log2(n_probe))
    margin = dse0[high].mean() - dse0[low].mean()
    premise = None
    if margin < INIT_PREMISE_FRACTION * ceiling or margin < INIT_TIE_BITS:
        premise = (f"the two starts have initial {v.layer} DSE {dse0['0.01'].mean():.3f} (std "
                   f"0.01) and {dse0['0.1'].mean():.3f} bits (std 0.1); the paper's contrast is "
                   f"≈ 0 against ≈ log2 N = {ceiling:.2f} bits, and we need a difference of at "
                   f"least {INIT_PREMISE_FRACTION:.0%} of log2 N")
    final = {k: np.array([_series(r, "val_accuracy")[1][-1] for r in m])
             for k, m in groups.items()}
    speed = {k: np.array([_epochs_to(r, TARGET_ACCURACY) for r in m]) for k, m in groups.items()}
    auc = {k: np.array([_series(r, "val_accuracy")[1].mean() for r in m])
           for k, m in groups.items()}
    nums["init_dse_bits"] = {k: d.tolist() for k, d in dse0.items()}
    nums["init_final_accuracy"] = {k: a.tolist() for k, a in final.items()}
    nums["init_epochs_to_90pct"] = {k: s.tolist() for k, s in speed.items()}
    faster = (speed[low] < speed[high]) | ((speed[low] == speed[high]) & (auc[low] > auc[high]))
    higher = final[low] > final[high]
    start = f"Low-DSE start: std {low}. "
    return [_verdict("faster", "The low-DSE initialisation trains faster", faster, faster,
                     start + f"Epochs to {TARGET_ACCURACY:.0%} validation accuracy: std {low} "
                     f"{_fmt(speed[low])}, std {high} {_fmt(speed[high])}; mean accuracy over "
                     f"the run {auc[low].mean():.3f} vs {auc[high].mean():.3f} (accuracy is "
                     f"of the whole model: the same count at both layers).", v, premise),
            _verdict("higher", "The low-DSE initialisation ends with higher accuracy", higher,
                     higher, start + f"Final validation accuracy: std {low} "
                     f"{_fmt(final[low])}, std {high} {_fmt(final[high])}.", v, premise)]


def _dsmi_x_rises(v, nums):
    """DSMI(Z;X) keeps rising under supervised training (the paper's MNIST curve)."""
    members = list(_by_seed(v.runs, "supervised").values())
    trends = {layer: [rising_trend(*_series(r, "dsmi_x" + v.suffix, layer)) for r in members]
              for layer in (v.layer, v.early_layer)}
    flags = [t for t, _ in trends[v.layer]]
    premise = _learned(v, members) or v.degenerate("dsmi_x")
    if premise is None and any(f is None for f in flags):
        premise = "fewer than three measurements in the second half of training"
    rises = np.array([r for _, r in trends[v.layer]])
    nums["dsmi_x_second_half_rise_bits"] = rises.tolist()
    return [_verdict(
        "dsmix", "DSMI(Z;X) keeps rising under supervised training (paper: MNIST)",
        [bool(f) for f in flags], [bool(t) for t, _ in trends[v.early_layer]],
        f"judged on the trend of the second half of training (a seed counts when a line "
        f"through its measurements from mid-training on rises with t ≥ 2 by at least a tenth "
        f"of the curve's range); predicted rise over the second half at {v.layer}: "
        f"{_fmt(rises)} bits (otherwise it is flat, or peaked and fell as the paper saw on "
        f"CIFAR-10 and STL-10).", v, premise)]


#: The findings in report order: each returns a list of verdict dicts.
CHECKS = (_supervised_vs_random, _dse_rises, _low_dse_init, _dsmi_x_rises)


def _same_under_both(verdicts):
    keys = sorted({k for k, _ in verdicts})
    differ = [k for k in keys if verdicts[(k, "scale_aware")] != verdicts[(k, "sigma10")]]
    return {
        "finding": "The conclusions are the same under σ = 10 and the scale-aware bandwidth",
        "held": not differ, "variant": "both", "seeds": "", "premise": None,
        "evidence": ("every verdict above agrees between the two bandwidths" if not differ
                     else "verdicts differ for: " + "; ".join(
                         f"{VERDICT_LABELS[k]} (scale-aware: "
                         f"{_WORD[verdicts[(k, 'scale_aware')]]}, "
                         f"σ=10: {_WORD[verdicts[(k, 'sigma10')]]})" for k in differ))}


def assess_findings(runs, layer="penultimate", early_layer="block2"):
    """State from the logged numbers whether each of the paper's findings held.

    Parameters
    ----------
    runs : list of infolens.runs.report.Run
    layer : str
        The layer the paper measured (penultimate): the verdict is taken there.
    early_layer : str
        The earlier layer, reported alongside with its own seed count.

    Returns
    -------
    findings : list of dict
        ``{"finding", "held", "evidence", "variant", "seeds", "premise", "layers"}``
        rows for the report; ``held`` is True, False or None (inconclusive).
    numbers : dict
        The numbers behind them (JSON-serialisable).
    """
    findings, numbers, verdicts = [], {}, {}
    for suffix in ("", f"@sigma={PAPER_SIGMA:g}"):
        view = _View(runs, layer, early_layer, suffix)
        nums = numbers.setdefault(view.tag, {})
        for check in CHECKS:
            for row in check(view, nums):
                verdicts[(row.pop("key"), view.tag)] = row["held"]
                row["finding"] = f"{row['finding']} [{view.name}]"
                findings.append(dict(row, variant=view.tag))
    findings.append(_same_under_both(verdicts))
    numbers["verdicts"] = {f"{k}/{t}": v for (k, t), v in verdicts.items()}
    return findings, numbers


def findings_markdown(findings, smoke=False):
    """The findings as a Markdown table (``smoke``: a first line saying they mean nothing)."""
    lines = (["**Smoke run (--quick): sizes too small for these verdicts to mean anything.**",
              ""] if smoke else [])
    lines += ["| paper finding | on this data | seeds | measured evidence |",
              "|---|---|---|---|"]
    for f in findings:
        verdict = {True: "held", False: "**did not hold**", None: "inconclusive"}[f["held"]]
        lines.append(f"| {f['finding']} | {verdict} | {f.get('seeds', '')} | {f['evidence']} |")
    return "\n".join(lines) + "\n"
