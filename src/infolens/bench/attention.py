"""Does removing the feed-forward nonlinearity collapse deep heads and overload early ones?

Jha & Reagen (arXiv 2410.09637, 2501.03489) report that in language models
without nonlinearities the deeper layers' attention entropy *collapses* (a
head puts nearly all its mass on one key) and the early heads are *overloaded*
(their entropy sits near its maximum).  This study checks the direction of
both claims at a size that trains here: a character-level causal transformer
(:mod:`infolens.bench.tiny_transformer`) on standard-library docstrings, with
the GELU of its feed-forward network and without it (identity), over several
seeds.  For each trained model the normalised attention entropy of every head
(``attention_entropy(..., causal=True, normalize=True)``: 1 = uniform over the
keys a query can see) is measured on held-out text.

Verdicts follow :mod:`infolens.bench.findings`: a premise (both variants learned
more than character frequencies), then per-seed agreement — *held* when at
least :data:`~infolens.bench.findings.AGREE` of the seeds show the direction,
*did not hold* when at most ``1 - AGREE`` do, *inconclusive* in between.
Each finished run is saved as JSON as soon as it ends, so an interrupted study
resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from infolens.bench.findings import AGREE
from infolens.bench.tiny_transformer import ACTIVATIONS, encode, make_model, stdlib_corpus
from infolens.core import optional
from infolens.core.files import write_json_atomic
from infolens.measures.attention import COLLAPSE_THRESHOLD, OVERLOAD_THRESHOLD, attention_entropy

__all__ = ["STUDY_SETTINGS", "assess_attention", "attention_markdown", "run_attention_study",
           "write_attention"]

#: Model and training settings of the full study (``quick`` shrinks steps and corpus).
STUDY_SETTINGS = {"d_model": 64, "n_heads": 4, "n_layers": 3, "context": 64, "batch": 32,
                  "steps": 1500, "lr": 3e-3, "eval_sequences": 64, "corpus_chars": 400_000}
#: A variant learned when its held-out loss is this far below the unigram entropy (nats).
LEARNED_MARGIN_NATS = 0.3


def _train_one(activation, seed, settings, tokens, vocab_size):
    """Train one model; return its held-out loss and normalised entropy per (layer, head)."""
    torch = optional.torch("the attention benchmark")
    torch.set_num_threads(1)     # tiny matrices: more threads only contend
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    split = int(0.9 * len(tokens))
    train, held_out = torch.from_numpy(tokens[:split]), torch.from_numpy(tokens[split:])
    T, batch = settings["context"], settings["batch"]
    model = make_model(vocab_size, d_model=settings["d_model"], n_heads=settings["n_heads"],
                       n_layers=settings["n_layers"], context=T, activation=activation)
    opt = torch.optim.AdamW(model.parameters(), lr=settings["lr"], weight_decay=0.0)
    started = time.perf_counter()
    model.train()
    for _ in range(settings["steps"]):
        starts = torch.from_numpy(rng.integers(0, len(train) - T - 1, size=batch))
        x = torch.stack([train[s:s + T] for s in starts])
        y = torch.stack([train[s + 1:s + T + 1] for s in starts])
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, vocab_size), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    starts = np.linspace(0, len(held_out) - T - 1, settings["eval_sequences"]).astype(int)
    x = torch.stack([held_out[s:s + T] for s in starts])
    y = torch.stack([held_out[s + 1:s + T + 1] for s in starts])
    with torch.no_grad():
        logits, attention = model(x, return_attention=True)
        held_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab_size),
                                                      y.reshape(-1)).item()
    result = attention_entropy([a.numpy() for a in attention], causal=True, normalize=True,
                               return_result=True)
    return {"activation": activation, "seed": seed, "held_out_loss_nats": held_loss,
            "normalized_entropy": np.asarray(result.details["per_head"]).tolist(),
            "train_seconds": time.perf_counter() - started}


def run_attention_study(out_dir, *, seeds=(0, 1, 2), quick=False, overrides=None, log=print):
    """Train every (activation, seed) not yet saved under ``out_dir/runs``; return all runs.

    ``overrides`` replaces entries of :data:`STUDY_SETTINGS` (e.g. ``{"steps": 300}``);
    a saved run is reused only when its settings are the same.

    Returns
    -------
    dict
        ``{"settings", "unigram_entropy_nats", "runs": [per-run dicts]}``.
    """
    optional.torch("the attention benchmark")
    settings = dict(STUDY_SETTINGS)
    if quick:
        settings.update(steps=60, corpus_chars=40_000, eval_sequences=16)
    settings.update(overrides or {})
    tokens, vocabulary = encode(stdlib_corpus(settings["corpus_chars"]))
    counts = np.bincount(tokens, minlength=len(vocabulary)) / len(tokens)
    unigram = float(-(counts[counts > 0] * np.log(counts[counts > 0])).sum())
    run_dir = os.path.join(out_dir, "runs")
    os.makedirs(run_dir, exist_ok=True)
    runs = []
    for seed in seeds:
        for activation in ACTIVATIONS:
            path = os.path.join(run_dir, f"{activation}-seed{seed}.json")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as fh:
                    saved = json.load(fh)
                if saved.get("settings") == settings:
                    runs.append(saved)
                    log(f"[attention] {activation} seed {seed}: already done, kept")
                    continue
            log(f"[attention] training {activation} seed {seed} ({settings['steps']} steps)")
            run = _train_one(activation, seed, settings, tokens, len(vocabulary))
            run["settings"] = settings
            write_json_atomic(path, run)
            log(f"[attention] {activation} seed {seed}: held-out loss "
                f"{run['held_out_loss_nats']:.3f} nats/char, {run['train_seconds']:.0f} s")
            runs.append(run)
    return {"settings": settings, "unigram_entropy_nats": unigram, "runs": runs,
            "quick": quick}


def _verdict(share):
    return True if share >= AGREE else False if share <= 1 - AGREE else None


def assess_attention(study):
    """The two claims as verdicts: ``[{"finding", "held", "evidence"}]``."""
    by = {(r["activation"], r["seed"]): np.asarray(r["normalized_entropy"])
          for r in study["runs"]}
    seeds = sorted({s for _, s in by if ("gelu", s) in by and ("identity", s) in by})
    worst = max((r["held_out_loss_nats"] for r in study["runs"]), default=np.inf)
    premise = worst < study["unigram_entropy_nats"] - LEARNED_MARGIN_NATS and len(seeds) > 0
    why = (f"worst held-out loss {worst:.2f} nats/char against a unigram entropy of "
           f"{study['unigram_entropy_nats']:.2f}")
    rows = []
    for finding, layer, lower in (
            ("Without the FFN nonlinearity the deepest layer's attention entropy is lower "
             "(entropy collapse)", -1, True),
            ("Without the FFN nonlinearity the first layer's heads are closer to maximum "
             "entropy (entropic overload)", 0, False)):
        shows = [(by[("identity", s)][layer].mean() < by[("gelu", s)][layer].mean()) == lower
                 for s in seeds]
        gelu = np.mean([by[("gelu", s)][layer].mean() for s in seeds]) if seeds else np.nan
        ident = np.mean([by[("identity", s)][layer].mean() for s in seeds]) if seeds else np.nan
        evidence = (f"{sum(shows)}/{len(seeds)} seeds; normalised entropy {ident:.3f} without "
                    f"vs {gelu:.3f} with GELU (layer {layer % len(by[('gelu', seeds[0])])})"
                    if seeds else "no complete seed")
        if study.get("quick"):
            rows.append({"finding": finding, "held": None,
                         "evidence": "smoke run (--quick): a few steps, verdicts mean nothing; "
                                     + evidence})
        elif not premise:
            rows.append({"finding": finding, "held": None,
                         "evidence": f"inconclusive: a variant did not learn ({why}); {evidence}"})
        else:
            rows.append({"finding": finding, "held": _verdict(sum(shows) / len(seeds)),
                         "evidence": evidence})
    return rows


def attention_markdown(study, verdicts):
    """The per-layer table and the verdicts as markdown."""
    lines = ["| FFN activation | layer | normalised entropy (mean ± sd over seeds) | "
             f"collapsed heads (< {COLLAPSE_THRESHOLD}) | overloaded heads "
             f"(> {OVERLOAD_THRESHOLD}) | held-out loss (nats/char) |", "|---|---|---|---|---|---|"]
    for activation in ACTIVATIONS:
        runs = [r for r in study["runs"] if r["activation"] == activation]
        if not runs:
            continue
        stack = np.array([r["normalized_entropy"] for r in runs])      # seeds x layers x heads
        loss = np.array([r["held_out_loss_nats"] for r in runs])
        for layer in range(stack.shape[1]):
            per_seed = stack[:, layer].mean(axis=1)
            lines.append(
                f"| {activation} | {layer} | {per_seed.mean():.3f} ± {per_seed.std():.3f} | "
                f"{(stack[:, layer] < COLLAPSE_THRESHOLD).mean():.2f} | "
                f"{(stack[:, layer] > OVERLOAD_THRESHOLD).mean():.2f} | "
                f"{loss.mean():.3f} ± {loss.std():.3f} |")
    lines += ["", "| finding | verdict | evidence |", "|---|---|---|"]
    word = {True: "held", False: "did not hold", None: "inconclusive"}
    lines += [f"| {v['finding']} | {word[v['held']]} | {v['evidence']} |" for v in verdicts]
    return "\n".join(lines)


def write_attention(study, verdicts, out_dir):
    """Write ``attention.md`` (table and verdicts) and ``attention.json``; return their paths."""
    os.makedirs(out_dir, exist_ok=True)
    settings = ", ".join(f"{k}={v}" for k, v in study["settings"].items())
    seeds = sorted({r["seed"] for r in study["runs"]})
    header = (f"# Attention entropy with and without the feed-forward nonlinearity\n\n"
              f"Character-level causal transformer on standard-library docstrings; {settings}; "
              f"seeds {seeds}; unigram entropy {study['unigram_entropy_nats']:.3f} nats/char."
              + (" Smoke run (--quick): the verdicts mean nothing." if study.get("quick") else "")
              + "\n\n")
    markdown = os.path.join(out_dir, "attention.md")
    with open(markdown, "w", encoding="utf-8") as fh:
        fh.write(header + attention_markdown(study, verdicts) + "\n")
    data = os.path.join(out_dir, "attention.json")
    write_json_atomic(data, {"study": study, "verdicts": verdicts})
    return {"markdown": markdown, "json": data}
