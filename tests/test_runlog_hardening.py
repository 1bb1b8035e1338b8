"""Run folders and run logs off the designed path (issue 12): a reused folder, two writers,
foreign lines, NaN values and duplicate keys on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from infolens.core.validation import InvalidParameterError
from infolens.runs.loading import find_runs, load_run, open_run
from infolens.runs.lock import process_rank
from infolens.runs.runlog import RunLog, read_runlog

ROW = {"epoch": 0, "step": 0, "layer": "a", "measure": "m", "value": 1.5, "unit": "bits"}


def _rows(n):
    return [dict(ROW, epoch=i) for i in range(n)]


def _write(path, rows):
    with RunLog(path, fsync=False) as log:
        for r in rows:
            log.append(r)


# ------------------------------------------------------------------ reusing a run folder
def test_a_new_run_in_a_used_folder_is_refused(tmp_path):
    run = tmp_path / "run"
    with open_run(run, {"seed": 0, "lr": 0.1}, fsync=False) as log:
        for r in _rows(5):
            log.append(r)
    with pytest.raises(InvalidParameterError, match=r"other settings \(seed: 0 -> 1\)"):
        open_run(run, {"seed": 1, "lr": 0.1}, fsync=False)
    assert json.loads((run / "settings.json").read_text())["seed"] == 0  # not rewritten
    assert not (run / "runlog.jsonl.lock").exists()  # the refused open let go of the lock
    # the same settings resume (a restart from a checkpoint) ...
    with open_run(run, {"seed": 0, "lr": 0.1}, fsync=False) as log:
        assert len(log) == 5
    # ... resume=False refuses, resume=True continues explicitly
    with pytest.raises(InvalidParameterError, match="resume=True"):
        open_run(run, {"seed": 0, "lr": 0.1}, resume=False, fsync=False)
    with open_run(run, {"seed": 1, "lr": 0.1}, resume=True, fsync=False) as log:
        assert len(log) == 5
    assert json.loads((run / "settings.json").read_text())["seed"] == 1


def test_object_addresses_do_not_make_settings_differ(tmp_path):
    first = {"fn": "<tests.Bomb object at 0x7f00aa>"}
    open_run(tmp_path, first, fsync=False).append(ROW)  # closed by the garbage collector
    with open_run(tmp_path, {"fn": "<tests.Bomb object at 0x7f11bb>"}, fsync=False) as log:
        assert len(log) == 1


def test_only_rank_zero_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    assert process_rank() == 1
    assert open_run(tmp_path / "r", {"seed": 0}) is None
    assert not (tmp_path / "r").exists()
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert process_rank() == 0
    monkeypatch.delenv("RANK")
    assert process_rank() == 3
    assert open_run(tmp_path / "r", {"seed": 0}, rank=0) is not None


# ------------------------------------------------------------------ one writer
_HOLDER = textwrap.dedent("""
    import sys, time
    from infolens.runs.runlog import RunLog
    log = RunLog(sys.argv[1], fsync=False)
    print("locked", flush=True)
    time.sleep(60)
