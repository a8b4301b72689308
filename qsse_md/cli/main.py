"""The ``qsse-md`` command line: thin commands over library functions.

Expected mistakes (bad options, bad input, missing files, failed packing) print one line
``qsse-md: error: ...`` and exit with code 2; no traceback, no usage block. Python
warnings raised while a command runs are logged as one-line ``note:`` messages (deprecation
warnings, meant for developers, are not shown).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

from qsse_md import __version__
from qsse_md.cli.analyze import add_analyze_parser
from qsse_md.cli.campaign import add_campaign_parser
from qsse_md.cli.export import add_export_parser
from qsse_md.cli.run import add_run_parser
from qsse_md.cli.study_cooling import add_study_parser
from qsse_md.errors import UserFixableError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEVELOPER_WARNINGS = (DeprecationWarning, PendingDeprecationWarning)  # about library code, not the user's input


def _species_list(args) -> None:
    from qsse_md.chem.species import list_species

    print(f"{'name':9s} {'kind':8s} {'res':4s} {'formula':14s} {'M (g/mol)':>10s} "
          f"{'q (e)':>6s}  SMILES")
    for species in list_species(args.kind):
        print(f"{species.name:9s} {species.kind:8s} {species.residue_name:4s} "
              f"{species.formula:14s} {species.molar_mass_g_per_mol:10.3f} "
              f"{species.charge_e:+6d}  {species.smiles}")


def _species_show(args) -> None:
    from qsse_md.chem.species import get_species

    species = get_species(args.name)
    record = {
        "name": species.name, "kind": species.kind, "description": species.description,
        "smiles": species.smiles, "canonical_smiles": species.canonical_smiles,
        "formula": species.formula,
        "molar_mass_g_per_mol": round(species.molar_mass_g_per_mol, 4),
        "charge_e": species.charge_e, "atoms": species.atom_count,
        "residue_name": species.residue_name,
        "density_g_per_cm3": species.density_g_per_cm3, "ions": list(species.ions),
    }
    for key, value in record.items():
        if value not in (None, [], ""):
            print(f"{key:22s} {value}")


def _build(args) -> None:
    from qsse_md.assembly.builder import build_system
    from qsse_md.assembly.recipe import load_recipe
    from qsse_md.resources import file_or_shipped, systems_dir

    recipe = load_recipe(file_or_shipped(args.recipe, systems_dir(), "recipe"))
    record = build_system(recipe, Path(args.out))
    _print_summary(record, Path(args.out))


def _demo(args) -> None:
    from qsse_md.workflow.demo import run_demo

    out = Path(args.out)
    summary = run_demo(out, on_built=lambda record: _print_summary(record, out))
    md, density = summary["md"], summary["density_g_per_cm3"]
    speed = "n/a" if md["speed_ns_per_day"] is None else f"{md['speed_ns_per_day']:.1f}"
    print(f"ran {md['simulated_ps']:.0f} ps at {speed} ns/day (wall clock); density {density['mean']:.3f} g/cm3 "
          f"({density['stage']})")
    for label, shell in summary["li_first_shell"].items():
        default = "" if shell["cutoff_reason"] is None else " (default: no g(r) minimum)"
        print(f"  Li-{label:8s} first shell <= {shell['first_shell_cutoff_angstrom']:.2f} Å{default}: "
              f"{shell['coordination_number']:.2f}")
    print(f"report: {out / 'report.md'}; summary: {out / 'summary.json'}; plots: {out / 'plots'}/")


def _systems(args) -> None:
    from qsse_md.assembly.recipe import load_recipe
    from qsse_md.resources import systems_dir

    for path in sorted(systems_dir().glob("*.toml")):
        try:
            recipe = load_recipe(path)
        except ValueError:
            continue
        print(f"{path.stem:14s} {recipe.description}")


def _print_summary(record: dict, out: Path) -> None:
    print(f"built {record['name']} in {out}/")
    print(f"  species   {json.dumps(record['species_counts'])}")
    print(f"  atoms     {record['atoms']}")
    print(f"  box edge  {record['box_edge_nm']:.3f} nm")
    packing = record["packing"]
    if packing["compression_ps"]:
        print(f"  packed    {packing['packed_density_g_per_cm3']:.3f} g/cm3, squeezed for "
              f"{packing['compression_ps']:.0f} ps at 1000 bar")
    print(f"  density   {record['density_g_per_cm3']:.3f} g/cm3 (built box; NPT relaxes it)")
    print(f"  charge    {record['total_charge_e']:+.6f} e")
    energies = record["potential_energy_kj_per_mol"]
    print(f"  energy    {energies['packed']:.1f} -> {energies['minimised']:.1f} kJ/mol "
          "(packed -> minimised)")
    print(f"  time      {record['timings_s']['total']:.1f} s")


class CommandLineParser(argparse.ArgumentParser):
    """Argument parser whose usage errors become the one-line ``qsse-md: error:`` of :func:`main`.

    Sub-command parsers are made with the class of their parent, so every parser of
    ``qsse-md`` is one of these.
    """

    def error(self, message: str):
        """Raise the usage error ``message`` (with the sub-command and where to find help)."""
        command = self.prog.removeprefix("qsse-md").strip()
        where = f"{command}: " if command else ""
        raise UserFixableError(f"{where}{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``qsse-md``."""
    parser = CommandLineParser(
        prog="qsse-md", description="Build, run and analyse MD of lithium polymer electrolytes: "
        "SMILES -> parameterised box -> OpenMM dynamics -> solvation, transport, order.")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    parser.add_argument("--version", action="version", version=f"qsse-md {__version__}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True)

    species = commands.add_parser("species", help="the species registry")
    species_commands = species.add_subparsers(dest="species_command", required=True)
    listing = species_commands.add_parser("list", help="list registry species")
    listing.add_argument("--kind", choices=["monomer", "solvent", "ion", "salt"],
                         help="list only species of this kind")
    listing.set_defaults(func=_species_list)
    show = species_commands.add_parser("show", help="show one species (name or SMILES)")
    show.add_argument("name", help="registry name (EC, DOA, LiPF6, ...) or a SMILES; a SMILES of a "
                      "registry molecule shows that species")
    show.set_defaults(func=_species_show)

    build = commands.add_parser("build", help="build a recipe into a minimised OpenMM box")
    build.add_argument("recipe", help="recipe TOML file, or the name of a shipped one")
    build.add_argument("--out", required=True, help="output folder (must not exist)")
    build.set_defaults(func=_build)

    demo = commands.add_parser("demo", help="build, run and analyse the built-in default box "
                               "(resumes when run again on the same folder)")
    demo.add_argument("--out", default="qsse_demo", help="output folder (default qsse_demo)")
    demo.set_defaults(func=_demo)

    systems = commands.add_parser("systems", help="list the shipped system recipes")
    systems.set_defaults(func=_systems)
    add_run_parser(commands)
    add_export_parser(commands)
    add_analyze_parser(commands)
    add_campaign_parser(commands)
    add_study_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qsse-md`` console script; returns the exit code.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 when a campaign ended with failed tasks, ``EXIT_USAGE`` (2) after
        an expected mistake, reported as one line on stderr.
    """
    from qsse_md.report.inputs import one_line

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("MDAnalysis").setLevel(logging.ERROR)
    with warnings.catch_warnings(), _finalizer_errors_hidden(), _termination_interrupts():
        warnings.showwarning = _log_warning_note
        try:
            args = build_parser().parse_args(argv)
            logging.getLogger("qsse_md").setLevel(logging.WARNING if args.quiet else logging.INFO)
            code = args.func(args)
        except (ValueError, OSError, UserFixableError) as error:
            print(f"qsse-md: error: {one_line(error)}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print("qsse-md: interrupted; nothing half-written is left (a run resumes from its "
                  "last checkpoint when started again)", file=sys.stderr)
            return EXIT_INTERRUPTED
    return code or 0


@contextmanager
def _termination_interrupts():
    """Turn SIGTERM into KeyboardInterrupt while a command runs, so that a killed command
    unwinds like Ctrl-C: child processes (PACKMOL) are stopped and staging folders removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _log_warning_note(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` of the CLI: one log line ``note: <message>``, no source line.

    Deprecation warnings are dropped: libraries (MDAnalysis) turn theirs on at import, but
    they are about library code, not about the user's input.
    """
    if issubclass(category, DEVELOPER_WARNINGS):
        return
    logging.getLogger("qsse_md.cli").warning("note: %s", " ".join(str(message).split()))


@contextmanager
def _finalizer_errors_hidden():
    """Keep errors raised by finalizers off the terminal while a command runs.

    A trajectory reader that failed to open (a text file named ``.xtc``) raises again in
    its ``__del__``; such errors are logged at debug level, and collected before leaving.
    """
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: logging.getLogger("qsse_md.cli").debug(
        "ignored in a finalizer: %s", unraisable.exc_value)
    try:
        yield
    finally:
        gc.collect()
        sys.unraisablehook = previous


if __name__ == "__main__":
    sys.exit(main())
