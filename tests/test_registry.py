"""The measure registry is the one declaration of which measures exist and what they take.

Every registered measure must be reachable, from its entry alone, through the dispatchers
(``list_methods``), the command line (a subcommand whose ``--help`` lists every parameter),
a batch manifest (resolved and run) and the monitor (``Measure`` built from its name);
the entries must agree with the functions' signatures.  The last test registers a toy
measure and finds it everywhere: adding a measure is one function and one entry.
"""

from __future__ import annotations

import inspect
import json
import re
import warnings

import numpy as np
import pytest

import infolens
from infolens import registry
from infolens.batch.manifest import make_tasks, resolve_measure
from infolens.batch.tasks import run_task
from infolens.cli.main import build_parser, main
from infolens.cli.options import parameter_docs
from infolens.core.validation import BOOLEAN, Interval, InvalidParameterError, Options, satisfies
from infolens.measures.common import Y_KIND_VOCABULARY
from infolens.monitor import Measure, ProbeSet, as_measures

MEASURES = registry.MEASURES
#: Settings that keep a measure cheap (a few neural epochs).
CHEAP = {"epochs": 2}
N = 60


def _ids(info):
    return info.function


def _cheap(info):
    return {k: v for k, v in CHEAP.items() if k in info.parameters}


def _needs_torch(info):
    if info.stochastic:
        pytest.importorskip("torch")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y = np.arange(N) % 2
    Z = rng.normal(size=(N, 3)) + 3.0 * y[:, None]
    return Z, y


# ----------------------------------------------------------------------------- the entries
def test_list_methods_equals_the_registry():
    assert infolens.list_methods() == list(MEASURES)
    assert infolens.MethodInfo is registry.MethodInfo
    for kind in registry.KINDS:
        assert infolens.list_methods(kind) == [m for m in MEASURES if m.kind == kind]
    assert [m.function for m in infolens.list_methods("dependence")] == ["wasserstein_dependency"]


def test_names_are_unique():
    functions = [m.function for m in MEASURES]
    assert len(set(functions)) == len(functions)
    keys = [(m.kind, m.name) for m in MEASURES]
    assert len(set(keys)) == len(keys)
    aliases = [a for m in MEASURES for a in m.aliases]
    assert len(set(aliases)) == len(aliases) and not set(aliases) & set(functions)


@pytest.mark.parametrize("info", MEASURES, ids=_ids)
def test_entry_agrees_with_its_function(info):
    assert info.func.__name__ == info.function
    assert getattr(infolens, info.function) is info.func
    for alias in info.aliases:
        assert getattr(infolens, alias) is info.func
    assert info.kind in registry.KINDS and info.unit and info.cost and info.reference
    assert set(info.y_kinds) <= set(Y_KIND_VOCABULARY) - {"auto"}
    assert bool(info.y_kinds) == info.needs_reference == (info.kind in ("mi", "dependence"))
    # One constraint list per keyword parameter, none for anything else; defaults meet them.
    assert set(info.constraints) == set(info.parameters), info.function
    for name, default in info.parameters.items():
        assert satisfies(default, info.constraints[name]), (name, default)
    if "y_kind" in info.parameters:
        options = info.constraints["y_kind"][0]
        assert isinstance(options, Options) and options.values == ("auto",) + info.y_kinds
    for name in list(info.cli) + list(info.renamed) + list(info.renamed.values()):
        assert name in info.parameters or name == "random_state", name


@pytest.mark.parametrize("info", [m for m in MEASURES if "y_kind" in m.parameters], ids=_ids)
def test_declared_reference_kinds_are_the_ones_the_function_takes(info, data):
    Z, y = data
    with pytest.raises(InvalidParameterError) as exc:
        info.func(Z, y, y_kind="not-a-kind", **_cheap(info))
    listed = re.findall(r"'(\w+)'", str(exc.value).split("must be one of")[1].split(". Got")[0])
    assert tuple(listed) == ("auto",) + info.y_kinds


@pytest.mark.parametrize("info", MEASURES, ids=_ids)
def test_every_parameter_is_documented(info):
    docs = parameter_docs(info.func)
    missing = [p for p in info.parameters if p not in docs]
    assert not missing, f"{info.function} documents no {missing} (nor do the functions it cites)"


def test_registry_docstring_says_how_to_add_a_measure():
    doc = registry.__doc__
    assert "Adding a measure" in doc
    assert all(f"\n{i}. " in doc for i in range(1, 6))


# ----------------------------------------------------------------------------- command line
def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices


