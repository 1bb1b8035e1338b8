"""The command line and the file loaders: formats, output, and one-line errors."""

from __future__ import annotations

import io
import json
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

import infolens
from infolens.core.files import DataFileError, load_array, load_labels
from infolens.cli.main import build_parser, main

CORE = ("dse", "dsmi", "ase", "asmi", "cse", "csmi")


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(action.choices)


def _run(argv, capsys):
    """Run the CLI in-process; returns (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    Z = np.concatenate([rng.normal(size=(30, 5)), rng.normal(size=(30, 5)) + 6.0])
    y = np.repeat([0, 1], 30)
    np.save(tmp_path / "Z.npy", Z)
    np.save(tmp_path / "y.npy", y)
    return tmp_path, Z, y


# --------------------------------------------------------------------------- help
def test_core_and_demo_subcommands_are_registered():
    names = _subcommands()
    for name in CORE + ("demo",):
        assert name in names


@pytest.mark.parametrize("name", _subcommands())
def test_every_subcommand_help_shows_examples(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: infolens {name}" in out
    assert "examples:" in out
    assert f"infolens {name}" in out.split("examples:", 1)[1]


def test_top_level_without_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


# --------------------------------------------------------------------------- loaders
def test_npy_round_trip(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "a.npy", X)
    out = load_array(tmp_path / "a.npy")
    assert out.dtype == np.float32 and np.array_equal(out, X)


def test_npz_by_key_and_single_array(tmp_path):
    X, y = np.arange(12.0).reshape(4, 3), np.arange(4)
    np.savez(tmp_path / "two.npz", emb=X, lab=y)
    np.savez(tmp_path / "one.npz", only=X)
    assert np.array_equal(load_array(tmp_path / "two.npz", key="emb"), X)
    assert np.array_equal(load_array(tmp_path / "two.npz", key="lab"), y)
    assert np.array_equal(load_array(tmp_path / "one.npz"), X)
    with pytest.raises(DataFileError, match=r"holds 2 arrays \('emb', 'lab'\).*--key"):
        load_array(tmp_path / "two.npz")
    with pytest.raises(DataFileError, match=r"no array named 'nope'.*'emb', 'lab'"):
        load_array(tmp_path / "two.npz", key="nope")


def test_csv_with_header_and_comments(tmp_path):
    X = np.array([[1.5, -2.0, 3e-3], [4.0, 5.25, 6.0], [7.0, 8.0, -9.5]])
    (tmp_path / "h.csv").write_text("# exported\nx,y,z\n" +
                                    "\n".join(",".join(repr(float(v)) for v in r) for r in X) + "\n")
    np.savetxt(tmp_path / "plain.csv", X, delimiter=",")
    assert np.array_equal(load_array(tmp_path / "h.csv"), X)
    assert np.array_equal(load_array(tmp_path / "plain.csv"), X)


def test_tsv_round_trip(tmp_path):
    X = np.random.default_rng(1).normal(size=(6, 4))
    np.savetxt(tmp_path / "a.tsv", X, delimiter="\t", header="a\tb\tc\td", comments="")
    assert np.allclose(load_array(tmp_path / "a.tsv"), X, rtol=0, atol=1e-15)


def test_csv_non_numeric_cell_is_located(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b,c\n1,2,3\n4,oops,6\n")
    with pytest.raises(DataFileError, match=r"'oops' on line 3, column 2 \('b'\)"):
        load_array(tmp_path / "bad.csv")


def test_csv_ragged_rows(tmp_path):
    (tmp_path / "r.csv").write_text("1,2,3\n4,5\n")
    with pytest.raises(DataFileError, match="line 2 has 2 columns, expected 3"):
        load_array(tmp_path / "r.csv")


def test_torch_tensor_and_dict_round_trip(tmp_path):
    torch = pytest.importorskip("torch")
    X = torch.randn(7, 3, generator=torch.Generator().manual_seed(0))
    torch.save(X, tmp_path / "z.pt")
    torch.save({"features": X, "logits": torch.zeros(7, 2)}, tmp_path / "d.pth")
    assert np.array_equal(load_array(tmp_path / "z.pt"), X.numpy())
    assert np.array_equal(load_array(tmp_path / "d.pth", key="features"), X.numpy())
    with pytest.raises(DataFileError, match=r"2 entries \('features', 'logits'\).*--key"):
        load_array(tmp_path / "d.pth")
    half = X.to(torch.bfloat16)
    torch.save(half, tmp_path / "bf.pt")
    assert np.array_equal(load_array(tmp_path / "bf.pt"), half.float().numpy())


def test_torch_missing_gives_install_hint(tmp_path, monkeypatch):
    (tmp_path / "z.pt").write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(DataFileError, match=r"pip install torch==2\.13\.0"):
        load_array(tmp_path / "z.pt")


def test_unknown_extension_and_missing_file(tmp_path):
    (tmp_path / "z.txt").write_text("1 2\n")
    with pytest.raises(DataFileError, match=r"unsupported extension '\.txt'.*\.npy, \.npz"):
        load_array(tmp_path / "z.txt")
    with pytest.raises(DataFileError, match="does not exist"):
        load_array(tmp_path / "absent.npy")


def test_labels_whole_float_become_int_and_column_is_flattened(tmp_path):
    np.savetxt(tmp_path / "y.csv", np.array([[0.0], [2.0], [1.0], [2.0]]),
               header="label", comments="")
    y = load_labels(tmp_path / "y.csv")
    assert y.dtype == np.int64 and y.tolist() == [0, 2, 1, 2]
    np.save(tmp_path / "s.npy", np.array([0.5, 1.0, 2.0]))
    assert load_labels(tmp_path / "s.npy").dtype == np.float64  # a true scalar stays float
    np.save(tmp_path / "v.npy", np.ones((4, 3)))
    with pytest.raises(DataFileError, match="--y-kind vector"):
        load_labels(tmp_path / "v.npy")
    assert load_labels(tmp_path / "v.npy", allow_2d=True).shape == (4, 3)


class _Trap:
    """Unpickling this object creates the file ``path``: proof that a loader unpickled."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


