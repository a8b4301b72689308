"""``qsse-md analyze solvation``: Li+ solvation shells of any trajectory, or of a run folder.

Parses the options and runs :func:`qsse_md.workflow.analyze_solvation.analyze_solvation`,
which writes ``DIR/solvation.json``, CSV tables, PNG plots and, with ``--clusters N``, DFT
inputs of representative clusters; prints the coordination numbers per species.
"""

from __future__ import annotations

from qsse_md.analysis.solvation.groups import COUNT_RULES
from qsse_md.cli._options import (add_role_arguments, add_species_arguments, add_trajectory_arguments, parse_pairs,
                                  role_keywords, trajectory_keywords)
from qsse_md.workflow.analyze_solvation import analyze_solvation

COUNT_HELP = ("what makes a molecule a Li+ partner: 'donors' (default), one of its O/N/F atoms within the "
              "cutoff; 'any-atom', any of its atoms, H included (solvation_analysis' rule)")
CUTOFF_HELP = ("shell cutoff of a species in Å, or one number for all; default: the first minimum of the Li+ - "
               "partner-atom g(r) up to 8 Å (partner atoms as --count says), 3 Å where g(r) has none")


def add_solvation_parser(analyses) -> None:
    """Add the ``solvation`` sub-command to the ``qsse-md analyze`` sub-parsers."""
    parser = analyses.add_parser("solvation", help="Li+ solvation shells: coordination, compositions, ion "
                                 "pairing, residence, DFT clusters")
    add_trajectory_arguments(parser, "topology file (PDB with bonds, TPR, LAMMPS data, prmtop, PSF, ...)")
    parser.add_argument("--solute", help="MDAnalysis selection of the Li+ atoms (default: element Li, with "
                        "elements inferred from masses when the topology has none)")
    add_species_arguments(parser)
    add_role_arguments(parser)
    parser.add_argument("--count", choices=COUNT_RULES, default="donors", help=COUNT_HELP)
    parser.add_argument("--cutoff", action="append", default=[], metavar="NAME=Å", help=CUTOFF_HELP)
    parser.add_argument("--clusters", type=int, default=0, metavar="N",
                        help="write DFT inputs of the N most frequent shell compositions")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="analyse the solvation pass in N processes over frame blocks (default 1: serial)")
    parser.set_defaults(func=_command)


def _command(args) -> None:
    record = analyze_solvation(args.topology, args.trajectory, out=args.out, solute=args.solute,
                               species=parse_pairs(args.species, "--species"), cutoffs=_cutoffs(args.cutoff),
                               count=args.count, clusters=args.clusters, workers=args.workers,
                               **role_keywords(args), **trajectory_keywords(args))
    frames = record["frames"]
    print(f"analysed {frames['n_frames']} frames of {record['inputs']['trajectory']}; wrote {args.out}/ "
          f"(partners counted by {args.count})")
    solute = "Li+" if args.solute is None else "solute"
    for label, value in record["coordination"]["species"].items():
        exchange = record["shell_exchange"].get(label, {}).get("exchange_time_ps")
        exchange_text = (f"exchange {exchange:.0f} ps" if exchange is not None
                         else "exchange slower than the run")
        print(f"  {solute} - {label:12s} {value['mean']:.3f} ± {_or_nan(value['sem']):.3f} (block sem; "
              f"cutoff {_cutoff_text(record, label)}; {exchange_text}, run {record['run_length_ps']:.0f} ps)")


def _cutoff_text(record, label) -> str:
    reason = record["cutoff_reasons"].get(label)
    return f"{record['cutoffs_angstrom'][label]:.2f} Å" + (f", default: {reason}" if reason else "")


def _or_nan(value) -> float:
    return float("nan") if value is None else value


def _cutoffs(items):
    if len(items) == 1 and "=" not in items[0]:
        return _number(items[0], "--cutoff")
    pairs = parse_pairs(items, "--cutoff")
    return {name: _number(value, f"--cutoff {name}") for name, value in pairs.items()} or None


def _number(text, option) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{option}: {text!r} is not a number of Å") from None
