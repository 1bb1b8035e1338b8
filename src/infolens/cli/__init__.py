"""The ``infolens`` command line: one module per command group, :func:`main` in
:mod:`infolens.cli.main`."""

from infolens.cli.main import main

__all__ = ["main"]
