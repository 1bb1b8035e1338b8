"""PyTorch Lightning callback around :class:`infolens.monitor.Monitor`.

Works with ``lightning`` (``lightning.pytorch``) or the older
``pytorch_lightning`` package, whichever is installed (``lightning`` first)::

    from infolens.monitor.lightning import InfolensCallback
    cb = InfolensCallback(["backbone.4", "head.0"], (x_val, y_val), run_dir="runs/a")
    Trainer(max_epochs=20, callbacks=[cb]).fit(model, loaders)

The monitor measures before the first epoch and after every
``every_n_epochs`` training epochs, logs the trainer's scalar
``callback_metrics`` (losses, accuracies) alongside, and forwards every value
to the trainer's logger (TensorBoard, CSV, ...) as ``infolens/<measure>/<layer>``.
A fit resumed from a checkpoint continues the same run log without duplicates.
"""

from __future__ import annotations

import os

from infolens.core import optional
from infolens.monitor.monitor import Monitor

__all__ = ["InfolensCallback"]

# The base class is needed when this module is imported (only then is lightning loaded).
Callback = optional.lightning_callback_base("infolens.monitor.lightning")


class InfolensCallback(Callback):
    """Monitor layers of the ``LightningModule`` being fitted.

    Parameters
    ----------
    layers : str or list of str
        Names from ``module.named_modules()``.
    probe : ProbeSet, (x, y) tuple, tensor or DataLoader
    every_n_epochs : int, default=1
    run_dir : str, optional
        Default ``<trainer.default_root_dir>/infolens``.
    log_to_logger : bool, default=True
        Forward values to ``trainer.logger``.
    **monitor_kwargs
        Passed to :class:`Monitor` (``measures``, ``seed``, ``reduce``,
        ``settings``, ``tensorboard`` ...).

    Attributes
    ----------
    monitor : Monitor or None
        Available from the start of ``fit``.
    """

    def __init__(self, layers, probe, *, every_n_epochs=1, run_dir=None, log_to_logger=True,
                 **monitor_kwargs):
        super().__init__()
        self.layers = layers
        self.probe = probe
        self.every_n_epochs = every_n_epochs
        self.run_dir = run_dir
        self.log_to_logger = log_to_logger
        self.monitor_kwargs = monitor_kwargs
        self.monitor = None
        self._loaded_state = None

    def on_fit_start(self, trainer, pl_module):
        run_dir = self.run_dir or os.path.join(trainer.default_root_dir, "infolens")
        self.monitor = Monitor(pl_module, self.layers, self.probe, every=self.every_n_epochs,
                               unit="epoch", run_dir=run_dir, **self.monitor_kwargs)
        if self.log_to_logger and trainer.logger is not None:
            logger = trainer.logger

            def forward_row(row, logger=logger, trainer=trainer):
                tag = f"infolens/{row['measure']}/{row['layer'] or 'model'}"
                logger.log_metrics({tag: row["value"]}, step=trainer.global_step)

            self.monitor.sinks.append(forward_row)
        if trainer.current_epoch > 0 or self._loaded_state:
            self.monitor.load_state_dict(self._loaded_state or {
                "epoch": trainer.current_epoch, "step": trainer.global_step, "started": True})
        self.monitor.start()

    def on_train_epoch_end(self, trainer, pl_module):
        metrics = {}
        for name, value in trainer.callback_metrics.items():
            if hasattr(value, "numel") and value.numel() == 1:
                metrics[name] = float(value.item())
            elif isinstance(value, (int, float)):
                metrics[name] = float(value)
        self.monitor.epoch_end(metrics, epoch=trainer.current_epoch + 1,
                               step=trainer.global_step)

    def on_fit_end(self, trainer, pl_module):
        if self.monitor is not None:
            self.monitor.close()

    def on_exception(self, trainer, pl_module, exception):
        if self.monitor is not None:
            self.monitor.close()

    def state_dict(self):
        return {} if self.monitor is None else self.monitor.state_dict()

    def load_state_dict(self, state_dict):
        self._loaded_state = dict(state_dict) or None
