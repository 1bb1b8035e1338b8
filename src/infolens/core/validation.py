"""Input checks shared by every public function.

Every message names the function, the parameter, what was expected, what was
received and, where there is one, the fix.  The format follows scikit-learn's
parameter validation: ``The 't' parameter of dse must be an int in the range
[1, inf). Got 0 instead.``
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "BOOLEAN",
    "MAPPING",
    "WIDTHS",
    "Interval",
    "InvalidParameterError",
    "Options",
    "check_bool",
    "check_embeddings",
    "check_int",
    "check_option",
    "check_real",
    "check_reference",
    "describe",
    "resolve_base",
    "satisfies",
    "to_numpy",
]


class InvalidParameterError(ValueError, TypeError):
    """Raised when a public function receives a parameter it cannot use.

    It subclasses both ``ValueError`` and ``TypeError`` so that callers who
    catch either (as with scikit-learn) keep working.
    """


def _interval(low, high, closed_low=True, closed_high=True):
    left = "[" if (closed_low and low is not None) else "("
    right = "]" if (closed_high and high is not None) else ")"
    lo = "-inf" if low is None else repr(low)
    hi = "inf" if high is None else repr(high)
    return f"{left}{lo}, {hi}{right}"


def check_int(value, name, caller, *, low=None, high=None, allow_none=False, also=()):
    """Return ``value`` as an int, or raise a message naming ``name`` and ``caller``.

    ``also`` lists other accepted values (e.g. ``"auto"``), resolved by the
    caller before this check, so that the message mentions them.
    """
    if value is None and allow_none:
        return None
    ok_type = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    ok_range = ok_type and (low is None or value >= low) and (high is None or value <= high)
    if not ok_range:
        others = (["None"] if allow_none else []) + [repr(a) for a in also]
        if len(others) > 1:
            tail = ", " + ", ".join(others[:-1]) + " or " + others[-1]
        else:
            tail = "".join(" or " + o for o in others)
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} must be an int in the range "
            f"{_interval(low, high)}{tail}. Got {value!r} instead."
        )
    return int(value)


def check_real(value, name, caller, *, low=None, high=None, closed_low=True, allow_none=False):
    """Return ``value`` as a finite float, or raise a message naming ``name``."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok:
        if low is not None:
            ok = value >= low if closed_low else value > low
        if high is not None:
            ok = ok and value <= high
    if not ok:
        none = " or None" if allow_none else ""
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} must be a float in the range "
            f"{_interval(low, high, closed_low)}{none}. Got {value!r} instead."
        )
    return float(value)


def check_option(value, name, caller, options):
    """Return ``value`` if it is one of ``options``; otherwise list the valid ones."""
    if isinstance(value, str) and value in options:
        return value
    valid = ", ".join(repr(o) for o in options)
    raise InvalidParameterError(
        f"The {name!r} parameter of {caller} must be one of {valid}. Got {value!r} instead."
    )


