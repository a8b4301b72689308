"""Li+ solvation shells of any trajectory, or of a run folder, written to a folder.

:func:`analyze_solvation` writes ``DIR/solvation.json`` (coordination numbers per species,
per coordinating group and per molecule with block standard errors, shell compositions,
ion pairing, cluster sizes, residence times, polymer-solvent affinity, cutoffs, frames,
units; a fitted residence time that is not determined is null, with its reason in
``residence_fit_reasons``, and a cutoff that g(r) did not give has its reason in
``cutoff_reasons``), CSV tables, PNG plots and, with ``clusters=N``, DFT inputs of representative
clusters. The folder appears complete or not at all. ``qsse-md analyze solvation`` is its
command.
"""

from __future__ import annotations

from pathlib import Path

from qsse_md.report.inputs import jsonable, load_universe, one_line, resolve_inputs

UNITS = {"distance": "angstrom", "time": "ps", "coordination_number": "partners per Li+ (dimensionless)",
         "fractions": "dimensionless"}
PLOTS = {"coordination_species": ("plot_coordination", {"counting": "species"}),
         "coordination_groups": ("plot_coordination", {"counting": "group"}),
         "distribution_species": ("plot_distribution", {"counting": "species"}),
         "compositions": ("plot_compositions", {}),
         "ion_pairing": ("plot_ion_pairing", {}),
         "cluster_sizes": ("plot_cluster_sizes", {}),
         "residence": ("plot_residence", {})}


def analyze_solvation(topology, trajectory=None, *, out, solute=None, species=None, cutoffs=None, roles=None,
                      count="donors", box=None, dt_ps=None, start=None, stop=None, step=None, clusters=0, workers=1) -> dict:
    """Run the solvation analysis (and polymer-solvent affinity) and write ``out`` atomically.

    Parameters mirror the command-line options; ``species`` maps names to selections,
    ``cutoffs`` is a number (Å) or a dict of species name to Å (default: each species'
    first g(r) minimum, :class:`qsse_md.analysis.solvation.solvation.Solvation`); ``roles`` maps
    species names to "anion"/"cation"; ``count`` is "donors" (O/N/F atoms are the partners)
    or "any-atom" (every atom, solvation_analysis' rule;
    :func:`qsse_md.analysis.solvation.groups.coordinating_atoms`); ``box`` is the periodic box of
    every frame, ``a b c [alpha beta gamma]`` in Å and degrees, and ``dt_ps`` the time between
    frames in ps, for trajectories without them (:func:`qsse_md.report.inputs.load_universe`); ``workers`` > 1 runs the
    solvation pass over frame blocks in that many processes (same results). Returns the record
    written as ``solvation.json``.
    """
    from qsse_md.analysis._checks import checked_frame_times, checked_frames, checked_selections
    from qsse_md.analysis.solvation.groups import anion_partners, coordinating_atoms, default_solvation
    from qsse_md.analysis.species_guess import guess_species, species_from_selections
    from qsse_md.fileio import atomic_write_json, check_new_output_dir, staged_output_dir

    check_new_output_dir(Path(out))
    if clusters < 0:
        raise ValueError(f"--clusters {clusters}: give a number >= 0")
    if int(workers) != workers or workers < 1:
        raise ValueError(f"--workers {workers}: give a whole number >= 1")
    topology, trajectory = resolve_inputs(topology, trajectory)
    universe = load_universe(topology, trajectory, box, dt_ps)
    checked_frames(universe.trajectory.n_frames, start, stop, step)
    checked_selections(universe, {"--solute": solute, **{f"--species {name}": selection
                                                        for name, selection in (species or {}).items()}})
    guess = (species_from_selections(universe, species, solute, roles) if species
             else guess_species(universe, solute, roles))
    donors = coordinating_atoms(guess, count=count)
    solvation = default_solvation(guess, donors, cutoffs)
    checked_frame_times(universe.trajectory)
    frames = {"start": start, "stop": stop, "step": step}
    try:
        parallel = {"backend": "multiprocessing", "n_workers": int(workers)} if workers > 1 else {}
        solvation.run(**frames, **parallel)
        affinity = _affinity(guess, frames)
    except (OSError, EOFError, RuntimeError) as error:
        raise ValueError(f"cannot read {trajectory}: {one_line(error)}; check the file is complete") from error
    with staged_output_dir(Path(out)) as staging:
        record = _record(solvation, guess, donors, affinity, topology, trajectory, frames)
        record["count"] = count
        _write_tables(solvation, affinity, staging)
        _write_plots(solvation, affinity, staging)
        if clusters:
            from qsse_md.analysis.solvation.clusters import write_clusters

            record["clusters"] = write_clusters(universe, solvation.results.table, staging / "clusters", clusters,
                                                anions=anion_partners(guess, donors))
        atomic_write_json(staging / "solvation.json", jsonable(record))
    return jsonable(record)


def _affinity(guess, frames):
    """PolymerSolventAffinity when the box has a polymer and solvents, else None."""
    from qsse_md.analysis.solvation.affinity import PolymerSolventAffinity

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
        "cutoff_reasons": r.cutoff_reasons,
        "coordination": coordination,
        "shell_compositions": r.compositions.to_dict("records"),
        "group_compositions": None if r.group_compositions is None else r.group_compositions.to_dict("records"),
        "pairing_fractions": r.pairing_fractions,
        "ion_pairing": r.ion_pairing,
        "cluster_sizes": None if r.cluster_sizes is None else r.cluster_sizes.to_dict("records"),
        "residence_times_ps": r.residence_times_ps,
        "residence_fit_times_ps": r.residence_fit_times_ps,
        "residence_fit_sems_ps": r.residence.fit_time_sems_ps,
        "residence_fit_reasons": r.residence_fit_reasons,
        "run_length_ps": r.run_length_ps,
        "shell_exchange": r.shell_exchange,
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
