"""The run progress bar: one bar per computation with stages and a cost-model ETA,
on a terminal only."""

import io
import sys

import numpy as np

import infolens
from infolens.core import progress


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_nothing_is_written_when_stderr_is_not_a_terminal(monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    X = np.random.default_rng(0).normal(size=(400, 5))
    infolens.dse(X, method="slq")
    infolens.dse(X, method="exact")
    with progress.Progress(1, "run", stages={"kernel": 1.0, "solve": 2.0}) as bar:
        bar.stage("kernel")
        bar.stage("solve")
    assert stream.getvalue() == ""


def test_stages_and_eta_appear_when_forced(monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    clock = {"now": 100.0}
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock["now"])
    stream = FakeTTY()
    with progress.Progress(1, "dse slq n=9", stream=stream,
                           stages={"kernel": 1.0, "probes": 3.0}) as bar:
        bar.stage("kernel")
        assert "kernel 0/1" in bar.text() and "eta 0:04" in bar.text()  # model units: s
        clock["now"] += 2.0  # the kernel took 2 s for 1 unit: 2 s per unit
        bar.stage("probes", total=4)
        assert "probes 0/4" in bar.text() and "eta 0:06" in bar.text()
        clock["now"] += 3.0
        bar.update(2)
        # half the probes: 1 + 1.5 of 4 units done, at 2 s per unit 3 s are left
        assert " 62%" in bar.text() and "eta 0:03" in bar.text()
        inner = FakeTTY()
        with progress.Progress(3, "kernel n=9", stream=inner) as nested:
            nested.update(3)
        assert inner.getvalue() == ""  # bars inside a run bar stay silent
    out = stream.getvalue()
    assert "kernel" in out and "probes" in out and "eta" in out and out.endswith("\n")


def test_a_public_call_shows_one_bar_with_its_stages(monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    stream = FakeTTY()
    monkeypatch.setattr(sys, "stderr", stream)
    X = np.random.default_rng(1).normal(size=(600, 4))
    infolens.dse(X, method="slq", method_options={"n_probes": 8, "n_steps": 6})
    slq = stream.getvalue()
    assert "dse slq n=600" in slq and "kernel" in slq and "probes" in slq
    assert "kernel n=" not in slq  # the kernel build's own bar is folded in
    stream.seek(0)
    stream.truncate()
    infolens.dse(X, method="exact")
    assert "dse exact n=600" in stream.getvalue() and "solve" in stream.getvalue()


def test_unknown_stage_is_refused():
    bar = progress.Progress(1, stages={"kernel": 1.0})
    try:
        bar.stage("nope")
    except infolens.InvalidParameterError as err:
        assert "kernel" in str(err)
    else:
        raise AssertionError("an unknown stage was accepted")
