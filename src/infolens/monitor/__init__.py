"""Watch information in a torch model's layers during training.

* :class:`Monitor`: hooks on named layers, a fixed :class:`ProbeSet`, a
  :class:`Schedule`, a list of :class:`Measure` (default DSE(Z), DSMI(Z; Y),
  DSMI(Z; X)), a crash-safe :class:`RunLog`;
* :class:`InfolensCallback` (in :mod:`infolens.monitor.lightning`): the same
  for PyTorch Lightning;
* :class:`TensorBoardSink`: TensorBoard scalars.

torch is imported only when a monitor is built.
"""

from infolens.monitor.hooks import REDUCE_RULES, LayerRecorder, reduce_output
from infolens.monitor.measures import Measure, as_measures, default_measures
from infolens.monitor.monitor import MODEL_LAYER, OVERHEAD_MEASURE, Monitor
from infolens.monitor.probe import ProbeSet
from infolens.runs.runlog import RunLog, read_runlog
from infolens.monitor.schedule import Schedule

__all__ = [
    "LayerRecorder",
    "MODEL_LAYER",
    "Measure",
    "Monitor",
    "OVERHEAD_MEASURE",
    "ProbeSet",
    "REDUCE_RULES",
    "RunLog",
    "Schedule",
    "as_measures",
    "default_measures",
    "read_runlog",
    "reduce_output",
]
