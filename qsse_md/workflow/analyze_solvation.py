"""Li+ solvation shells of any trajectory, or of a run folder.

:func:`analyze_solvation` runs :class:`qsse_md.analysis.solvation.solvation.Solvation` (and
:class:`~qsse_md.analysis.solvation.affinity.PolymerSolventAffinity` when the box has a
polymer and solvents) and hands the results to
:func:`qsse_md.report.solvation_report.write_solvation`. ``qsse-md analyze solvation``
is its command.
"""

from __future__ import annotations

from pathlib import Path

from qsse_md.report.inputs import load_universe, one_line, resolve_inputs


def analyze_solvation(topology, trajectory=None, *, out, solute=None, species=None, cutoffs=None, roles=None,
                      count="donors", box=None, dt_ps=None, start=None, stop=None, step=None, clusters=0, workers=1) -> dict:
    """Run the solvation analysis (and polymer-solvent affinity); write ``out`` atomically with
    :func:`qsse_md.report.solvation_report.write_solvation`.

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
    from qsse_md.fileio import check_new_output_dir
    from qsse_md.report.solvation_report import write_solvation

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
    clusters_of = None if not clusters else {"count": clusters, "universe": universe,
                                             "anions": anion_partners(guess, donors)}
    return write_solvation(out, solvation, guess, donors, affinity, topology, trajectory, frames, count, clusters_of)


def _affinity(guess, frames):
    """PolymerSolventAffinity when the box has a polymer and solvents, else None."""
    from qsse_md.analysis.solvation.affinity import PolymerSolventAffinity

    polymers, solvents = guess.names("polymer"), guess.names("solvent")
    if not polymers or not solvents:
        return None
    polymer = sum((guess.species[name].atoms for name in polymers[1:]), guess.species[polymers[0]].atoms)
    return PolymerSolventAffinity(polymer, {name: guess.species[name].atoms for name in solvents}).run(**frames)
