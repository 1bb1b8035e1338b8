"""The one exception type of the command line."""

__all__ = ["CLIError"]


class CLIError(Exception):
    """An error caused by the command's input; printed as one line, exit status 2."""
