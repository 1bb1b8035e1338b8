"""Bad input gets a clear error: what was expected, what was received, how to fix it.

The meta-test discovers every public measure (the callables of
``infolens.__all__`` whose first parameter is ``Z``), feeds each of its
parameters a bad value from ``BAD_VALUES`` and checks the message of the
``InvalidParameterError``.  A parameter missing from ``BAD_VALUES`` fails the
meta-test, so new parameters cannot slip through unvalidated.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import infolens
from infolens import InvalidParameterError

N = 40

#: Bad values per parameter name.  Each must be rejected by every public
#: measure that has the parameter.
BAD_VALUES = {
    "t": [0, -1, 1.5, "2", True],
    "sigma": [-1, 0, -0.5, float("nan"), float("inf"), "bogus", True, None],
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
    "adjacency": ["x", "kNN"],
    "n_neighbors": [0, -3, 2.5],
    "anisotropic": ["x", None],
}

#: The valid choices of option parameters, as documented; messages must list them.
OPTIONS = {
    "sigma": ["auto", "median", "rms"],
    "method": ["auto", "exact"],
    "precision": ["auto", "float64", "float32"],
    "preset": ["infolens", "dse-dsmi"],
    "y_kind": ["auto", "labels", "scalar", "vector", "partition"],
    "adjacency": ["gaussian", "knn"],
    "max_n": ["auto"],  # besides an int >= 2 or None
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


def _valid_inputs(func):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(N, 3))
    args = [Z]
    if "Y" in inspect.signature(func).parameters:
        args.append(np.arange(N) % 2)
    return args


def names_function(msg, fname):
    return re.search(rf"\b(of|in|to|for) {fname}\b|^{fname}\b", msg) is not None


def test_public_measures_are_discovered():
    names = {f.__name__ for f in MEASURES}
    assert {"dse", "dsmi", "ase", "asmi", "cse", "csmi"} <= names


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
def test_every_parameter_has_bad_values(func):
    params = [p for p in inspect.signature(func).parameters if p not in ("Z", "Y")]
    missing = [p for p in params if p not in BAD_VALUES]
    assert not missing, (
        f"{func.__name__} has parameters without bad-value entries in BAD_VALUES: {missing}. "
        f"Add them (and validation in the function if needed)."
    )


def _cases():
    for func in MEASURES:
        for pname in inspect.signature(func).parameters:
            for bad in BAD_VALUES.get(pname, []):
                yield pytest.param(func, pname, bad, id=f"{func.__name__}-{pname}={bad!r}")


@pytest.mark.parametrize("func,pname,bad", list(_cases()))
def test_bad_parameter_value_is_explained(func, pname, bad):
    args = _valid_inputs(func)
    with pytest.raises(InvalidParameterError) as info:
        func(*args, **{pname: bad})
    msg = str(info.value)
    fname = func.__name__
    assert f"{pname!r}" in msg or f"{pname}=" in msg, msg  # names the parameter
    assert names_function(msg, fname), msg  # names the function
    assert repr(bad) in msg, msg  # shows what was received
    if pname in OPTIONS and (isinstance(bad, str) or pname in ("sigma", "max_n")):
        for option in OPTIONS[pname]:
            assert repr(option) in msg, msg  # lists the valid choices
    # Errors are catchable as the standard exception types too.
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
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


# --------------------------------------------------------------------------
# Bad data
# --------------------------------------------------------------------------


def _call(func, Z, Y=None, **kw):
    if "Y" in inspect.signature(func).parameters:
        return func(Z, np.arange(len(Z)) % 2 if Y is None else Y, **kw)
    return func(Z, **kw)


def _raises(func, Z, Y=None, **kw):
    with pytest.raises(InvalidParameterError) as info:
        _call(func, Z, Y, **kw)
    msg = str(info.value)
    assert names_function(msg, func.__name__), msg
    return msg


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_embeddings(func, bad):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    Z[7, 1] = bad
    msg = _raises(func, Z)
    assert "finite" in msg and "row 7" in msg
    assert ("1 NaN" in msg) == bool(np.isnan(bad))
    assert "np.isfinite" in msg  # how to fix


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_samples(func, n):
    msg = _raises(func, np.ones((n, 3)), np.zeros(n, dtype=int))
    assert "at least 2 samples" in msg and f"got {n}" in msg


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
def test_no_features(func):
    msg = _raises(func, np.ones((N, 0)))
    assert "feature" in msg and f"({N}, 0)" in msg


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
def test_one_dimensional_embeddings_say_how_to_reshape(func):
    msg = _raises(func, np.arange(N, dtype=float))
    assert "2-D" in msg and f"({N},)" in msg
    assert "reshape(-1, 1)" in msg and "reshape(1, -1)" in msg


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
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
@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
def test_non_numeric_embeddings(func, Z, hint):
    msg = _raises(func, Z, np.arange(len(Z)) % 2)
    assert "'Z'" in msg and "real numeric" in msg and str(Z.dtype) in msg and hint in msg


MI_MEASURES = [f for f in MEASURES if "Y" in inspect.signature(f).parameters]
PARTITION_MI = [f for f in MI_MEASURES if f.__name__ in ("dsmi", "asmi")]


@pytest.mark.parametrize("func", MI_MEASURES, ids=lambda f: f.__name__)
def test_row_mismatch(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    msg = _raises(func, Z, np.arange(N + 3) % 2)
    assert f"{N} rows in Z" in msg and f"{N + 3} in Y" in msg


@pytest.mark.parametrize("func", MI_MEASURES, ids=lambda f: f.__name__)
def test_reference_with_nan(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    y = np.linspace(0, 1, N)
    y[3] = np.nan
    msg = _raises(func, Z, y)
    assert "'Y'" in msg and "finite" in msg


@pytest.mark.parametrize("func", MI_MEASURES, ids=lambda f: f.__name__)
def test_reference_with_three_axes(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    msg = _raises(func, Z, np.ones((N, 2, 2)))
    assert "'Y'" in msg and f"({N}, 2, 2)" in msg and "reshape" in msg


@pytest.mark.parametrize("func", MI_MEASURES, ids=lambda f: f.__name__)
def test_complex_reference(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    msg = _raises(func, Z, np.ones(N, dtype=complex))
    assert "'Y'" in msg and "complex" in msg


@pytest.mark.parametrize("func", MI_MEASURES, ids=lambda f: f.__name__)
def test_vector_reference_with_single_value_kind(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    msg = _raises(func, Z, np.ones((N, 2)), y_kind="labels")
    assert "y_kind='labels'" in msg and f"({N}, 2)" in msg and "y_kind='vector'" in msg


@pytest.mark.parametrize("func", MI_MEASURES, ids=lambda f: f.__name__)
def test_string_reference_as_scalar(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    y = np.array(["a", "b"] * (N // 2))
    msg = _raises(func, Z, y, y_kind="scalar")
    assert "y_kind='labels'" in msg


@pytest.mark.parametrize("func", MI_MEASURES, ids=lambda f: f.__name__)
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


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
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


@pytest.mark.parametrize("func", MEASURES, ids=lambda f: f.__name__)
def test_lists_and_integer_arrays(func):
    rng = np.random.default_rng(0)
    Z = rng.integers(0, 5, size=(N, 3))
    y = np.arange(N) % 2
    expected = _call(func, Z.astype(float), y)
    assert _call(func, Z, y) == pytest.approx(expected, abs=1e-12)
    assert _call(func, Z.tolist(), y.tolist()) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("func", MI_MEASURES, ids=lambda f: f.__name__)
def test_string_labels_equal_integer_labels(func):
    Z = np.random.default_rng(0).normal(size=(N, 3))
    y = np.arange(N) % 3
    names = np.array(["cat", "dog", "emu"])[y]
    assert func(Z, names) == pytest.approx(func(Z, y), abs=1e-12)
