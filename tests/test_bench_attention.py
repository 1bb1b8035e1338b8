"""The attention study: a causal model whose heads give probability rows, a
resumable study, honest verdicts (premise, smoke runs, seed agreement)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from infolens.bench.attention import assess_attention, attention_markdown, run_attention_study
from infolens.bench.tiny_transformer import encode, make_model, stdlib_corpus

TINY = {"d_model": 16, "n_heads": 2, "n_layers": 2, "context": 16, "batch": 8, "steps": 3,
        "eval_sequences": 4, "corpus_chars": 5000}


def test_corpus_is_fixed_text_and_the_model_returns_causal_probability_rows():
    text = stdlib_corpus(5000)
    assert len(text) == 5000 and text == stdlib_corpus(5000)
    tokens, vocabulary = encode(text)
    assert tokens.max() == len(vocabulary) - 1
    model = make_model(len(vocabulary), d_model=16, n_heads=2, n_layers=2, context=16,
                       activation="identity")
    logits, attention = model(torch.from_numpy(tokens[:32]).view(2, 16), return_attention=True)
    assert logits.shape == (2, 16, len(vocabulary)) and len(attention) == 2
    a = attention[0].detach().numpy()
    assert a.shape == (2, 2, 16, 16)
    np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-6)
    assert np.abs(np.triu(a, 1)).max() == 0.0          # query i sees keys 0..i only


def test_study_saves_each_run_and_resumes(tmp_path):
    logged = []
    study = run_attention_study(tmp_path, seeds=(0,), overrides=TINY, log=logged.append)
    assert len(study["runs"]) == 2 and len(list((tmp_path / "runs").glob("*.json"))) == 2
    entropy = np.asarray(study["runs"][0]["normalized_entropy"])
    assert entropy.shape == (2, 2) and ((entropy >= 0) & (entropy <= 1)).all()
    again = run_attention_study(tmp_path, seeds=(0,), overrides=TINY, log=logged.append)
    assert sum("already done" in line for line in logged) == 2
    assert again["runs"] == study["runs"]


def _study(deep, early, losses=(1.5, 1.5), quick=False):
    runs = []
    for seed, (d, e) in enumerate(zip(deep, early)):
        runs.append({"activation": "gelu", "seed": seed, "held_out_loss_nats": losses[0],
                     "normalized_entropy": [[0.5, 0.5], [0.5, 0.5]]})
        runs.append({"activation": "identity", "seed": seed, "held_out_loss_nats": losses[1],
                     "normalized_entropy": [[e, e], [d, d]]})
    return {"runs": runs, "unigram_entropy_nats": 3.0, "quick": quick, "settings": {}}


def test_verdicts_count_seeds_and_check_the_premise():
    held = assess_attention(_study(deep=[0.2] * 5, early=[0.9] * 5))
    assert [v["held"] for v in held] == [True, True]
    assert "5/5 seeds" in held[0]["evidence"]
    split = assess_attention(_study(deep=[0.2, 0.2, 0.2, 0.9, 0.9], early=[0.1] * 5))
    assert split[0]["held"] is None and "3/5 seeds" in split[0]["evidence"]
    assert split[1]["held"] is False
    not_learned = assess_attention(_study(deep=[0.2] * 5, early=[0.9] * 5, losses=(1.5, 2.9)))
    assert all(v["held"] is None and "did not learn" in v["evidence"] for v in not_learned)
    smoke = assess_attention(_study(deep=[0.2] * 5, early=[0.9] * 5, quick=True))
    assert all(v["held"] is None and "smoke run" in v["evidence"] for v in smoke)
    table = attention_markdown(_study(deep=[0.2] * 5, early=[0.9] * 5), held)
    assert "| identity | 1 | 0.200 ± 0.000 |" in table and "| held |" in table


def test_cli_bench_attention_quick_says_it_is_a_smoke_run(tmp_path, capsys):
    from infolens.cli.main import main

    assert main(["bench", "attention", "--quick", "--steps", "2", "--seeds", "0", "--quiet",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("[inconclusive]") == 2 and "smoke run" in out
    assert "Smoke run (--quick)" in (tmp_path / "attention.md").read_text()
    assert (tmp_path / "attention.json").is_file()