def check_bool(value, name, caller):
    """Return ``value`` if it is a bool (numpy bools included)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InvalidParameterError(
        f"The {name!r} parameter of {caller} must be True or False. Got {value!r} instead."
    )


_BASES = {2: "bits", "e": "nats", 10: "dits"}


def resolve_base(base, caller):
    """Map ``base`` (2, 10 or "e") to ``(log_of_base, unit_name)``."""
    if isinstance(base, float) and base == np.e:
        base = "e"
    if isinstance(base, numbers.Integral) and not isinstance(base, bool) and int(base) in _BASES:
        base = int(base)
    if isinstance(base, str) and base in ("nats", "bits"):
        base = "e" if base == "nats" else 2
    if base not in _BASES:
        raise InvalidParameterError(
            f"The 'base' parameter of {caller} must be one of 2 (bits), 'e' (nats) or 10. "
            f"Got {base!r} instead."
        )
    return (1.0 if base == "e" else float(np.log(base))), _BASES[base]


#: Torch dtypes that numpy cannot hold (or holds only as float16); upcast to float32.
_HALF_TORCH_DTYPES = ("torch.float16", "torch.bfloat16")


def to_numpy(array):
    """Convert array-likes, torch tensors included, to a numpy array without copying numpy input."""
    if isinstance(array, np.ndarray):
        return array
    if type(array).__module__.startswith("torch"):
        array = array.detach().cpu()
        if str(array.dtype) in _HALF_TORCH_DTYPES:
            array = array.float()  # numpy has no bfloat16; mixed-precision layers give both
        return array.numpy()
    return np.asarray(array)


def _kind_error(X, name, caller):
    if np.iscomplexobj(X):
        hint = "Take the real part (X.real) or the magnitude (np.abs(X)) first."
    else:
        hint = "Convert it with np.asarray(X, dtype=float) after removing non-numeric entries."
    return InvalidParameterError(
        f"The {name!r} parameter of {caller} must be a real numeric array; got dtype "
        f"{X.dtype}. {hint}"
    )


def _check_finite(X, name, caller):
    finite = np.isfinite(X)
    if finite.all():
        return
    n_nan = int(np.isnan(X).sum())
    n_inf = int(X.size - finite.sum() - n_nan)
    bad_row = int(np.argwhere(~finite)[0][0]) if X.ndim > 1 else int(np.argwhere(~finite)[0][0])
    raise InvalidParameterError(
        f"The {name!r} parameter of {caller} must contain only finite values; got {n_nan} NaN "
        f"and {n_inf} infinite values (first in row {bad_row}). Remove or impute those rows, "
        f"e.g. {name}[np.isfinite({name}).all(axis=1)]."
    )


def check_embeddings(Z, *, name="Z", caller="dse", min_samples=2):
    """Validate an embedding matrix.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Real, finite embeddings.  Torch tensors are moved to the CPU.
    name, caller : str
        Used in error messages.
    min_samples : int
        Smallest acceptable ``n_samples``.

    Returns
    -------
    ndarray of shape (n_samples, n_features), dtype float64 or float32
    """
    X = to_numpy(Z)
    if X.dtype == object or not (
        np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.bool_)
    ) or np.iscomplexobj(X):
        raise _kind_error(X, name, caller)
    if X.ndim == 1:
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} must be a 2-D array of shape (n_samples, "
            f"n_features); got a 1-D array of shape {X.shape}. Use {name}.reshape(-1, 1) if it "
            f"holds one feature per sample, or {name}.reshape(1, -1) if it is a single sample."
        )
    if X.ndim != 2:
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} must be a 2-D array of shape (n_samples, "
            f"n_features); got a {X.ndim}-D array of shape {X.shape}. Flatten the trailing "
            f"axes with {name}.reshape(len({name}), -1) (or pool feature maps first)."
        )
    if X.shape[0] < min_samples:
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} needs at least {min_samples} samples (rows); "
            f"got {X.shape[0]}. Pass more samples."
        )
    if X.shape[1] < 1:
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} needs at least 1 feature (column); got an "
            f"array of shape {X.shape}."
        )
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    _check_finite(X, name, caller)
    return X


def check_reference(Y, n_samples, *, name="Y", caller="dsmi"):
    """Validate a reference variable (labels, scalars or vectors) against ``n_samples`` rows.

    Returns
    -------
    ndarray of shape (n_samples,) or (n_samples, n_dims)
        Numeric arrays are returned as is; string labels are kept as strings.
    """
    X = to_numpy(Y)
    if X.ndim == 0 or X.ndim > 2:
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} must be 1-D (labels or scalars, shape "
            f"(n_samples,)) or 2-D (vectors, shape (n_samples, n_dims)); got shape {X.shape}. "
            f"Flatten images with {name}.reshape(len({name}), -1)."
        )
    if X.shape[0] != n_samples:
        raise InvalidParameterError(
            f"Z and {name} passed to {caller} must have the same number of rows (one per "
            f"sample); got {n_samples} rows in Z and {X.shape[0]} in {name}."
        )
    if X.dtype.kind in "US":
        return X
    if X.dtype == object:
        try:
            X = X.astype(float)
        except (TypeError, ValueError):
            missing = [i for i, v in enumerate(X.reshape(len(X), -1))
                       if any(e is None or (isinstance(e, float) and e != e) for e in v)]
            if missing:
                # str() would turn None / NaN into a label of its own.
                raise InvalidParameterError(
                    f"The {name!r} parameter of {caller} has missing values (None or NaN) in "
                    f"{len(missing)} row(s), first in row {missing[0]}. Drop those samples "
                    f"from Z and {name}, or give them an explicit label."
                ) from None
            try:
                X = X.astype(str)
            except (TypeError, ValueError):
                raise _kind_error(X, name, caller) from None
            return X
    if np.iscomplexobj(X) or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise _kind_error(X, name, caller)
    if np.issubdtype(X.dtype, np.floating):
        _check_finite(X, name, caller)
    return X


# --------------------------------------------------------------------------- constraints
# Declarative parameter constraints in the manner of scikit-learn's ``validate_params``:
# the measure registry lists, for every parameter, the constraints its value must meet (any
# one of them); the meta-test derives bad values from them and the command line its types.


class Interval:
    """Numbers of one type between two bounds.

    Parameters
    ----------
    kind : {int, float}
        ``int`` accepts integers only (not bools); ``float`` any finite real number.
    low, high : float or None
        Bounds; None is unbounded.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds belong to the interval.
    """

    def __init__(self, kind, low=None, high=None, closed="both"):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def __contains__(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if not np.isfinite(value):
            return False
        left, right = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not left)):
            return False
        return self.high is None or value < self.high or (value == self.high and right)

    def __str__(self):
        name = "an int" if self.kind is int else "a float"
        bounds = _interval(self.low, self.high, self.closed in ("both", "left"),
                           self.closed in ("both", "right"))
        return f"{name} in the range {bounds}"


class Options:
    """A fixed set of values (strings, numbers, bools; ``1`` never matches ``True``)."""

    def __init__(self, *values):
        self.values = values

    def __contains__(self, value):
        return any(_same(value, v) for v in self.values)

    def __str__(self):
        return "one of " + ", ".join(repr(v) for v in self.values)


def _same(value, option):
    flag = isinstance(value, (bool, np.bool_))
    if isinstance(option, bool) or flag:
        return flag and isinstance(option, bool) and bool(value) == option
    if isinstance(option, str) or isinstance(value, str):
        return isinstance(value, str) and isinstance(option, str) and value == option
    return isinstance(value, numbers.Real) and value == option


class _Kind:
    """A constraint that is a type check, named for messages."""

    def __init__(self, text, test):
        self.text, self.test = text, test

    def __contains__(self, value):
        return self.test(value)

    def __str__(self):
        return self.text


#: ``True`` or ``False`` (numpy bools included).
BOOLEAN = _Kind("True or False", lambda v: isinstance(v, (bool, np.bool_)))
#: A ``dict`` (its keys are checked by the function).
MAPPING = _Kind("a dict", lambda v: isinstance(v, dict))
#: A non-empty tuple (or list) of positive ints, e.g. layer widths.
WIDTHS = _Kind("a non-empty tuple of positive ints", lambda v: isinstance(v, (tuple, list))
               and len(v) > 0 and all(h in Interval(int, 1) for h in v))


def satisfies(value, constraints):
    """Whether ``value`` meets at least one of ``constraints`` (``None`` allows None)."""
    return any(value is None if c is None else value in c for c in constraints)


def describe(constraints):
    """``"an int in the range [2, inf), None or one of 'auto'"`` for a message."""
    parts = ["None" if c is None else str(c) for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
