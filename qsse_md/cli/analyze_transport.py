"""``qsse-md analyze transport`` and ``qsse-md analyze arrhenius``.

``transport`` parses the options, runs
:func:`qsse_md.workflow.analyze_transport.analyze_transport` (``transport.json``, CSV tables
and plots in ``--out``) and prints D per species and the conductivities. ``arrhenius``
runs :func:`qsse_md.workflow.analyze_transport.fit_transport_series` over transport folders,
prints the activation energies and optionally writes the fits to a JSON file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qsse_md.cli._options import (add_species_arguments, add_trajectory_arguments, parse_pairs, temperature_kelvin,
                                  trajectory_keywords)
from qsse_md.workflow.analyze_transport import analyze_transport, fit_transport_series


def _fmt(value, error, digits=4):
    if value is None:
        return "n/a"
    return f"{value:.{digits}g}" + ("" if error is None else f" ± {error:.2g}")


def _transport(args) -> None:
    species = parse_pairs(args.species, "--species") or None
    charges = parse_pairs(args.charge, "--charge", float) or None
    record = analyze_transport(args.topology, args.trajectory, out=args.out, species=species,
                               temperature_K=args.temperature, charges=charges, compound=args.compound,
                               n_blocks=args.blocks, slope_tolerance=args.slope_tolerance, min_points=args.min_points,
                               remove_drift=not args.no_drift_removal, drift_selection=args.drift_selection,
                               **trajectory_keywords(args))
    print(f"transport of {record['n_frames']} frames (dt {record['dt_ps']:.4g} ps) -> {args.out}/transport.json")
    for name, entry in record["diffusion"].items():
        if entry["D_1e-10_m2_per_s"] is None:
            print(f"  D({name}): no coefficient: {entry['reason']}", file=sys.stderr)
        else:
            print(f"  D({name}) = {_fmt(entry['D_1e-10_m2_per_s'], entry['sem_1e-10_m2_per_s'])} 1e-10 m^2/s "
                  f"(fit {entry['fit_window_ps'][0]:.4g}-{entry['fit_window_ps'][1]:.4g} ps, "
                  f"log-log slope {entry['loglog_slope']:.2f})")
    conductivity = record["conductivity"]
    if conductivity is None:
        print("  conductivity: needs --temperature K (none given, none recorded in a run folder)", file=sys.stderr)
    else:
        if conductivity["reason"]:
            print(f"  conductivity: {conductivity['reason']}", file=sys.stderr)
        else:
            print(f"  sigma = {_fmt(conductivity['sigma_S_per_cm'], conductivity['sigma_sem_S_per_cm'])} S/cm; "
                  f"NE {_fmt(conductivity['sigma_NE_S_per_cm'], conductivity['sigma_NE_sem_S_per_cm'])} S/cm; "
                  f"Haven {_fmt(conductivity['haven_ratio'], conductivity['haven_ratio_sem'], 3)}; "
                  f"t+ {_fmt(conductivity['t_plus'], conductivity['t_plus_sem'], 3)}")


def _arrhenius(args) -> None:
    from qsse_md.fileio import atomic_write_json, check_writable_dir

    if args.out:
        if Path(args.out).is_dir():
            raise ValueError(f"--out {args.out} is a folder; give the name of the JSON file to write")
        check_writable_dir(Path(args.out).parent)
    result = fit_transport_series(args.directories, law=args.law)
    for quantity, fit in result["fits"].items():
        if "arrhenius" in fit and fit["arrhenius"]["reason"] is not None:
            print(f"  {quantity:28s} Ea not determined: {fit['arrhenius']['reason']}")
        elif "arrhenius" in fit:
            a = fit["arrhenius"]
            print(f"  {quantity:28s} Ea = {a['activation_kJ_per_mol']:.2f} ± {a['activation_sem_kJ_per_mol']:.2f} "
                  f"kJ/mol ({a['activation_eV']:.4f} ± {a['activation_sem_eV']:.4f} eV)")
        else:
            print(f"  {quantity:28s} {fit['reason']}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(Path(args.out), result)
        print(f"wrote {args.out}")


def add_transport_parsers(analyses) -> None:
    """Add ``transport`` and ``arrhenius`` to the ``qsse-md analyze`` sub-parsers."""
    transport = analyses.add_parser("transport", help="diffusion, conductivity (NE and collective), Onsager "
                                    "coefficients, transference number")
    add_trajectory_arguments(transport, "topology file (charges from prmtop, PSF, TPR, LAMMPS data, ...; a run "
                             "folder's come from its system.xml)")
    add_species_arguments(transport)
    transport.add_argument("--charge", action="append", metavar="NAME=Q",
                           help="charge (e) of one centre of a species (repeat); overrides the topology's")
    transport.add_argument("--temperature", type=temperature_kelvin, help="temperature (K, 100-2000); enables "
                           "conductivities (default for a run folder: its last stage's)")
    transport.add_argument("--compound", choices=["residues", "atoms"], default="residues",
                           help="centres: residue centres of mass (default) or atoms")
    transport.add_argument("--blocks", type=int, default=5, help="time blocks for standard errors (default 5)")
    transport.add_argument("--slope-tolerance", type=float, default=0.15,
                           help="accept fit windows with log-log MSD slope within 1 ± this (default 0.15)")
    transport.add_argument("--min-points", type=int, default=4, metavar="N",
                           help="fewest MSD lag times (frames) in a fit window (default 4)")
    transport.add_argument("--no-drift-removal", action="store_true", help="keep the system centre-of-mass drift")
    transport.add_argument("--drift-selection", default="all", help="reference group for drift removal")
    transport.set_defaults(func=_transport)

    arrhenius = analyses.add_parser("arrhenius", help="Arrhenius/VTF fits of a temperature series of "
                                    "transport results")
    arrhenius.add_argument("directories", nargs="+", metavar="DIR", help="folders holding transport.json")
    arrhenius.add_argument("--law", choices=["arrhenius", "vtf", "both"], default="arrhenius",
                           help="Arrhenius (default), Vogel-Tammann-Fulcher (needs 4 temperatures) or both")
    arrhenius.add_argument("--out", help="also write the fits to this JSON file (its folder is created)")
    arrhenius.set_defaults(func=_arrhenius)
