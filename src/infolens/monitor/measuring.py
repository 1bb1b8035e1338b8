"""One measuring step of the monitor: run the probe set through the model and read it back.

:func:`run_probe` puts every module of the model in eval mode, runs the probe
inputs through it under ``torch.no_grad()`` with the layer hooks attached, and
restores each module's own train/eval flag; :func:`probe_accuracy` turns the
model's outputs into the probe accuracy; :func:`run_settings` is what a run's
``settings.json`` records about the monitor.
"""

from __future__ import annotations

from infolens.core import optional
from infolens.core.validation import InvalidParameterError

__all__ = ["input_dtype", "metric_unit", "probe_accuracy", "run_probe", "run_settings"]


def metric_unit(name):
    """Default unit of a whole-model metric: "fraction" for accuracies, "nats" for losses."""
    lowered = name.lower()
    if "acc" in lowered:
        return "fraction"
    if "loss" in lowered:
        return "nats"
    return ""


def input_dtype(model, xb):
    """Floating probe inputs follow the model's floating dtype (e.g. float64 -> float32)."""
    if not xb.is_floating_point():
        return xb.dtype
    param = next((p for p in model.parameters() if p.is_floating_point()), None)
    return xb.dtype if param is None else param.dtype


def run_probe(model, recorder, probe, *, batch_size, device, forward=None):
    """Run ``probe`` through ``model`` with ``recorder``'s hooks attached.

    Parameters
    ----------
    model : torch.nn.Module
    recorder : LayerRecorder
    probe : ProbeSet
    batch_size : int
        Probe samples per forward pass.
    device : torch.device
    forward : callable, optional
        ``forward(model, x_batch)``; default ``model(x_batch)``.

    Returns
    -------
    embeddings : dict of {str: ndarray of shape (n_samples, n_features)}
    logits : torch.Tensor of shape (n_samples, ...) or None
        The model's outputs when every batch returned a tensor.
    """
    torch = optional.torch("the monitor")
    modes = {m: m.training for m in model.modules()}
    outputs = []
    try:
        model.eval()
        with torch.no_grad(), recorder as rec:
            for xb in probe.batches(batch_size):
                rec.set_batch_size(xb.shape[0])
                xb = xb.to(device, dtype=input_dtype(model, xb))
                out = forward(model, xb) if forward else model(xb)
                outputs.append(out.detach().cpu() if isinstance(out, torch.Tensor) else None)
    finally:
        for module, mode in modes.items():
            module.training = mode
    n = len(probe)
    for layer, Z in rec.outputs.items():
        if Z.shape[0] != n:
            raise InvalidParameterError(
                f"Layer {layer!r} produced {Z.shape[0]} rows for {n} probe samples; it "
                f"is probably called more than once per forward pass. Monitor a layer "
                f"that runs once."
            )
    logits = None
    if outputs and all(o is not None for o in outputs):
        logits = torch.cat(outputs)
    return rec.outputs, logits


def probe_accuracy(logits, y, accuracy):
    """Fraction of probe samples whose output's argmax is their label, or None.

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples, n_classes) or None
    y : ndarray of shape (n_samples,) or None
    accuracy : bool or "auto"
        ``True`` insists (a wrong output shape raises); ``"auto"`` also skips
        outputs with no more columns than the largest label.
    """
    if logits is None or y is None or y.dtype.kind not in "iub":
        return None
    if logits.ndim != 2 or logits.shape[0] != len(y):
        if accuracy is True:
            raise InvalidParameterError(
                f"accuracy=True needs a (n_samples, n_classes) model output; got "
                f"{None if logits is None else tuple(logits.shape)}."
            )
        return None
    if accuracy == "auto" and logits.shape[1] <= int(y.max()):
        return None
    return float((logits.argmax(dim=1).numpy() == y).mean())


def run_settings(model, layers, measures, schedule, seed, probe, recorder):
    """What ``settings.json`` records about a monitor (JSON-serialisable)."""
    return {
        "layers": layers,
        "measures": [{"name": m.name, "reference": m.reference,
                      "fn": getattr(m.fn, "__name__", repr(m.fn)),
                      "params": {k: v if isinstance(v, (int, float, str, bool, type(None)))
                                 else repr(v) for k, v in m.kwargs.items()}}
                     for m in measures],
        "schedule": schedule.to_dict(),
        "seed": seed,
        "probe_size": len(probe),
        "reduce": {k: v if isinstance(v, str) else getattr(v, "__name__", "callable")
                   for k, v in recorder.rules.items()},
        "model": type(model).__name__,
    }
