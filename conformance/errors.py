"""Errors that end a run, each with its documented exit code."""


class UsageError(Exception):
    """Bad command line, profile or setup: exit 2 with one line naming the problem and the fix."""

    exit_code = 2


class SetupError(UsageError):
    """The target cannot be used at all (nothing listens, a peer cannot start): exit 2."""