def test_pickled_npy_is_refused_without_unpickling(tmp_path, capsys):
    sentinel = tmp_path / "was_unpickled"
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = _Trap(sentinel), 1.0
    np.save(tmp_path / "obj.npy", arr, allow_pickle=True)
    with open(tmp_path / "raw.npy", "wb") as fh:  # a bare pickle under a .npy name
        pickle.dump(_Trap(sentinel), fh)
    np.savez(tmp_path / "obj.npz", a=arr)
    for name in ("obj.npy", "raw.npy", "obj.npz"):
        code, out, err = _run(["dse", tmp_path / name], capsys)
        assert code == 2 and out == ""
        assert "unpickling" in err and len(err.strip().splitlines()) == 1
    assert not sentinel.exists()


def test_pickled_torch_file_is_refused_without_unpickling(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    sentinel = tmp_path / "was_unpickled"
    torch.save({"z": torch.zeros(3, 2), "trap": _Trap(sentinel)}, tmp_path / "t.pt")
    code, _, err = _run(["dse", tmp_path / "t.pt", "--key", "z"], capsys)
    assert code == 2 and "never unpickles" in err and len(err.strip().splitlines()) == 1
    assert not sentinel.exists()


# --------------------------------------------------------------------------- output
def test_dse_plain_output_matches_python_api(data, capsys):
    path, Z, _ = data
    code, out, err = _run(["dse", path / "Z.npy"], capsys)
    assert code == 0 and err == ""
    expected = infolens.dse(Z, return_result=True)
    assert out.startswith(f"DSE = {expected.value:.4f} bits (sigma=")
    # the default bandwidth rule is whatever the API reports (it was "median")
    assert f"{expected.params['sigma_rule']}" in out and "t=1" in out and "N=60" in out


def test_dsmi_json_output(data, capsys):
    path, Z, y = data
    code, out, _ = _run(["dsmi", path / "Z.npy", "--labels", path / "y.npy", "--json",
                         "--t", "2", "--base", "e", "--seed", "3"], capsys)
    assert code == 0
    payload = json.loads(out)
    expected = infolens.dsmi(Z, y, t=2, base="e", random_state=3)
    assert payload["measure"] == "dsmi" and payload["unit"] == "nats"
    assert payload["value"] == pytest.approx(expected, abs=1e-12)
    assert payload["params"]["t"] == 2 and payload["params"]["random_state"] == 3
    rule = infolens.dsmi(Z, y, t=2, return_result=True).params["sigma_rule"]  # was "median"
    assert payload["params"]["sigma_rule"] == rule and payload["params"]["sigma"] > 0
    assert "eigenvalues" not in payload
    assert payload["input"]["n_samples"] == 60


def test_json_eigenvalues_on_request(data, capsys):
    path, Z, _ = data
    _, out, _ = _run(["dse", path / "Z.npy", "--json"], capsys)
    assert "eigenvalues" not in json.loads(out)
    _, out, _ = _run(["dse", path / "Z.npy", "--json", "--eigenvalues"], capsys)
    eig = np.array(json.loads(out)["eigenvalues"])
    assert eig.shape == (60,) and eig.max() == pytest.approx(1.0, abs=1e-9)


def test_options_reach_the_measure(data, capsys):
    path, Z, y = data
    cases = [
        (["dse", "--sigma", "2.5", "--alpha", "0.5", "--drop-trivial"],
         lambda: infolens.dse(Z, sigma=2.5, alpha=0.5, keep_trivial=False)),
        (["dse", "--preset", "dse-dsmi"], lambda: infolens.dse(Z, preset="dse-dsmi")),
        (["dse", "--sigma", "rms", "--base", "10"], lambda: infolens.dse(Z, sigma="rms", base=10)),
        (["ase", "--adjacency", "knn", "--n-neighbors", "5"],
         lambda: infolens.ase(Z, adjacency="knn", n_neighbors=5)),
        (["cse", "--n-bins", "3"], lambda: infolens.cse(Z, n_bins=3)),
    ]
    for argv, expected in cases:
        code, out, _ = _run([argv[0], path / "Z.npy", "--json"] + argv[1:], capsys)
        assert code == 0, argv
        assert json.loads(out)["value"] == pytest.approx(expected(), abs=1e-12), argv
    for name in ("dsmi", "asmi", "csmi"):
        code, out, _ = _run([name, path / "Z.npy", "--labels", path / "y.npy", "--json"],
                            capsys)
        assert code == 0
        assert json.loads(out)["value"] == pytest.approx(getattr(infolens, name)(Z, y),
                                                         abs=1e-12)


def test_labels_from_csv_equal_integer_labels(data, capsys):
    path, Z, y = data
    np.savetxt(path / "y.csv", y.astype(float), header="class", comments="")
    _, from_csv, _ = _run(["dsmi", path / "Z.npy", "--labels", path / "y.csv", "--json"],
                          capsys)
    payload = json.loads(from_csv)
    assert payload["params"]["y_kind"] == "labels"
    assert payload["value"] == pytest.approx(infolens.dsmi(Z, y), abs=1e-12)


def test_flatten_option(tmp_path, capsys):
    imgs = np.random.default_rng(2).normal(size=(20, 3, 4))
    np.save(tmp_path / "imgs.npy", imgs)
    code, _, err = _run(["dse", tmp_path / "imgs.npy"], capsys)
    assert code == 2 and "--flatten" in err
    code, out, _ = _run(["dse", tmp_path / "imgs.npy", "--flatten", "--json"], capsys)
    assert code == 0
    assert json.loads(out)["value"] == pytest.approx(infolens.dse(imgs.reshape(20, -1)),
                                                     abs=1e-12)


def test_duplicate_and_constant_points_give_a_defined_value(tmp_path, capsys):
    np.save(tmp_path / "const.npy", np.ones((12, 4)))
    dup = np.repeat(np.random.default_rng(3).normal(size=(4, 2)), 3, axis=0)
    np.save(tmp_path / "dup.npy", dup)
    for name in ("const.npy", "dup.npy"):
        for command in ("dse", "ase", "cse"):
            code, out, err = _run([command, tmp_path / name, "--json"], capsys)
            assert code == 0, err
            value = json.loads(out)["value"]
            assert np.isfinite(value) and 0 <= value <= np.log2(12) + 1e-9


def test_python_dash_m_in_subprocess(data):
    path, Z, _ = data
    proc = subprocess.run([sys.executable, "-m", "infolens", "dse", str(path / "Z.npy")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"DSE = {infolens.dse(Z):.4f} bits")


def test_bad_input_in_subprocess_has_no_traceback(tmp_path):
    Z = np.ones((5, 2))
    Z[1, 1] = np.nan
    np.save(tmp_path / "nan.npy", Z)
    proc = subprocess.run([sys.executable, "-m", "infolens", "dse", str(tmp_path / "nan.npy")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "finite" in proc.stderr


# --------------------------------------------------------------------------- bad input
def _bad_files(path):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(20, 3))
    files = {
        "nan": Z.copy(), "inf": Z.copy(), "one": Z[:1], "vec": Z[:, 0],
        "cube": Z.reshape(20, 3, 1), "cplx": Z + 1j, "strs": np.array(["a"] * 20),
        "Z": Z, "y19": np.arange(19) % 2, "ysingle": np.r_[np.zeros(19, int), 1],
        "y": np.arange(20) % 2, "ynan": np.where(np.arange(20) == 3, np.nan, 0.5),
    }
    files["nan"][2, 1] = np.nan
    files["inf"][4, 0] = np.inf
    for name, arr in files.items():
        np.save(path / f"{name}.npy", arr)
    (path / "words.csv").write_text("a,b\n1,2\n3,x\n")
    (path / "empty.csv").write_text("# nothing\n")
    (path / "z.txt").write_text("1\n")
    (path / "junk.npz").write_bytes(b"\x00\x01 not a zip")
    np.savez(path / "whole.npz", Z=Z)
    (path / "trunc.npz").write_bytes((path / "whole.npz").read_bytes()[:40])
    return path


BAD = [
    # (argv after the command's FILE, message fragment)
    (["dse", "nan.npy"], "finite values"),
    (["dse", "inf.npy"], "1 infinite"),
    (["dse", "one.npy"], "at least 2 samples"),
    (["dse", "vec.npy"], "reshape(-1, 1)"),
    (["dse", "cube.npy"], "--flatten"),
    (["dse", "cplx.npy"], "real numeric array"),
    (["dse", "strs.npy"], "real numeric array"),
    (["dse", "words.csv"], "'x' on line 3, column 2"),
    (["dse", "empty.csv"], "no data rows"),
    (["dse", "z.txt"], "unsupported extension"),
    (["dse", "absent.npy"], "does not exist"),
    (["dse", "junk.npz"], "not a plain numeric .npz"),
    (["dse", "trunc.npz"], "cannot read"),
    (["dse", "Z.npy", "--key", "k"], "Drop --key"),
    (["dse", "Z.npy", "--sigma", "0"], "'sigma' parameter"),
    (["dse", "Z.npy", "--sigma", "-2"], "(0, inf)"),
    (["dse", "Z.npy", "--sigma", "widest"], "'median', 'rms'"),
    (["dse", "Z.npy", "--t", "0"], "'t' parameter of dse must be an int in the range [1, inf)"),
    (["dse", "Z.npy", "--alpha", "1.5"], "'alpha' parameter"),
    (["dse", "Z.npy", "--max-n", "1"], "'max_n' parameter"),
    (["ase", "Z.npy", "--adjacency", "knn", "--anisotropic"], "anisotropic"),
    (["cse", "Z.npy", "--n-bins", "0"], "'n_bins' parameter"),
    (["dsmi", "Z.npy", "--labels", "y19.npy"], "20 rows in Z and 19 in Y"),
    (["dsmi", "Z.npy", "--labels", "ysingle.npy"], "single sample"),
    (["dsmi", "Z.npy", "--labels", "ynan.npy"], "finite values"),
    (["dsmi", "Z.npy", "--labels", "Z.npy"], "--y-kind vector"),
    (["dsmi", "Z.npy", "--labels", "y.npy", "--n-clusters", "1"], "'n_clusters' parameter"),
    (["dsmi", "Z.npy", "--labels", "y.npy", "--n-repeats", "0"], "'n_repeats' parameter"),
    (["dsmi", "Z.npy", "--labels", "absent.npy"], "labels file"),
    (["asmi", "Z.npy", "--labels", "y19.npy"], "same number of rows"),
    (["csmi", "Z.npy", "--labels", "y19.npy"], "same number of rows"),
]


@pytest.mark.parametrize("argv, fragment", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(argv, fragment, tmp_path, capsys, monkeypatch):
    _bad_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"infolens {argv[0]}: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["dse", "Z.npy", "--base", "3"],
    ["dse", "Z.npy", "--preset", "other"],
    ["dse", "Z.npy", "--t", "1.5"],
    ["dsmi", "Z.npy"],  # --labels is required
    ["dsmi", "Z.npy", "--labels", "y.npy", "--y-kind", "colour"],
])
def test_argparse_errors_exit_2(argv, tmp_path, capsys, monkeypatch):
    _bad_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


# --------------------------------------------------------------------------- demo
def test_demo_table_on_digits():
    from infolens.cli.demo import run_digits_table

    buf = io.StringIO()
    rows = run_digits_table(buf, seed=0)
    text = buf.getvalue()
    by_name = {r["name"]: r for r in rows}
    for setting in ("scale-aware", "reference"):
        labels = by_name["DSMI(pixels; labels)"][setting][0].value
        shuffled = by_name["DSMI(pixels; shuffled labels)"][setting][0].value
        assert labels > shuffled + 0.2
        assert abs(shuffled) < 0.05
        assert 0 < by_name["DSE(pixels)"][setting][0].value <= np.log2(1797) + 1e-9
    assert by_name["DSE(pixels)"]["reference"][0].params["sigma"] == 10.0
    default_rule = infolens.dse(np.eye(4), return_result=True).params["sigma_rule"]
    assert by_name["DSE(pixels)"]["scale-aware"][0].params["sigma_rule"] == default_rule
    for name in by_name:
        assert name in text
    assert text.count(" bits ") >= 12 and " s" in text
    assert "scale-aware" in text and "reference" in text


def test_slq_method_prints_standard_error_and_interval(tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "big.npy", rng.normal(size=(400, 6)))
    code, out, err = _run(["dse", tmp_path / "big.npy", "--method", "slq"], capsys)
    assert code == 0, err
    assert "s.e. " in out and "95% interval [" in out
    low, high = (float(x) for x in out.split("95% interval [")[1].split("]")[0].split(","))
    value = float(out.split("=")[1].split()[0])
    assert low < value < high
    code, out, _ = _run(["dse", tmp_path / "big.npy", "--method", "exact", "--json"], capsys)
    assert code == 0 and json.loads(out)["details"].get("standard_error") is None
    with pytest.raises(SystemExit) as exc:
        main(["dse", str(tmp_path / "big.npy"), "--method", "nope"])
    assert exc.value.code == 2 and "'slq'" in capsys.readouterr().err


# --------------------------------------------------------------------------- batch table
def test_batch_prints_a_results_table_and_json(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(30, 3))
    np.save(tmp_path / "a.npy", Z)
    (tmp_path / "m.csv").write_text("embeddings,measure,name\na.npy,dse,first\n")
    monkeypatch.chdir(tmp_path)
    argv = ["batch", "m.csv", "--engine", "sequential", "--store", "s.sqlite", "--quiet"]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    header, row = out.strip().splitlines()[-2:]
    assert header.split()[:4] == ["name", "layer", "step", "measure"]
    assert row.split()[0] == "first" and f"{infolens.dse(Z):.4f}" in row and "done" in row
    code, out, err = _run(argv + ["--json"], capsys)
    assert code == 0 and "1 already stored" in err
    rows = json.loads(out)
    assert rows[0]["value"] == pytest.approx(infolens.dse(Z)) and rows[0]["status"] == "done"


def test_unknown_batch_measure_lists_only_measures(tmp_path, capsys, monkeypatch):
    np.save(tmp_path / "a.npy", np.zeros((5, 2)))
    (tmp_path / "m.csv").write_text("embeddings,measure\na.npy,set_progress\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["batch", "m.csv", "--engine", "sequential"], capsys)
    assert code == 2 and "Known measures:" in err
    known = err.split("Known measures:")[1]
    assert "dse" in known and "set_progress" not in known and "list_methods" not in known


def test_dsmi_standard_error_names_the_slq_spectra_when_subsets_take_them(tmp_path, capsys):
    from infolens.spectrum.planning import SUBSET_EXACT_MAX_N

    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1], SUBSET_EXACT_MAX_N + 50)
    np.save(tmp_path / "z.npy", rng.normal(size=(labels.size, 4)) + 2.0 * labels[:, None])
    np.save(tmp_path / "y.npy", labels)
    code, out, err = _run(["dsmi", tmp_path / "z.npy", "--labels", tmp_path / "y.npy"], capsys)
    assert code == 0, err
    assert "of the random subsets and their SLQ spectra" in out
    code, out, err = _run(["dsmi", tmp_path / "z.npy", "--labels", tmp_path / "y.npy",
                           "--method", "exact"], capsys)
    assert code == 0, err
    assert "of the random subsets," in out


def test_dsmi_says_what_each_interval_covers_and_ci_adds_a_sampling_interval(tmp_path, capsys):
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(3), 40)
    np.save(tmp_path / "z.npy", rng.normal(size=(120, 4)) + 3.0 * labels[:, None])
    np.save(tmp_path / "y.npy", labels)
    code, out, err = _run(["dsmi", tmp_path / "z.npy", "--labels", tmp_path / "y.npy",
                           "--ci", "8"], capsys)
    assert code == 0, err
    assert "Monte-Carlo s.e." in out and "of the random subsets" in out
    assert "95% t-interval over subsets [" in out
    low, high = (float(x) for x in out.split("over data sets [")[1].split("]")[0].split(","))
    value = float(out.split("=")[1].split()[0])
    assert low < value < high and "(8 half-size subsamples)" in out
    code, out, err = _run(["dsmi", tmp_path / "z.npy", "--labels", tmp_path / "y.npy",
                           "--ci", "8", "--method", "slq"], capsys)
    assert code == 2 and "drop --method" in err


def test_knn_adjacency_records_no_bandwidth(tmp_path, capsys):
    np.save(tmp_path / "z.npy", np.random.default_rng(3).normal(size=(60, 3)))
    code, out, err = _run(["ase", tmp_path / "z.npy", "--adjacency", "knn", "--sigma", "3"],
                          capsys)
    assert code == 0, err
    assert "sigma" not in out
    code, out, err = _run(["ase", tmp_path / "z.npy", "--adjacency", "knn", "--json"], capsys)
    params = json.loads(out)["params"]
    assert params["sigma"] is None and params["sigma_rule"] is None
    code, out, err = _run(["ase", tmp_path / "z.npy", "--json"], capsys)
    assert json.loads(out)["params"]["sigma"] > 0      # the Gaussian adjacency uses one
