"""A fixed probe set: the inputs (and labels) every measurement is made on.

The probe is copied once when it is built, so later changes to the source
tensors, or a shuffling DataLoader, cannot change what is measured.  The
partition of the inputs that DSMI(Z; X) conditions on is computed once, on
first use, and reused for the whole run (as in the paper).
"""

from __future__ import annotations

import numpy as np

from infolens.core import optional
from infolens.core.validation import InvalidParameterError, to_numpy
from infolens.measures import conditioning

__all__ = ["ProbeSet", "as_probe"]


class ProbeSet:
    """Fixed inputs and optional labels on which the monitor measures.

    Parameters
    ----------
    x : torch.Tensor or array-like of shape (n_samples, ...)
        Model inputs; cloned.
    y : array-like of shape (n_samples,), optional
        Class labels (needed for DSMI(Z; Y) and the probe accuracy).
    max_samples : int, optional
        Keep this many samples, drawn without replacement with ``seed`` and
        kept in their original order.
    seed : int, default=0
        Seed of that draw.
    n_clusters : int, default=10
        Clusters of the input partition used by DSMI(Z; X).

    Attributes
    ----------
    x : torch.Tensor
    y : ndarray or None
    indices : ndarray
        Positions of the kept samples in the source.
    """

    def __init__(self, x, y=None, *, max_samples=None, seed=0, n_clusters=10):
        torch = optional.torch("a probe set")
        x = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
        n = x.shape[0] if x.ndim else 0
        if n < 2:
            raise InvalidParameterError(
                f"A probe set needs at least 2 samples along axis 0; got x of shape "
                f"{tuple(x.shape)}."
            )
        if y is not None:
            y = np.array(to_numpy(y)).reshape(-1)
            if y.shape[0] != n:
                raise InvalidParameterError(
                    f"The probe labels y must have one value per sample ({n} in x); got "
                    f"{y.shape[0]} values."
                )
        if max_samples is not None and max_samples < n:
            if max_samples < 2:
                raise InvalidParameterError(
                    f"max_samples must be at least 2; got {max_samples}."
                )
            idx = np.sort(np.random.default_rng(seed).choice(n, max_samples, replace=False))
        else:
            idx = np.arange(n)
        self.indices = idx
        self.x = x.detach()[torch.as_tensor(idx)].clone()
        self.y = None if y is None else y[idx].copy()
        self.n_clusters = n_clusters
        self.seed = seed
        self._x_partition = None

    @classmethod
    def from_loader(cls, loader, *, max_samples=None, seed=0, n_clusters=10):
        """Collect a probe set from a DataLoader (or any iterable of batches) once.

        Batches may be tensors (inputs only), ``(x, y, ...)`` tuples/lists or
        dicts with ``"x"``/``"input"`` and ``"y"``/``"label"`` keys.  At most
        ``max_samples`` samples are read (the first ones in iteration order;
        with a shuffling loader the draw is random, but it is taken once and
        then fixed).
        """
        torch = optional.torch("a probe set")
        xs, ys = [], []
        count = 0
        for batch in loader:
            if isinstance(batch, torch.Tensor):
                bx, by = batch, None
            elif isinstance(batch, dict):
                bx = batch.get("x", batch.get("input"))
                by = batch.get("y", batch.get("label"))
            elif isinstance(batch, (tuple, list)) and batch:
                bx = batch[0]
                by = batch[1] if len(batch) > 1 else None
            else:
                raise InvalidParameterError(
                    f"ProbeSet.from_loader expects batches that are tensors, (x, y) tuples "
                    f"or dicts with 'x' and 'y'; got {type(batch).__name__}."
                )
            if bx is None:
                raise InvalidParameterError(
                    "ProbeSet.from_loader found a dict batch without an 'x' or 'input' key."
                )
            xs.append(torch.as_tensor(bx).detach().cpu())
            if by is not None:
                ys.append(to_numpy(by).reshape(-1))
            count += xs[-1].shape[0]
            if max_samples is not None and count >= max_samples:
                break
        if not xs:
            raise InvalidParameterError("ProbeSet.from_loader got an empty loader.")
        x = torch.cat(xs)
        y = np.concatenate(ys) if len(ys) == len(xs) else None
        if max_samples is not None:
            x = x[:max_samples]
            y = None if y is None else y[:max_samples]
        return cls(x, y, seed=seed, n_clusters=n_clusters)

    def __len__(self):
        return int(self.x.shape[0])

    def batches(self, batch_size):
        """Yield consecutive input batches of at most ``batch_size`` samples."""
        for start in range(0, len(self), batch_size):
            yield self.x[start:start + batch_size]

    def flat_inputs(self):
        """Inputs as a float64 array of shape (n_samples, n_input_features)."""
        return self.x.reshape(len(self), -1).to(dtype=optional.torch().float64).numpy()

    @property
    def x_partition(self):
        """Cluster id of each probe input (spectral clustering of the flattened inputs on a
        10-nearest-neighbour graph into ``n_clusters`` clusters, seed ``seed``); computed
        once and cached."""
        if self._x_partition is None:
            # Looked up on the module when used, so that a patched function is seen.
            self._x_partition = np.asarray(
                conditioning.spectral_clusters(self.flat_inputs(), self.n_clusters, self.seed),
                dtype=np.int64,
            )
        return self._x_partition


def as_probe(probe):
    """``probe`` as a :class:`ProbeSet`: a ProbeSet, an ``(x,)`` or ``(x, y)`` tuple, a tensor,
    an array or a DataLoader (any iterable of batches)."""
    if isinstance(probe, ProbeSet):
        return probe
    if isinstance(probe, tuple) and len(probe) in (1, 2):
        return ProbeSet(*probe)
    if type(probe).__module__.startswith("torch") and hasattr(probe, "shape"):
        return ProbeSet(probe)
    if isinstance(probe, np.ndarray):
        return ProbeSet(probe)
    if hasattr(probe, "__iter__"):
        return ProbeSet.from_loader(probe)
    raise InvalidParameterError(
        f"The 'probe' parameter of Monitor must be a ProbeSet, an (x, y) tuple, a tensor or "
        f"a DataLoader; got {type(probe).__name__}."
    )
