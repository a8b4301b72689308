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
log gives the mean temperature and density. Writes ``cooling.json``,
``cooling_windows.csv`` and one figure ``cooling.png`` (each quantity against temperature
and against time; a window whose D(Li+) is not determined is a gap, with its reason
written on the plot). ``qsse-md study cooling`` is its command.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from qsse_md.lib.fit_quality import NOT_DETERMINED
from qsse_md.report.inputs import jsonable, load_universe

PANELS = (("crystalline_fraction", "crystalline fraction"), ("free_fraction", "free solvent fraction"),
          ("density_g_per_cm3", "density (g/cm³)"), ("D_li_1e-10_m2_per_s", "D(Li⁺) (1e-10 m²/s)"))


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
    if not md_dir.exists():
        check_new_output_dir(Path(out))
        _check_selections(source, polymer, solvent)
        continue_run(source, md_dir)
    run(md_dir, protocol=protocol, platform=platform)
    if (analysis_dir / "cooling.json").is_file():
        return json.loads((analysis_dir / "cooling.json").read_text())
    return analyse_cooling_windows(md_dir, out=analysis_dir, polymer=polymer, solvent=solvent)


def _check_selections(source, polymer, solvent) -> None:
    """Parse the polymer and solvent selections on the source folder's topology, if given."""
    import MDAnalysis as mda

    from qsse_md.analysis._checks import checked_selections

    topology = Path(source) / "topology.pdb"
    if (polymer or solvent) and topology.is_file():
        checked_selections(mda.Universe(str(topology)), {"--polymer": polymer, "--solvent": solvent})


def analyse_cooling_windows(run_dir, *, out, polymer=None, solvent=None) -> dict:
    """Analyse every dynamics stage of ``run_dir`` as one temperature window; write ``out``.

    Returns the record written as ``cooling.json`` (``windows``: one dict per stage with
    ``stage``, ``start_time_ps``, ``temperature_K``, ``density_g_per_cm3``,
    ``crystalline_fraction``, ``nematic_order``, ``free_fraction``, ``percolating``,
    ``D_li_1e-10_m2_per_s`` and ``D_li_reason``, why there is no coefficient when None).
    """
    import pandas as pd

    from qsse_md.fileio import atomic_write_json, check_new_output_dir, staged_output_dir
    from qsse_md.report.crystallization_report import select_groups
    from qsse_md.report.run_report import stage_logs

    check_new_output_dir(Path(out))
    run_dir = Path(run_dir)
    logs = stage_logs(run_dir)  # also checks that run.json exists
    record = json.loads((run_dir / "run.json").read_text())
    stages = [(name, info) for name, info in record["stages"].items() if info.get("trajectory")]
    if not stages:
        raise ValueError(f"{run_dir} has no stage trajectories; run the cooling protocol first "
                         f"(qsse-md run {run_dir} --protocol cooling)")
    windows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for stage, info in stages:
            universe = load_universe(run_dir / "topology.pdb", run_dir / "stages" / stage / info["trajectory"])
            groups, _ = select_groups(universe, polymer, solvent)
            log = logs[logs["stage"] == stage]
            windows.append({"stage": stage, "start_time_ps": float((log["run_time_ps"] - log["time_ps"]).iloc[0]),
                            "end_time_ps": float(log["run_time_ps"].max()),
                            "temperature_K": float(log["temperature_K"].mean()),
                            "density_g_per_cm3": float(log["density_g_per_cm3"].mean()),
                            **_window(universe, groups)})
    table = pd.DataFrame(windows)
    result = {"run_dir": str(run_dir), "units": {"temperature": "K", "time": "ps", "density": "g/cm3",
                                                 "diffusion": "1e-10 m2/s"}, "windows": windows}
    with staged_output_dir(Path(out)) as staging:
        table.to_csv(staging / "cooling_windows.csv", index=False)
        _figure(table, staging / "cooling.png")
        atomic_write_json(staging / "cooling.json", jsonable(result))
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


def _figure(table, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(PANELS), 2, figsize=(9, 2.4 * len(PANELS)), sharex="col")
    middle = 0.5 * (table["start_time_ps"] + table["end_time_ps"])
    for row, (column, label) in enumerate(PANELS):
        values = _as_float(table[column])
        axes[row, 0].plot(table["temperature_K"], values, "o-")
        axes[row, 1].plot(middle, values, "o-")
        axes[row, 0].set_ylabel(label)
    missing = table[np.isnan(_as_float(table["D_li_1e-10_m2_per_s"]))]
    for k, window in enumerate(missing.itertuples()):
        axes[-1, 1].text(0.02, 0.95 - 0.12 * k, f"{window.stage}: D {NOT_DETERMINED}: {window.D_li_reason}",
                         transform=axes[-1, 1].transAxes, fontsize="x-small", va="top", wrap=True)
    axes[-1, 0].set_xlabel("temperature (K)")
    axes[-1, 1].set_xlabel("time (ps)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _as_float(series) -> np.ndarray:
    """Column as floats with ``nan`` where a window has no value."""
    return np.array([np.nan if value is None else value for value in series], dtype=np.float64)
