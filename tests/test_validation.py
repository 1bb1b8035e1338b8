"""Bad input gets a clear error: what was expected, what was received, how to fix it.

The meta-test discovers every public measure (the functions of
``infolens.__all__`` whose first parameter is ``Z``), feeds each of its
parameters the bad values of ``BAD_VALUES`` and checks the message of the
``InvalidParameterError``: it names the parameter, the function and the value
received, and, for a bad string, lists the valid options.  A parameter missing
from ``BAD_VALUES`` fails the meta-test, so new parameters cannot slip through
unvalidated.  A second meta-test reads the parameter constraints declared in the
measure registry (:mod:`infolens.registry`), derives from them values that meet none
of them and checks that each measure refuses them the same way.  The data checks (NaN, shapes, dtypes ...) run on every measure
too; the issue's six core measures (``CORE``) get the detailed message checks.

``KNOWN_GAPS`` lists, as strict expected failures, defects that this file
found in code owned by other modules (keyed by measure and parameter, or by
measure, parameter and bad value); fix the measure and delete its entry (a
fixed entry fails as XPASS until it is deleted).
"""

from __future__ import annotations

import inspect
import re
import warnings

import numpy as np
import pytest

import infolens
from infolens import InvalidParameterError
from infolens.core.validation import Interval, Options, satisfies
from infolens.registry import MEASURES as REGISTERED

N = 40

CORE = ("dse", "dsmi", "ase", "asmi", "cse", "csmi")

#: Bad values per parameter name, rejected by every public measure with that
#: parameter (``BAD_VALUES_FOR`` overrides a name for one measure).
BAD_VALUES = {
    "t": [0, -1, 1.5, "2", True],
    "sigma": [-1, 0, -0.5, float("nan"), float("inf"), "bogus", True, None],
    "sigma_y": [-1, 0, "bogus"],
    "alpha": [2, -0.1, float("nan"), "x"],
    "base": [3, 0, "x", None],
    "keep_trivial": ["yes", 1, None],
    "matrix_entry": ["x", 0],
    "max_n": [1, 0, -5, 2.5, "x"],
    "method": ["nope", None],
    "precision": ["half", "float16"],
    "preset": ["x", "DSE-DSMI", None],
    "random_state": [-1, 1.5, "x"],
    "return_result": ["x", None, 1],
    "y_kind": ["x", "label", None],
    "n_clusters": [1, 0, 2.5],
    "n_repeats": [0, -1, 1.5],
    "n_bins": [0, -2, 1.5],
    "n_bins_y": [0, "x"],
    "adjacency": ["x", "kNN"],
    "n_neighbors": [0, -3, 2.5],
    "anisotropic": ["x", None],
    "method_options": ["x", {"nope": 1}, {"n_probes": 1}],
    # measures outside the core
    "n_eigenvalues": [0, "x"],
    "skip_first": [-1, "x"],
    "n_resamples": [0, "x"],
    "n_permutations": [0, "x"],
    "confidence": [1.5, 0, "x"],
    "scheme": ["x"],
    "n_components": [0, "x"],
    "compressor": ["x"],
    "k": [0, "x"],
    "epochs": [0, "x"],
    "lr": [-1, 0, "x"],
    "critic": ["x"],
    "hidden": ["x", (0,), (-1, 3)],
    "embed_dim": [0, "x"],
    "batch_size": [0, "x"],
    "patience": [-1, "x"],
    "weight_decay": [-1, "x"],
    "val_fraction": [1.5, -0.1, "x"],
    "ema": [2, -1, "x"],
    "metric": ["x"],
    "algorithm": [3, "x"],
    "preprocess": ["x"],
    "p": [3, 0, "x"],
    "standardize": ["x", None],
    "n_projections": [0, "x"],
    "jitter": [-1, "x"],
    "q": [-1, "x"],
    "order": [-1, "x"],
    "kernel": ["x"],
    "dual": ["x"],
    "normalize": ["x"],
    "center": ["x"],
    "bandwidth": ["x", -1, 0, True],
    "bandwidth_multiplier": [0, -1, "x"],
    "grid_size": [8, 2.5, "x"],
    "copula": ["x", None],
    "evaluation": ["x", None],
}

