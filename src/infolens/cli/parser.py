"""The argument parser of every ``infolens`` command, and the options every command takes.

:class:`Parser` refuses abbreviations (``--sigm`` is not ``--sigma``), reports every
usage error as one line that ends in "see 'infolens CMD --help'", and suggests the
closest option for a typo ("did you mean --sigma?").  Sub-parsers inherit the class, so
commands registered by any module get the same behaviour.

:func:`add_common_options` gives every command ``--quiet``, ``--verbose`` and
``--threads N``; :func:`common_options` puts them in force for one command.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import logging
import re
import sys

from infolens.core.optional import installed
from infolens.core.progress import progress_state, set_progress
from infolens.core.threads import set_threads

__all__ = [
    "Parser",
    "active_parser",
    "add_common_options",
    "common_options",
    "check_extras",
    "non_negative_int",
    "positive_int",
    "precheck",
]

_COMMON = ("--quiet", "--verbose", "--threads")


def _int_at_least(text, low, words):
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"expected a {words} integer; got {text!r}")
    return value


def positive_int(text):
    """argparse type: an int >= 1."""
    return _int_at_least(text, 1, "positive")


def non_negative_int(text):
    """argparse type: an int >= 0 (a seed, a count that may be zero)."""
    return _int_at_least(text, 0, "non-negative")


def _options(parser):
    return [s for a in parser._actions for s in a.option_strings if s.startswith("--")]


def _subparsers(parser):
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)),
                None)


def _suggest(word, candidates):
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return match[0] if match else None


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` without abbreviations and with one-line errors."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        """Print ``PROG: error: MESSAGE (see 'PROG --help')`` and exit with status 2."""
        choice = re.match(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)$",
                          message)
        if choice:
            names = re.findall(r"'([^']*)'", choice.group(3))
            close = _suggest(choice.group(2), names)
            what = "command" if choice.group(1) in ("COMMAND", "BENCH") else choice.group(1)
            message = (f"unknown {what} {choice.group(2)!r}; "
                       + (f"did you mean {close!r}?" if close
                          else f"choose from {', '.join(map(repr, names))}"))
        message = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def unknown(self, extras):
        """Refuse the unrecognised arguments ``extras``, suggesting the closest options."""
        options = _options(self)
        hints = []
        for word in extras:
            if word.startswith("--"):
                close = _suggest(word.split("=", 1)[0], options)
                if close:
                    hints.append(f"did you mean {close}?")
        noun = "argument" if len(extras) == 1 else "arguments"
        self.error(f"unrecognized {noun}: {' '.join(extras)}"
                   + ("; " + " ".join(hints) if hints else ""))


def precheck(parser, argv):
    """Refuse unknown ``--options`` of the command named in ``argv`` before parsing, so
    that a typo ("--ou") is reported as such and not as a missing required option."""
    for word in argv:
        if word == "--":
            return
        action = _subparsers(parser)
        if not word.startswith("-"):
            if action is not None and word in action.choices:
                parser = action.choices[word]
        elif word.startswith("--") and word not in ("--help",) \
                and word.split("=", 1)[0] not in _options(parser):
            parser.unknown([word])


def active_parser(parser, args):
    """The (sub-)parser of the command that ``args`` selected."""
    while True:
        action = _subparsers(parser)
        name = getattr(args, action.dest, None) if action is not None else None
        if name is None or name not in action.choices:
            return parser
        parser = action.choices[name]


def add_common_options(parser, top=False):
    """Add ``--quiet``, ``--verbose`` and ``--threads`` to ``parser`` and every sub-parser.

    An option a command already defines (``bench``'s ``--quiet``) is kept.  On the
    top-level parser (``top``) they go to ``global_*`` attributes so that a command's
    own defaults do not overwrite them.
    """
    have = set(_options(parser))
    prefix = "global_" if top else ""
    group = parser.add_argument_group("common options")
    if "--quiet" not in have:
        group.add_argument("--quiet", "-q", dest=prefix + "quiet", action="store_true",
                           help="no progress bars or notes on stderr")
    if "--verbose" not in have:
        group.add_argument("--verbose", "-v", dest=prefix + "verbose", action="store_true",
                           help="notes on stderr: threads, timing, the plan of each solve")
    if "--threads" not in have:
        group.add_argument("--threads", dest=prefix + "threads", type=positive_int,
                           default=None, metavar="N",
                           help="BLAS/OpenMP threads (default: 1 below 1000 samples, else "
                                "the idle CPUs)")
    action = _subparsers(parser)
    for sub in (action.choices.values() if action is not None else ()):
        add_common_options(sub)


@contextlib.contextmanager
def common_options(args):
    """Merge the top-level and command-level common options into ``args``, apply them for
    the duration of the command, and restore the process's settings afterwards (the CLI
    may run in-process: a ``--quiet`` call must not silence the caller's progress bars).

    Raises
    ------
    argparse.ArgumentTypeError
        When ``--quiet`` and ``--verbose`` are both given.
    """
    args.quiet = bool(getattr(args, "quiet", False) or getattr(args, "global_quiet", False))
    args.verbose = bool(getattr(args, "verbose", False)
                        or getattr(args, "global_verbose", False))
    threads = getattr(args, "threads", None)
    args.threads = threads if threads is not None else getattr(args, "global_threads", None)
    if args.quiet and args.verbose:
        raise argparse.ArgumentTypeError("--quiet and --verbose exclude each other")
    logger = logging.getLogger("infolens")
    saved_progress, saved_level = progress_state(), logger.level
    saved_threads = set_threads(args.threads) if args.threads is not None else None
    handler = None
    if args.quiet:
        set_progress(False)
        logger.setLevel(logging.WARNING)
    elif args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("infolens: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield args
    finally:
        set_progress(saved_progress)
        logger.setLevel(saved_level)
        if handler is not None:
            logger.removeHandler(handler)
        if args.threads is not None:
            set_threads(saved_threads)


def check_extras(*needs):
    """Return an error text naming the first missing extra, or None.

    Parameters
    ----------
    *needs : tuple of (str, str, str)
        ``(module, extra, purpose)``, e.g. ``("matplotlib", "plot", "the figures")``.
    """
    for module, extra, purpose in needs:
        if not installed(module):
            return (f"{purpose} needs {module}, which is not installed; install it with: "
                    f"pip install 'infolens[{extra}]'")
    return None
