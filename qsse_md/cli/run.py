"""``qsse-md run DIR``: run or resume an MD protocol in a build folder."""

from __future__ import annotations

import argparse

from qsse_md.md.protocol import PLATFORMS


def add_run_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``run`` command to the ``qsse-md`` sub-command parsers."""
    parser = subparsers.add_parser(
        "run", help="run (or resume) an MD protocol in a build folder",
        description="Run an MD protocol on a folder written by 'qsse-md build'. Run the same "
                    "command again after an interruption to continue from the last checkpoint.")
    parser.add_argument("dir", help="build folder (topology.pdb, system.xml)")
    parser.add_argument("--protocol", help="protocol TOML file or shipped name (reference, "
                        "cooling, test); default: the folder's recorded protocol, else reference")
    parser.add_argument("--platform", choices=PLATFORMS,
                        help="OpenMM platform (default: the protocol's)")
    parser.set_defaults(func=_run)
    return parser


def _run(args) -> None:
    from qsse_md.md.runner import run

    record = run(args.dir, protocol=args.protocol, platform=args.platform)
    done = sum(1 for entry in record["stages"].values() if entry["status"] == "done")
    print(f"ran {record['protocol']['name']} in {args.dir}/: {done} stages done "
          f"on {record['sessions'][-1]['platform']}")
