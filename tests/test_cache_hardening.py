"""The on-disk spectrum cache against damaged, foreign and edited entries, and bad
``cache_dir`` values (issue 12)."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest

import infolens
from infolens.core.validation import InvalidParameterError
from infolens.spectrum.cache import SpectrumCache

X = np.random.default_rng(3).normal(size=(80, 4))


def _entry(tmp_path):
    opts = {"cache_dir": str(tmp_path)}
    value = infolens.dse(X, method_options=opts)
    (entry,) = tmp_path.glob("*.npz")
    return opts, value, entry


def _assert_recomputed(opts, value, match):
    with pytest.warns(RuntimeWarning, match=match):
        assert infolens.dse(X, method_options=opts) == value


def test_a_truncated_or_garbage_entry_is_recomputed_with_a_warning(tmp_path):
    opts, value, entry = _entry(tmp_path)
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    _assert_recomputed(opts, value, "unreadable")
    entry.write_bytes(b"PK\x03\x04 garbage")
    _assert_recomputed(opts, value, "unreadable")
    assert infolens.dse(X, method_options=opts) == value  # rewritten: a clean hit now


def test_an_entry_with_other_eigenvalues_or_nan_is_not_served(tmp_path):
    opts, value, entry = _entry(tmp_path)
    with np.load(entry) as d:
        stored = {k: d[k] for k in d.files}
    # another tool (or a hand edit) writing plausible arrays under the name
    np.savez(entry, values=np.linspace(0, 1, 80), trivial_index=-1, precision="float64",
             error_estimate_bits=-1.0)
    _assert_recomputed(opts, value, "checksum")
    bad = dict(stored, values=np.full_like(stored["values"], np.nan))
    np.savez(entry, **bad)  # old checksum, new values
    _assert_recomputed(opts, value, "checksum")


def test_a_foreign_entry_copied_under_another_key_is_refused(tmp_path):
    opts = {"cache_dir": str(tmp_path)}
    infolens.dse(X[:60], method_options=opts)
    (foreign,) = tmp_path.glob("*.npz")
    value = infolens.dse(X, method_options=opts)
    (entry,) = [p for p in tmp_path.glob("*.npz") if p != foreign]
    shutil.copyfile(foreign, entry)
    _assert_recomputed(opts, value, "another key")


def test_params_and_finiteness_are_verified(tmp_path):
    cache = SpectrumCache(tmp_path)
    cache.put("k", {"sigma": 1.0}, values=np.arange(3.0))
    assert cache.get("k", {"sigma": 1.0})["values"].tolist() == [0.0, 1.0, 2.0]
    with pytest.warns(RuntimeWarning, match="other parameters"):
        assert cache.get("k", {"sigma": 2.0}) is None
    cache.put("n", values=np.array([1.0, np.nan]))
    with pytest.warns(RuntimeWarning, match="non-finite"):
        assert cache.get("n") is None
    (tmp_path / "d.npz").mkdir()
    with pytest.warns(RuntimeWarning, match="unreadable"):
        assert cache.get("d") is None
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as zf:
        zf.writestr("values.npy", b"not an array")
    with pytest.warns(RuntimeWarning):
        assert cache.get("z") is None
    assert cache.get("absent") is None  # a plain miss is silent


@pytest.mark.parametrize("bad", ["file", "/dev/null/x", "/proc/infolens-cache"])
def test_a_bad_cache_dir_is_one_clear_error(tmp_path, bad):
    if bad == "file":
        bad = tmp_path / "f"
        bad.write_text("x")
    with pytest.raises(InvalidParameterError, match="cache_dir"):
        infolens.dse(X, method_options={"cache_dir": str(bad)})


def test_slq_key_includes_the_storage(tmp_path, monkeypatch):
    import infolens.spectrum.estimate as estimate

    seen = []
    real = estimate.content_key
    monkeypatch.setattr(estimate, "content_key",
                        lambda data, params: seen.append(params) or real(data, params))
    Y = np.random.default_rng(4).normal(size=(300, 4))
    out = infolens.dse(Y, method="slq", method_options={"cache_dir": str(tmp_path)},
                       return_result=True)
    assert out.details.get("cache") == "miss"
    assert seen and seen[0]["storage"] in ("dense", "dense32", "tiled", "sparse")
