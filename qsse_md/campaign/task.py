"""One campaign task, run on a Dask worker: build -> MD -> analyses -> results.json.

Every step is skipped when its output is complete, so a task interrupted anywhere
continues where it stopped (MD from its checkpoints, see :func:`qsse_md.md.runner.run`).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from qsse_md.campaign.state import read_state, task_lock, write_state
from qsse_md.fileio import atomic_write_json

log = logging.getLogger(__name__)


def execute_task(folder: str, max_failures: int = 3, platform: str | None = None) -> dict:
    """Run the task in ``folder`` until done or ``max_failures`` failed attempts in total.

    Never raises for a failure of the task itself: it is recorded as ``failed`` with a
    one-line reason. Returns the final state record (without history).
    """
    folder = Path(folder)
    with task_lock(folder):
        record = read_state(folder)
        if record["state"] == "done":
            return _brief(record)
        spec = json.loads((folder / "spec.json").read_text())["spec"]
        while record.get("failures", 0) < max_failures:
            write_state(folder, "running", step=None, failures=record.get("failures", 0))
            try:
                results = _steps(folder, spec, platform)
            except Exception as error:  # one task's failure must not stop the others
                reason = " ".join(f"{type(error).__name__}: {error}".split())
                log.warning("task %s failed: %s", folder.name, reason)
                record = write_state(folder, "failed", reason=reason, failures=record.get("failures", 0) + 1,
                                     step=read_state(folder).get("step"))
                continue
            record = write_state(folder, "done", step=None, failures=record.get("failures", 0),
                                 results=results)
            break
        return _brief(record)


def _brief(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "history"}


def _step(folder: Path, name: str) -> None:
    record = read_state(folder)
    record["step"] = name
    atomic_write_json(folder / "state.json", record)


def _steps(folder: Path, spec: dict, platform: str | None) -> str:
    if spec["kind"] == "md":
        run_dir = folder / "run"
        _md(folder, run_dir, spec, platform)
        topology = run_dir / "topology.pdb"
        from qsse_md.report.run_report import last_trajectory

        trajectory = last_trajectory(run_dir)
        temperature = _final_temperature(spec["protocol"])
    else:
        run_dir = Path(spec["run_dir"]) if spec.get("run_dir") else None
        topology, trajectory = Path(spec["topology"]), Path(spec["trajectory"])
        temperature = spec.get("temperature_K")
        if temperature is None and run_dir is not None:
            temperature = _final_temperature(json.loads((run_dir / "run.json").read_text())["protocol"])
    results = {"trajectory": str(trajectory)}
    if "report" in spec["analysis"] and run_dir is not None:
        _step(folder, "report")
        from qsse_md.report.run_report import write_run_report

        report_dir = run_dir if spec["kind"] == "md" else folder / "report"
        results["summary"] = str(Path(report_dir, "summary.json"))
        if not (Path(report_dir) / "summary.json").is_file():
            write_run_report(run_dir, report_dir)
    if "solvation" in spec["analysis"]:
        _step(folder, "solvation")
        from qsse_md.report.solvation_report import analyze_solvation

        if not (folder / "solvation" / "solvation.json").is_file():
            _clear(folder / "solvation")
            analyze_solvation(topology, trajectory, out=folder / "solvation")
    if "transport" in spec["analysis"]:
        _step(folder, "transport")
        from qsse_md.report.transport_report import analyze_transport

        if not (folder / "transport" / "transport.json").is_file():
            _clear(folder / "transport")
            inputs = (run_dir,) if run_dir is not None else (topology, trajectory)  # a run folder has charges
            analyze_transport(*inputs, out=folder / "transport", temperature_K=temperature)
    from qsse_md.campaign.collect import task_metrics

    atomic_write_json(folder / "results.json", task_metrics(folder, temperature))
    return "results.json"


def _md(folder: Path, run_dir: Path, spec: dict, platform: str | None) -> None:
    from qsse_md.assembly.builder import build_system
    from qsse_md.assembly.recipe import parse_recipe
    from qsse_md.md.protocol import parse_protocol
    from qsse_md.md.runner import run

    if not (run_dir / "build.json").is_file():
        _step(folder, "build")
        _clear(run_dir)
        for stale in folder.glob(".run.*"):  # staging folders of a killed build
            shutil.rmtree(stale, ignore_errors=True)
        build_system(parse_recipe(spec["recipe"]), run_dir)
    _step(folder, "md")
    run(run_dir, protocol=parse_protocol(spec["protocol"]), platform=platform or spec.get("platform"))


def _clear(path: Path) -> None:
    """Remove an incomplete output folder (its completion marker is missing)."""
    if path.exists():
        shutil.rmtree(path)


def _final_temperature(protocol: dict) -> float | None:
    holds = [s["temperature_K"] for s in protocol.get("stage", []) if "temperature_K" in s]
    return float(holds[-1]) if holds else None
