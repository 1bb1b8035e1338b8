"""The training monitor: measure named layers of a torch model on a fixed probe set.

Three lines in a training loop::

    mon = Monitor(model, ["encoder.3", "head.0"], (x_val, y_val), run_dir="runs/a")
    for epoch in range(n_epochs):
        train_one_epoch(...)
        mon.epoch_end({"train_loss": loss})
    mon.close()

Each measurement puts every module of the model in eval mode, runs the probe
set through it under ``torch.no_grad()`` with forward hooks on the monitored
layers, restores each module's own train/eval flag, applies every measure to
every layer and logs one row per (epoch, step, layer, measure).  The wall time
of the whole measurement is logged too (measure ``"monitor_overhead_s"``).
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from infolens.core import optional
from infolens.core.files import ClosesOnExit
from infolens.core.threads import use_threads
from infolens.core.validation import InvalidParameterError, check_int
from infolens.monitor.attention import AttentionRecorder
from infolens.monitor.hooks import LayerRecorder
from infolens.monitor.measures import as_measures
from infolens.monitor.measuring import metric_unit, probe_accuracy, run_probe, run_settings
from infolens.monitor.probe import as_probe
from infolens.monitor.schedule import Schedule
from infolens.monitor.tensorboard import TensorBoardSink
from infolens.runs.loading import OVERHEAD as OVERHEAD_MEASURE
from infolens.runs.attention_figure import ATTENTION_MEASURE
from infolens.runs.loading import open_run

__all__ = ["Monitor", "MODEL_LAYER", "OVERHEAD_MEASURE"]

#: ``layer`` value of rows that describe the whole model (loss, accuracy, overhead).
MODEL_LAYER = ""


class Monitor(ClosesOnExit):
    """Measure information in named layers during training.

    Parameters
    ----------
    model : torch.nn.Module
    layers : str or list of str
        Names from ``model.named_modules()``.
    probe : ProbeSet, (x, y) tuple, tensor or DataLoader
        The fixed probe set (copied once).
    measures : list, dict or None, default=None
        :class:`Measure` objects or callables; ``None`` is DSE(Z), DSMI(Z; Y)
        and DSMI(Z; X) with the scale-aware bandwidth (``default_measures()``;
        add ``default_measures(sigma=10)`` for the paper's bandwidth).
        Measures needing labels are dropped, with a warning, when the probe has
        none.
    every : int, default=1
    unit : {"epoch", "step"}, default="epoch"
    at_init : bool, default=True
        Schedule: measure every ``every`` epochs (or steps), and before training.
    run_dir : str or os.PathLike, optional
        Folder of the run log (``runlog.jsonl``) and ``settings.json``.
        Without it rows are kept in memory only (:attr:`rows`).  A folder whose
        log was written by the same settings is resumed (rows already there are
        not measured or written again); a folder holding a different run is
        refused (see :func:`infolens.runs.loading.open_run`).
    seed : int, default=0
        The run's seed, recorded in every row.
    reduce : str, callable or dict, default="flatten"
        How layer outputs become (n_samples, n_features); see
        :mod:`infolens.monitor.hooks`.
    batch_size : int, default=256
        Probe samples per forward pass.
    forward : callable, optional
        ``forward(model, x_batch)``; default ``model(x_batch)``.
    device : torch.device or str, optional
        Where probe batches go; default the device of the model's first
        parameter (CPU for a model without parameters).
    accuracy : bool or "auto", default="auto"
        Log ``probe_accuracy`` (fraction of argmax of the model output equal
        to the probe label).  ``"auto"``: when the probe has integer labels and
        the output is a 2-D tensor with more columns than the largest label.
    tensorboard : bool or str, default=False
        Also write TensorBoard scalars (to ``run_dir/tensorboard`` or the given
        folder); needs the ``tensorboard`` package.
    settings : dict, optional
        Extra run settings (regime, learning rate, ...) saved in
        ``settings.json`` and shown in reports.
    fsync : bool, default=True
        fsync the run log after each row.
    blas_threads : int, optional
        Limit BLAS/OpenMP threads while measuring (via ``threadpoolctl``).
        Probe sets of a few hundred points are eigen-solved fastest on one
        thread; on a busy machine several BLAS threads per process can make
        them 10-30x slower.  ``None`` leaves the limits alone.
    threads : int, optional
        The same as ``blas_threads`` (the name :func:`infolens.set_threads` and
        ``infolens --threads`` use); it wins when both are given.  ``None``: the
        library's policy (one thread below 1000 samples, else the idle CPUs).
    attention_layers : sequence of str, optional
        Attention modules whose normalised attention entropy per head is logged
        as ``attention_entropy`` (mean over heads as the value, the heads in
        ``per_head``); see :mod:`infolens.monitor.attention`.
    attention_extract : callable, optional
        ``extract(module_output) -> probabilities (batch, heads, T, T)``; default:
        the first such tensor in the module's output.

    Attributes
    ----------
    epoch, global_step : int
        Finished epochs and optimizer steps so far.
    overhead_s : float
        Total wall time spent measuring, in seconds.
    """

    def __init__(self, model, layers, probe, *, measures=None, every=1, unit="epoch",
                 at_init=True, run_dir=None, seed=0, reduce="flatten", batch_size=256,
                 forward=None, device=None, accuracy="auto", tensorboard=False,
                 settings=None, fsync=True, blas_threads=None, threads=None,
                 attention_layers=None, attention_extract=None):
        torch = optional.torch("the monitor")
        if not isinstance(model, torch.nn.Module):
            raise InvalidParameterError(
                f"The 'model' parameter of Monitor must be a torch.nn.Module; got "
                f"{type(model).__name__}."
            )
        self.model = model
        self.recorder = LayerRecorder(model, layers, reduce)
        self.layers = list(self.recorder.modules)
        self.attention = None if not attention_layers else AttentionRecorder(
            model, attention_layers, extract=attention_extract)
        self.probe = as_probe(probe)
        self.measures = as_measures(measures)
        if self.probe.y is None:
            dropped = [m.name for m in self.measures if m.reference == "y"]
            if dropped:
                warnings.warn(f"The probe set has no labels; dropping {dropped}. Pass (x, y) "
                              f"to measure them.", stacklevel=2)
            self.measures = [m for m in self.measures if m.reference != "y"]
        if not self.measures:
            raise InvalidParameterError("Monitor got no measure that this probe set allows.")
        self.schedule = Schedule(every, unit, at_init)
        self.seed = check_int(seed, "seed", "Monitor", allow_none=True)
        self.batch_size = check_int(batch_size, "batch_size", "Monitor", low=1)
        self.forward = forward
        if device is None:
            param = next(iter(model.parameters()), None)
            device = param.device if param is not None else torch.device("cpu")
        self.device = torch.device(device)
        if accuracy not in (True, False, "auto"):
            raise InvalidParameterError(
                f"The 'accuracy' parameter of Monitor must be True, False or 'auto'; got "
                f"{accuracy!r}."
            )
        self.accuracy = accuracy
        self.blas_threads = check_int(blas_threads if threads is None else threads,
                                      "blas_threads" if threads is None else "threads",
                                      "Monitor", low=1, allow_none=True)
        self.epoch = 0
        self.global_step = 0
        self.overhead_s = 0.0
        self._started = False
        self._init_hooks = []
        self.sinks = []
        self.run_dir = None if run_dir is None else os.fspath(run_dir)
        self._memory_rows = []
        self._memory_keys = set()
        self.log = None
        self.settings = run_settings(model, self.layers, self.measures, self.schedule, seed,
                                     self.probe, self.recorder)
        self.settings.update(settings or {})
        if self.run_dir is not None:
            self.log = open_run(self.run_dir, self.settings, fsync=fsync)  # None off rank 0
        if tensorboard:
            folder = tensorboard if isinstance(tensorboard, (str, os.PathLike)) else (
                os.path.join(self.run_dir, "tensorboard") if self.run_dir else None)
            if folder is None:
                raise InvalidParameterError(
                    "tensorboard=True needs a run_dir (or pass the TensorBoard folder as "
                    "tensorboard='path')."
                )
            self.sinks.append(TensorBoardSink(folder, x_axis=self.schedule.unit))
        if self.schedule.at_init:
            # The initialisation row must be the untrained network whatever the calling
            # pattern (start(), step() or epoch_end() first): measure just before the
            # first forward pass of the model or of a monitored layer, i.e. before the
            # first training step can change a weight.
            modules = [model] + [m for m in self.recorder.modules.values() if m is not model]
            self._init_hooks = [m.register_forward_pre_hook(self._before_first_forward)
                                for m in modules]

    # ------------------------------------------------------------------ state
    @property
    def rows(self):
        """Every logged row (from the run log when there is one), in order."""
        return list(self.log.rows) if self.log is not None else list(self._memory_rows)

    def state_dict(self):
        """Counters to save in a checkpoint (restore with :meth:`load_state_dict`)."""
        return {"epoch": self.epoch, "step": self.global_step, "started": self._started}

    def load_state_dict(self, state):
        self.epoch = int(state["epoch"])
        self.global_step = int(state["step"])
        self._started = bool(state.get("started", True))
        if self._started:
            self._remove_init_hooks()

    def _remove_init_hooks(self):
        for handle in self._init_hooks:
            handle.remove()
        self._init_hooks = []

    def _before_first_forward(self, module, inputs):
        self.start()

    def _has(self, key):
        return key in self.log if self.log is not None else key in self._memory_keys

    def _emit(self, row):
        key = (row["epoch"], row["step"], row["layer"], row["measure"])
        if self.log is not None:
            written = self.log.append(row)
        else:
            written = key not in self._memory_keys
            if written:
                self._memory_keys.add(key)
                self._memory_rows.append(dict(row, time=time.time()))
        if written:
            for sink in self.sinks:
                sink(row)
        return written

    # --------------------------------------------------------------- schedule
    def start(self):
        """Measure at initialisation (if scheduled).

        Called automatically before the model's first forward pass (a forward
        pre-hook registered at construction), so the epoch-0 row is the untrained
        network even when the first call is :meth:`epoch_end` after an epoch of
        training; calling it explicitly before training does the same.
        """
        self._remove_init_hooks()
        if not self._started:
            self._started = True
            if self.schedule.at_init and self.epoch == 0 and self.global_step == 0:
                self.measure()

    def step(self, n=1):
        """Call after each optimizer step: counts steps, measures when a step schedule is due.

        Parameters
        ----------
        n : int, default=1
            Steps taken since the last call.
        """
        self.start()
        self.global_step += int(n)
        if self.schedule.due_step(self.global_step):
            self.measure()

    def epoch_end(self, metrics=None, *, epoch=None, step=None):
        """Call after each training epoch: logs ``metrics``, measures when due.

        Parameters
        ----------
        metrics : dict, optional
            ``{name: value}`` or ``{name: (value, unit)}`` for the model as a
            whole (loss, accuracy ...), logged with ``layer=""``.  Units default
            to "fraction" for names containing "acc" and "nats" for "loss".
        epoch, step : int, optional
            Set the counters explicitly (e.g. after resuming from a
            checkpoint); by default the epoch counter is incremented.
        """
        self.start()
        self.epoch = self.epoch + 1 if epoch is None else int(epoch)
        if step is not None:
            self.global_step = int(step)
        if metrics:
            self.log_metrics(metrics)
        if self.schedule.due_epoch(self.epoch):
            self.measure()

    def log_metrics(self, metrics, *, epoch=None, step=None):
        """Log scalar metrics of the whole model at the current (or given) position."""
        epoch = self.epoch if epoch is None else epoch
        step = self.global_step if step is None else step
        for name, value in metrics.items():
            unit = metric_unit(name)
            if isinstance(value, tuple):
                value, unit = value
            value = float(value.item() if hasattr(value, "item") else value)
            self._emit({"epoch": epoch, "step": step, "layer": MODEL_LAYER, "measure": name,
                        "value": value, "unit": unit, "params": {}, "seed": self.seed})

    # ------------------------------------------------------------ measurement
    def _pending(self, epoch, step):
        pending = [(layer, m) for layer in self.layers for m in self.measures
                   if not self._has((epoch, step, layer, m.name))]
        acc_needed = self.accuracy is not False and self.probe.y is not None and not self._has(
            (epoch, step, MODEL_LAYER, "probe_accuracy"))
        return pending, acc_needed

    def _attention_pending(self, epoch, step):
        return self.attention is not None and any(
            not self._has((epoch, step, layer, ATTENTION_MEASURE))
            for layer in self.attention.modules)

    def collect(self):
        """Run the probe set through the model; returns ``({layer: Z}, output_rows)``.

        Every module is put in eval mode and restored to its own previous mode;
        gradients are off.
        """
        # The probe pass is itself the model's first forward when nothing ran before: the
        # initialisation hooks must not fire inside it (they would measure twice).
        self._remove_init_hooks()
        return run_probe(self.model, self.recorder, self.probe, batch_size=self.batch_size,
                         device=self.device, forward=self.forward)

    def measure(self, *, epoch=None, step=None):
        """Measure every layer now (ignores the schedule); returns the rows written."""
        epoch = self.epoch if epoch is None else int(epoch)
        step = self.global_step if step is None else int(step)
        pending, acc_needed = self._pending(epoch, step)
        if not pending and not acc_needed and not self._attention_pending(epoch, step):
            return []
        start = time.perf_counter()
        if self.blas_threads is not None:
            with threadpool_limits(self.blas_threads), use_threads(self.blas_threads):
                written = self._measure(epoch, step, pending, acc_needed)
        else:
            written = self._measure(epoch, step, pending, acc_needed)
        elapsed = time.perf_counter() - start
        self.overhead_s += elapsed
        row = {"epoch": epoch, "step": step, "seed": self.seed, "layer": MODEL_LAYER,
               "measure": OVERHEAD_MEASURE, "value": elapsed, "unit": "s",
               "params": {"n_layers": len(self.layers), "n_measures": len(self.measures)}}
        self._emit(row)
        return written

    def _measure(self, epoch, step, pending, acc_needed):
        base = {"epoch": epoch, "step": step, "seed": self.seed}
        with self.attention or contextlib.nullcontext():
            embeddings, logits = self.collect()
        written = [row for row in (self.attention.rows(base) if self.attention else [])
                   if self._emit(row)]
        if acc_needed:
            acc = probe_accuracy(logits, self.probe.y, self.accuracy)
            if acc is not None:
                row = dict(base, layer=MODEL_LAYER, measure="probe_accuracy", value=acc,
                           unit="fraction", params={"probe_size": len(self.probe)})
                if self._emit(row):
                    written.append(row)
        for layer, m in pending:
            Z = embeddings[layer]
            value, unit, params, elapsed = m(Z, self.probe)
            row = dict(base, layer=layer, measure=m.name, value=value, unit=unit,
                       params=params, elapsed_s=elapsed, n_samples=int(Z.shape[0]),
                       n_features=int(Z.shape[1]))
            if self._emit(row):
                written.append(row)
        return written

    def history(self, measure, layer=MODEL_LAYER):
        """``(epochs, steps, values)`` arrays of one measure at one layer, in log order."""
        rows = [r for r in self.rows if r["measure"] == measure and r["layer"] == layer]
        return (np.array([r["epoch"] for r in rows]), np.array([r["step"] for r in rows]),
                np.array([r["value"] for r in rows], dtype=float))

    def close(self):
        """Flush and close the run log and the sinks."""
        self._remove_init_hooks()
        if self.log is not None:
            self.log.close()
        for sink in self.sinks:
            close = getattr(sink, "close", None)
            if close:
                close()
