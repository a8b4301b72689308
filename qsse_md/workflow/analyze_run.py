"""The run report of a finished run folder: state logs, Li+ RDFs and shells, then the writer.

:func:`report_run` reads the stage logs of a :class:`~qsse_md.runfolder.RunFolder`, runs
the Li+ first-shell RDFs (:func:`li_first_shell`, first-shell cutoffs at the first
minimum of g(r) by the rule and default of the solvation analysis,
:func:`qsse_md.lib.rdf.first_shell_cutoff` and
:data:`qsse_md.analysis.solvation.solvation.DEFAULT_CUTOFF_ANGSTROM`) and the shells by
species (:func:`li_shells`) on the last stage's trajectory, and hands them to
:func:`qsse_md.report.run_report.write_run_report`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from qsse_md.runfolder import RunFolder

RDF_RANGE_ANGSTROM = (0.0, 8.0)
RDF_BINS = 160


def report_run(run_dir, out_dir=None) -> dict:
    """Analyse the run folder ``run_dir``; write report.md, summary.json and plots/*.png.

    Parameters
    ----------
    run_dir : str or Path
        A folder run with ``qsse-md run``.
    out_dir : str or Path, optional
        Where to write; default ``run_dir``.

    Returns
    -------
    dict
        The summary (also written as ``summary.json``). Units are in the key names.

    Raises
    ------
    FileNotFoundError
        When ``run_dir`` has not been run.
    """
    import MDAnalysis as mda

    from qsse_md.report.run_report import write_run_report

    folder = RunFolder(run_dir)
    logs = folder.stage_logs()
    trajectory = folder.last_trajectory()
    universe = mda.Universe(str(folder.topology_pdb), str(trajectory))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rdfs = li_first_shell(universe)
        shells = li_shells(universe)
    return write_run_report(Path(out_dir or run_dir), folder, logs, rdfs, shells, trajectory,
                            universe.trajectory.n_frames,
                            {"rdf_range_angstrom": list(RDF_RANGE_ANGSTROM), "rdf_bins": RDF_BINS})


def li_first_shell(universe) -> dict:
    """RDF analyzers of Li+ against each partner type, run over the whole trajectory.

    Their first-shell cutoffs follow the solvation analysis: the first minimum of g(r),
    else :data:`~qsse_md.analysis.solvation.solvation.DEFAULT_CUTOFF_ANGSTROM` with the reason in
    ``results.first_shell_reason``.
    """
    from qsse_md.analysis.solvation.groups import donors_by_residue
    from qsse_md.analysis.solvation.rdf import RDF
    from qsse_md.analysis.solvation.solvation import DEFAULT_CUTOFF_ANGSTROM
    from qsse_md.analysis.species_guess import select_solute

    lithium = select_solute(universe)
    rdfs = {}
    for label, partners in donors_by_residue(universe).items():
        rdfs[label] = RDF(lithium, partners, nbins=RDF_BINS, range_angstrom=RDF_RANGE_ANGSTROM, exclude_same=None,
                          fallback_cutoff_angstrom=DEFAULT_CUTOFF_ANGSTROM).run()
    return rdfs


def li_shells(universe):
    """Solvation shells of Li+ by every guessed species (cutoffs at the first g(r) minima)."""
    from qsse_md.analysis.solvation.groups import default_solvation
    from qsse_md.analysis.species_guess import guess_species

    return default_solvation(guess_species(universe)).run()
