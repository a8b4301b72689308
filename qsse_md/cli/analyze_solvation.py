"""``qsse-md analyze solvation``: Li+ solvation shells of any trajectory, or of a run folder.

Writes ``DIR/solvation.json`` (coordination numbers per species, per coordinating group
and per molecule with block standard errors, shell compositions, ion pairing, cluster
sizes, residence times, polymer-solvent affinity, cutoffs, frames, units), CSV tables,
PNG plots and, with ``--clusters N``, DFT inputs of representative clusters. The folder
appears complete or not at all.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

UNITS = {"distance": "angstrom", "time": "ps", "coordination_number": "partners per Li+ (dimensionless)",
         "fractions": "dimensionless"}
PLOTS = {"coordination_species": ("plot_coordination", {"counting": "species"}),
         "coordination_groups": ("plot_coordination", {"counting": "group"}),
         "distribution_species": ("plot_distribution", {"counting": "species"}),
         "compositions": ("plot_compositions", {}),
         "ion_pairing": ("plot_ion_pairing", {}),
         "cluster_sizes": ("plot_cluster_sizes", {}),
         "residence": ("plot_residence", {})}


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
    parser.add_argument("--start", type=int, help="first frame index")
    parser.add_argument("--stop", type=int, help="frame index to stop before")
    parser.add_argument("--step", type=int, help="frame step")
    parser.add_argument("--out", required=True, help="output folder (must not exist or be empty)")
    parser.add_argument("--clusters", type=int, default=0, metavar="N",
                        help="write DFT inputs of the N most frequent shell compositions")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="analyse the solvation pass in N processes over frame blocks (default 1: serial)")
    parser.set_defaults(func=_command)


def _command(args) -> None:
    record = analyze_solvation(args.topology, args.trajectory, out=args.out, solute=args.solute,
                               species=_pairs(args.species, "--species"), cutoffs=_cutoffs(args.cutoff),
                               start=args.start, stop=args.stop, step=args.step, clusters=args.clusters,
                               workers=args.workers)
    frames = record["frames"]
    print(f"analysed {frames['n_frames']} frames of {record['inputs']['trajectory']}; wrote {args.out}/")
    for label, value in record["coordination"]["species"].items():
        print(f"  Li+ - {label:12s} {value['mean']:.3f} ± {_or_nan(value['sem']):.3f}")


def _or_nan(value) -> float:
    return float("nan") if value is None else value


def _pairs(items, option) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"{option} {item!r}: expected NAME=VALUE")
        pairs[name.strip()] = value.strip()
    return pairs


def _cutoffs(items):
    if len(items) == 1 and "=" not in items[0]:
        return _number(items[0], "--cutoff")
    return {name: _number(value, f"--cutoff {name}") for name, value in _pairs(items, "--cutoff").items()} or None


def _number(text, option) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{option}: {text!r} is not a number of Å") from None


def resolve_inputs(topology, trajectory=None) -> tuple[Path, Path]:
    """Topology and trajectory paths; a run folder gives topology.pdb and its last stage's trajectory."""
    topology = Path(topology)
    if topology.is_dir() and trajectory is None:
        from qsse_md.report.run_report import last_trajectory

        return topology / "topology.pdb", last_trajectory(topology)
    if trajectory is None:
        raise ValueError(f"{topology}: give a TRAJECTORY after the topology, or a qsse-md run folder alone")
    for path in (topology, Path(trajectory)):
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; check the path")
    return topology, Path(trajectory)


def load_universe(topology: Path, trajectory: Path):
    """MDAnalysis Universe with one-line errors for unreadable, truncated or mismatched files.

    The last frame is read once up front: MDAnalysis' XTC reader otherwise ends the
    iteration silently before a truncated last frame.
    """
    import MDAnalysis as mda

    try:
        universe = mda.Universe(str(topology), str(trajectory))
        universe.trajectory[-1]  # a truncated last frame fails here instead of ending the pass silently
        universe.trajectory[0]
    except ValueError as error:
        raise ValueError(f"cannot load {topology} with {trajectory}: {_one_line(error)}; check that both "
                         "files belong to the same system") from error
    except (OSError, EOFError, IndexError, RuntimeError) as error:
        raise ValueError(f"cannot read {trajectory}: {_one_line(error)}; check the file is complete and in a "
                         "format MDAnalysis reads") from error
    if universe.trajectory.ts.dimensions is None or np.any(universe.trajectory.ts.dimensions[:3] <= 0):
        raise ValueError(f"{trajectory} has no periodic box; shells need one (add it with "
                         "MDAnalysis.transformations.boxdimensions.set_dimensions)")
    return universe


