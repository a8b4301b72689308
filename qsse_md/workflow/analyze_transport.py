"""Transport of any trajectory (or a qsse-md run folder), and temperature-series fits.

:func:`analyze_transport` runs :class:`qsse_md.analysis.transport.transport.Transport` and
hands the results to :func:`qsse_md.report.transport_report.write_transport`
(``DIR/transport.json``, CSV tables and plots). :func:`fit_transport_series` fits a
temperature series of such folders with
:func:`qsse_md.analysis.transport.arrhenius.fit_arrhenius` (and VTF from 4 temperatures on).
``qsse-md analyze transport`` and ``qsse-md analyze arrhenius`` are their commands.
"""

from __future__ import annotations

import json
from pathlib import Path

from qsse_md.report.inputs import load_universe, resolve_inputs
from qsse_md.runfolder import RunFolder


def _default_species(universe):
    names = [n for n in dict.fromkeys(universe.residues.resnames) if n and str(n).strip()] \
        if hasattr(universe.residues, "resnames") else []
    if not names:
        raise ValueError("the topology has no residue names to guess species from; give --species NAME=SELECTION")
    return {str(n): f"resname {n}" for n in names}


def analyze_transport(topology, trajectory=None, *, out, species=None, temperature_K=None, charges=None,
                      compound="residues", n_blocks=5, slope_tolerance=0.15, min_points=4, remove_drift=True,
                      drift_selection="all", box=None, dt_ps=None, start=None, stop=None, step=None):
    """Run the transport analysis and write ``out`` (must not exist); return the JSON record.

    Parameters
    ----------
    topology : str or Path
        A topology file, or a qsse-md run folder (then leave out ``trajectory``): its
        ``topology.pdb``, the last dynamics stage's trajectory, the per-atom charges
        of its ``system.xml`` and, when ``temperature_K`` is None, that stage's
        thermostat temperature from ``run.json``.
    trajectory : str or Path, optional
        Trajectory file (any format MDAnalysis reads).
    out : str or Path
        Output folder.
    species : dict, optional
        ``{name: selection}``; default one species per residue name.
    temperature_K : float, optional
        Temperature (K); conductivities only with one (given or recorded in the run).
    charges : dict, optional
        ``{name: charge of one centre in e}``; overrides the topology's charges.
    box : sequence of float, optional
        ``a b c [alpha beta gamma]`` (Å, degrees): the periodic box of every frame, for
        trajectories without one.
    dt_ps : float, optional
        Time between frames (ps), for trajectories that record none.

    The remaining parameters are those of :class:`qsse_md.analysis.transport.transport.Transport`
    and the frame range of its ``run``.
    """
    from qsse_md.analysis._checks import checked_frame_times, checked_frames, checked_selections
    from qsse_md.analysis.transport.transport import Transport
    from qsse_md.fileio import check_new_output_dir
    from qsse_md.report.transport_report import write_transport

    run_dir = RunFolder(topology) if Path(topology).is_dir() else None
    topology, trajectory = resolve_inputs(topology, trajectory)
    check_new_output_dir(Path(out))
    universe = load_universe(topology, trajectory, box, dt_ps)
    checked_frames(universe.trajectory.n_frames, start, stop, step)
    checked_selections(universe, {"--drift-selection": drift_selection if remove_drift else None,
                                  **{f"--species {name}": selection for name, selection in (species or {}).items()}})
    if run_dir is not None:
        _add_system_charges(universe, run_dir)
        if temperature_K is None:
            temperature_K = run_dir.last_stage_temperature_K()
    species = species or _default_species(universe)
    analysis = Transport(universe, species, temperature_K=temperature_K, charges=charges, compound=compound,
                         remove_drift=remove_drift, drift_selection=drift_selection, n_blocks=n_blocks,
                         slope_tolerance=slope_tolerance, min_points=min_points)
    checked_frame_times(universe.trajectory)
    analysis.run(start=start, stop=stop, step=step)
    record = analysis.summary()
    record["inputs"] = {"run_folder": None if run_dir is None else str(run_dir.path), "topology": str(topology),
                        "trajectory": str(trajectory), "species": species,
                        "compound": compound, "min_points": min_points, "remove_drift": remove_drift, "drift_selection": drift_selection,
                        "start": start, "stop": stop, "step": step}
    write_transport(out, analysis, record)
    return record


def _add_system_charges(universe, run_dir: RunFolder) -> None:
    """Give ``universe`` the per-atom charges (e) of the run folder's serialized System."""
    charges_e = run_dir.charges_e()
    if len(charges_e) != universe.atoms.n_atoms:
        raise ValueError(f"{run_dir.system_xml} has {len(charges_e)} particles but the topology "
                         f"{universe.atoms.n_atoms} atoms; rebuild the folder")
    universe.add_TopologyAttr("charges", charges_e)


def fit_transport_series(directories, law="arrhenius"):
    """Fit σ (collective and NE, as σT) and D per species against T over transport folders.

    Returns a JSON-ready dict ``{quantity: fit record}``; raises ValueError when a
    folder's ``transport.json`` is not JSON or lacks a temperature, when fewer than 3
    (VTF: 4) temperatures remain, or when no quantity has a value at every temperature
    (nothing to fit).
    """
    from qsse_md.analysis.transport.arrhenius import fit_arrhenius, fit_vtf

    records = []
    for directory in directories:
        path = Path(directory) / "transport.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; run 'qsse-md analyze transport' there first")
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not JSON ({error}); rerun 'qsse-md analyze transport'") from None
        if not isinstance(record, dict) or record.get("temperature_K") is None:
            raise ValueError(f"{path} has no temperature; rerun the transport analysis with --temperature K")
        records.append(record)
    if len(records) < 3:
        raise ValueError(f"{len(records)} transport result(s) given; an Arrhenius fit needs at least 3 temperatures")
    temperatures = [r["temperature_K"] for r in records]
    series = {}
    for key, error_key in (("sigma_S_per_cm", "sigma_sem_S_per_cm"), ("sigma_NE_S_per_cm", "sigma_NE_sem_S_per_cm")):
        values = [(r["conductivity"] or {}).get(key) for r in records]
        errors = [(r["conductivity"] or {}).get(error_key) for r in records]
        series[key] = (values, errors, True)
    for name in records[0]["diffusion"]:
        values = [r["diffusion"].get(name, {}).get("D_1e-10_m2_per_s") for r in records]
        errors = [r["diffusion"].get(name, {}).get("sem_1e-10_m2_per_s") for r in records]
        series[f"D_{name}_1e-10_m2_per_s"] = (values, errors, False)
    fits = {}
    for quantity, (values, errors, times_t) in series.items():
        if any(v is None for v in values):
            fits[quantity] = {"reason": "missing at some temperature"}
            continue
        errors = None if any(e is None for e in errors) else errors
        fit = fit_arrhenius(temperatures, values, errors, multiply_by_T=times_t)
        fits[quantity] = {"arrhenius": fit.to_dict()}
        if law in ("vtf", "both"):
            fits[quantity]["vtf"] = fit_vtf(temperatures, values, errors, multiply_by_T=False).to_dict()
    if not any("arrhenius" in fit for fit in fits.values()):
        raise ValueError(f"nothing to fit: none of {', '.join(fits)} has a value at every temperature; "
                         "rerun 'qsse-md analyze transport' where one is missing (longer trajectory, --temperature)")
    return {"directories": [str(d) for d in directories], "temperatures_K": temperatures, "fits": fits,
            "units": {"activation": "kJ/mol and eV", "sigma": "S/cm (fitted as sigma*T for Arrhenius)",
                      "D": "1e-10 m^2/s"}}
