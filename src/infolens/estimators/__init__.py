"""Baseline estimators that infolens's diffusion measures are compared with."""

from .binning import cse, csmi

__all__ = ["cse", "csmi"]
