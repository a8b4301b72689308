"""Options shared by the commands: repeatable ``NAME=VALUE`` options, physical ranges, frame ranges."""

from __future__ import annotations

import argparse

PLAUSIBLE_TEMPERATURE_K = (100.0, 2000.0)
CELSIUS_ZERO_K = 273.15


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


def add_frame_options(parser) -> None:
    """Add ``--start``, ``--stop`` and ``--step`` (the frame range analysed) to ``parser``.

    The range is checked against the trajectory before the analysis starts
    (:func:`qsse_md.analysis._checks.checked_frames`).
    """
    parser.add_argument("--start", type=int, help="first frame index (default 0; negative counts from the end)")
    parser.add_argument("--stop", type=int, help="frame index to stop before (default: after the last frame)")
    parser.add_argument("--step", type=int, help="analyse every STEP-th frame (default 1)")


def temperature_kelvin(text: str) -> float:
    """argparse ``type`` of a temperature in K within the plausible 100-2000 K.

    Raises
    ------
    argparse.ArgumentTypeError
        When ``text`` is not a number or lies outside that range; a value below 100
        that would be a liquid in °C is named as probably Celsius.
    """
    value = _number(text)
    low, high = PLAUSIBLE_TEMPERATURE_K
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text}: a temperature in K must be above 0")
    if value < low:
        raise argparse.ArgumentTypeError(f"{text} K looks like degrees Celsius; give kelvin "
                                         f"({value:g} °C = {value + CELSIUS_ZERO_K:g} K)")
    if value > high:
        raise argparse.ArgumentTypeError(f"{text} K is above the plausible {low:g}-{high:g} K; give kelvin")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
