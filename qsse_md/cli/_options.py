"""Options shared by the commands: repeatable ``NAME=VALUE`` options, physical ranges, and the
inputs every ``analyze`` command takes (topology + trajectory or run folder, ``--box``, frame
range, ``--out``, species selections and roles), added in one place."""

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


def add_trajectory_arguments(parser, topology_help: str) -> None:
    """Add the inputs of an ``analyze`` command: TOPOLOGY, TRAJECTORY, ``--box``, ``--dt``, the frame range
    and ``--out``.

    ``topology_help`` says what the command needs of the topology; read them back with
    :func:`trajectory_keywords`.
    """
    parser.add_argument("topology", help=f"{topology_help}, or a qsse-md run folder (then leave out TRAJECTORY)")
    parser.add_argument("trajectory", nargs="?", help="trajectory file (any format MDAnalysis reads; *.lammpstrj "
                        "is read as a LAMMPS dump)")
    parser.add_argument("--box", nargs="+", type=float, metavar="L",
                        help="periodic box A B C [ALPHA BETA GAMMA] (Å, degrees; default angles 90) of every frame: "
                        "needed when the trajectory has none (DCD or XYZ without unit cell, vacuum runs); "
                        "replaces the file's box")
    parser.add_argument("--dt", type=float, metavar="PS", help="time between frames in ps: needed when the "
                        "trajectory records no times (some Amber NetCDF/mdcrd files); replaces the file's times")
    add_frame_options(parser)
    parser.add_argument("--out", required=True, help="output folder (must not exist or be empty)")


def trajectory_keywords(args) -> dict:
    """``box``, ``dt_ps``, ``start``, ``stop`` and ``step`` of the parsed :func:`add_trajectory_arguments` options."""
    return {"box": args.box, "dt_ps": args.dt, "start": args.start, "stop": args.stop, "step": args.step}


def add_species_arguments(parser) -> None:
    """Add ``--species NAME=SEL`` (repeatable).

    Selections may use any attribute the topology has (``type 22`` in a LAMMPS data file,
    ``resname EC``, ``element F``); none is required that a selection does not use.
    """
    parser.add_argument("--species", action="append", default=[], metavar="NAME=SEL",
                        help="a species as an MDAnalysis selection, whole residues taken (repeatable; default: one "
                        "per residue name, or per molecular formula when the topology names none)")


def add_role_arguments(parser) -> None:
    """Add ``--anion NAME`` and ``--cation NAME`` (repeatable); read them back with :func:`role_keywords`."""
    parser.add_argument("--anion", action="append", default=[], metavar="NAME",
                        help="treat species NAME as an anion (repeatable): needed when the topology has no charges "
                        "and the anion's name or formula is not a known one (PF6, TFSI, FSI, BF4, ...)")
    parser.add_argument("--cation", action="append", default=[], metavar="NAME",
                        help="treat species NAME as a cation, not a Li+ partner or solvent (repeatable)")


def role_keywords(args) -> dict:
    """``{"roles": {species name: "anion"/"cation"}}`` of the parsed ``--anion``/``--cation`` options.

    Raises
    ------
    ValueError
        When one name is given both roles.
    """
    both = sorted(set(args.anion) & set(args.cation))
    if both:
        raise ValueError(f"{both[0]} is given as --anion and as --cation; give one role")
    return {"roles": {**{name: "anion" for name in args.anion}, **{name: "cation" for name in args.cation}}}


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
