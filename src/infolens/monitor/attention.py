"""Attention entropy per head, recorded by the monitor on attention modules.

:class:`AttentionRecorder` hooks named attention modules during the probe
forward pass, takes each module's attention probabilities from its output
(shape (batch, heads, queries, keys); by default the first 4-D tensor in a
tuple output whose rows sum to 1, as returned by Hugging Face attention
modules under eager attention with ``output_attentions=True`` or by a module
that returns ``(output, probabilities)``), and reduces every batch at once to
its normalised entropy per head with :func:`infolens.attention_entropy`, so the
T × T matrices are never kept.  The monitor logs one row per layer and
measurement: the mean over heads as ``value`` and the heads in ``per_head``;
``infolens report`` draws them as a heat map over training.
"""

from __future__ import annotations

import numpy as np

from infolens.core import optional
from infolens.core.validation import InvalidParameterError
from infolens.measures.attention import attention_entropy
from infolens.monitor.hooks import ModuleHooks
from infolens.runs.attention_figure import ATTENTION_MEASURE

__all__ = ["AttentionRecorder", "default_extract"]


def default_extract(output):
    """The attention probabilities in a module's output: the first 4-D tensor of a tuple."""
    torch = optional.torch("the monitor")
    candidates = [output] if torch.is_tensor(output) else list(output) \
        if isinstance(output, (tuple, list)) else []
    for item in candidates:
        if torch.is_tensor(item) and item.dim() == 4 and item.shape[-1] == item.shape[-2]:
            return item
    raise InvalidParameterError(
        "An attention module's output holds no tensor of shape (batch, heads, T, T). Run the "
        "model with attention weights returned (Hugging Face: attn_implementation='eager' and "
        "output_attentions=True), or pass attention_extract=callable(output) -> probabilities.")


class AttentionRecorder(ModuleHooks):
    """Context manager: normalised attention entropy per head of named modules.

    Parameters
    ----------
    model : torch.nn.Module
    layers : sequence of str
        Names of attention modules (from ``model.named_modules()``).
    extract : callable, optional
        ``extract(output) -> tensor (batch, heads, queries, keys)``; default
        :func:`default_extract`.
    causal : {"auto", True, False}, default="auto"
        Passed to :func:`infolens.attention_entropy`.

    Attributes
    ----------
    per_head : dict of {str: ndarray of shape (heads,)}
        After exit: the mean over probe samples of each head's normalised
        entropy (1 = uniform over the keys each query can see).
    """

    def __init__(self, model, layers, *, extract=None, causal="auto"):
        super().__init__(model, layers)
        self.extract = extract or default_extract
        self.causal = causal
        self._sums, self.per_head = {}, {}

    def _hook(self, name):
        def hook(module, inputs, output):
            probs = self.extract(output).detach().float().cpu().numpy()
            values = attention_entropy(probs, causal=self.causal, normalize=True)
            total, count = self._sums.get(name, (0.0, 0))
            self._sums[name] = (total + values * probs.shape[0], count + probs.shape[0])

        return hook

    def _start(self):
        self._sums, self.per_head = {}, {}

    def _finish(self):
        missing = [name for name in self.modules if name not in self._sums]
        if missing:
            raise InvalidParameterError(
                f"Attention modules {missing} were never called during the probe forward "
                f"pass; monitor modules on the model's path.")
        self.per_head = {name: np.asarray(total / count)
                         for name, (total, count) in self._sums.items()}

    def rows(self, base):
        """Run-log rows of the last recording, one per layer, built on ``base``."""
        return [dict(base, layer=name, measure=ATTENTION_MEASURE, value=float(values.mean()),
                     unit="fraction", per_head=[float(v) for v in values],
                     params={"normalize": True, "causal": self.causal})
                for name, values in self.per_head.items()]
