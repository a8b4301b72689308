"""``qsse-md analyze``: trajectory analyses, one sub-command each."""

from __future__ import annotations


def add_analyze_parser(subparsers) -> None:
    """Add ``analyze {solvation,transport,...}`` to the ``qsse-md`` sub-commands."""
    from qsse_md.cli.analyze_crystallization import add_crystallization_parser
    from qsse_md.cli.analyze_solvation import add_solvation_parser
    from qsse_md.cli.analyze_transport import add_transport_parsers

    analyze = subparsers.add_parser("analyze", help="analyse trajectories (any format "
                                    "MDAnalysis reads)")
    analyses = analyze.add_subparsers(dest="analysis", required=True)
    add_solvation_parser(analyses)
    add_transport_parsers(analyses)
    add_crystallization_parser(analyses)
