"""Run folders: the crash-safe run log a monitored run writes, and the figures and HTML
report drawn from one or more run folders."""

from infolens.runs.loading import Run, find_runs, load_run
from infolens.runs.report import write_report
from infolens.runs.runlog import RunLog, read_runlog

__all__ = ["Run", "RunLog", "find_runs", "load_run", "read_runlog", "write_report"]
