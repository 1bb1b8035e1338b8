"""Distances, bandwidth rules, Gaussian affinities and diffusion operators."""