def _one_line(error) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def analyze_solvation(topology, trajectory=None, *, out, solute=None, species=None, cutoffs=None, start=None,
                      stop=None, step=None, clusters=0, workers=1) -> dict:
    """Run the solvation analysis (and polymer-solvent affinity) and write ``out`` atomically.

    Parameters mirror the command-line options; ``species`` maps names to selections,
    ``cutoffs`` is a number (Å) or a dict of species name to Å; ``workers`` > 1 runs the
    solvation pass over frame blocks in that many processes (same results). Returns the record
    written as ``solvation.json``.
    """
    from qsse_md.analysis.groups import anion_partners, coordinating_atoms, default_solvation
    from qsse_md.analysis.species_guess import guess_species, species_from_selections
    from qsse_md.fileio import atomic_write_json, check_new_output_dir, staged_output_dir

    check_new_output_dir(Path(out))
    if clusters < 0:
        raise ValueError(f"--clusters {clusters}: give a number >= 0")
    if int(workers) != workers or workers < 1:
        raise ValueError(f"--workers {workers}: give a whole number >= 1")
    topology, trajectory = resolve_inputs(topology, trajectory)
    universe = load_universe(topology, trajectory)
    guess = species_from_selections(universe, species, solute) if species else guess_species(universe, solute)
    donors = coordinating_atoms(guess)
    solvation = default_solvation(guess, donors, cutoffs)
    frames = {"start": start, "stop": stop, "step": step}
    try:
        parallel = {"backend": "multiprocessing", "n_workers": int(workers)} if workers > 1 else {}
        solvation.run(**frames, **parallel)
        affinity = _affinity(guess, frames)
    except (OSError, EOFError, RuntimeError) as error:
        raise ValueError(f"cannot read {trajectory}: {_one_line(error)}; check the file is complete") from error
    with staged_output_dir(Path(out)) as staging:
        record = _record(solvation, guess, donors, affinity, topology, trajectory, frames)
        _write_tables(solvation, affinity, staging)
        _write_plots(solvation, affinity, staging)
        if clusters:
            from qsse_md.analysis.clusters import write_clusters

            record["clusters"] = write_clusters(universe, solvation.results.table, staging / "clusters", clusters,
                                                anions=anion_partners(guess, donors))
        atomic_write_json(staging / "solvation.json", _jsonable(record))
    return _jsonable(record)


def _affinity(guess, frames):
    """PolymerSolventAffinity when the box has a polymer and solvents, else None."""
    from qsse_md.analysis.affinity import PolymerSolventAffinity

    polymers, solvents = guess.names("polymer"), guess.names("solvent")
    if not polymers or not solvents:
        return None
    polymer = sum((guess.species[name].atoms for name in polymers[1:]), guess.species[polymers[0]].atoms)
    return PolymerSolventAffinity(polymer, {name: guess.species[name].atoms for name in solvents}).run(**frames)


def _record(solvation, guess, donors, affinity, topology, trajectory, frames) -> dict:
    r = solvation.results
    coordination = {}
    for row in r.coordination.itertuples():
        coordination.setdefault(row.counting, {})[row.label] = {"mean": row.mean, "sem": row.sem}
    return {
        "units": UNITS,
        "inputs": {"topology": str(topology), "trajectory": str(trajectory)},
        "frames": {**frames, "n_frames": int(solvation.n_frames), "first_time_ps": float(r.times_ps[0]),
                   "last_time_ps": float(r.times_ps[-1])},
        "solute": {"atoms": len(guess.solute), "atom_indices": guess.solute.ix.tolist()},
        "species": {name: {"role": s.role, "atoms": len(s.atoms), "residues": len(s.atoms.residues),
                           "coordinating_atoms": len(donors.partners.get(name, []))}
                    for name, s in guess.species.items()},
        "groups": {label: len(atoms) for label, atoms in donors.groups.items()},
        "cutoffs_angstrom": r.cutoffs_angstrom,
        "coordination": coordination,
        "shell_compositions": r.compositions.to_dict("records"),
        "group_compositions": None if r.group_compositions is None else r.group_compositions.to_dict("records"),
        "pairing_fractions": r.pairing_fractions,
        "ion_pairing": r.ion_pairing,
        "cluster_sizes": None if r.cluster_sizes is None else r.cluster_sizes.to_dict("records"),
        "residence_times_ps": r.residence_times_ps,
        "residence_fit_times_ps": r.residence_fit_times_ps,
        "polymer_solvent_affinity": None if affinity is None else {
            "cutoff_angstrom": affinity.results.cutoff_angstrom, "n_molecules": affinity.results.n_molecules,
            "n_repeat_units": affinity.results.n_repeat_units, "by_species": affinity.results.mean},
        "clusters": None,
    }


def _write_tables(solvation, affinity, folder: Path) -> None:
    r = solvation.results
    tables = {"contacts": r.table, "coordination": r.coordination, "coordination_by_frame": r.coordination_by_frame,
              "coordination_distribution": r.coordination_distribution, "compositions": r.compositions,
              "group_compositions": r.group_compositions, "ion_pairing_by_frame": r.ion_pairing_by_frame,
              "ion_clusters": r.clusters, "cluster_sizes": r.cluster_sizes, "residence": r.residence.to_dataframe(),
              "affinity": None if affinity is None else affinity.to_dataframe()}
    for name, table in tables.items():
        if table is not None:
            table.to_csv(folder / f"{name}.csv", index=name in ("coordination_by_frame", "ion_pairing_by_frame"))


def _write_plots(solvation, affinity, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = folder / "plots"
    plots.mkdir()
    calls = [(name, getattr(solvation, method), kwargs) for name, (method, kwargs) in PLOTS.items()
             if name not in ("ion_pairing", "cluster_sizes") or solvation.results.ion_pairing is not None]
    if affinity is not None:
        calls.append(("affinity", affinity.plot, {}))
    for name, method, kwargs in calls:
        ax = method(**kwargs)
        ax.figure.tight_layout()
        ax.figure.savefig(plots / f"{name}.png", dpi=120)
        plt.close(ax.figure)


def _jsonable(value):
    """Plain JSON types: numpy scalars to Python, NaN and inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    return value

