"""The provenance record every measure can return."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Result", "stopwatch"]


@dataclass(frozen=True)
class Result:
    """A measured value with everything needed to trace how it was computed.

    Attributes
    ----------
    measure : str
        Name of the public function that produced it, e.g. ``"dse"``.
    value : float
        The estimate, in ``unit``.
    unit : str
        ``"bits"``, ``"nats"`` or ``"dits"``.
    params : dict
        Every parameter actually used, after defaults and presets were resolved
        (the numeric bandwidth ``sigma`` included).
    eigenvalues : ndarray or None
        The spectrum the value was computed from (ascending; the trivial
        eigenvalue 1 included), when one was computed.
    elapsed_s : float
        Wall-clock time of the computation in seconds.
    details : dict
        Measure-specific extras (per-class terms of DSMI, the partition used,
        the eigen-solver precision, a standard error ...).
    """

    measure: str
    value: float
    unit: str
    params: dict
    eigenvalues: np.ndarray | None = None
    elapsed_s: float = 0.0
    details: dict = field(default_factory=dict)

    def __float__(self):
        return float(self.value)

    def to_dict(self):
        """Return a JSON-serialisable dict (eigenvalues as a list, numpy scalars as Python)."""
        return {
            "measure": self.measure,
            "value": float(self.value),
            "unit": self.unit,
            "params": _plain(self.params),
            "elapsed_s": float(self.elapsed_s),
            "details": _plain(self.details),
            "eigenvalues": None if self.eigenvalues is None else self.eigenvalues.tolist(),
        }


def _plain(obj):
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


@contextmanager
def stopwatch():
    """Yield a one-element list that holds the elapsed seconds once the block ends."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start
