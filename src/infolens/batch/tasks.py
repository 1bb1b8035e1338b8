"""Compute one task of a manifest where it runs: a Dask worker or the current process.

:func:`run_task` loads the task's input (an embedding file, or a model run on
its probe set, cached per process), applies the measure under a BLAS thread
limit and returns the outcome as plain data, errors included, for the
submitting process to store.
"""

from __future__ import annotations

import os
import socket
import time
import traceback

import numpy as np
from threadpoolctl import threadpool_limits

from infolens.batch.inputs import load_task_input
from infolens.batch.manifest import resolve_measure
from infolens.core.validation import InvalidParameterError

__all__ = ["run_task"]


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.size <= 1000 else f"<array shape={obj.shape}>"
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)


def run_task(payload, blas_threads=1):
    """Compute one task where it runs (a worker or the current process).

    Parameters
    ----------
    payload : dict
        :meth:`Task.payload`: the input ``source`` (paths and digests),
        ``measure`` and ``params``.
    blas_threads : int
        Threads BLAS/OpenMP (and torch) may use inside this task.

    Returns
    -------
    dict
        ``{"status": "done", "value", "unit", "resolved_params", "details",
        "elapsed_s", "worker"}`` or ``{"status": "failed", "error",
        "worker"}``.  Errors are returned, not raised, so that any exception
        (even one that cannot be pickled) reaches the store as text.
    """
    worker = f"{socket.gethostname()}:{os.getpid()}"
    start = time.perf_counter()
    try:
        with threadpool_limits(limits=int(blas_threads)):
            spec = resolve_measure(payload["measure"])
            Z, Y = _cached_input(payload, blas_threads)
            params = dict(payload["params"])
            args = (Z,)
            if spec.needs_reference:
                if Y is None:
                    raise InvalidParameterError(
                        f"Measure {spec.name!r} needs labels, and the input has none (add a "
                        f"labels file, Y in the .npz, or y in the probe set)."
                    )
                args = (Z, Y)
            if spec.accepts_result:
                params["return_result"] = True
            out = spec.function(*args, **params)
        if hasattr(out, "value") and hasattr(out, "unit"):
            value, unit = float(out.value), out.unit
            resolved = _json_safe(getattr(out, "params", {}))
            details = _json_safe(getattr(out, "details", {}))
        else:
            value, unit, resolved, details = float(out), None, None, None
        if value != value:
            raise FloatingPointError(f"measure {spec.name!r} returned NaN")
        return {
            "status": "done", "value": value, "unit": unit, "resolved_params": resolved,
            "details": details, "elapsed_s": time.perf_counter() - start, "worker": worker,
            "n_samples": int(Z.shape[0]),
        }
    except Exception as exc:  # every error is data for the store
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        return {
            "status": "failed",
            # Bad input fails the same way every time: do not run it again.
            "retry": not isinstance(exc, InvalidParameterError),
            "error": f"{type(exc).__name__}: {exc}".strip(),
            "traceback": "".join(tb[-6:]),
            "elapsed_s": time.perf_counter() - start,
            "worker": worker,
        }


#: Embeddings extracted from models in this process, by input hash (the
#: measures of one model entry usually run in a row on the same worker).
_MODEL_CACHE = {}
_MODEL_CACHE_SIZE = 2


def _cached_input(payload, blas_threads):
    source = payload["source"]
    if source["kind"] == "embeddings":
        return load_task_input(source, blas_threads=blas_threads)
    key = payload["input_hash"]
    if key not in _MODEL_CACHE:
        value = load_task_input(source, blas_threads=blas_threads)
        while len(_MODEL_CACHE) >= _MODEL_CACHE_SIZE:
            _MODEL_CACHE.pop(next(iter(_MODEL_CACHE)))
        _MODEL_CACHE[key] = value
    return _MODEL_CACHE[key]
