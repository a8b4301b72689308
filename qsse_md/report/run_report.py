"""The run report of a run folder written to it: ``report.md``, ``summary.json`` and PNG plots.

What a run shows at once: density and temperature over the whole protocol (from the
stage state logs) and the Li+ first shell in the last stage (Li-O and Li-F RDFs with
running coordination numbers, first-shell cutoffs at the first minimum of g(r), and the
shells by species). :func:`write_run_report` writes them; the analyses run in
:func:`qsse_md.workflow.analyze_run.report_run`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from qsse_md.fileio import write_text_atomic
from qsse_md.runfolder import RunFolder


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


def write_run_report(out_dir, folder: RunFolder, logs, rdfs, shells, trajectory: Path, n_frames: int,
                     rdf_settings: dict) -> dict:
    """Write report.md, summary.json and plots/*.png of the run ``folder`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (made if missing; files in it are replaced atomically).
    folder : RunFolder
        The run folder (its build and run records are summarised).
    logs : pandas.DataFrame
        Its stage logs (:meth:`qsse_md.runfolder.RunFolder.stage_logs`).
    rdfs : dict of str to RDF
        Li+ RDFs by partner label, after ``run``.
    shells : Solvation
        Li+ solvation shells by species, after ``run``.
    trajectory : Path
        The trajectory analysed, inside ``folder``.
    n_frames : int
        Its number of frames.
    rdf_settings : dict
        ``rdf_range_angstrom`` (Å) and ``rdf_bins`` of the RDFs, recorded.

    Returns
    -------
    dict
        The summary, also written as ``summary.json``. Units are in the key names.
    """
    out_dir = Path(out_dir)
    plots = out_dir / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    _save(plots / "density.png", _plot_density(logs))
    _save(plots / "li_rdf.png", _plot_rdfs(rdfs))
    _save(plots / "li_shell_compositions.png", shells.plot_compositions(top=8))
    summary = _summary(folder.read_build(), logs, rdfs, folder.read_run()["sessions"])
    summary["analysis"] = {"trajectory": str(trajectory.relative_to(folder.path)), "frames": int(n_frames),
                           **rdf_settings}
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


def _summary(build, logs, rdfs, sessions) -> dict:
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
              "A demonstration run: far too short for converged structure or density. Li+ shells "
              "barely exchange within it, so these numbers keep the memory of the packing; the "
              "validated figures for this composition (5 ns at 298 K and 12 ns at 450 K, three "
              "packings each) are in the Validation section of the project's README.", ""]
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
