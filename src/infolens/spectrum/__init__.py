"""Spectra of kernel operators: planning, exact solves, SLQ, the cache."""