@pytest.mark.parametrize("info", MEASURES, ids=_ids)
def test_every_measure_has_a_subcommand_whose_help_lists_its_parameters(info, capsys):
    assert info.function in _subcommands()
    with pytest.raises(SystemExit) as exc:
        main([info.function, "--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for name in info.parameters:
        if name == "return_result" or name in info.renamed:
            continue
        flag = info.cli.get(name) or "--" + name.replace("_", "-")
        if info.constraints[name] == [BOOLEAN] and name not in info.cli:
            flag = ("--no-" if info.parameters[name] else "--") + name.replace("_", "-")
        assert flag in out, (info.function, name)
        assert name.replace("_", "-") in out or f"{name}:" in out, (info.function, name)
    if info.needs_reference:
        assert "--labels" in out and "--labels-key" in out


def test_registry_spellings_reach_the_function(tmp_path, data, capsys):
    Z, y = data
    np.save(tmp_path / "Z.npy", Z)
    np.save(tmp_path / "y.npy", y)
    assert main(["ksg_mi", str(tmp_path / "Z.npy"), "--labels", str(tmp_path / "y.npy"),
                 "--k", "5", "--seed", "2", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["value"] == pytest.approx(infolens.ksg_mi(Z, y, k=5, random_state=2))
    assert main(["nuclear_norm", str(tmp_path / "Z.npy"), "--no-normalize"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"NUCLEAR_NORM = {infolens.nuclear_norm(Z, normalize=False):.4f}")
    assert main(["vendi_score", str(tmp_path / "Z.npy"), "--q", "inf", "--dual", "False",
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["value"] == pytest.approx(infolens.vendi_score(Z, q=np.inf, dual=False))


# ----------------------------------------------------------------------------- manifest
def test_unknown_manifest_measure_lists_only_registered_measures():
    with pytest.raises(InvalidParameterError, match="Unknown measure") as exc:
        resolve_measure("set_progress")
    known = str(exc.value).split("Known measures: ")[1].split(";")[0].split(", ")
    assert known == sorted(m.function for m in MEASURES)
    with pytest.raises(InvalidParameterError, match="renyi_entropy and renyi_mi"):
        resolve_measure("renyi")


@pytest.mark.parametrize("info", MEASURES, ids=_ids)
def test_every_measure_runs_from_a_manifest(info, tmp_path, data):
    _needs_torch(info)
    Z, y = data
    np.savez(tmp_path / "zy.npz", Z=Z, Y=y)
    for name in {info.function, *info.aliases}:
        spec = resolve_measure(name)
        assert spec.function is info.func and spec.needs_reference == info.needs_reference
    tasks = make_tasks([{"embeddings": "zy.npz"}], [{info.function: _cheap(info)}],
                       base_dir=tmp_path)
    outcome = run_task(tasks[0].payload())
    assert outcome["status"] == "done", outcome.get("error")
    assert np.isfinite(outcome["value"])


# ----------------------------------------------------------------------------- monitor
@pytest.mark.parametrize("info", MEASURES, ids=_ids)
def test_every_measure_computes_in_the_monitor(info, data):
    _needs_torch(info)
    Z, y = data
    probe = ProbeSet(Z, y)
    measure = Measure.from_registry(info.function, name=f"my_{info.function}", **_cheap(info))
    assert measure.fn is info.func and measure.name == f"my_{info.function}"
    assert measure.reference == ("y" if info.needs_reference else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, unit, params, _ = measure(Z, probe)
    assert np.isfinite(value) and unit
    assert Measure(info.function, **_cheap(info)).fn is info.func


def test_monitor_measures_by_name():
    measures = as_measures(["dse", "ksg"])
    assert [m.name for m in measures] == ["dse", "ksg"]
    assert measures[1].reference == "y" and measures[1].fn is infolens.ksg_mi
    assert as_measures({"cs": "cs_mi"})[0].fn is infolens.cauchy_schwarz_mi
    with pytest.raises(InvalidParameterError, match="Unknown measure 'nope'.*dse"):
        Measure("nope")


# ----------------------------------------------------------------------------- one entry
def toy_entropy(Z, *, scale=1.0, return_result=False):
    """Log of the summed squared norms, times ``scale``: a made-up measure for a test.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    scale : float, default=1.0
        Factor applied to the value.
    return_result : bool, default=False
    """
    value = scale * float(np.log(np.square(Z).sum()))
    return infolens.Result("toy_entropy", value, "nats", {"scale": scale}, None, 0.0, {}) \
        if return_result else value


def test_one_entry_makes_a_measure_reachable_everywhere(monkeypatch, tmp_path, data, capsys):
    Z, _ = data
    entry = registry._entry(toy_entropy, "toy", "entropy", "nats",
                            {"scale": [Interval(float, 0)]}, cost="O(N D)",
                            reference="a test")
    monkeypatch.setattr(registry, "MEASURES", registry.MEASURES + (entry,))
    expected = toy_entropy(Z, scale=2.0)
    assert infolens.entropy(Z, method="toy", scale=2.0) == expected
    assert infolens.list_methods("entropy")[-1] is entry
    assert resolve_measure("toy").function is toy_entropy
    assert Measure("toy", scale=2.0)(Z, ProbeSet(Z))[0] == pytest.approx(expected)
    np.save(tmp_path / "Z.npy", Z)
    assert main(["toy_entropy", str(tmp_path / "Z.npy"), "--scale", "2"]) == 0
    out = capsys.readouterr().out
    assert re.match(rf"TOY_ENTROPY = {expected:.4f} nats", out), out
    with pytest.raises(SystemExit):
        main(["toy_entropy", "--help"])
    assert "Factor applied to the value" in capsys.readouterr().out


def test_signature_defaults_are_not_retyped():
    for info in MEASURES:
        sig = inspect.signature(info.func).parameters
        assert info.parameters == {n: sig[n].default for n in info.parameters}
