"""Errors a user can cause, shared by every command."""


class UsageError(Exception):
    """A mistake in the command line or its input: printed as one line, exit status 2."""
