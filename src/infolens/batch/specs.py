"""The measures a batch manifest names: registered measures and ``"module:function"``.

:func:`resolve_measure` turns a name into a :class:`MeasureSpec` (the function, whether
it takes a reference variable, its keyword parameters) through the measure registry
(:mod:`infolens.registry`); :func:`parse_measures` reads the spellings a manifest allows
and :func:`check_params` refuses parameters the function does not take.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

from infolens.core.validation import InvalidParameterError
from infolens.registry import require

__all__ = ["MeasureSpec", "check_params", "import_callable", "parse_measures",
           "resolve_measure"]


@dataclass(frozen=True)
class MeasureSpec:
    """A measure function and what it needs."""

    name: str
    function: object
    needs_reference: bool
    accepts_result: bool
    parameters: tuple


def resolve_measure(name):
    """Find the function behind a measure name.

    Parameters
    ----------
    name : str
        A registered measure (:mod:`infolens.registry`), by function name
        (``"dse"``, ``"ksg_mi"``), ``method=`` name (``"ksg"``) or alias; or
        ``"module:function"`` for one's own measure with the signature
        ``f(Z, **params)`` or ``f(Z, Y, **params)``.

    Returns
    -------
    MeasureSpec
    """
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(
            f"A measure must be named by a string such as 'dse' or 'mypkg.measures:score'; "
            f"got {name!r}."
        )
    if ":" in name:
        func = import_callable(name, "measure")
    else:
        func = require(name, "name your own function as 'module:function'").func
    sig = inspect.signature(func)
    positional = [
        p for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if not positional:
        raise InvalidParameterError(
            f"The measure {name!r} must take the embeddings as its first positional argument."
        )
    keywords = tuple(
        p.name for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is not p.empty
    )
    has_var_kw = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    return MeasureSpec(
        name=name,
        function=func,
        needs_reference=len(positional) >= 2,
        accepts_result="return_result" in sig.parameters,
        parameters=None if has_var_kw else keywords,
    )


def import_callable(spec, what):
    """Import ``"module:attribute"`` (dotted attributes allowed) and check it is callable."""
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise InvalidParameterError(
            f"A {what} must be given as 'module:function' (e.g. 'torchvision.models:resnet18'); "
            f"got {spec!r}."
        )
    module_name, attr = spec.split(":")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidParameterError(
            f"Cannot import module {module_name!r} of the {what} {spec!r}: {exc}. Install it "
            f"or put its folder on PYTHONPATH (on every worker too)."
        ) from None
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise InvalidParameterError(
                f"Module {module_name!r} has no attribute {attr!r} ({what} {spec!r})."
            )
    if not callable(obj):
        raise InvalidParameterError(f"The {what} {spec!r} is not callable.")
    return obj


def parse_measures(raw, where):
    """Normalise the accepted spellings into a list of ``(name, params)``."""
    if raw is None:
        return None
    if isinstance(raw, (str, dict)):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise InvalidParameterError(
            f"'measures' in {where} must be a non-empty list such as [dse, {{dsmi: "
            f"{{n_repeats: 3}}}}]; got {raw!r}."
        )
    out = []
    for item in raw:
        if isinstance(item, str):
            out.append((item, {}))
        elif isinstance(item, dict) and set(item) <= {"name", "params"} and "name" in item:
            out.append((item["name"], item.get("params") or {}))
        elif isinstance(item, dict) and len(item) == 1:
            (name, params), = item.items()
            out.append((name, params or {}))
        else:
            raise InvalidParameterError(
                f"Cannot read measure {item!r} in {where}: write a name ('dse'), "
                f"{{dse: {{t: 2}}}} or {{name: dse, params: {{t: 2}}}}."
            )
        if not isinstance(out[-1][1], dict):
            raise InvalidParameterError(
                f"The parameters of measure {out[-1][0]!r} in {where} must be a mapping; "
                f"got {out[-1][1]!r}."
            )
    return out


def check_params(spec, params, where):
    if "return_result" in params:
        raise InvalidParameterError(
            f"'return_result' is set by the batch runner; remove it from {where}."
        )
    if spec.parameters is not None:
        unknown = sorted(set(params) - set(spec.parameters))
        if unknown:
            valid = ", ".join(p for p in spec.parameters if p != "return_result")
            raise InvalidParameterError(
                f"Measure {spec.name!r} in {where} has no parameter(s) {', '.join(unknown)}. "
                f"Valid: {valid}."
            )
