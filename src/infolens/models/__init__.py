"""Pretrained transformers, layer by layer: :func:`layer_measures` and its report.

Needs torch and transformers (``pip install 'infolens[transformers]'``); they
are imported on first use, never by ``import infolens.models``.
"""

from infolens.models.layers import LAYER_MEASURES, layer_measures
from infolens.models.loading import KNOWN_MODELS, resolve_model
from infolens.models.report import write_layer_report

__all__ = ["KNOWN_MODELS", "LAYER_MEASURES", "layer_measures", "resolve_model",
           "write_layer_report"]
