"""``qsse-md analyze crystallization``: polymer order, scattering and released liquid of a trajectory.

Parses the options, runs
:func:`qsse_md.workflow.analyze_crystallization.analyze_crystallization` (which writes
``DIR/crystallization.json``, CSV tables and PNG plots) and prints its warnings and the
crystalline fraction and nematic order per polymer.
"""

from __future__ import annotations

from qsse_md.cli._options import add_role_arguments, add_trajectory_arguments, role_keywords, trajectory_keywords
from qsse_md.workflow.analyze_crystallization import analyze_crystallization


def add_crystallization_parser(analyses) -> None:
    """Add the ``crystallization`` sub-command to the ``qsse-md analyze`` sub-parsers."""
    parser = analyses.add_parser("crystallization", help="polymer chain order, X-ray S(q), released liquid, "
                                 "side-chain packing, density breaks")
    add_trajectory_arguments(parser, "topology with bonds (PDB with CONECT, TPR, LAMMPS data, PSF, ...)")
    parser.add_argument("--polymer", help="MDAnalysis selection of the polymer (default: guessed)")
    parser.add_argument("--solvent", help="MDAnalysis selection of the solvent (default: guessed)")
    add_role_arguments(parser)
    parser.add_argument("--span", type=int, default=2, help="chord span in backbone atoms (default 2)")
    parser.add_argument("--order-cutoff", type=float, default=5.0, help="chord neighbour cutoff, Å")
    parser.add_argument("--threshold", type=float, default=0.8, help="local P2 of a crystalline chord")
    parser.add_argument("--q-min", type=float, default=0.3, help="smallest q, 1/Å")
    parser.add_argument("--q-max", type=float, default=5.0, help="largest q, 1/Å")
    parser.add_argument("--wavelength", type=float, default=1.5406, help="X-ray wavelength for 2θ, Å")
    parser.add_argument("--direct", action="store_true", help="also compute S(q) on box-allowed q vectors")
    parser.add_argument("--steinhardt", metavar="SEL", help="Steinhardt q4/q6 of these atoms (needs freud)")
    parser.set_defaults(func=_command)


def _command(args) -> None:
    record = analyze_crystallization(
        args.topology, args.trajectory, out=args.out, polymer=args.polymer, solvent=args.solvent, span=args.span,
        order_cutoff=args.order_cutoff, threshold=args.threshold, q_range=(args.q_min, args.q_max),
        wavelength=args.wavelength, direct=args.direct, steinhardt=args.steinhardt, **role_keywords(args),
        **trajectory_keywords(args))
    for note in record["warnings"]:
        print(f"warning: {note}")
    print(f"analysed {record['frames']['n_frames']} frames; wrote {args.out}/")
    for name, value in record["chain_order"]["mean"].items():
        print(f"  {name}: crystalline fraction {value['crystalline_fraction']['mean']:.3f}, "
              f"nematic S {value['nematic_order']['mean']:.3f}")
