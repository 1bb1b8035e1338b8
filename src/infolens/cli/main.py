"""The ``infolens`` command line (also ``python -m infolens``).

Each subcommand lives in its own module listed in :data:`COMMAND_MODULES`;
the module's ``add_parser(subparsers)`` registers it and sets ``func`` to a
handler ``handler(args) -> int``.  Errors the user can fix are reported as one
line on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from infolens import __version__
from infolens.cli import batch, bench, demo, features, layers, measures, report
from infolens.cli import kinds
from infolens.cli.errors import CLIError
from infolens.cli.parser import (
    Parser,
    active_parser,
    add_common_options,
    check_extras,
    common_options,
    precheck,
)
from infolens.core.validation import InvalidParameterError

__all__ = ["CLIError", "COMMAND_MODULES", "build_parser", "main"]

_COMMANDS = (measures, demo, batch, report, bench, features, layers)
#: Modules that each define ``add_parser(subparsers)``.
COMMAND_MODULES = tuple(module.__name__ for module in _COMMANDS)

#: Optional packages of commands whose module does not declare them (``requires``).
_EXTRAS = {
    "demo": lambda args: [] if getattr(args, "mode", None) == "table" else [
        ("torch", "torch", "infolens demo (it trains a network)"),
        ("matplotlib", "plot", "infolens demo (its report)")],
}


def build_parser(argv=None):
    """The top-level parser with every registered subcommand.

    ``argv``, the command line about to be parsed, lets ``infolens entropy/mi/score
    --method NAME`` carry the options of the measure it names (:mod:`infolens.cli.kinds`).
    """
    parser = Parser(
        prog="infolens",
        description="Information measures for neural-network representations "
        "(diffusion spectral entropy and mutual information, and their baselines).",
        epilog="Run 'infolens COMMAND --help' for the options and examples of a command.",
    )
    parser.add_argument("--version", action="version", version=f"infolens {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _COMMANDS:
        module.add_parser(subparsers)
    kinds.add_parser(subparsers, argv)
    for name, needs in _EXTRAS.items():
        if name in subparsers.choices and subparsers.choices[name].get_default("requires") is None:
            subparsers.choices[name].set_defaults(requires=needs)
    add_common_options(parser, top=True)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    parser = build_parser(argv)
    precheck(parser, argv)
    args, extras = parser.parse_known_args(argv)
    command = active_parser(parser, args)
    if extras:
        command.unknown(extras)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        with common_options(args):
            return _run(args)
    except argparse.ArgumentTypeError as exc:     # --quiet with --verbose
        command.error(str(exc))


def _run(args):
    """Check the command's optional dependencies, then run it; user errors exit 2."""
    # Optional dependencies are checked before any work (``requires`` of the command).
    requires = getattr(args, "requires", None)
    missing = check_extras(*(requires(args) if callable(requires) else requires or ()))
    if missing:
        print(f"infolens {args.command}: error: {missing}", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            if not args.verbose:
                # scikit-learn's notes (a disconnected graph in spectral clustering) are
                # not errors of the user's input; --verbose shows them.
                warnings.filterwarnings("ignore", module=r"sklearn(\.|$)")
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
