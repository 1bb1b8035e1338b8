"""Measures the monitor computes on each layer's probe embeddings.

A :class:`Measure` wraps any estimator with the signature ``fn(Z, **kw)`` or
``fn(Z, Y, **kw)`` (``infolens.dse``, ``infolens.dsmi``, ``infolens.cse``,
``infolens.csmi``, ... or your own) and says which reference variable it needs:
``None``, ``"y"`` (the probe labels), ``"x"`` (the partition of the probe
inputs, computed once per run) or ``"x|y"`` (both: ``fn(Z, X, Y)``, e.g.
:func:`unnecessary_information`, ``I(X; Z | Y)``).  A registered measure can be named instead of
passed: ``Measure("dse")``, ``Measure.from_registry("ksg", reference="y")``
(see :mod:`infolens.registry`).
"""

from __future__ import annotations

import inspect
import numbers
import time

import numpy as np

from infolens.core.result import Result
from infolens.core.validation import InvalidParameterError
from infolens.measures.conditional import conditional_mutual_information
from infolens.measures.diffusion import dse, dsmi
from infolens.registry import require

__all__ = ["Measure", "default_measures", "as_measures", "unnecessary_information"]

REFERENCES = (None, "y", "x", "x|y")


class Measure:
    """One named measurement of a layer's embeddings.

    Parameters
    ----------
    name : str
        Name used in the run log and the report (e.g. ``"dse"``); without ``fn``,
        also the registered measure to compute (function, ``method=`` name or alias,
        e.g. ``"dse"``, ``"ksg"``).
    fn : callable, optional
        ``fn(Z, **kwargs)`` or, with ``reference``, ``fn(Z, Y, **kwargs)``;
        returns a number or an :class:`infolens.Result`.  Default: the registered
        measure called ``name``.
    reference : {None, "y", "x", "x|y"}, default=None
        ``"y"``: the probe labels; ``"x"``: the cluster ids of the probe inputs;
        ``"x|y"``: both, called as ``fn(Z, X, Y)``.
        A registered measure of a reference variable takes ``"y"`` when None.
    unit : str, optional
        Unit of a plain-number result (a ``Result`` carries its own).
    **kwargs
        Passed to ``fn`` on every call and recorded as the row's parameters.
    """

    def __init__(self, name, fn=None, *, reference=None, unit=None, **kwargs):
        if not isinstance(name, str) or not name or name.startswith("_"):
            raise InvalidParameterError(
                f"A measure name must be a non-empty string not starting with '_'; got {name!r}."
            )
        if fn is None:
            fn, reference, _ = _registered(name, reference)
        if not callable(fn):
            raise InvalidParameterError(f"Measure {name!r}: fn must be callable; got {fn!r}.")
        if reference not in REFERENCES:
            raise InvalidParameterError(
                f"Measure {name!r}: reference must be None, 'y', 'x' or 'x|y'; got "
                f"{reference!r}."
            )
        self.name = name
        self.fn = fn
        self.reference = reference
        self.unit = unit
        self.kwargs = kwargs
        try:
            self._wants_result = "return_result" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            self._wants_result = False

    @classmethod
    def from_registry(cls, measure, *, name=None, reference=None, **kwargs):
        """The registered ``measure`` (e.g. ``"ksg"``), logged as ``name`` (default: ``measure``).

        ``reference`` is ``"y"`` by default for a measure of a reference variable;
        ``kwargs`` are passed to the measure on every call.
        """
        fn, reference, unit = _registered(measure, reference)
        return cls(name or measure, fn, reference=reference, unit=unit, **kwargs)

    def __call__(self, Z, probe):
        """Measure ``Z`` (n_samples, n_features); returns ``(value, unit, params, elapsed_s)``."""
        args = [Z]
        if self.reference in ("y", "x|y"):
            if probe.y is None:
                raise InvalidParameterError(
                    f"Measure {self.name!r} needs probe labels; build the probe set with y."
                )
            args += [probe.x_partition, probe.y] if self.reference == "x|y" else [probe.y]
        elif self.reference == "x":
            args.append(probe.x_partition)
        kwargs = dict(self.kwargs)
        if self._wants_result:
            kwargs["return_result"] = True
        start = time.perf_counter()
        out = self.fn(*args, **kwargs)
        elapsed = time.perf_counter() - start
        if isinstance(out, Result):
            return float(out.value), out.unit, out.to_dict()["params"], elapsed
        if isinstance(out, numbers.Real) and not isinstance(out, bool):
            return float(out), self.unit or "", _plain_kwargs(self.kwargs), elapsed
        raise InvalidParameterError(
            f"Measure {self.name!r} returned {type(out).__name__}; it must return a number or "
            f"an infolens.Result."
        )

    def __repr__(self):
        fn = getattr(self.fn, "__name__", repr(self.fn))
        return f"Measure({self.name!r}, {fn}, reference={self.reference!r}, {self.kwargs})"


