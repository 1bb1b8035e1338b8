"""Distances, bandwidth rules, Gaussian affinities and diffusion operators.

The names below were the public surface of the former ``infolens.kernels`` module and are
re-exported so that ``infolens.kernels.<name>`` keeps working."""

from infolens.kernels.bandwidth import BANDWIDTH_RULES, resolve_bandwidth
from infolens.kernels.distances import squared_distances
from infolens.kernels.gaussian import (
    DiffusionOperator, diffusion_from_affinity, diffusion_operator, gaussian_affinity,
)

__all__ = [
    "BANDWIDTH_RULES",
    "DiffusionOperator",
    "diffusion_from_affinity",
    "diffusion_operator",
    "gaussian_affinity",
    "resolve_bandwidth",
    "squared_distances",
]
