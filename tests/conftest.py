"""Shared fixtures.

The reference package ``dse-dsmi`` (the parity oracle, installed with the
``test`` extra) calls ``warnings.filterwarnings("ignore")`` at import time,
which would silence warnings in every other test of the session; it is
therefore imported inside ``warnings.catch_warnings()`` so that the global
filters are restored afterwards.
"""

from __future__ import annotations

import warnings

import pytest


@pytest.fixture(scope="session")
def reference():
    """The ``dse_dsmi`` package with its submodules ``dse`` and ``dsmi`` loaded."""
    with warnings.catch_warnings():
        import dse_dsmi
        import dse_dsmi.dse
        import dse_dsmi.dsmi
    return dse_dsmi
