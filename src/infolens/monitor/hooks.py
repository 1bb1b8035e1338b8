"""Capture the outputs of named layers of a ``torch.nn.Module`` with forward hooks.

Flattening rule (one row per sample, documented once here)
----------------------------------------------------------
1. **Pick a tensor.**  A tensor output is used as is.  A tuple or list output
   (``nn.LSTM``, ``nn.MultiheadAttention``, ...) contributes its first tensor,
   searched depth first; a dict output (Hugging Face style) contributes
   ``"last_hidden_state"`` when present, otherwise its first tensor value in
   insertion order.
2. **Find the batch axis.**  Axis 0 when its length equals the probe batch
   size; otherwise axis 1 when that one matches (sequence-first outputs such
   as ``nn.TransformerEncoderLayer(batch_first=False)``), which is moved to
   the front.  Anything else is an error that names the layer and shapes.
3. **Reduce to 2-D** with the layer's ``reduce`` rule:

   * ``"flatten"`` (default): ``(B, ...) -> (B, prod(...))``; conv feature
     maps keep every channel x position;
   * ``"avgpool"``: mean over every axis after axis 1, i.e. global average
     pooling of conv maps ``(B, C, H, W) -> (B, C)`` (and of ``(B, C, L)``);
   * ``"mean_tokens"``: mean over axis 1 of ``(B, L, D)`` sequences -> ``(B, D)``;
   * ``"first_token"``: ``(B, L, D) -> (B, D)`` at position 0 (a CLS token);
   * a callable ``f(tensor) -> tensor`` of shape ``(B, ...)``, flattened after.

Captured activations are detached, moved to the CPU as float32 and
concatenated over the probe batches.
"""

from __future__ import annotations

import difflib

import numpy as np

from infolens.core import optional
from infolens.core.validation import InvalidParameterError

__all__ = ["LayerRecorder", "ModuleHooks", "REDUCE_RULES", "reduce_output", "resolve_layers"]

REDUCE_RULES = ("flatten", "avgpool", "mean_tokens", "first_token")

#: Refuse to buffer more than this many bytes of activations for one layer.
DEFAULT_MAX_BYTES = 2 * 1024**3


def _first_tensor(output):
    torch = optional.torch("the monitor")
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, dict):
        if isinstance(output.get("last_hidden_state"), torch.Tensor):
            return output["last_hidden_state"]
        items = list(output.values())
    elif isinstance(output, (tuple, list)):
        items = list(output)
    else:
        # ModelOutput-like objects expose their fields through to_tuple().
        to_tuple = getattr(output, "to_tuple", None)
        items = list(to_tuple()) if callable(to_tuple) else []
    for item in items:
        found = _first_tensor(item)
        if found is not None:
            return found
    return None


def reduce_output(output, batch_size, rule="flatten", layer="layer"):
    """Turn one layer output into a ``(batch_size, n_features)`` float32 CPU tensor.

    Parameters
    ----------
    output : Tensor, tuple, list or dict
        What the layer's ``forward`` returned.
    batch_size : int
        Number of samples in the batch that produced it.
    rule : {"flatten", "avgpool", "mean_tokens", "first_token"} or callable
        See the module docstring.
    layer : str
        Layer name, for error messages.

    Returns
    -------
    torch.Tensor of shape (batch_size, n_features)
    """
    tensor = _first_tensor(output)
    if tensor is None:
        raise InvalidParameterError(
            f"Layer {layer!r} returned {type(output).__name__} with no tensor in it; the "
            f"monitor needs a tensor (or a tuple/list/dict holding one). Monitor a "
            f"submodule that returns a tensor instead."
        )
    tensor = tensor.detach()
    if tensor.ndim == 0:
        raise InvalidParameterError(
            f"Layer {layer!r} returned a scalar; the monitor needs one row per sample."
        )
    if tensor.shape[0] != batch_size:
        if tensor.ndim >= 2 and tensor.shape[1] == batch_size:
            tensor = tensor.transpose(0, 1)
        else:
            raise InvalidParameterError(
                f"Layer {layer!r} returned a tensor of shape {tuple(tensor.shape)} for a "
                f"batch of {batch_size} samples; neither axis 0 nor axis 1 is the batch. "
                f"Pass reduce={{'{layer}': callable}} that returns a (batch, ...) tensor."
            )
    if callable(rule):
        tensor = rule(tensor)
        if tensor.shape[0] != batch_size:
            raise InvalidParameterError(
                f"The reduce callable of layer {layer!r} returned shape "
                f"{tuple(tensor.shape)}; its first axis must be the batch ({batch_size})."
            )
    elif rule == "avgpool":
        if tensor.ndim >= 3:
            tensor = tensor.mean(dim=tuple(range(2, tensor.ndim)))
    elif rule in ("mean_tokens", "first_token"):
        if tensor.ndim != 3:
            raise InvalidParameterError(
                f"reduce={rule!r} for layer {layer!r} needs a (batch, tokens, features) "
                f"output; got shape {tuple(tensor.shape)}. Use 'flatten' or 'avgpool'."
            )
        tensor = tensor.mean(dim=1) if rule == "mean_tokens" else tensor[:, 0]
    elif rule != "flatten":
        raise InvalidParameterError(
            f"The 'reduce' rule of layer {layer!r} must be one of "
            f"{', '.join(map(repr, REDUCE_RULES))} or a callable. Got {rule!r} instead."
        )
    return tensor.reshape(batch_size, -1).to(device="cpu", dtype=optional.torch().float32)


