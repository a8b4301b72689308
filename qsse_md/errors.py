"""Failures a user can fix: the CLI prints their one-line message and exits with code 2."""


class UserFixableError(RuntimeError):
    """Base of runtime failures caused by the input (packing density, an odd molecule)."""


class InputError(ValueError):
    """A wrong input file or table: one line naming the file, table and key, and what to do."""
