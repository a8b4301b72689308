"""Li+ solvation results written to a folder.

:func:`write_solvation` writes ``DIR/solvation.json`` (coordination numbers per species,
per coordinating group and per molecule with block standard errors, shell compositions,
ion pairing, cluster sizes, residence times, polymer-solvent affinity, cutoffs, frames,
units; a fitted residence time that is not determined is null, with its reason in
``residence_fit_reasons``, and a cutoff that g(r) did not give has its reason in
``cutoff_reasons``), CSV tables, PNG plots and, when asked, DFT inputs of representative
clusters. The folder appears complete or not at all. The analysis runs in
:func:`qsse_md.workflow.analyze_solvation.analyze_solvation`.
"""

from __future__ import annotations

from pathlib import Path

from qsse_md.report.inputs import jsonable

UNITS = {"distance": "angstrom", "time": "ps", "coordination_number": "partners per Li+ (dimensionless)",
         "fractions": "dimensionless"}
PLOTS = {"coordination_species": ("plot_coordination", {"counting": "species"}),
         "coordination_groups": ("plot_coordination", {"counting": "group"}),
         "distribution_species": ("plot_distribution", {"counting": "species"}),
         "compositions": ("plot_compositions", {}),
         "ion_pairing": ("plot_ion_pairing", {}),
         "cluster_sizes": ("plot_cluster_sizes", {}),
         "residence": ("plot_residence", {})}


def write_solvation(out, solvation, guess, donors, affinity, topology, trajectory, frames, count,
                    clusters=None) -> dict:
    """Write the solvation results into the new folder ``out``, atomically; return the record.

    Parameters
    ----------
    out : str or Path
        Output folder (must not exist, or be empty).
    solvation : qsse_md.analysis.solvation.solvation.Solvation
        The analysis, after ``run``.
    guess, donors
        The species and coordinating atoms it ran on
        (:func:`qsse_md.analysis.species_guess.guess_species`,
        :func:`qsse_md.analysis.solvation.groups.coordinating_atoms`).
    affinity : PolymerSolventAffinity or None
        The polymer-solvent affinity, after ``run``.
    topology, trajectory : Path
        The inputs, recorded.
    frames : dict
        ``start``, ``stop`` and ``step`` of the run.
    count : str
        The counting rule, "donors" or "any-atom".
    clusters : dict, optional
        ``count`` (number of compositions), ``universe`` and ``anions`` (anion species
        names): DFT inputs of representative clusters go to ``clusters/``
        (:func:`qsse_md.report.dft_inputs.write_clusters`).

    Returns
    -------
    dict
        The record written as ``solvation.json``, in plain JSON types.
    """
    from qsse_md.fileio import atomic_write_json, staged_output_dir

    with staged_output_dir(Path(out)) as staging:
        record = _record(solvation, guess, donors, affinity, topology, trajectory, frames)
        record["count"] = count
        _write_tables(solvation, affinity, staging)
        _write_plots(solvation, affinity, staging)
        if clusters:
            from qsse_md.report.dft_inputs import write_clusters

            record["clusters"] = write_clusters(clusters["universe"], solvation.results.table, staging / "clusters",
                                                clusters["count"], anions=clusters["anions"])
        atomic_write_json(staging / "solvation.json", jsonable(record))
    return jsonable(record)


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
