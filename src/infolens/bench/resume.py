"""Resuming an interrupted training-dynamics study: which runs finished, and whether a
folder's study has the settings asked for (``infolens demo --resume``)."""

from __future__ import annotations

import json
import os

from infolens.core.validation import InvalidParameterError
from infolens.runs.loading import RUNLOG_NAME
from infolens.runs.runlog import read_runlog

__all__ = ["STUDY_FILE", "check_resumable", "run_complete"]

#: The study's configuration, written in its folder.
STUDY_FILE = "study.json"


def run_complete(run_dir, cfg):
    """Whether ``run_dir`` holds a finished run (its last epoch's validation accuracy)."""
    path = os.path.join(run_dir, RUNLOG_NAME)
    if not os.path.exists(path):
        return False
    try:
        rows = read_runlog(path)
    except (ValueError, OSError):
        return False
    return any(r["measure"] == "val_accuracy" and r["epoch"] == cfg.epochs for r in rows)


def check_resumable(out_dir, cfg, resume):
    """Write (or, resuming, compare) the study's configuration in ``out_dir``."""
    path = os.path.join(out_dir, STUDY_FILE)
    wanted = cfg.to_dict()
    wanted["seeds"] = list(wanted["seeds"])
    if resume and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            found = json.load(fh)
        if found != wanted:
            kind = "quick" if found.get("quick") else "full"
            raise InvalidParameterError(
                f"{out_dir} holds a study with other settings (a {kind} run, seeds "
                f"{found.get('seeds')}); resume it with the same options, or pass another "
                f"--out.")
    os.makedirs(out_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(wanted, fh, indent=1)
