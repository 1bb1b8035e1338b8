"""TensorBoard adapter: each run-log row becomes a scalar ``<measure>/<layer>``."""

from __future__ import annotations

from infolens.core import optional
from infolens.core.validation import InvalidParameterError

__all__ = ["TensorBoardSink", "tensorboard_available"]


def tensorboard_available():
    """True when ``torch.utils.tensorboard`` can be imported (the tensorboard package)."""
    try:
        optional.tensorboard_summary_writer()
    except ImportError:
        return False
    return True


class TensorBoardSink:
    """Write monitor rows as TensorBoard scalars.

    Parameters
    ----------
    log_dir : str
        Folder of the event files.
    x_axis : {"epoch", "step"}, default="epoch"
        Which counter is the scalar's global step.

    Notes
    -----
    Tags are ``"<measure>/<layer>"``; rows of the whole model (loss,
    accuracy, overhead) use ``"<measure>/model"``.
    """

    def __init__(self, log_dir, x_axis="epoch"):
        try:
            SummaryWriter = optional.tensorboard_summary_writer()
        except ImportError:
            raise InvalidParameterError(
                "tensorboard=True needs the 'tensorboard' package; install it with "
                "'pip install tensorboard' or drop the option."
            ) from None
        self.writer = SummaryWriter(log_dir=str(log_dir))
        self.x_axis = x_axis

    def __call__(self, row):
        tag = f"{row['measure']}/{row['layer'] or 'model'}"
        self.writer.add_scalar(tag, row["value"], global_step=row[self.x_axis])

    def close(self):
        self.writer.flush()
        self.writer.close()
