"""The ``infolens`` command line (also ``python -m infolens``).

Each subcommand lives in its own module listed in :data:`COMMAND_MODULES`;
the module's ``add_parser(subparsers)`` registers it and sets ``func`` to a
handler ``handler(args) -> int``.  Errors the user can fix are reported as one
line on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys

from infolens import __version__
from infolens.cli import batch, bench, demo, measures, report
from infolens.cli.errors import CLIError
from infolens.core.validation import InvalidParameterError

__all__ = ["CLIError", "COMMAND_MODULES", "build_parser", "main"]

_COMMANDS = (measures, demo, batch, report, bench)
#: Modules that each define ``add_parser(subparsers)``.
COMMAND_MODULES = tuple(module.__name__ for module in _COMMANDS)


def build_parser():
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="infolens",
        description="Information measures for neural-network representations "
        "(diffusion spectral entropy and mutual information, and their baselines).",
        epilog="Run 'infolens COMMAND --help' for the options and examples of a command.",
    )
    parser.add_argument("--version", action="version", version=f"infolens {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _COMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (CLIError, InvalidParameterError, FileNotFoundError, IsADirectoryError,
            PermissionError) as exc:
        print(f"infolens {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"infolens {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
