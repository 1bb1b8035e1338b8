"""The design of the training-dynamics study: its regimes, layers, bandwidths and sizes.

Shared by :mod:`infolens.bench.study` (which trains the runs) and
:mod:`infolens.bench.findings` (which reads the verdicts off their logs).
"""

from __future__ import annotations

__all__ = ["INIT_TIE_BITS", "LAYERS", "PAPER_SIGMA", "REGIMES", "RUN_CPU_S", "STUDY_OVERHEAD_S",
           "StudyConfig"]

#: name -> (train on permuted labels?, weight std or None for PyTorch's default init)
REGIMES = {
    "supervised": (False, None),
    "random labels": (True, None),
    "init std 0.01": (False, 0.01),
    "init std 0.1": (False, 0.1),
}
LAYERS = ("block2", "penultimate")
PAPER_SIGMA = 10.0
#: Initial DSEs closer than this (bits) leave no "low-DSE" initialisation.
INIT_TIE_BITS = 1e-3


#: CPU seconds one run of the full study takes on one core, and of the quick run
#: (measured: ``benchmarks/RESULTS.md``, "Training-dynamics demo"); the time
#: estimates printed by ``infolens demo`` and its ``--help`` come from here.
RUN_CPU_S = {False: 10.0, True: 6.0}
#: Fixed cost of a study: imports, data, the report and its figures (CPU seconds).
STUDY_OVERHEAD_S = 25.0


class StudyConfig:
    """Sizes of the study.

    Parameters
    ----------
    quick : bool
        A smoke-test size (a few epochs, 2 seeds, small probe) instead of the
        full study; its verdicts mean nothing.

    Notes
    -----
    The full study uses 5 seeds: a verdict needs 4 of 5 seeds to agree, which
    3 seeds cannot distinguish from noise as well (one disagreeing seed of 3
    already makes it inconclusive).  It costs about 4 x 5 runs of
    ``RUN_CPU_S[False]`` CPU seconds each on one core (the runs use one thread).
    """

    def __init__(self, quick=False):
        self.quick = quick
        self.seeds = (0, 1) if quick else (0, 1, 2, 3, 4)
        self.epochs = 4 if quick else 40
        self.every = 1 if quick else 4
        self.probe_size = 200 if quick else 500
        self.batch_size = 64
        # 3e-3 lets the random-label runs memorise (~85 % training accuracy in 40 epochs).
        self.lr = 3e-3
        self.n_repeats = 3 if quick else 5

    def minutes(self, workers=1):
        """Estimated wall time with ``workers`` runs at once on free cores, in whole
        minutes (at least 1)."""
        rounds = -(-len(REGIMES) * len(self.seeds) // max(1, workers))
        return max(1, round((rounds * RUN_CPU_S[self.quick] + STUDY_OVERHEAD_S) / 60.0))

    def to_dict(self):
        return {k: v for k, v in vars(self).items()}
