"""When the monitor measures: every ``k`` epochs or every ``k`` steps, plus at initialisation."""

from __future__ import annotations

from infolens.core.validation import check_bool, check_int, check_option

__all__ = ["Schedule"]


class Schedule:
    """A measurement schedule.

    Parameters
    ----------
    every : int, default=1
        Measure every ``every`` units.
    unit : {"epoch", "step"}, default="epoch"
        What ``every`` counts: finished epochs or optimizer steps.
    at_init : bool, default=True
        Also measure before training (epoch 0, step 0).

    Examples
    --------
    >>> s = Schedule(every=2, unit="epoch")
    >>> [e for e in range(1, 7) if s.due_epoch(e)]
    [2, 4, 6]
    """

    def __init__(self, every=1, unit="epoch", at_init=True):
        self.every = check_int(every, "every", "Schedule", low=1)
        self.unit = check_option(unit, "unit", "Schedule", ("epoch", "step"))
        self.at_init = check_bool(at_init, "at_init", "Schedule")

    def due_epoch(self, epoch):
        """True when a measurement is due after finishing epoch ``epoch`` (1-based)."""
        return self.unit == "epoch" and epoch % self.every == 0

    def due_step(self, step):
        """True when a measurement is due after optimizer step ``step`` (1-based)."""
        return self.unit == "step" and step % self.every == 0

    def to_dict(self):
        return {"every": self.every, "unit": self.unit, "at_init": self.at_init}

    def __repr__(self):
        return f"Schedule(every={self.every}, unit={self.unit!r}, at_init={self.at_init})"
