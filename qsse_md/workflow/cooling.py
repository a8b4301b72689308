"""Order, released liquid, density and Li+ diffusion per temperature window of a cooling run.

:func:`study_cooling` continues SOURCE (an equilibrated run folder, or a build folder)
from its final state in ``DIR/md`` through the cooling ladder
(``systems/protocols/cooling.toml``: 298 -> 248 -> 223 K, hold, reheat to 298 K), resuming
if called again, then analyses it into ``DIR/analysis`` with
:func:`analyse_cooling_windows`. Each dynamics stage is one window: its trajectory gives
the backbone crystalline fraction and nematic order
(:class:`~qsse_md.analysis.crystallization.chain_order.ChainOrder`), the free-solvent fraction and
percolation (:class:`~qsse_md.analysis.solvation.liquid_release.LiquidRelease`) and the Li+
self-diffusion coefficient (:class:`~qsse_md.analysis.transport.transport.Transport`); its state
log gives the mean temperature and density.
:func:`qsse_md.report.cooling_report.write_cooling` writes the windows. The steps (continue,
MD, analysis) run on :func:`qsse_md.workflow.steps.run_steps`. ``qsse-md study cooling``
is its command.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from qsse_md.report.inputs import jsonable, load_universe
from qsse_md.runfolder import RunFolder
from qsse_md.workflow.steps import Step, run_steps


def study_cooling(source, *, out, protocol="cooling", platform=None, polymer=None, solvent=None) -> dict:
    """Continue ``source`` through the cooling ladder in ``out/md`` and analyse it into
    ``out/analysis``; calling it again resumes the MD. Returns the analysis record.

    The protocol, the platform, the source folder and the polymer and solvent selections
    are checked before anything is written.
    """
    from qsse_md.fileio import check_new_output_dir
    from qsse_md.md.continuation import continue_run
    from qsse_md.md.protocol import Protocol, load_protocol
    from qsse_md.md.runner import run, select_platform

    md_dir, analysis_dir = Path(out) / "md", Path(out) / "analysis"
    protocol = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    select_platform(platform or protocol.platform, protocol.precision)

    def start() -> None:
        check_new_output_dir(Path(out))
        _check_selections(source, polymer, solvent)
        continue_run(source, md_dir)

    return run_steps([
        Step("continue", start, done=md_dir),
        Step("md", lambda: run(md_dir, protocol=protocol, platform=platform)),
        Step("analysis", lambda: analyse_cooling_windows(md_dir, out=analysis_dir, polymer=polymer, solvent=solvent),
             done=analysis_dir / "cooling.json", load=lambda path: json.loads(path.read_text())),
    ])["analysis"]


def _check_selections(source, polymer, solvent) -> None:
    """Parse the polymer and solvent selections on the source folder's topology, if given."""
    import MDAnalysis as mda

    from qsse_md.analysis._checks import checked_selections

    topology = RunFolder(source).topology_pdb
    if (polymer or solvent) and topology.is_file():
        checked_selections(mda.Universe(str(topology)), {"--polymer": polymer, "--solvent": solvent})


def analyse_cooling_windows(run_dir, *, out, polymer=None, solvent=None) -> dict:
    """Analyse every dynamics stage of ``run_dir`` as one temperature window; write ``out``
    with :func:`qsse_md.report.cooling_report.write_cooling`.

    Returns the record written as ``cooling.json`` (``windows``: one dict per stage with
    ``stage``, ``start_time_ps``, ``temperature_K``, ``density_g_per_cm3``,
    ``crystalline_fraction``, ``nematic_order``, ``free_fraction``, ``percolating``,
    ``D_li_1e-10_m2_per_s`` and ``D_li_reason``, why there is no coefficient when None).
    """
    from qsse_md.fileio import check_new_output_dir
    from qsse_md.report.cooling_report import write_cooling
    from qsse_md.workflow.analyze_crystallization import select_groups

    check_new_output_dir(Path(out))
    folder = RunFolder(run_dir)
    logs = folder.stage_logs()  # also checks that the folder was run
    stages = folder.stage_trajectories()
    if not stages:
        raise ValueError(f"{run_dir} has no stage trajectories; run the cooling protocol first "
                         f"(qsse-md run {run_dir} --protocol cooling)")
    windows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for stage, trajectory in stages:
            universe = load_universe(folder.topology_pdb, trajectory)
            groups, _ = select_groups(universe, polymer, solvent)
            log = logs[logs["stage"] == stage]
            windows.append({"stage": stage, "start_time_ps": float((log["run_time_ps"] - log["time_ps"]).iloc[0]),
                            "end_time_ps": float(log["run_time_ps"].max()),
                            "temperature_K": float(log["temperature_K"].mean()),
                            "density_g_per_cm3": float(log["density_g_per_cm3"].mean()),
                            **_window(universe, groups)})
    result = {"run_dir": str(folder.path), "units": {"temperature": "K", "time": "ps", "density": "g/cm3",
                                                     "diffusion": "1e-10 m2/s"}, "windows": windows}
    write_cooling(out, result)
    return jsonable(result)


def _window(universe, groups) -> dict:
    """Order, released liquid and Li+ diffusion of one stage trajectory."""
    from qsse_md.analysis.crystallization.chain_order import ChainOrder
    from qsse_md.analysis.solvation.liquid_release import LiquidRelease
    from qsse_md.analysis.transport.transport import Transport

    order = ChainOrder(groups["polymer"]).run().results.mean["polymer"]
    values = {"crystalline_fraction": order["crystalline_fraction"]["mean"],
              "nematic_order": order["nematic_order"]["mean"], "free_fraction": None, "percolating": None,
              "D_li_1e-10_m2_per_s": None, "D_li_reason": "no Li+ or fewer than 8 frames"}
    if "solvent" in groups:
        release = LiquidRelease(groups["polymer"], groups["solvent"]).run().results.mean
        values.update(free_fraction=release["free_fraction"]["mean"], percolating=release["percolating"]["mean"])
    if "cation" in groups and universe.trajectory.n_frames >= 8:
        diffusion = Transport(universe, {"Li": groups["cation"]}, compound="atoms").run().results.diffusion["Li"]
        values.update({"D_li_1e-10_m2_per_s": diffusion["D_1e-10_m2_per_s"], "D_li_reason": diffusion["reason"]})
    return values
