"""Polymer order, scattering and released liquid written to a folder.

:func:`write_crystallization` writes ``DIR/crystallization.json`` (settings, per-analysis
means with block standard errors, what was skipped and why), CSV tables (backbone and
side-chain order, S(q) and partials, released liquid, side-chain packing, Steinhardt
order, density-temperature fit) and PNG plots. The folder appears complete or not at
all. The analyses run in
:func:`qsse_md.workflow.analyze_crystallization.analyze_crystallization`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qsse_md.report.inputs import jsonable

UNITS = {"distance": "angstrom", "q": "1/angstrom", "two_theta": "degrees", "time": "ps",
         "temperature": "K", "density": "g/cm3", "intensity": "electrons^2 per atom",
         "order_parameters_and_fractions": "dimensionless"}


def write_crystallization(out, analyses, fit, skipped, groups, topology, trajectory, frames, notes) -> dict:
    """Write the crystallization results into the new folder ``out``, atomically; return the record.

    Parameters
    ----------
    out : str or Path
        Output folder (must not exist, or be empty).
    analyses : dict of str to AnalysisBase
        The analyses run (``chain_order`` and ``structure_factor`` always).
    fit : BilinearFit or None
        Density-temperature fit of the run folder's state logs.
    skipped : dict of str to str
        Analyses not run, with the reason.
    groups : dict of str to AtomGroup
        The groups by role (their sizes are recorded).
    topology, trajectory : Path
        The inputs, recorded.
    frames : dict
        ``start``, ``stop`` and ``step`` of the run.
    notes : list of str
        Warnings of qsse_md raised while analysing.

    Returns
    -------
    dict
        The record written as ``crystallization.json``, in plain JSON types.
    """
    from qsse_md.fileio import atomic_write_json, staged_output_dir

    with staged_output_dir(Path(out)) as staging:
        record = _record(analyses, fit, skipped, groups, topology, trajectory, frames)
        record["warnings"] = notes
        _write(analyses, fit, staging)
        atomic_write_json(staging / "crystallization.json", jsonable(record))
    return jsonable(record)


def _record(analyses, fit, skipped, groups, topology, trajectory, frames) -> dict:
    first = next(iter(analyses.values()))
    order = analyses["chain_order"].results
    sq = analyses["structure_factor"].results
    record = {"units": UNITS, "inputs": {"topology": str(topology), "trajectory": str(trajectory)},
              "frames": {**frames, "n_frames": int(first.n_frames)},
              "groups": {role: len(atoms) for role, atoms in groups.items()},
              "chain_order": {"threshold": order.threshold, "cutoff_angstrom": order.cutoff_angstrom,
                              "span": order.span, "n_chords": order.n_chords, "mean": order.mean},
              "structure_factor": {"q_min": float(sq.q[0]), "q_max": float(sq.q[-1]),
                                   "r_max_angstrom": sq.r_max_angstrom, "wavelength_angstrom": sq.wavelength_angstrom,
                                   "peak_q": float(sq.q[np.argmax(sq.s_q)]), "peak_s": float(sq.s_q.max())},
              "skipped": skipped,
              "density_temperature_fit": None if fit is None else fit.summary()}
    if "side_chain_order" in analyses:
        record["side_chain_order"] = {"n_vectors": analyses["side_chain_order"].results.n_chords,
                                      "mean": analyses["side_chain_order"].results.mean}
    if "liquid_release" in analyses:
        r = analyses["liquid_release"].results
        record["liquid_release"] = {"n_molecules": r.n_molecules, "mean": r.mean}
    if "side_chain_packing" in analyses:
        r = analyses["side_chain_packing"].results
        record["side_chain_packing"] = {"n_rings": r.n_rings, "n_donors": r.n_donors, "criteria": r.criteria,
                                        "mean_stacked_fraction": np.nanmean(r.stacked_fraction)
                                        if r.n_rings else None,
                                        "mean_hbonds_per_repeat_unit": np.nanmean(r.hbonds_per_repeat_unit)
                                        if r.n_donors else None,
                                        "mean_hbonds_to_solvent_per_repeat_unit":
                                            np.nanmean(r.hbonds_to_solvent_per_repeat_unit) if r.n_donors else None}
    if "steinhardt" in analyses:
        record["steinhardt"] = {f"q{l}": float(np.mean(v)) for l, v in analyses["steinhardt"].results.q.items()}
    return record


def _write(analyses, fit, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = folder / "plots"
    plots.mkdir()
    items = dict(analyses, **({"density_temperature_fit": fit} if fit is not None else {}))
    for name, item in items.items():
        item.to_dataframe().to_csv(folder / f"{name}.csv", index=False)
        ax = item.plot()
        ax.figure.tight_layout()
        ax.figure.savefig(plots / f"{name}.png", dpi=120)
        plt.close(ax.figure)
    r = analyses["structure_factor"].results
    if "direct_q" in r:
        import pandas as pd

        pd.DataFrame({"q_inv_angstrom": r.direct_q, "S": r.direct_s_q, "I_e2_per_atom": r.direct_i_q,
                      "n_vectors": r.direct_n_vectors}).to_csv(folder / "structure_factor_direct.csv", index=False)
