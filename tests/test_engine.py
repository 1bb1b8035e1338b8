"""Method planning, memory guard, cache, progress and the torch path of the spectral engine."""

import io
import logging
import multiprocessing as mp

import numpy as np
import pytest

import infolens
import infolens.core.progress as progress
from infolens import InvalidParameterError
from infolens.spectrum.cache import SpectrumCache, content_key
import infolens.spectrum.planning
from infolens.spectrum.planning import plan_method


def blobs(n=600, d=6, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(4, d))
    return centres[rng.integers(0, 4, n)] + rng.normal(size=(n, d))


# ---------------------------------------------------------------- memory guard

def test_auto_switches_to_slq_with_one_log_line(caplog):
    X = blobs(4000, 4)
    opts = dict(infolens.spectrum.planning.METHOD_OPTIONS)
    exact_need = infolens.spectrum.planning.exact_bytes(4000)
    slq_need = infolens.spectrum.planning.slq_bytes(4000, 4, "dense32", opts)
    assert slq_need < exact_need
    limit = {"memory_limit": (exact_need + slq_need) // 2}
    with caplog.at_level(logging.WARNING, logger="infolens"):
        r = infolens.dse(X, return_result=True, method_options=limit)
    lines = [rec for rec in caplog.records if "switching to method='slq'" in rec.getMessage()]
    assert len(lines) == 1
    assert r.params["method"] == "slq"
    assert r.details["standard_error"] > 0 and r.details["storage"] == "dense32"
    assert 0 < r.value < np.log2(4000)


def test_explicit_exact_that_cannot_fit_is_refused_with_alternatives():
    with pytest.raises(InvalidParameterError) as err:
        infolens.dse(blobs(600), method="exact", method_options={"memory_limit": 2**20})
    msg = str(err.value)
    assert "needs about" in msg and "method='slq'" in msg and "method='sparse'" in msg


def test_huge_request_is_refused_not_killed():
    with pytest.raises(InvalidParameterError, match="needs about"):
        plan_method(10**7, 128, "exact", "dse")
    with pytest.raises(InvalidParameterError, match="method='sparse'"):
        plan_method(10**6, 128, "slq", "dse", options={**infolens.spectrum.planning.METHOD_OPTIONS,
                                                      "memory_limit": 2**28})


def test_storage_falls_back_to_tiled_when_dense_does_not_fit():
    opts = {**infolens.spectrum.planning.METHOD_OPTIONS, "memory_limit": 3 * 2**30}
    plan = plan_method(50_000, 64, "slq", "dse", options=opts)
    assert plan.storage == "tiled" and plan.need_bytes <= 3 * 2**30
    plan = plan_method(5_000, 64, "auto", "dse", options=opts)
    assert plan.method == "slq" and plan.storage == "dense"
    plan = plan_method(20_000, 64, "auto", "dse", options=opts)
    assert plan.storage == "dense32"


def test_method_options_are_validated():
    with pytest.raises(InvalidParameterError, match="Unknown key"):
        infolens.dse(blobs(50), method_options={"probes": 3})
    with pytest.raises(InvalidParameterError, match="n_probes"):
        infolens.dse(blobs(50), method_options={"n_probes": 1})
    with pytest.raises(InvalidParameterError, match="method"):
        infolens.dse(blobs(50), method="lanczos")


def test_slq_and_sparse_through_the_public_api():
    X = blobs(1200, 3)
    exact = infolens.dse(X, t=2, return_result=True)
    slq = infolens.dse(X, t=2, method="slq", return_result=True)
    assert exact.params["method"] == "exact"
    assert abs(slq.value - exact.value) <= 4 * slq.details["standard_error"] + 1e-3
    sparse = infolens.dse(X, method="sparse", return_result=True,
                          method_options={"n_neighbors": 60, "knn_backend": "sklearn"})
    assert sparse.params["method"] == "sparse"
    assert 0.9 <= sparse.details["operator"]["kept_mass"] <= 1.0
    assert 0 < sparse.value < np.log2(1200)


def test_dsmi_with_slq_matches_exact():
    X = blobs(1000, 4)
    y = np.random.default_rng(1).integers(0, 4, 1000)
    centre = np.round(X[:, 0] / 4).astype(int)
    exact = infolens.dsmi(X, centre, n_repeats=2)
    slq = infolens.dsmi(X, centre, n_repeats=2, method="slq")
    assert abs(exact - slq) < 0.03
    assert abs(infolens.dsmi(X, y, n_repeats=2, method="slq")) < 0.1


def test_dsmi_standard_error_adds_the_slq_errors_to_the_subset_spread():
    X = blobs(1000, 4)
    centre = np.round(X[:, 0] / 4).astype(int)
    light = {"n_probes": 4, "n_steps": 6, "max_batches": 1}
    exact = infolens.dsmi(X, centre, n_repeats=3, return_result=True)
    slq = infolens.dsmi(X, centre, n_repeats=3, method="slq", method_options=light,
                        return_result=True)
    # Same random subsets (same random_state): the SLQ errors can only add.
    assert slq.standard_error > exact.standard_error > 0
    assert abs(slq.value - exact.value) <= 3 * slq.standard_error
    one = infolens.dsmi(X, centre, n_repeats=1, method="slq", method_options=light,
                        return_result=True)
    assert one.standard_error is not None and one.standard_error > 0
    assert infolens.dsmi(X, centre, n_repeats=1, return_result=True).standard_error is None


# ---------------------------------------------------------------- cache

def test_cache_hit_and_miss(tmp_path):
    X = blobs(300)
    opts = {"cache_dir": str(tmp_path)}
    a = infolens.dse(X, method_options=opts)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    b = infolens.dse(X, method_options=opts)
    assert a == b
    infolens.dse(X, sigma=1.5, method_options=opts)                  # new parameters: miss
    infolens.dse(X[:-1], method_options=opts)                      # new data: miss
    assert len(list(tmp_path.glob("*.npz"))) == 3
    s1 = infolens.dse(X, method="slq", method_options=opts, return_result=True)
    s2 = infolens.dse(X, method="slq", method_options=opts, return_result=True)
    assert s1.details["cache"] == "miss" and s2.details["cache"] == "hit"
    assert s1.value == s2.value
    # a corrupted entry is a miss, not a crash
    for f in tmp_path.glob("*.npz"):
        f.write_bytes(b"garbage")
    assert infolens.dse(X, method_options=opts) == a


def test_content_key_depends_on_data_and_parameters():
    X = np.arange(12.0).reshape(4, 3)
    k = content_key(X, {"sigma": 1.0})
    assert k == content_key(X.copy(), {"sigma": 1.0})
    assert k != content_key(X, {"sigma": 1.0000001})
    assert k != content_key(X.astype(np.float32), {"sigma": 1.0})
    assert k != content_key(X.reshape(3, 4), {"sigma": 1.0})


def _writer(directory, seed):
    cache = SpectrumCache(directory)
    rng = np.random.default_rng(seed)
    for _ in range(30):
        size = int(rng.integers(1000, 50000))
        cache.put("same", values=np.full(size, float(seed)), n=size)


def test_concurrent_writers_never_leave_a_torn_entry(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), s)) for s in range(4)]
    for p in procs:
        p.start()
    cache = SpectrumCache(tmp_path)
    seen = 0
    while any(p.is_alive() for p in procs):
        hit = cache.get("same")
        if hit is not None:  # every entry read is whole and self-consistent
            assert hit["values"].size == int(hit["n"])
            assert np.unique(hit["values"]).size == 1
            seen += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    final = cache.get("same")
    assert final["values"].size == int(final["n"])
    assert not list(tmp_path.glob(".tmp-*"))  # no temporary file left behind


