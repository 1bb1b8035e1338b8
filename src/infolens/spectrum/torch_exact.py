"""The exact eigen-solve of the diffusion matrix with torch, on the tensor's device.

The operator is built by the same kernel code as the numpy path
(:func:`infolens.kernels.gaussian.diffusion_operator` on a
:class:`infolens.core.backend.TorchBackend`), in float64; the trivial eigenpair
is deflated and 1 restored exactly as in :mod:`infolens.spectrum.exact`.
"""

from __future__ import annotations

import logging

import numpy as np

from infolens.core import optional
from infolens.core.backend import TorchBackend
from infolens.core.memory import MEMORY_FRACTION, format_bytes
from infolens.kernels.gaussian import diffusion_operator
from infolens.spectrum.exact import Spectrum, restore_trivial

__all__ = ["torch_exact_spectrum", "torch_exact_spectrum_or_none"]

logger = logging.getLogger("infolens")


def torch_exact_spectrum(X, sigma, alpha, device):
    """All eigenvalues of the diffusion matrix computed with torch on ``device``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Points (units of ``sigma``).
    sigma : float
        Resolved bandwidth.
    alpha : float in [0, 1]
        Density-normalisation power.
    device : torch.device or str

    Returns
    -------
    Spectrum
        float64 eigenvalues, the trivial one restored.

    Raises
    ------
    MemoryError
        When a CUDA device has too little free memory for the three N x N
        float64 buffers.
    """
    torch = optional.torch("the torch exact solve")
    n = X.shape[0]
    if torch.device(device).type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        need = 3 * 8 * n * n  # matrix, distances, eigen-solver workspace (float64)
        if need > MEMORY_FRACTION * free:
            raise MemoryError(
                f"exact solve of {n} points needs about {format_bytes(need)} on {device}, "
                f"{format_bytes(free)} free")
    xp = TorchBackend(device)
    op = diffusion_operator(X, sigma, alpha, xp=xp)
    K, v = op.matrix, op.trivial_vector
    K.sub_(xp.outer(v, v))
    values = xp.to_numpy(torch.linalg.eigvalsh(K))
    values, trivial_index = restore_trivial(values)
    return Spectrum(values, trivial_index, "float64", None)


def torch_exact_spectrum_or_none(X, sigma, alpha, device, caller):
    """:func:`torch_exact_spectrum`, or None (with one warning) when it fails.

    Failures are out-of-memory errors of the device and solver errors
    (``torch.linalg.eigvalsh`` not converging); the caller then falls back to
    SLQ.
    """
    try:
        return torch_exact_spectrum(X, sigma, alpha, device)
    except (RuntimeError, MemoryError) as exc:  # torch OOM and LinAlgError are RuntimeErrors
        logger.warning("%s: exact torch solve on %s failed (%s); falling back to "
                       "method='slq'", caller, device, str(exc).splitlines()[0][:200])
        torch = optional.loaded_torch()
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()
        return None