def resolve_layers(model, layers):
    """Map layer names to submodules of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
    layers : str or sequence of str
        Names as in ``model.named_modules()`` (e.g. ``"encoder.layers.0"``);
        ``""`` is the model itself.

    Returns
    -------
    dict
        ``{name: module}`` in the order given.
    """
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    if not layers:
        raise InvalidParameterError(
            "The 'layers' parameter of Monitor must name at least one layer; got an empty "
            "list. Pick names from [name for name, _ in model.named_modules()]."
        )
    named = dict(model.named_modules())
    out = {}
    for name in layers:
        if not isinstance(name, str):
            raise InvalidParameterError(
                f"Layer names must be strings as in model.named_modules(); got {name!r}."
            )
        if name not in named:
            close = difflib.get_close_matches(name, [n for n in named if n], n=5)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            available = ", ".join(repr(n) for n in list(named)[1:12])
            raise InvalidParameterError(
                f"The model has no layer named {name!r}.{hint} Layer names come from "
                f"model.named_modules(); the first ones are: {available}."
            )
        if name in out:
            raise InvalidParameterError(f"Layer {name!r} is listed twice in 'layers'.")
        out[name] = named[name]
    return out


class ModuleHooks:
    """Context manager: one forward hook per named module, registered on entry and
    removed on exit, so nothing runs outside the block.

    Subclasses define ``_hook(name)`` (the hook of one module), ``_start()`` (reset
    what the hooks collect) and ``_finish()`` (turn it into results after a clean
    exit; raise if a module was never called).
    """

    def __init__(self, model, layers):
        self.modules = resolve_layers(model, layers)
        self._handles = []

    def _start(self):
        pass

    def _finish(self):
        pass

    def __enter__(self):
        self._start()
        self._handles = [module.register_forward_hook(self._hook(name))
                         for name, module in self.modules.items()]
        return self

    def __exit__(self, exc_type, exc, tb):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if exc_type is None:
            self._finish()
        return False


class LayerRecorder(ModuleHooks):
    """Context manager that records the reduced outputs of named layers.

    Hooks are registered on entry and removed on exit, so nothing runs during
    training.  Call :meth:`set_batch_size` before each forward pass.

    Parameters
    ----------
    model : torch.nn.Module
    layers : sequence of str
    reduce : str, callable or dict, default="flatten"
        One rule for every layer, or ``{layer_name: rule}`` (missing layers
        use ``"flatten"``).
    max_bytes : int, default=2 GiB
        Largest buffer of one layer's activations (float32) before the
        recorder refuses with a hint to pool.

    Attributes
    ----------
    outputs : dict
        ``{layer_name: ndarray of shape (n_samples, n_features)}`` after exit.
    """

    def __init__(self, model, layers, reduce="flatten", max_bytes=DEFAULT_MAX_BYTES):
        super().__init__(model, layers)
        if isinstance(reduce, dict):
            unknown = set(reduce) - set(self.modules)
            if unknown:
                raise InvalidParameterError(
                    f"'reduce' names layers that are not monitored: {sorted(unknown)}. "
                    f"Monitored layers: {list(self.modules)}."
                )
            self.rules = {name: reduce.get(name, "flatten") for name in self.modules}
        else:
            self.rules = {name: reduce for name in self.modules}
        for name, rule in self.rules.items():
            if not callable(rule) and rule not in REDUCE_RULES:
                raise InvalidParameterError(
                    f"The 'reduce' rule of layer {name!r} must be one of "
                    f"{', '.join(map(repr, REDUCE_RULES))} or a callable. Got {rule!r} instead."
                )
        self.max_bytes = max_bytes
        self.batch_size = None
        self._chunks = {}
        self._bytes = {}
        self.outputs = {}

    def set_batch_size(self, n):
        self.batch_size = int(n)

    def _hook(self, name):
        def hook(module, inputs, output):
            if self.batch_size is None:
                raise RuntimeError("LayerRecorder.set_batch_size was not called")
            rows = reduce_output(output, self.batch_size, self.rules[name], name)
            self._bytes[name] = self._bytes.get(name, 0) + rows.numel() * 4
            if self._bytes[name] > self.max_bytes:
                raise InvalidParameterError(
                    f"The activations of layer {name!r} on the probe set exceed "
                    f"{self.max_bytes / 2**30:.1f} GiB ({rows.shape[1]} features per sample). "
                    f"Use reduce={{'{name}': 'avgpool'}} for conv maps, a smaller probe set, "
                    f"or a later layer."
                )
            self._chunks.setdefault(name, []).append(rows)

        return hook

    def _start(self):
        self._chunks = {name: [] for name in self.modules}
        self._bytes = {}
        self.outputs = {}

    def _finish(self):
        torch = optional.torch("the monitor")
        for name, chunks in self._chunks.items():
            if not chunks:
                raise InvalidParameterError(
                    f"Layer {name!r} was never called during the probe forward pass; "
                    f"it may be unused by model.forward. Monitor a layer on the path."
                )
            self.outputs[name] = torch.cat(chunks).numpy().astype(np.float32, copy=False)

    def __exit__(self, exc_type, exc, tb):
        try:
            return super().__exit__(exc_type, exc, tb)
        finally:
            self._chunks = {}  # free the probe's activations, also after an error
