"""Parsing of repeatable ``NAME=VALUE`` command-line options."""

from __future__ import annotations


def parse_pairs(items, option, convert=str) -> dict:
    """``{NAME: convert(VALUE)}`` of ``NAME=VALUE`` strings given to ``option``.

    Parameters
    ----------
    items : list of str or None
        The option's values as argparse collected them.
    option : str
        The option's name, for error messages (``"--species"``).
    convert : callable, optional
        Applied to each value (``float`` for numbers); default ``str``.

    Raises
    ------
    ValueError
        When an item is not ``NAME=VALUE`` or its value does not convert.
    """
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"{option} {item!r} must look like NAME=VALUE")
        try:
            out[name.strip()] = convert(value.strip())
        except ValueError as error:
            raise ValueError(f"{option} {item!r}: {value!r} is not a number") from error
    return out
