"""``qsse-md study cooling``: order, released liquid, density and Li+ diffusion per temperature window.

``study cooling SOURCE --out DIR`` runs :func:`qsse_md.workflow.cooling.study_cooling`
(the cooling ladder in ``DIR/md``, resumable, analysed into ``DIR/analysis``) and prints
one line per window.
"""

from __future__ import annotations

from pathlib import Path

from qsse_md.md.protocol import PLATFORMS
from qsse_md.workflow.cooling import study_cooling


def add_study_parser(subparsers) -> None:
    """Add ``study cooling`` to the ``qsse-md`` sub-commands."""
    study = subparsers.add_parser("study", help="multi-stage studies of a run folder")
    studies = study.add_subparsers(dest="study", required=True)
    parser = studies.add_parser("cooling", help="run the cooling ladder from a run's final state and "
                                "analyse order, released liquid, density and Li+ diffusion per window")
    parser.add_argument("source", help="equilibrated run folder (or build folder) to continue from")
    parser.add_argument("--out", required=True, help="study folder: md/ (resumable run) and analysis/")
    parser.add_argument("--protocol", default="cooling", help="protocol name or TOML (default: cooling)")
    parser.add_argument("--platform", choices=PLATFORMS, help="OpenMM platform (default: the protocol's)")
    parser.add_argument("--polymer", help="MDAnalysis selection of the polymer (default: guessed)")
    parser.add_argument("--solvent", help="MDAnalysis selection of the solvent (default: guessed)")
    parser.set_defaults(func=lambda args: _print(study_cooling(
        args.source, out=args.out, protocol=args.protocol, platform=args.platform,
        polymer=args.polymer, solvent=args.solvent), Path(args.out) / "analysis"))


def _print(record, out) -> None:
    print(f"analysed {len(record['windows'])} windows; wrote {out}/")
    for window in record["windows"]:
        print(f"  {window['stage']:24s} {window['temperature_K']:6.1f} K  crystalline "
              f"{window['crystalline_fraction']:.3f}  free {_fmt(window['free_fraction'])}")


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
