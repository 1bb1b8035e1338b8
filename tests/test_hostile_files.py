"""Hostile input files on the command line: exit 2, at most two lines on stderr, never unpickled.

The test builds a directory of bad files (each a case an adversarial user tried, issue 12):
size bombs, non-regular files, files of one format under another's name, truncated and
pickle-bearing files.  Every pickle payload here, if unpickled, creates a marker file; the
marker must never appear.  The memory budget is lowered to 8 MiB so the bombs need not be big.
"""

from __future__ import annotations

import io
import os
import pathlib
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import infolens.core.arrayfiles as arrayfiles
import infolens.core.files as files
from infolens.batch.inputs import load_embeddings
from infolens.cli.main import main
from infolens.core.files import DataFileError, load_array, load_labels
from infolens.core.validation import InvalidParameterError

BUDGET = 8 * 2**20


class _Trap:
    """Unpickling this object creates the file ``path``."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


def _npy_header(shape, descr="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()  # the magic string included


def _npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _build(d, marker):
    """Write the hostile files into ``d``; returns ``{name: (argv, fragment)}``."""
    Z = np.random.default_rng(0).normal(size=(30, 3))
    np.save(d / "Z.npy", Z)
    cases = {}

    def case(name, fragment, *extra):
        cases[name] = (["dse", str(d / name), *extra], fragment)

    (d / "huge_header.npy").write_bytes(_npy_header((10**6, 100_000)) + b"\0" * 800)
    case("huge_header.npy", "truncated")
    with zipfile.ZipFile(d / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("Z.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header((BUDGET // 8 * 2,)))
            chunk = b"\0" * 2**20
            for _ in range(2 * BUDGET // 2**20):
                fh.write(chunk)
    case("bomb.npz", "more than")
    big = np.zeros(BUDGET // 8 + 1000)
    np.save(d / "big.npy", big)  # a real file larger than the budget
    case("big.npy", "more than")
    os.mkfifo(d / "fifo.csv")
    case("fifo.csv", "FIFO")
    os.symlink("/dev/zero", d / "zero.npy")
    case("zero.npy", "device")
    (d / "folder.npy").mkdir()
    case("folder.npy", "directory")
    with open(d / "npz_as.npy", "wb") as fh:
        np.savez(fh, Z=Z)
    case("npz_as.npy", "zip archive")
    with zipfile.ZipFile(d / "member.npz", "w") as zf:
        zf.writestr("Z.npy", b"this is not an array")
    case("member.npz", "not a NumPy array")
    with zipfile.ZipFile(d / "text_member.npz", "w") as zf:
        zf.writestr("notes.txt", b"hello")
    case("text_member.npz", "not a NumPy array")
    raw = _npy_bytes(Z)
    (d / "truncated.npy").write_bytes(raw[: len(raw) // 2])
    case("truncated.npy", "truncated")
    (d / "header_only.npy").write_bytes(raw[:100])
    case("header_only.npy", "truncated")
    (d / "empty.npy").write_bytes(b"")
    case("empty.npy", "not a plain numeric")
    (d / "bad_header.npy").write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': ???}     \n")
    case("bad_header.npy", "bad header")
    (d / "neg_shape.npy").write_bytes(_npy_header((-5, 3)) + b"\0" * 64)
    case("neg_shape.npy", "")
    obj = np.empty(2, dtype=object)
    obj[0], obj[1] = _Trap(marker), 1.0
    np.save(d / "object.npy", obj, allow_pickle=True)
    case("object.npy", "unpickling")
    (d / "raw_pickle.npy").write_bytes(pickle.dumps(_Trap(marker)))
    case("raw_pickle.npy", "unpickling")
    np.savez(d / "object.npz", Z=obj)
    case("object.npz", "unpickling")
    (d / "raw_pickle.npz").write_bytes(pickle.dumps(_Trap(marker)))
    case("raw_pickle.npz", "unpickling")
    (d / "raw_pickle.csv").write_bytes(pickle.dumps(_Trap(marker), protocol=4))
    case("raw_pickle.csv", "")
    (d / "junk.npz").write_bytes(b"\x00\x01 not a zip")
    case("junk.npz", "not a plain numeric")
    np.savez(d / "whole.npz", Z=Z, Y=np.arange(30))
    (d / "trunc.npz").write_bytes((d / "whole.npz").read_bytes()[:300])
    case("trunc.npz", "cannot read")
    case("whole.npz", "choose one")
    with zipfile.ZipFile(d / "empty.npz", "w"):
        pass
    case("empty.npz", "")
    (d / "latin1.csv").write_bytes("1,2\n3,\xe9\n".encode("latin-1"))
    case("latin1.csv", "UTF-8")
    (d / "ragged.csv").write_text("1,2\n3\n")
    case("ragged.csv", "columns")
    (d / "words.csv").write_text("a,b\n1,2\n3,x\n")
    case("words.csv", "non-numeric")
    case("missing.npy", "does not exist")
    (d / "data.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    case("data.h5", "unsupported extension")
    long_name = "x" * 5000 + ".npy"
    cases["long_path"] = (["dse", str(d / long_name)], "")
    np.save(d / "cube.npy", Z.reshape(30, 3, 1))
    case("cube.npy", "--flatten")
    (d / "npy_as.npz").write_bytes(raw)  # a .npy under a .npz name is read; key is refused
    case("npy_as.npz", "drop --key", "--key", "Z")
    torch = pytest.importorskip("torch")
    torch.save({"Z": torch.zeros(3, 2)}, d / "pt_as.npy")
    case("pt_as.npy", "")
    torch.save(torch.eye(30, 3).to_sparse(), d / "sparse.pt")
    case("sparse.pt", "sparse")
    torch.save({"z": torch.zeros(30, 2), "trap": _Trap(marker)}, d / "trap.pt")
    case("trap.pt", "never unpickles", "--key", "z")
    (d / "npy_as.pt").write_bytes(raw)
    case("npy_as.pt", "rename it to .npy")
    torch.save([torch.zeros(3)], d / "list.pt")
    case("list.pt", "not a tensor")
    torch.save({1: torch.zeros(3)}, d / "intkeys.pt")
    case("intkeys.pt", "string keys")
    (d / "trunc.pt").write_bytes((d / "sparse.pt").read_bytes()[:200])
    case("trunc.pt", "cannot read")
    # labels: good embeddings, hostile reference
    cases["labels_pickle"] = (["dsmi", str(d / "Z.npy"), "--labels", str(d / "object.npy")],
                              "unpickling")
    cases["labels_fifo"] = (["dsmi", str(d / "Z.npy"), "--labels", str(d / "fifo.csv")], "FIFO")
    cases["labels_bomb"] = (["dsmi", str(d / "Z.npy"), "--labels", str(d / "huge_header.npy")],
                            "truncated")
    return cases


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    marker = d / "UNPICKLED"
    return d, marker, _build(d, marker)


def test_every_hostile_file_exits_2_with_at_most_two_lines(hostile, capsys, monkeypatch):
    d, marker, cases = hostile
    assert len(cases) >= 30
    monkeypatch.setattr(arrayfiles, "memory_budget", lambda: BUDGET)
    monkeypatch.setattr(files, "memory_budget", lambda: BUDGET)
    failures = []
    for name, (argv, fragment) in cases.items():
        code = main(argv)
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        if code != 2 or not 1 <= len(lines) <= 2 or fragment not in err or "Traceback" in err:
            failures.append(f"{name}: exit {code}, stderr {err!r}")
    assert not failures, "\n".join(failures)
    assert not marker.exists(), "a hostile file was unpickled"


def test_fifo_is_refused_by_a_real_process_without_hanging(hostile):
    d, marker, _ = hostile
    proc = subprocess.run([sys.executable, "-m", "infolens", "dse", str(d / "fifo.csv")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "FIFO" in proc.stderr
    assert not marker.exists()


def test_size_is_checked_before_reading(tmp_path, monkeypatch):
    # the header's declared size is compared with the bytes present, then with the budget
    (tmp_path / "h.npy").write_bytes(_npy_header((10**6, 100_000)) + b"\0" * 800)
    with pytest.raises(DataFileError, match="truncated.*800000000000 bytes"):
        load_array(tmp_path / "h.npy")
    np.save(tmp_path / "ok.npy", np.zeros(1000))
    monkeypatch.setattr(arrayfiles, "memory_budget", lambda: 4000)
    with pytest.raises(DataFileError, match="more than the"):
        load_array(tmp_path / "ok.npy")
    monkeypatch.setattr(arrayfiles, "memory_budget", lambda: 9000)
    assert load_array(tmp_path / "ok.npy").shape == (1000,)


def test_fortran_order_and_dtypes_round_trip(tmp_path):
    A = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    np.save(tmp_path / "f.npy", A)
    np.savez_compressed(tmp_path / "c.npz", A=A, B=np.arange(5, dtype=">i4"))
    np.testing.assert_array_equal(load_array(tmp_path / "f.npy"), A)
    np.testing.assert_array_equal(load_array(tmp_path / "c.npz", key="A"), A)
    np.testing.assert_array_equal(load_array(tmp_path / "c.npz", key="B"), np.arange(5))


# ------------------------------------------------------------------ labels: CLI and batch agree
def _entry(tmp_path, labels_name):
    Z = np.random.default_rng(1).normal(size=(45, 4))
    np.save(tmp_path / "Z.npy", Z)
    return {"kind": "embeddings", "embeddings": str(tmp_path / "Z.npy"),
            "labels": str(tmp_path / labels_name)}


def test_whole_number_classes_are_labels_in_cli_and_batch(tmp_path):
    y = np.arange(45) % 15  # 15 classes: batch used to bin them as a scalar
    np.savetxt(tmp_path / "y.csv", y, fmt="%d")
    cli_y = load_labels(tmp_path / "y.csv")
    _, batch_y = load_embeddings(_entry(tmp_path, "y.csv"))
    assert cli_y.dtype.kind == "i" and batch_y.dtype.kind == "i"
    np.testing.assert_array_equal(cli_y, batch_y)
    np.testing.assert_array_equal(batch_y, y)


def test_utf8_bom_keeps_the_first_row(tmp_path):
    y = np.arange(45) % 3
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + "\n".join(map(str, y)).encode())
    _, batch_y = load_embeddings(_entry(tmp_path, "bom.csv"))
    np.testing.assert_array_equal(batch_y, y)
    np.testing.assert_array_equal(load_labels(tmp_path / "bom.csv"), y)


def test_string_class_labels(tmp_path, capsys):
    names = np.array(["cat", "dog", "emu"])[np.arange(45) % 3]
    (tmp_path / "names.csv").write_text("label\n" + "\n".join(names) + "\n")
    np.testing.assert_array_equal(load_labels(tmp_path / "names.csv"), names)
    _, batch_y = load_embeddings(_entry(tmp_path, "names.csv"))
    np.testing.assert_array_equal(batch_y, names)
    code = main(["dsmi", str(tmp_path / "Z.npy"), "--labels", str(tmp_path / "names.csv")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("DSMI")


def test_batch_manifest_refuses_a_fifo_and_reads_a_bom(tmp_path):
    from infolens.batch.manifest import load_manifest

    np.save(tmp_path / "Z.npy", np.ones((5, 2)))
    os.mkfifo(tmp_path / "pipe.npy")
    (tmp_path / "m.csv").write_text("embeddings,measure\npipe.npy,dse\n")
    with pytest.raises(InvalidParameterError, match="not a regular file"):
        load_manifest(tmp_path / "m.csv")  # used to hang hashing the FIFO
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfembeddings,measure\nZ.npy,dse\n")
    assert len(load_manifest(tmp_path / "bom.csv")) == 1
    (tmp_path / "latin.csv").write_bytes("embeddings,measure\nZ\xe9.npy,dse\n".encode("latin-1"))
    with pytest.raises(InvalidParameterError, match="not UTF-8"):
        load_manifest(tmp_path / "latin.csv")