BAD_VALUES_FOR = {
    # Renyi orders: any alpha > 0 other than 1 is valid.
    ("renyi_entropy", "alpha"): [-1, "x"],
    ("renyi_mi", "alpha"): [-1, "x"],
}

#: Settings that keep a measure cheap while one of its parameters is tested.
CHEAP = {"epochs": 1, "n_resamples": 2, "n_permutations": 2}

#: The valid choices of the core measures' option parameters, as documented.
OPTIONS = {
    "sigma": ["auto", "median", "rms"],
    "method": ["auto", "exact"],
    "precision": ["auto", "float64", "float32"],
    "preset": ["infolens", "dse-dsmi"],
    "y_kind": ["auto", "labels", "scalar", "vector", "partition"],
    "adjacency": ["gaussian", "knn"],
    "max_n": ["auto"],  # besides an int >= 2 or None
}

_NOT_VALIDATED = "return_result accepts any value"
#: (measure, parameter or check[, repr of the bad value]) -> reason.
KNOWN_GAPS = {
}


def public_measures():
    out = []
    for name in infolens.__all__:
        obj = getattr(infolens, name)
        if not inspect.isfunction(obj):
            continue
        params = list(inspect.signature(obj).parameters)
        if params and params[0] == "Z":
            out.append(obj)
    return out


MEASURES = public_measures()
CORE_MEASURES = [f for f in MEASURES if f.__name__ in CORE]


def _gap(func, key, bad=None):
    reason = KNOWN_GAPS.get((func.__name__, key))
    if reason is None and bad is not None:
        reason = KNOWN_GAPS.get((func.__name__, key, repr(bad)))
    if reason is None:
        return ()
    return (pytest.mark.xfail(reason=reason, strict=True, raises=AssertionError),)


def _forwards_kwargs(func):
    return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(func).parameters.values())


def _params(func):
    """The parameters to test: all but the data and a ``**kwargs`` catch-all."""
    return [name for name, p in inspect.signature(func).parameters.items()
            if name not in ("Z", "Y") and p.kind is not p.VAR_KEYWORD]


def _valid_inputs(func):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(N, 3))
    args = [Z]
    if "Y" in inspect.signature(func).parameters:
        args.append(np.arange(N) % 2)
    return args


def _cheap(func):
    return {k: v for k, v in CHEAP.items() if k in inspect.signature(func).parameters}


def names_function(msg, fname):
    return re.search(rf"\b(of|in|to|for) {fname}\b|^{fname}\b", msg) is not None


def names_caller(msg, func):
    """The message names ``func``; a dispatcher (``**kwargs``) may name the
    public measure it dispatched to instead."""
    if names_function(msg, func.__name__):
        return True
    return _forwards_kwargs(func) and any(names_function(msg, f.__name__) for f in MEASURES)


def test_public_measures_are_discovered():
    assert set(CORE) <= {f.__name__ for f in MEASURES}


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
def test_every_parameter_has_bad_values(func):
    missing = [p for p in _params(func)
               if p not in BAD_VALUES and (func.__name__, p) not in BAD_VALUES_FOR]
    assert not missing, (
        f"{func.__name__} has parameters without bad-value entries in BAD_VALUES: {missing}. "
        f"Add them (and validation in the function if needed)."
    )


def _cases():
    for func in MEASURES:
        for pname in _params(func):
            bads = BAD_VALUES_FOR.get((func.__name__, pname), BAD_VALUES.get(pname, []))
            for bad in bads:
                yield pytest.param(func, pname, bad, id=f"{func.__name__}-{pname}={bad!r}",
                                   marks=_gap(func, pname, bad))