# ---------------------------------------------------------------- progress

class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_tty_and_switch_off(monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    stream = FakeTTY()
    with progress.Progress(4, "job", stream=stream) as bar:
        for _ in range(4):
            bar.update()
    assert "job [" in stream.getvalue() and "100%" in stream.getvalue()
    progress.set_progress(False)
    try:
        stream = FakeTTY()
        with progress.Progress(4, "job", stream=stream) as bar:
            bar.update(4)
        assert stream.getvalue() == ""
    finally:
        progress.set_progress(None)
    monkeypatch.setenv("INFOLENS_PROGRESS", "0")
    assert not progress.progress_enabled()
    with pytest.raises(InvalidParameterError):
        progress.set_progress("yes")


def test_progress_logs_when_not_a_tty(monkeypatch, caplog):
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    with caplog.at_level(logging.INFO, logger="infolens"):
        with progress.Progress(2, "job", stream=io.StringIO()) as bar:
            bar.update()
    assert any("job: 1/2 steps" in r.getMessage() for r in caplog.records)


def test_keyboard_interrupt_closes_the_bar(monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    stream = FakeTTY()
    with pytest.raises(KeyboardInterrupt):
        with progress.Progress(4, "job", stream=stream) as bar:
            bar.update()
            raise KeyboardInterrupt
    assert stream.getvalue().endswith("\n")


# ---------------------------------------------------------------- torch

def test_torch_cpu_equals_numpy():
    torch = pytest.importorskip("torch")
    X = blobs(300, 5)
    for kw in ({}, {"t": 3, "keep_trivial": False}, {"alpha": 0.5}):
        ref = infolens.dse(X, precision="float64", **kw)
        got = infolens.dse(torch.tensor(X), **kw)
        assert abs(got - ref) < 1e-5
    y = np.random.default_rng(0).integers(0, 3, 300)
    ref = infolens.dsmi(X, y, precision="float64", n_repeats=2)
    assert abs(infolens.dsmi(torch.tensor(X), y, n_repeats=2) - ref) < 1e-5


def test_torch_solver_failure_falls_back_to_slq(monkeypatch, caplog):
    torch = pytest.importorskip("torch")

    def broken(*args, **kwargs):
        raise RuntimeError("linalg.eigvalsh: the algorithm failed to converge")

    monkeypatch.setattr(torch.linalg, "eigvalsh", broken)
    X = blobs(500, 5)
    with caplog.at_level(logging.WARNING, logger="infolens"):
        r = infolens.dse(torch.tensor(X), return_result=True)
    assert r.params["method"] == "slq"
    assert any("falling back" in rec.getMessage() for rec in caplog.records)
    assert abs(r.value - infolens.dse(X)) < 4 * r.details["standard_error"] + 0.02


def test_ctrl_c_stops_a_long_computation_cleanly(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    code = (
        "import signal, numpy as np, infolens\n"
        # A shell's background job starts with SIGINT ignored; Python keeps that, so
        # install the usual Ctrl-C handler whatever launched the test.
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "X = np.random.default_rng(0).normal(size=(3000, 8))\n"
        "print('start', flush=True)\n"
        "for s in range(1000):\n"
        f"    infolens.dse(X, sigma=1.0 + s, method='slq', method_options={{'cache_dir': {str(tmp_path)!r}}})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "start"
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err
    assert not list(tmp_path.glob(".tmp-*"))  # no half-written cache entry left
    for f in tmp_path.glob("*.npz"):  # every entry written is complete
        assert SpectrumCache(tmp_path).get(f.stem) is not None


def test_ase_and_asmi_with_slq_match_exact():
    X = blobs(1200, 4)
    for anisotropic in (False, True):
        exact = infolens.ase(X, anisotropic=anisotropic)
        r = infolens.ase(X, anisotropic=anisotropic, method="slq", return_result=True)
        assert r.params["method"] == "slq" and r.eigenvalues is None
        assert abs(r.value - exact) <= 4 * r.details["standard_error"] + 1e-4
    y = np.random.default_rng(2).integers(0, 3, 1200)
    assert abs(infolens.asmi(X, y, n_repeats=2, method="slq")
               - infolens.asmi(X, y, n_repeats=2)) < 0.02
    with pytest.raises(InvalidParameterError, match="adjacency='knn'"):
        infolens.ase(X, adjacency="knn", method="slq")


def test_adjacency_operator_is_the_scaled_affinity():
    from infolens.kernels.distances import squared_distances
    from infolens.kernels.gaussian import gaussian_affinity
    from infolens.kernels.operators import AdjacencyOperator, gaussian_operator

    X = blobs(200, 3)
    K = gaussian_affinity(squared_distances(X), 1.5)
    for storage in ("dense", "tiled"):
        op = AdjacencyOperator(gaussian_operator(X, 1.5, storage=storage, precision="float64"))
        np.testing.assert_allclose(op.matmat(np.eye(200)), K / K.sum(1).max(), atol=1e-13)
        assert np.abs(np.linalg.eigvalsh(K / K.sum(1).max())).max() <= 1 + 1e-12


# ---------------------------------------------------------------- one solve()


def test_solve_returns_a_spectrum_or_an_estimate_and_never_calls_back():
    from infolens.spectrum.exact import symmetric_eigenvalues
    from infolens.kernels.gaussian import diffusion_operator
    from infolens.spectrum.planning import check_method_options
    from infolens.spectrum.solve import SpectralRequest, solve

    X = blobs(400, 4)
    exact = solve(SpectralRequest(X, 1.5, method="exact"))
    assert exact.method == "exact" and exact.entropy is None and exact.standard_error is None
    op = diffusion_operator(X, 1.5)
    ref = symmetric_eigenvalues(op.matrix, op.trivial_vector, "float64")
    np.testing.assert_allclose(exact.spectrum.values, ref.values, atol=1e-12)
    options = check_method_options({"n_probes": 8, "n_steps": 10}, "dse")
    est = solve(SpectralRequest(X, 1.5, method="slq", options=options))
    assert est.spectrum is None and est.method == "slq"
    assert est.standard_error > 0 and est.details["storage"] in ("dense", "dense32", "tiled")
    assert "standard_error" not in est.details  # the answer carries it, in nats


def test_spectral_settings_set_every_attribute_in_init():
    from infolens.measures.spectral_settings import SpectralSettings

    s = SpectralSettings("dse", preset="infolens", sigma="auto", t=1, alpha=0.0, base=2,
                         keep_trivial=True, max_n="auto", method="auto", precision="auto",
                         random_state=0)
    before = set(vars(s))
    s.bandwidth(blobs(50, 3))
    assert set(vars(s)) == before
    assert s.sigma_value > 0 and s.reference_float32 is False


def test_parity_preset_solves_every_entropy_exactly():
    from infolens.measures.spectral_settings import SpectralSettings

    s = SpectralSettings("dsmi", preset="dse-dsmi", sigma="auto", t=1, alpha=0.0, base=2,
                         keep_trivial=True, max_n="auto", method="auto", precision="auto",
                         random_state=0)
    # The preset promises dse-dsmi's numbers, so even 9000 points stay on the parity path.
    assert s.request(np.zeros((9000, 2)), 1.0).parity
