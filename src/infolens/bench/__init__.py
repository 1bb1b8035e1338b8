"""Benchmarks behind ``infolens bench``: the ground-truth accuracy harness
(:mod:`infolens.bench.accuracy`) and the DSE paper's synthetic experiments
(:mod:`infolens.bench.paper`).  matplotlib is imported only to draw plots."""

from infolens.bench.accuracy import AccuracyRow, check_requirements, run_accuracy, write_accuracy
from infolens.bench.paper import run_paper, write_paper

__all__ = [
    "AccuracyRow",
    "check_requirements",
    "run_accuracy",
    "run_paper",
    "write_accuracy",
    "write_paper",
]