@pytest.mark.parametrize("func,pname,bad", list(_cases()))
def test_bad_parameter_value_is_explained(func, pname, bad):
    args = _valid_inputs(func)
    kwargs = {**_cheap(func), pname: bad}
    try:
        func(*args, **kwargs)
    except InvalidParameterError as exc:
        error = exc
    else:
        raise AssertionError(f"{func.__name__}({pname}={bad!r}) did not raise")
    msg = str(error)
    fname = func.__name__
    assert any(form in msg for form in (f"{pname!r}", f"{pname}=", f"{pname}[",
                                        f"in {pname} ")), msg  # names the parameter
    assert names_caller(msg, func), msg  # names the function
    if isinstance(bad, dict):  # shows what was received: the offending entry
        assert any(repr(key) in msg for key in bad), msg
    else:
        assert repr(bad) in msg, msg
    default = inspect.signature(func).parameters[pname].default
    if isinstance(bad, str) and isinstance(default, str):
        assert repr(default) in msg, msg  # lists the valid options (the default is one)
    if fname in CORE and pname in OPTIONS and (isinstance(bad, str) or pname in ("sigma",
                                                                              "max_n")):
        for option in OPTIONS[pname]:
            assert repr(option) in msg, msg  # lists every documented option
    # Errors are catchable as the standard exception types too.
    assert isinstance(error, ValueError) and isinstance(error, TypeError)


@pytest.mark.parametrize("func", CORE_MEASURES, ids=lambda f: f.__name__)
def test_defaults_and_numpy_scalars_are_accepted(func):
    """Control for the meta-test: valid values of the same kinds pass."""
    args = _valid_inputs(func)
    assert np.isfinite(func(*args))
    sig = inspect.signature(func).parameters
    kw = {}
    if "t" in sig:
        kw["t"] = np.int64(2)
    if "sigma" in sig:
        kw["sigma"] = np.float32(1.5)
    if "random_state" in sig:
        kw["random_state"] = np.int32(3)
    if "max_n" in sig:
        kw["max_n"] = None
    assert np.isfinite(func(*args, **kw))


def invalid_values(constraints):
    """Values that meet none of ``constraints`` (registry form): out-of-range and
    off-grid numbers next to each interval, an unknown name, a bool and None."""
    candidates = ["not-an-option", True, None, -1, 0, 1.5]
    for c in constraints:
        if isinstance(c, Interval):
            for bound in (c.low, c.high):
                if bound is not None:
                    candidates += [bound, bound - 1, bound + 1, bound + 0.5]
        if isinstance(c, Options):
            candidates += [v + 1 for v in c.values
                           if isinstance(v, int) and not isinstance(v, bool)]
    out = []
    for v in candidates:
        if not satisfies(v, constraints) and not any(v is w or (v == w and type(v) is type(w))
                                                     for w in out):
            out.append(v)
    return out


def _constraint_cases():
    for info in REGISTERED:
        for pname, constraints in info.constraints.items():
            for bad in invalid_values(constraints):
                yield pytest.param(info, pname, bad, id=f"{info.function}-{pname}={bad!r}")


@pytest.mark.parametrize("info,pname,bad", list(_constraint_cases()))
def test_values_breaking_a_registered_constraint_are_refused(info, pname, bad):
    func = info.func
    kwargs = {**_cheap(func), pname: bad}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # renamed parameters
        with pytest.raises(InvalidParameterError) as exc:
            func(*_valid_inputs(func), **kwargs)
    msg = str(exc.value)
    assert any(form in msg for form in (f"{pname!r}", f"{pname}=")), msg
    assert names_function(msg, info.function), msg
    assert repr(bad) in msg, msg


# --------------------------------------------------------------------------
# Bad data
# --------------------------------------------------------------------------


def _call(func, Z, Y=None, **kw):
    kw = {**_cheap(func), **kw}
    if "Y" in inspect.signature(func).parameters:
        return func(Z, np.arange(len(Z)) % 2 if Y is None else Y, **kw)
    return func(Z, **kw)


