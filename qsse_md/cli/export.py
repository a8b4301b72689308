"""``qsse-md export``: write a built box as GROMACS and/or Amber files."""

from __future__ import annotations

from pathlib import Path

FORMATS = ("gromacs", "amber")  # the keys of qsse_md.md.export.FORMAT_FILES


def _export(args) -> None:
    from qsse_md.md.export import export_system

    record = export_system(Path(args.build_dir), Path(args.out), tuple(args.format))
    print(f"exported {args.build_dir} to {args.out}/")
    for fmt, files in record["files"].items():
        print(f"  {fmt:8s} {' '.join(files)}")
    for conversion in record["conversions"]:
        print(f"  converted {conversion['force']} -> {conversion['converted_to']}")
    settings = record["run_settings"]
    print(f"  run with  {settings['nonbonded_method']}, cutoff {settings['nonbonded_cutoff_nm']} nm, "
          f"Ewald tolerance {settings['ewald_error_tolerance']}, constraints "
          f"{settings['constraints']} (see export.json)")


def add_export_parser(subparsers) -> None:
    """Add ``export BUILD_DIR --out DIR [--format gromacs amber]`` to ``subparsers``.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-command collection of the ``qsse-md`` parser; the command calls
        :func:`qsse_md.md.export.export_system` through ``args.func``.
    """
    export = subparsers.add_parser("export", help="write a built box as GROMACS/Amber files")
    export.add_argument("build_dir", help="build folder (from 'qsse-md build')")
    export.add_argument("--out", required=True, help="output folder (must not exist or be empty)")
    export.add_argument("--format", nargs="+", choices=list(FORMATS),
                        default=list(FORMATS), help="formats to write (default: all)")
    export.set_defaults(func=_export)