def _registered(name, reference):
    """The function, reference (``"y"`` when None and one is needed) and unit of ``name``."""
    info = require(name, "pass fn= with your own function")
    if reference is None and info.needs_reference:
        reference = "y"
    return info.func, reference, info.unit


def _plain_kwargs(kwargs):
    return {k: (v if isinstance(v, (str, int, float, bool, type(None))) else repr(v))
            for k, v in kwargs.items()}


def default_measures(sigma="auto", *, t=1, n_repeats=5, suffix=None, random_state=0):
    """DSE(Z), DSMI(Z; Y) and DSMI(Z; X), the paper's three curves.

    Parameters
    ----------
    sigma : float or str, default="auto"
        Bandwidth, as in :func:`infolens.dse` (the paper used 10).
    t, n_repeats, random_state
        As in :func:`infolens.dsmi`.
    suffix : str, optional
        Appended to the names ``"dse"``, ``"dsmi_y"``, ``"dsmi_x"``.  By
        default ``""`` for ``sigma="auto"`` and ``"@sigma=<value>"`` otherwise,
        so that several bandwidths can be logged side by side.

    Returns
    -------
    list of Measure
    """
    if suffix is None:
        suffix = "" if sigma == "auto" else f"@sigma={sigma:g}" if isinstance(
            sigma, numbers.Real) else f"@sigma={sigma}"
    common = {"sigma": sigma, "t": t, "random_state": random_state}
    return [
        Measure("dse" + suffix, dse, **common),
        Measure("dsmi_y" + suffix, dsmi, reference="y", n_repeats=n_repeats,
                y_kind="labels", **common),
        Measure("dsmi_x" + suffix, dsmi, reference="x", n_repeats=n_repeats,
                y_kind="partition", **common),
    ]


def as_measures(measures):
    """Normalise a measures argument to a list of :class:`Measure` with unique names.

    Accepts ``None`` (the defaults), a list of :class:`Measure`, plain
    callables ``fn(Z)`` (named by ``__name__``) or names of registered measures
    (``"dse"``, ``"ksg"``), or a dict ``{name: callable, Measure or registered name}``.
    """
    if measures is None:
        return default_measures()
    if isinstance(measures, (Measure, str)) or callable(measures):
        measures = [measures]
    items = list(measures.items()) if isinstance(measures, dict) else [
        (None, m) for m in measures]
    out = []
    for name, m in items:
        if isinstance(m, Measure):
            if name is not None and name != m.name:
                m = Measure(name, m.fn, reference=m.reference, unit=m.unit, **m.kwargs)
            out.append(m)
        elif callable(m):
            out.append(Measure(name or getattr(m, "__name__", "measure"), m))
        elif isinstance(m, str):
            out.append(Measure.from_registry(m, name=name))
        else:
            raise InvalidParameterError(
                f"Each measure must be an infolens.monitor.Measure, a callable or the name of "
                f"a registered measure; got {m!r}."
            )
    names = [m.name for m in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidParameterError(
            f"Measure names must be unique; {dupes} appear more than once. Give each a "
            f"distinct name (e.g. with default_measures(sigma=10) names get '@sigma=10')."
        )
    return out


def _conditional_on_labels(Z, X, Y, return_result=False, **kwargs):
    """``I(Z; X | Y)`` with the constant columns of ``Z`` (dead units) dropped."""
    Z = np.asarray(Z)
    return conditional_mutual_information(Z[:, np.ptp(Z, axis=0) > 0], X, Y,
                                          return_result=return_result, **kwargs)


def unnecessary_information(name="unnecessary_information", **kwargs):
    """``I(X; Z | Y)``: what a layer keeps about its input beyond the label.

    The information-bottleneck view calls it the unnecessary (nuisance) information; a
    representation that generalises should shed it.  ``X`` is the partition of the probe
    inputs (as in DSMI(Z; X)), ``Y`` the probe labels; the estimate is
    ``sum_y p(y) I(Z; X | Y=y)`` by :func:`infolens.conditional_mutual_information`
    (KSG with Ross's estimator for the discrete ``X``).

    Parameters
    ----------
    name : str, default="unnecessary_information"
        Name in the run log.
    **kwargs
        Passed to :func:`infolens.conditional_mutual_information` (``k``, ``base``...).

    Returns
    -------
    Measure
    """
    return Measure(name, _conditional_on_labels, reference="x|y", **kwargs)