def _raises(func, Z, Y=None, **kw):
    try:
        _call(func, Z, Y, **kw)
    except InvalidParameterError as exc:
        msg = str(exc)
    else:
        raise AssertionError(f"{func.__name__} accepted the bad input")
    assert names_caller(msg, func), msg
    return msg


def _each(funcs):
    return [pytest.param(f, id=f.__name__, marks=_gap(f, "data")) for f in funcs]


MI_MEASURES = [f for f in MEASURES if "Y" in inspect.signature(f).parameters]
PARTITION_MI = [f for f in MI_MEASURES if f.__name__ in ("dsmi", "asmi")]
CORE_MI = [f for f in CORE_MEASURES if f in MI_MEASURES]


@pytest.mark.parametrize("func", _each(MEASURES))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_embeddings(func, bad):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    Z[7, 1] = bad
    msg = _raises(func, Z)
    assert "finite" in msg and "row 7" in msg
    assert ("1 NaN" in msg) == bool(np.isnan(bad))
    assert "np.isfinite" in msg  # how to fix


@pytest.mark.parametrize("func", _each(MEASURES))
@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_samples(func, n):
    msg = _raises(func, np.ones((n, 3)), np.zeros(n, dtype=int))
    assert re.search(r"at least \d+ samples", msg) and f"got {n}" in msg


@pytest.mark.parametrize("func", _each(MEASURES))
def test_no_features(func):
    msg = _raises(func, np.ones((N, 0)))
    assert "feature" in msg and f"({N}, 0)" in msg


@pytest.mark.parametrize("func", _each(MEASURES))
def test_one_dimensional_embeddings_say_how_to_reshape(func):
    msg = _raises(func, np.arange(N, dtype=float))
    assert "2-D" in msg and f"({N},)" in msg
    assert "reshape(-1, 1)" in msg and "reshape(1, -1)" in msg


@pytest.mark.parametrize("func", _each(MEASURES))
def test_three_dimensional_embeddings_say_how_to_flatten(func):
    msg = _raises(func, np.ones((N, 4, 5)))
    assert "3-D" in msg and f"({N}, 4, 5)" in msg
    assert "reshape(len(Z), -1)" in msg and "Flatten" in msg


@pytest.mark.parametrize(
    "Z,hint",
    [
        (np.array([[1.0, "a"], [2.0, "b"], [3.0, "c"]], dtype=object), "np.asarray"),
        (np.ones((N, 3), dtype=complex), "X.real"),
        (np.array([["a", "b"], ["c", "d"], ["e", "f"]]), "np.asarray"),
        (np.array([[None, 1.0], [2.0, 3.0]], dtype=object), "np.asarray"),
    ],
    ids=["object", "complex", "strings", "none"],
)
@pytest.mark.parametrize("func", _each(MEASURES))
def test_non_numeric_embeddings(func, Z, hint):
    msg = _raises(func, Z, np.arange(len(Z)) % 2)
    assert "'Z'" in msg and "real numeric" in msg and str(Z.dtype) in msg and hint in msg


