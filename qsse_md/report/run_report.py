"""Analyse a finished run folder and write ``report.md``, ``summary.json`` and PNG plots.

What a run shows at once: density and temperature over the whole protocol (from the
stage state logs) and the Li+ first shell in the last stage (Li-O and Li-F RDFs with
running coordination numbers, first-shell cutoffs at the first minimum of g(r) by the
rule and default of the solvation analysis,
:func:`qsse_md.analysis.solvation.rdf.first_shell_cutoff` and
:data:`qsse_md.analysis.solvation.solvation.DEFAULT_CUTOFF_ANGSTROM`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from qsse_md.fileio import write_text_atomic

log = logging.getLogger(__name__)
RDF_RANGE_ANGSTROM = (0.0, 8.0)
RDF_BINS = 160
CATION_RESNAME = "LI"


def stage_logs(run_dir: Path) -> pd.DataFrame:
    """All stage state logs of ``run_dir`` in protocol order, with a cumulative time.

    Columns are those of ``state.csv`` plus ``stage``, ``ensemble`` ("nvt" or "npt") and
    ``run_time_ps`` (ps since the start of the first dynamics stage).
    """
    record = _run_record(run_dir)
    frames, offset_ps = [], 0.0
    for (stage, info), spec in zip(record["stages"].items(), record["protocol"]["stage"]):
        log_name = info.get("state_log")
        if not log_name:
            continue
        table = pd.read_csv(Path(run_dir) / "stages" / stage / log_name)
        table["stage"] = stage
        table["ensemble"] = spec.get("ensemble", spec["kind"])
        table["run_time_ps"] = table["time_ps"] + offset_ps
        offset_ps += info["time_ps"]
        frames.append(table)
    if not frames:
        raise ValueError(f"{run_dir} has no finished dynamics stage; run it with 'qsse-md run'")
    return pd.concat(frames, ignore_index=True)


def last_trajectory(run_dir: Path) -> Path:
    """Trajectory file of the last dynamics stage of ``run_dir``."""
    stage, info, _ = _last_dynamics_stage(run_dir)
    return Path(run_dir) / "stages" / stage / info["trajectory"]


def last_stage_temperature_K(run_dir: Path) -> float | None:
    """Thermostat temperature (K) of the stage :func:`last_trajectory` reads, from the
    protocol recorded in ``run.json``; None for a temperature ramp."""
    _, _, spec = _last_dynamics_stage(run_dir)
    return float(spec["temperature_K"]) if "temperature_K" in spec else None


def _last_dynamics_stage(run_dir: Path) -> tuple[str, dict, dict]:
    """Folder name, ``run.json`` entry and protocol stage of the last stage with a trajectory."""
    record = _run_record(run_dir)
    stages = [(stage, info, spec) for (stage, info), spec in zip(record["stages"].items(), record["protocol"]["stage"])
              if info.get("trajectory")]
    if not stages:
        raise ValueError(f"{run_dir} has no trajectory; run it with 'qsse-md run'")
    return stages[-1]


def _run_record(run_dir: Path) -> dict:
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} has no run.json; run it first with "
                                f"'qsse-md run {run_dir}'")
    return json.loads(path.read_text())


def li_partner_selections(universe) -> dict[str, str]:
    """MDAnalysis selections of the Li+ partner atoms: O of every neutral residue type and
    F/O of the anions, keyed by a label such as ``"EC O"`` or ``"PF6 F"``."""
    selections = {}
    for resname in dict.fromkeys(universe.residues.resnames):
        if resname == CATION_RESNAME:
            continue
        for element in ("O", "F"):
            selection = f"resname {resname} and element {element}"
            if len(universe.select_atoms(selection)):
                selections[f"{resname} {element}"] = selection
    return selections


def li_first_shell(universe) -> dict:
    """RDF analyzers of Li+ against each partner type, run over the whole trajectory.

    Their first-shell cutoffs follow the solvation analysis: the first minimum of g(r),
    else :data:`~qsse_md.analysis.solvation.solvation.DEFAULT_CUTOFF_ANGSTROM` with the reason in
    ``results.first_shell_reason``.
    """
    from qsse_md.analysis.solvation.rdf import RDF
    from qsse_md.analysis.solvation.solvation import DEFAULT_CUTOFF_ANGSTROM

    lithium = universe.select_atoms(f"resname {CATION_RESNAME}")
    if len(lithium) == 0:
        raise ValueError(f"no Li+ (resname {CATION_RESNAME}) in the topology")
    rdfs = {}
    for label, selection in li_partner_selections(universe).items():
        rdfs[label] = RDF(lithium, universe.select_atoms(selection), nbins=RDF_BINS,
                          range_angstrom=RDF_RANGE_ANGSTROM, exclude_same=None,
                          fallback_cutoff_angstrom=DEFAULT_CUTOFF_ANGSTROM).run()
    return rdfs


def li_shells(universe):
    """Solvation shells of Li+ by every guessed species (cutoffs at the first g(r) minima)."""
    from qsse_md.analysis.solvation.groups import default_solvation
    from qsse_md.analysis.species_guess import guess_species

    return default_solvation(guess_species(universe)).run()


def _shell_summary(shells, top: int = 5) -> dict:
    results = shells.results
    coordination = results.coordination
    return {
        "cutoffs_angstrom": {k: float(v) for k, v in results.cutoffs_angstrom.items()},
        "cutoff_reasons": dict(results.cutoff_reasons),
        "coordination_numbers": {
            f"{row.counting}:{row.label}": {"mean": float(row.mean), "sem": float(row.sem)}
            for row in coordination.itertuples()},
        "compositions": [{"composition": row.composition, "fraction": float(row.fraction)}
                         for row in results.compositions.head(top).itertuples()],
        "ion_pairing": ({k: float(v) for k, v in results.ion_pairing.items()}
                        if results.ion_pairing is not None else None),
    }


def write_run_report(run_dir: str | Path, out_dir: str | Path | None = None) -> dict:
    """Analyse ``run_dir``; write report.md, summary.json and plots/*.png into ``out_dir``.

    Returns the summary (also written as ``summary.json``). Units are in the key names.
    """
    import warnings

    import MDAnalysis as mda

    run_dir = Path(run_dir)
    out_dir = Path(out_dir or run_dir)
    plots = out_dir / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    logs = stage_logs(run_dir)
    build = json.loads((run_dir / "build.json").read_text())
    trajectory = last_trajectory(run_dir)
    universe = mda.Universe(str(run_dir / "topology.pdb"), str(trajectory))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rdfs = li_first_shell(universe)
        shells = li_shells(universe)

    _save(plots / "density.png", _plot_density(logs))
    _save(plots / "li_rdf.png", _plot_rdfs(rdfs))
    _save(plots / "li_shell_compositions.png", shells.plot_compositions(top=8))
    summary = _summary(build, logs, rdfs, universe, trajectory, run_dir, _run_record(run_dir)["sessions"])
    summary["li_shells"] = _shell_summary(shells)
    write_text_atomic(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_text_atomic(out_dir / "report.md", _markdown(summary))
    return summary


def wall_clock_speed_ns_per_day(simulated_ps: float, sessions: list[dict]) -> tuple[float | None, float | None]:
    """Simulated ns per wall-clock day over the run's sessions, and their wall time.

    Parameters
    ----------
    simulated_ps : float
        Simulated time of the run's dynamics stages, ps.
    sessions : list of dict
        The ``sessions`` of ``run.json``; each records its ``wall_s`` (set-up, minimisation,
        output and checkpoints included).

    Returns
    -------
    (float or None, float or None)
        Speed in ns/day and total wall time in s; both None when a session has no
        ``wall_s`` (run.json written before sessions recorded it).
    """
    if not sessions or any("wall_s" not in session for session in sessions):
        return None, None
    wall_s = float(sum(session["wall_s"] for session in sessions))
    return (simulated_ps * 1e-3 / (wall_s / 86400.0) if wall_s > 0 else None), wall_s


def _summary(build, logs, rdfs, universe, trajectory, run_dir, sessions) -> dict:
    npt = logs[logs["ensemble"] == "npt"]
    last_npt = npt[npt["stage"] == npt["stage"].iloc[-1]] if len(npt) else logs
    tail = last_npt.iloc[len(last_npt) // 2:]
    shells = {}
    for label, rdf in rdfs.items():
        shells[label] = {
            "first_shell_cutoff_angstrom": float(rdf.results.first_shell_cutoff_angstrom),
            "cutoff_reason": rdf.results.first_shell_reason,
            "coordination_number": float(rdf.results.first_shell_coordination_number),
            "first_peak_r_angstrom": (float(rdf.results.bins_angstrom[np.argmax(rdf.results.rdf)])
                                      if np.max(rdf.results.rdf) > 0 else None),
            "first_peak_g": float(np.max(rdf.results.rdf)),
        }
    simulated_ps = float(logs["run_time_ps"].iloc[-1])
    speed_ns_per_day, wall_s = wall_clock_speed_ns_per_day(simulated_ps, sessions)
    return {
        "system": {k: build[k] for k in ("name", "description", "species_counts", "atoms")},
        "md": {
            "simulated_ps": simulated_ps,
            "wall_s": wall_s,
            "speed_ns_per_day": speed_ns_per_day,
            "stages": list(dict.fromkeys(logs["stage"])),
        },
        "density_g_per_cm3": {
            "stage": str(tail["stage"].iloc[0]),
            "mean": float(tail["density_g_per_cm3"].mean()),
            "std": float(tail["density_g_per_cm3"].std(ddof=1)),
            "window_ps": [float(tail["run_time_ps"].iloc[0]), float(tail["run_time_ps"].iloc[-1])],
        },
        "li_first_shell": shells,
        "analysis": {"trajectory": str(trajectory.relative_to(run_dir)),
                     "frames": int(universe.trajectory.n_frames),
                     "rdf_range_angstrom": list(RDF_RANGE_ANGSTROM), "rdf_bins": RDF_BINS},
    }


def _markdown(summary: dict) -> str:
    system, md, density = summary["system"], summary["md"], summary["density_g_per_cm3"]
    lines = [f"# {system['name']}", "", system["description"], "",
             "| species | count |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in system["species_counts"].items()]
    lines += ["", f"{system['atoms']} atoms; {md['simulated_ps']:.0f} ps simulated {_speed_text(md)} "
              f"(stages: {', '.join(md['stages'])}).",
              "", "## Density", "",
              f"Mean density over {density['window_ps'][0]:.0f}-{density['window_ps'][1]:.0f} ps "
              f"({density['stage']}): {density['mean']:.3f} ± {density['std']:.3f} g/cm3 "
              "(mean ± standard deviation of the logged values).", "",
              "![density](plots/density.png)", "", "## Li+ first shell", "",
              "| partner | g(r) peak (Å) | cutoff (Å) | coordination number |", "|---|---|---|---|"]
    for label, shell in summary["li_first_shell"].items():
        peak = "-" if shell["first_peak_r_angstrom"] is None else f"{shell['first_peak_r_angstrom']:.2f}"
        default = "" if shell["cutoff_reason"] is None else " (default)"
        lines.append(f"| {label} | {peak} | {shell['first_shell_cutoff_angstrom']:.2f}{default} | "
                     f"{shell['coordination_number']:.2f} |")
    for label, shell in summary["li_first_shell"].items():
        if shell["cutoff_reason"] is not None:
            lines += ["", f"Li-{label}: {shell['cutoff_reason']}."]
    lines += ["", f"From {summary['analysis']['frames']} frames of "
              f"`{summary['analysis']['trajectory']}`.", "", "![Li RDF](plots/li_rdf.png)", "",
              "### Shell compositions", "", "| shell | fraction of Li+ x frames |", "|---|---|"]
    lines += [f"| {row['composition']} | {row['fraction']:.3f} |"
              for row in summary["li_shells"]["compositions"]]
    pairing = summary["li_shells"]["ion_pairing"]
    if pairing:
        lines += ["", "Ion pairing: " + ", ".join(f"{k} {v:.2f}" for k, v in pairing.items()) +
                  " (fractions of Li+ x frames).", ""]
    lines += ["![compositions](plots/li_shell_compositions.png)", "",
              "A demonstration run: far too short for converged structure or density.", ""]
    return "\n".join(lines)


def _speed_text(md: dict) -> str:
    if md["speed_ns_per_day"] is None:
        return "(wall time not recorded)"
    return f"in {md['wall_s'] / 60.0:.1f} min of wall time, {md['speed_ns_per_day']:.1f} ns/day by the clock"


def _plot_density(logs: pd.DataFrame):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(logs["run_time_ps"], logs["density_g_per_cm3"], color="C0")
    ax.set_xlabel("time (ps)")
    ax.set_ylabel("density (g/cm$^3$)", color="C0")
    temperature_ax = ax.twinx()
    temperature_ax.plot(logs["run_time_ps"], logs["temperature_K"], color="C3", lw=0.8)
    temperature_ax.set_ylabel("temperature (K)", color="C3")
    for start in logs.groupby("stage", sort=False)["run_time_ps"].min().iloc[1:]:
        ax.axvline(start, color="0.6", ls=":")
    return ax


def _plot_rdfs(rdfs: dict):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6.4, 4.0))
    for index, (label, rdf) in enumerate(rdfs.items()):
        ax.plot(rdf.results.bins_angstrom, rdf.results.rdf, color=f"C{index}", label=f"Li-{label}")
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("g(r)")
    ax.legend(frameon=False)
    return ax


def _save(path: Path, ax) -> None:
    import matplotlib.pyplot as plt

    figure = ax.figure
    figure.tight_layout()
    partial = path.with_name(f".{path.name}.partial.png")
    figure.savefig(partial, dpi=120)
    plt.close(figure)
    partial.replace(path)
