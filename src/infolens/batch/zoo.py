"""A model-zoo factory that batch manifests can name.

:func:`make_mlp` builds small fully connected networks; a manifest entry names
it as ``factory: infolens.batch.screening:make_mlp`` (or
``infolens.batch.zoo:make_mlp``) to screen a zoo of widths and depths.
"""

from __future__ import annotations

from collections import OrderedDict

from infolens.core import optional
from infolens.core.validation import InvalidParameterError

__all__ = ["make_mlp"]


def make_mlp(in_features=64, widths=(64,), n_classes=10):
    """A fully connected ReLU network: ``body`` (hidden layers) then ``head``.

    Parameters
    ----------
    in_features : int
    widths : sequence of int
        Hidden layer widths (the depth is ``len(widths)``).
    n_classes : int

    Returns
    -------
    torch.nn.Sequential
        With submodules ``body`` (whose output is the embedding screened) and
        ``head`` (the linear classifier).
    """
    nn = optional.torch("make_mlp").nn
    widths = [int(w) for w in widths]
    if not widths or min(widths) < 1:
        raise InvalidParameterError(f"'widths' of make_mlp must be positive ints; got {widths!r}.")
    layers, prev = [], int(in_features)
    for w in widths:
        layers += [nn.Linear(prev, w), nn.ReLU()]
        prev = w
    return nn.Sequential(
        OrderedDict([("body", nn.Sequential(*layers)), ("head", nn.Linear(prev, int(n_classes)))])
    )