@pytest.mark.parametrize("func", _each(MI_MEASURES))
def test_row_mismatch(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    msg = _raises(func, Z, np.arange(N + 3) % 2)
    assert f"{N} rows in Z" in msg and f"{N + 3} in Y" in msg


@pytest.mark.parametrize("func", _each(MI_MEASURES))
def test_reference_with_nan(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    y = np.linspace(0, 1, N)
    y[3] = np.nan
    msg = _raises(func, Z, y)
    assert "'Y'" in msg and "finite" in msg


@pytest.mark.parametrize("func", _each(MI_MEASURES))
def test_reference_with_three_axes(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    msg = _raises(func, Z, np.ones((N, 2, 2)))
    assert "'Y'" in msg and f"({N}, 2, 2)" in msg and "reshape" in msg


@pytest.mark.parametrize("func", _each(MI_MEASURES))
def test_complex_reference(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    msg = _raises(func, Z, np.ones(N, dtype=complex))
    assert "'Y'" in msg and "complex" in msg


@pytest.mark.parametrize("func", _each(CORE_MI))
def test_vector_reference_with_single_value_kind(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    msg = _raises(func, Z, np.ones((N, 2)), y_kind="labels")
    assert "y_kind='labels'" in msg and f"({N}, 2)" in msg and "y_kind='vector'" in msg


@pytest.mark.parametrize("func", _each(CORE_MI))
def test_string_reference_as_scalar(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    y = np.array(["a", "b"] * (N // 2))
    msg = _raises(func, Z, y, y_kind="scalar")
    assert "y_kind='labels'" in msg


@pytest.mark.parametrize("missing", [None, float("nan")], ids=["None", "nan"])
@pytest.mark.parametrize("func", CORE_MI, ids=lambda f: f.__name__)
def test_missing_string_labels_are_not_a_class(func, missing):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    y = np.array(["a", "b"] * (N // 2), dtype=object)
    y[[4, 9]] = missing
    msg = _raises(func, Z, y)
    assert "missing values" in msg and "row 4" in msg and "2 row(s)" in msg


@pytest.mark.parametrize("func", _each(CORE_MI))
def test_non_integer_partition(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    msg = _raises(func, Z, np.linspace(0, 1, N), y_kind="partition")
    assert "integer group ids" in msg


@pytest.mark.parametrize("func", PARTITION_MI, ids=lambda f: f.__name__)
def test_single_sample_class(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    y = np.arange(N) % 2
    y[5] = 7
    msg = _raises(func, Z, y)
    assert "at least 2 samples in every class" in msg and "7" in msg


def test_single_sample_class_in_parity_csmi():
    Z = np.random.default_rng(0).normal(size=(N, 3))
    y = np.arange(N) % 2
    y[5] = 7
    msg = _raises(infolens.csmi, Z, y, preset="dse-dsmi")
    assert "at least 2 samples in every class" in msg


def test_anisotropic_knn_is_refused():
    Z = np.random.default_rng(0).normal(size=(N, 3))
    msg = _raises(infolens.ase, Z, adjacency="knn", anisotropic=True)
    assert "anisotropic" in msg and "adjacency='knn'" in msg


def test_too_few_points_for_spectral_clustering():
    Z = np.random.default_rng(0).normal(size=(8, 3))
    msg = _raises(infolens.dsmi, Z, np.random.default_rng(1).normal(size=(8, 2)))
    assert "Spectral clustering" in msg and "y_kind='partition'" in msg


# --------------------------------------------------------------------------
# Inputs that must work
# --------------------------------------------------------------------------


@pytest.mark.parametrize("func", CORE_MEASURES, ids=lambda f: f.__name__)
def test_torch_tensors_give_the_numpy_value(func):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(N, 3))
    y = np.arange(N) % 3
    expected = _call(func, Z, y)
    assert _call(func, torch.from_numpy(Z), torch.from_numpy(y)) == pytest.approx(
        expected, abs=1e-12)
    z32 = torch.from_numpy(Z.astype(np.float32))
    assert _call(func, z32, torch.from_numpy(y)) == pytest.approx(
        _call(func, Z.astype(np.float32), y), abs=1e-12)
    if Z.dtype == np.float64:
        grad = torch.from_numpy(Z).requires_grad_(True)  # detached internally
        assert _call(func, grad, torch.from_numpy(y)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("func", CORE_MEASURES, ids=lambda f: f.__name__)
def test_lists_and_integer_arrays(func):
    rng = np.random.default_rng(0)
    Z = rng.integers(0, 5, size=(N, 3))
    y = np.arange(N) % 2
    expected = _call(func, Z.astype(float), y)
    assert _call(func, Z, y) == pytest.approx(expected, abs=1e-12)
    assert _call(func, Z.tolist(), y.tolist()) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("func", CORE_MI, ids=lambda f: f.__name__)
def test_string_labels_equal_integer_labels(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    y = np.arange(N) % 3
    names = np.array(["cat", "dog", "emu"])[y]
    assert func(Z, names) == pytest.approx(func(Z, y), abs=1e-12)