""")


def _holder(path):
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_writer_is_refused_and_a_killed_writers_lock_is_stale(tmp_path):
    path = tmp_path / "runlog.jsonl"
    proc = _holder(path)
    try:
        with pytest.raises(InvalidParameterError, match=f"process {proc.pid}"):
            RunLog(path, fsync=False)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (tmp_path / "runlog.jsonl.lock").exists()  # left behind by kill -9
    with RunLog(path, fsync=False) as log:  # detected as stale: the pid is gone
        assert log.append(ROW)
    assert not (tmp_path / "runlog.jsonl.lock").exists()


def test_one_process_may_reopen_its_own_log(tmp_path):
    path = tmp_path / "runlog.jsonl"
    first = RunLog(path, fsync=False)
    second = RunLog(path, fsync=False)  # e.g. a callback re-created on resume
    first.close()
    assert (tmp_path / "runlog.jsonl.lock").exists()  # still held by the second
    second.close()
    assert not (tmp_path / "runlog.jsonl.lock").exists()


# ------------------------------------------------------------------ what the reader meets
@pytest.mark.parametrize("tail", [b"[1, 2, 3]", b'{"foo": 1}', b"42", b'"text"', b"null",
                                  b"\xff\xfe not utf-8"])
def test_a_foreign_last_line_is_reported_not_a_crash(tmp_path, tail):
    path = tmp_path / "runlog.jsonl"
    _write(path, _rows(3))
    with open(path, "ab") as fh:
        fh.write(tail + b"\n")
    with pytest.warns(RuntimeWarning, match="line 4"):
        rows = read_runlog(path)
    assert len(rows) == 3
    with pytest.raises(InvalidParameterError, match="line 4"):
        RunLog(path, fsync=False)  # a writer does not append after a foreign line
    assert not (tmp_path / "runlog.jsonl.lock").exists()


def test_a_foreign_line_before_the_last_raises(tmp_path):
    path = tmp_path / "runlog.jsonl"
    _write(path, _rows(1))
    with open(path, "ab") as fh:
        fh.write(b"[1, 2]\n")
    with open(path, "ab") as fh:
        fh.write(json.dumps(dict(ROW, epoch=9)).encode() + b"\n")
    with pytest.raises(InvalidParameterError, match="line 2 is a JSON list, not a record"):
        read_runlog(path)


def test_nan_values_and_duplicate_keys_on_disk_are_reported(tmp_path):
    path = tmp_path / "runlog.jsonl"
    lines = [json.dumps(dict(ROW, epoch=0)), json.dumps(dict(ROW, epoch=1, value=float("nan"))),
             json.dumps(dict(ROW, epoch=0, value=9.0)), json.dumps(dict(ROW, epoch=2))]
    path.write_text("\n".join(lines) + "\n")
    with pytest.warns(RuntimeWarning) as record:
        rows = read_runlog(path)
    message = str(record[0].message)
    assert "line 2 has the value nan" in message and "line 3 repeats the key" in message
    assert [(r["epoch"], r["value"]) for r in rows] == [(0, 1.5), (2, 1.5)]
    # a duplicated field inside one record is corrupt, not silently last-wins
    path.write_text('{"epoch":0,"step":0,"layer":"a","measure":"m","value":1,"value":2,'
                    '"unit":""}\n')
    with pytest.warns(RuntimeWarning, match="appears twice"):
        assert read_runlog(path) == []


def test_a_directory_where_the_log_should_be(tmp_path):
    (tmp_path / "run" / "runlog.jsonl").mkdir(parents=True)
    with pytest.raises(InvalidParameterError, match="is a directory"):
        read_runlog(tmp_path / "run" / "runlog.jsonl")
    with pytest.raises(InvalidParameterError, match="is a directory"):
        RunLog(tmp_path / "run" / "runlog.jsonl")
    with pytest.raises(InvalidParameterError, match="is a directory"):
        load_run(tmp_path / "run")
    with pytest.raises(InvalidParameterError, match="is a directory"):
        find_runs([tmp_path / "run"])


def test_bad_settings_json_is_one_clear_error(tmp_path):
    _write(tmp_path / "runlog.jsonl", _rows(1))
    (tmp_path / "settings.json").write_bytes(b"[1, 2]")
    with pytest.raises(InvalidParameterError, match="JSON object"):
        load_run(tmp_path)
    (tmp_path / "settings.json").write_bytes(b"\xff{")
    with pytest.raises(InvalidParameterError, match="cannot be read as run settings"):
        load_run(tmp_path)


def test_a_lock_file_nobody_holds_is_taken_over(tmp_path):
    # e.g. left by a killed container whose hostname and pid are gone with it
    (tmp_path / "runlog.jsonl.lock").write_text('{"host": "old-container", "pid": 1}')
    with RunLog(tmp_path / "runlog.jsonl", fsync=False) as log:
        assert log.append(ROW)
