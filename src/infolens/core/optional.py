"""The optional heavy dependencies, each imported lazily in one helper.

torch, dask, matplotlib, faiss, lightning and transformers are never imported
when ``infolens`` is: a function that needs one calls its helper here, which
imports it on first use and, when it is missing, raises an ``ImportError``
that names the extra to install.  :func:`loaded_torch` answers "is this a torch
tensor?" without importing torch at all.
"""

from __future__ import annotations

import importlib
import sys

__all__ = [
    "dask",
    "dask_distributed",
    "faiss",
    "is_torch_tensor",
    "lightning",
    "loaded_torch",
    "matplotlib_pyplot",
    "torch",
    "transformers",
    "yaml",
]


def _require(module, extra, purpose):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs {module.split('.')[0]}, which is not installed "
            f"({exc}). Install it with: pip install 'infolens[{extra}]'"
        ) from exc


def torch(purpose="this function"):
    """The ``torch`` module (extra ``torch``)."""
    return _require("torch", "torch", purpose)


def loaded_torch():
    """The ``torch`` module if something already imported it, else None (never imports)."""
    return sys.modules.get("torch")


def is_torch_tensor(obj):
    """True for a torch tensor, without importing torch when it is not loaded."""
    torch_module = loaded_torch()
    return torch_module is not None and isinstance(obj, torch_module.Tensor)


def matplotlib_pyplot(purpose="drawing figures"):
    """``matplotlib.pyplot`` on the headless Agg backend (extra ``plot``)."""
    matplotlib = _require("matplotlib", "plot", purpose)
    matplotlib.use("Agg", force=True)
    return importlib.import_module("matplotlib.pyplot")


def dask(purpose="batch evaluation on Dask"):
    """The ``dask`` module (extra ``dask``)."""
    return _require("dask", "dask", purpose)


def dask_distributed(purpose="batch evaluation on Dask"):
    """The ``dask.distributed`` module (extra ``dask``)."""
    return _require("dask.distributed", "dask", purpose)


def yaml(purpose="reading YAML manifests"):
    """The ``yaml`` module (PyYAML, extra ``dask``)."""
    return _require("yaml", "dask", purpose)


def faiss(purpose="the faiss nearest-neighbour backend"):
    """The ``faiss`` module (extra ``scale``)."""
    return _require("faiss", "scale", purpose)


def lightning(purpose="the PyTorch Lightning callback"):
    """The ``lightning`` module (extra ``monitor``)."""
    return _require("lightning", "monitor", purpose)


def transformers(purpose="pretrained transformer models"):
    """The ``transformers`` module (extra ``transformers``)."""
    return _require("transformers", "transformers", purpose)
