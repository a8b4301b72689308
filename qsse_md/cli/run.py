"""``qsse-md run DIR``: run or resume an MD protocol in a build folder."""

from __future__ import annotations

import argparse

from qsse_md.md.protocol import ENGINES, PLATFORMS


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
    parser.add_argument("--engine", choices=ENGINES,
                        help="MD engine (default: the folder's, else the protocol's, else openmm)")
    parser.add_argument("--gmx", metavar="PATH",
                        help="GROMACS program for --engine gromacs (default: gmx on PATH)")
    parser.add_argument("--threads", type=_count("--threads"), metavar="N",
                        help="OpenMP threads of gmx mdrun (per MPI rank) for --engine gromacs "
                        "(default 1)")
    parser.add_argument("--mpi-ranks", type=_count("--mpi-ranks"), metavar="N",
                        help="run gmx mdrun under 'mpirun -np N' (needs an MPI build: "
                        "--gmx gmx_mpi), e.g. across the nodes of a batch job")
    parser.add_argument("--mpirun", metavar="PATH", help="MPI launcher for --mpi-ranks "
                        "(default: mpirun on PATH; srun works too)")
    parser.set_defaults(func=_run)
    return parser


def _count(option: str):
    """Argument type of ``option``: a whole number >= 1."""
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"{option} {text} must be a whole number >= 1")
        return int(text)
    return parse


def _run(args) -> None:
    from qsse_md.md.runner import run

    record = run(args.dir, protocol=args.protocol, platform=args.platform, engine=args.engine,
                 gmx=args.gmx, threads=args.threads, mpi_ranks=args.mpi_ranks, mpirun=args.mpirun)
    done = sum(1 for entry in record["stages"].values() if entry["status"] == "done")
    print(f"ran {record['protocol']['name']} in {args.dir}/: {done} stages done "
          f"on {record['sessions'][-1]['platform']}")
