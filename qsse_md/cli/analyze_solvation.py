"""``qsse-md analyze solvation``: Li+ solvation shells of any trajectory, or of a run folder.

Parses the options and runs :func:`qsse_md.report.solvation_report.analyze_solvation`,
which writes ``DIR/solvation.json``, CSV tables, PNG plots and, with ``--clusters N``, DFT
inputs of representative clusters; prints the coordination numbers per species.
"""

from __future__ import annotations

from qsse_md.cli._options import add_frame_options, parse_pairs
from qsse_md.report.solvation_report import analyze_solvation


def add_solvation_parser(analyses) -> None:
    """Add the ``solvation`` sub-command to the ``qsse-md analyze`` sub-parsers."""
    parser = analyses.add_parser("solvation", help="Li+ solvation shells: coordination, compositions, ion "
                                 "pairing, residence, DFT clusters")
    parser.add_argument("topology", help="topology file (PDB with bonds, TPR, data, prmtop, ...) or a "
                        "qsse-md run folder (then leave out TRAJECTORY)")
    parser.add_argument("trajectory", nargs="?", help="trajectory file (any format MDAnalysis reads)")
    parser.add_argument("--solute", help="MDAnalysis selection of the Li+ atoms (default: element Li)")
    parser.add_argument("--species", action="append", default=[], metavar="NAME=SEL",
                        help="a partner species as an MDAnalysis selection (repeatable; default: guessed)")
    parser.add_argument("--cutoff", action="append", default=[], metavar="NAME=Å",
                        help="shell cutoff of a species in Å, or one number for all (default: first minimum "
                        "of g(r))")
    add_frame_options(parser)
    parser.add_argument("--out", required=True, help="output folder (must not exist or be empty)")
    parser.add_argument("--clusters", type=int, default=0, metavar="N",
                        help="write DFT inputs of the N most frequent shell compositions")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="analyse the solvation pass in N processes over frame blocks (default 1: serial)")
    parser.set_defaults(func=_command)


def _command(args) -> None:
    record = analyze_solvation(args.topology, args.trajectory, out=args.out, solute=args.solute,
                               species=parse_pairs(args.species, "--species"), cutoffs=_cutoffs(args.cutoff),
                               start=args.start, stop=args.stop, step=args.step, clusters=args.clusters,
                               workers=args.workers)
    frames = record["frames"]
    print(f"analysed {frames['n_frames']} frames of {record['inputs']['trajectory']}; wrote {args.out}/")
    for label, value in record["coordination"]["species"].items():
        exchange = record["shell_exchange"].get(label, {}).get("exchange_time_ps")
        exchange_text = (f"exchange {exchange:.0f} ps" if exchange is not None
                         else "exchange slower than the run")
        print(f"  Li+ - {label:12s} {value['mean']:.3f} ± {_or_nan(value['sem']):.3f} (block sem; "
              f"{exchange_text}, run {record['run_length_ps']:.0f} ps)")


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
