"""The provenance record every measure can return."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from infolens.core.validation import InvalidParameterError, check_real

__all__ = ["Result", "build_result", "stopwatch"]


#: How many scalar parameters ``repr(Result)`` shows before "...".
REPR_MAX_PARAMS = 6


@dataclass(frozen=True, repr=False)
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

    def __repr__(self):
        """One line: the value with its unit and standard error, then the scalar parameters.

        Arrays (the eigenvalues, a bootstrap's replicates) are never printed;
        ``to_dict()`` gives everything.
        """
        head = f"{self.measure} = {self.value:.6g} {self.unit}"
        if self.standard_error is not None:
            head += f" ± {self.standard_error:.2g} (SE)"
        shown = [f"{key}={value:.6g}" if isinstance(value, float) else f"{key}={value!r}"
                 for key, value in self.params.items()
                 if isinstance(value, (bool, int, float, str, type(None)))
                 and len(repr(value)) <= 24]
        text = ", ".join([head, *shown[:REPR_MAX_PARAMS]])
        if len(shown) > REPR_MAX_PARAMS:
            text += ", ..."
        return f"Result({text}, {self.elapsed_s:.3g} s)"

    @property
    def standard_error(self):
        """Standard error of ``value`` in ``unit`` (float), or None where none was estimated.

        Stochastic methods (SLQ, the sparse kernel, DSMI's random subsets)
        report one; an exact spectrum has only rounding error and reports none.
        """
        se = self.details.get("standard_error")
        return None if se is None else float(se)

    def interval(self, level=0.95):
        """Normal-approximation confidence interval ``value -+ z * standard_error``.

        Parameters
        ----------
        level : float in (0, 1), default=0.95
            Coverage; ``z`` is the standard normal quantile of ``(1 + level) / 2``
            (1.96 at 0.95).  A standard error is a one-sigma figure: alone it
            covers the error about 68 % of the time.

        Returns
        -------
        (low, high) : tuple of float
            In ``unit``; ``(value, value)`` when no standard error was estimated.
        """
        level = check_real(level, "level", "Result.interval", low=0.0, high=1.0,
                           closed_low=False)
        if level == 1.0:
            raise InvalidParameterError("Result.interval: level must be below 1 (an interval "
                                        "of coverage 1 is infinite); got 1.0. Use e.g. 0.95.")
        se = self.standard_error
        half = 0.0 if se is None else NormalDist().inv_cdf(0.5 + level / 2.0) * se
        return float(self.value - half), float(self.value + half)

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


def build_result(measure, value, unit, params, *, eigenvalues=None, elapsed_s=0.0,
                 details=None, return_result=True):
    """The one construction path of every measure's return value.

    Checks that ``value`` is finite, then returns it as a float, or as a
    :class:`Result` when ``return_result`` is true.

    Raises
    ------
    InvalidParameterError
        When ``value`` is NaN or infinite: that points at degenerate input,
        and a silent NaN would poison every later comparison.
    """
    value = float(value)
    if not np.isfinite(value):
        raise InvalidParameterError(
            f"{measure} produced a non-finite value ({value}); this points at degenerate "
            f"input (e.g. duplicated points or a constant feature). Parameters: {params}."
        )
    if not return_result:
        return value
    return Result(measure, value, unit, params, eigenvalues, float(elapsed_s),
                  dict(details or {}))


@contextmanager
def stopwatch():
    """Yield a one-element list that holds the elapsed seconds once the block ends."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start
