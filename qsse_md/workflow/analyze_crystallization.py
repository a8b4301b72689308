"""Polymer order, scattering and released liquid of a trajectory, or of a run folder.

:func:`analyze_crystallization` runs the backbone and side-chain order, S(q), released
liquid, side-chain packing and (optionally) Steinhardt analyses and, given a run folder
alone, a bilinear fit of the state logs' density against temperature; the results go to
:func:`qsse_md.report.crystallization_report.write_crystallization`. :func:`select_groups`
picks the polymer, solvent and scattering groups. ``qsse-md analyze crystallization`` is
its command.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from qsse_md.report.inputs import load_universe, one_line, resolve_inputs
from qsse_md.runfolder import RunFolder

STATE_LOG_WINDOW_ROWS = 10


def select_groups(universe, polymer, solvent, roles=None):
    """Polymer and solvent AtomGroups and scattering groups by role.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    polymer, solvent : str or None
        MDAnalysis selections; a role left None is guessed from the topology.
    roles : dict of str to str, optional
        Species name -> "anion"/"cation", overriding the guess
        (:func:`qsse_md.analysis.species_guess.guess_species`).

    Returns
    -------
    groups : dict of str to AtomGroup
        Non-empty groups among ``polymer``, ``solvent``, ``anion`` and ``cation``.
    scattering_groups : dict of str to AtomGroup
        ``groups`` plus ``other`` (every remaining atom) when any atom is left over.

    Raises
    ------
    ValueError
        When no polymer atoms are found.
    """
    from qsse_md.analysis.species_guess import guess_species

    if polymer and solvent:
        groups = {"polymer": universe.select_atoms(polymer), "solvent": universe.select_atoms(solvent)}
    else:
        guess = guess_species(universe, roles=roles)
        groups = {role: sum((guess.species[n].atoms for n in guess.names(role)), universe.atoms[[]])
                  for role in ("polymer", "solvent", "anion", "cation")}
        groups.update({k: universe.select_atoms(v) for k, v in (("polymer", polymer), ("solvent", solvent)) if v})
    if len(groups["polymer"]) == 0:
        raise ValueError("no polymer atoms: the selection matched nothing or the box has no multi-residue "
                         "molecule; pass --polymer SEL")
    groups = {role: atoms for role, atoms in groups.items() if len(atoms)}
    others = universe.atoms - sum(groups.values(), universe.atoms[[]])
    return groups, (groups if not len(others) else {**groups, "other": others})


def analyze_crystallization(topology, trajectory=None, *, out, polymer=None, solvent=None, span=2,
                            order_cutoff=5.0, threshold=0.8, q_range=(0.3, 5.0), wavelength=1.5406, direct=False,
                            steinhardt=None, roles=None, box=None, dt_ps=None, start=None, stop=None, step=None) -> dict:
    """Run the crystallization analyses; write ``out`` atomically with
    :func:`qsse_md.report.crystallization_report.write_crystallization`; return the JSON record.

    Parameters mirror the command-line options (distances in Å, q in 1/Å; ``box`` is
    ``a b c [alpha beta gamma]`` in Å and degrees, ``dt_ps`` the time between frames in ps,
    for trajectories without them).
    """
    from qsse_md.analysis._checks import checked_frames, checked_selections
    from qsse_md.fileio import check_new_output_dir
    from qsse_md.report.crystallization_report import write_crystallization

    check_new_output_dir(Path(out))
    frames = {"start": start, "stop": stop, "step": step}
    run_dir = RunFolder(topology) if Path(topology).is_dir() and trajectory is None else None
    topology, trajectory = resolve_inputs(topology, trajectory)
    universe = load_universe(topology, trajectory, box, dt_ps)
    checked_frames(universe.trajectory.n_frames, **frames)
    checked_selections(universe, {"--polymer": polymer, "--solvent": solvent, "--steinhardt": steinhardt})
    groups, scattering_groups = select_groups(universe, polymer, solvent, roles)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analyses, skipped = _analyses(universe, groups, scattering_groups, span=span, order_cutoff=order_cutoff,
                                      threshold=threshold, q_range=q_range, wavelength=wavelength, direct=direct,
                                      steinhardt=steinhardt)
        try:
            for analysis in analyses.values():
                analysis.run(**frames)
        except (OSError, EOFError, RuntimeError) as error:
            raise ValueError(f"cannot read {trajectory}: {one_line(error)}; check the file is complete") from error
        fit = _density_fit(run_dir, skipped)
    notes = sorted({str(w.message) for w in caught if "qsse_md" in w.filename})
    return write_crystallization(out, analyses, fit, skipped, groups, topology, trajectory, frames, notes)


def _analyses(universe, groups, scattering_groups, *, span, order_cutoff, threshold, q_range, wavelength, direct,
              steinhardt):
    """The analyzers to run, and the optional ones skipped with the reason."""
    from qsse_md.analysis.crystallization.chain_order import ChainOrder
    from qsse_md.analysis.solvation.liquid_release import LiquidRelease
    from qsse_md.analysis.crystallization.scattering import StructureFactor
    from qsse_md.analysis.crystallization.side_chain_packing import SideChainPacking

    analyses = {"chain_order": ChainOrder(groups["polymer"], span=span, cutoff_angstrom=order_cutoff,
                                          threshold=threshold),
                "structure_factor": StructureFactor(scattering_groups, q_range=q_range, direct=direct,
                                                    wavelength_angstrom=wavelength)}
    skipped = {}
    optional = {"side_chain_order": lambda: ChainOrder(groups["polymer"], vectors="side_chain",
                                                       cutoff_angstrom=order_cutoff, threshold=threshold),
                "side_chain_packing": lambda: SideChainPacking(groups["polymer"], solvent=groups.get("solvent"))}
    for name, build in optional.items():
        try:
            analyses[name] = build()
        except ValueError as error:
            skipped[name] = str(error)
    if "solvent" in groups:
        analyses["liquid_release"] = LiquidRelease(groups["polymer"], groups["solvent"])
    else:
        skipped["liquid_release"] = "no solvent in the box"
    if steinhardt:
        analyses["steinhardt"] = _steinhardt(universe, steinhardt)
    return analyses, skipped


def _steinhardt(universe, selection):
    from qsse_md.analysis.crystallization.steinhardt import SteinhardtOrder

    atoms = universe.select_atoms(selection)
    if len(atoms) == 0:
        raise ValueError(f"--steinhardt {selection!r} matched no atoms; check the selection")
    try:
        return SteinhardtOrder(atoms)
    except ImportError as error:
        raise ValueError(str(error)) from None


def _density_fit(run_dir: RunFolder | None, skipped):
    """Bilinear fit of the run folder's state-log density against temperature, or None."""
    from qsse_md.analysis.crystallization.transitions import bilinear_fit

    if run_dir is None:
        skipped["density_temperature_fit"] = "needs a run folder (state logs)"
        return None
    logs = run_dir.stage_logs()
    logs = logs[logs["ensemble"] == "npt"].reset_index(drop=True)
    windows = logs.groupby(logs.index // STATE_LOG_WINDOW_ROWS)[["temperature_K", "density_g_per_cm3"]].mean()
    try:
        return bilinear_fit(windows["temperature_K"], windows["density_g_per_cm3"])
    except ValueError as error:
        skipped["density_temperature_fit"] = str(error)
        return None
