"""Batch evaluation of many embedding sets, checkpoints and models.

* :func:`load_manifest` reads a YAML or CSV manifest into tasks (paths, not
  arrays; keyed by the content hash of their inputs);
* :func:`run_batch` computes them sequentially, on a Dask ``LocalCluster``
  or on an existing Dask cluster (``scheduler="tcp://HOST:PORT"``);
* :class:`ResultStore` keeps one SQLite row per (input, measure,
  parameters), written once when a task finishes, and exports CSV/Parquet;
* :mod:`infolens.batch.screening` correlates measures with model accuracy.

Dask, PyYAML and torch are imported only when used.
"""

from infolens.batch.executor import BatchSummary, run_batch, run_task
from infolens.batch.manifest import Manifest, Task, load_manifest, make_tasks
from infolens.batch.store import ResultStore

__all__ = [
    "BatchSummary",
    "Manifest",
    "ResultStore",
    "Task",
    "load_manifest",
    "make_tasks",
    "run_batch",
    "run_task",
]
