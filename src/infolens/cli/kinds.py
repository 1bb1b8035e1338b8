"""``infolens entropy|mi|score|dependence FILE --method NAME``: every registered measure
of one kind behind one command, generated from :mod:`infolens.registry`.

``--method`` names the measure (its ``method=`` name, function name or an alias:
``infolens entropy Z.npy --method kl``); the options of that measure follow
(``infolens mi Z.npy --labels y.npy --method ksg --k 5``) and
``infolens entropy --method kl --help`` lists them.  A measure's own ``method``
parameter (the spectral solver of DSE and its kin) is spelled ``--solver`` here.
Because the options depend on the measure, the parser is built for the ``--method``
named on the command line (:func:`method_in`).
"""

from __future__ import annotations

import argparse
import textwrap

from infolens.cli.measures import run_measure
from infolens.cli.options import add_measure_options, summary
from infolens.registry import KINDS, list_methods

__all__ = ["add_parser", "method_in"]

_TITLES = {
    "entropy": "the entropy of a set of embeddings",
    "mi": "the mutual information between embeddings and a reference variable",
    "score": "a spectral or quality score of a set of embeddings",
    "dependence": "a dependence measure (not a mutual information) between embeddings "
                  "and a reference variable",
}
#: How the measure's own ``method`` parameter is spelled where ``--method`` names the measure.
SOLVER_FLAG = "--solver"


def method_in(argv, kind):
    """The value of ``--method`` after the command ``kind`` in ``argv``, or None."""
    argv = list(argv or ())
    if kind not in argv:
        return None
    rest = argv[argv.index(kind) + 1:]
    for i, word in enumerate(rest):
        if word == "--method" and i + 1 < len(rest):
            return rest[i + 1]
        if word.startswith("--method="):
            return word.split("=", 1)[1]
    return None


def _find(kind, name):
    return next((m for m in list_methods(kind) if name in m.names), None)


def _listing(kind):
    lines = []
    for m in list_methods(kind):
        names = ", ".join(n for n in dict.fromkeys(m.names) if n != m.name)
        head = f"  {m.name:<18} " + (f"(also {names}) " if names else "")
        lines.append(textwrap.fill(summary(m.func), width=78, initial_indent=head,
                                   subsequent_indent=" " * 21))
    return "\n".join(lines)


def _epilog(kind, methods):
    first = methods[0]
    reference = " --labels labels.npy" if first.needs_reference else ""
    return (f"methods:\n{_listing(kind)}\n\nexamples:\n"
            f"  infolens {kind} embeddings.npy{reference} --method {first.name}\n"
            f"  infolens {kind} layer1.npy layer2.npy{reference} --method {methods[-1].name} "
            f"--format csv\n"
            f"  infolens {kind} --method {first.name} --help     # the options of "
            f"{first.function}")


def add_parser(subparsers, argv=None):
    """Register one command per kind of measure that has at least one measure.

    ``argv`` is the command line about to be parsed: the command whose ``--method`` it
    names gets that measure's options.
    """
    for kind in KINDS:
        methods = list_methods(kind)
        if not methods:
            continue
        chosen = _find(kind, method_in(argv, kind))
        names = sorted({n for m in methods for n in m.names})
        sub = subparsers.add_parser(
            kind, help=f"{_TITLES[kind]}, by any registered method (--method NAME)",
            description=f"Compute {_TITLES[kind]} with the method named by --method; "
                        f"'infolens {kind} --method NAME --help' lists that method's options.",
            epilog=_epilog(kind, methods), formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("--method", required=True, choices=names, metavar="NAME",
                         help=f"the measure: {', '.join(m.name for m in methods)} (or its "
                              f"function name)")
        if chosen is None:
            sub.add_argument("files", metavar="FILE", nargs="*", help="embeddings")
            sub.set_defaults(func=_no_method)
            continue
        add_measure_options(sub, chosen, flags={"method": SOLVER_FLAG})
        sub.set_defaults(func=run_measure, measure=chosen)


def _no_method(args):  # pragma: no cover - argparse refuses a missing or unknown --method
    return 2
