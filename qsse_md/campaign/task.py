"""One campaign task, run on a Dask worker: build -> MD -> analyses -> results.json.

The steps run on :func:`qsse_md.workflow.steps.run_steps`: every step is skipped when its
output is complete, so a task interrupted anywhere continues where it stopped (MD from
its checkpoints, see :func:`qsse_md.md.runner.run`).
"""

from __future__ import annotations

import json
import logging
import shutil
from functools import partial
from pathlib import Path

from qsse_md.campaign.state import read_state, task_lock, write_state
from qsse_md.fileio import atomic_write_json
from qsse_md.runfolder import RunFolder
from qsse_md.workflow.steps import Step, run_steps

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
    """Run the task's steps (:func:`qsse_md.workflow.steps.run_steps`), skipping those done."""
    from qsse_md.campaign.collect import task_metrics

    announce = partial(_step, folder)
    if spec["kind"] == "md":
        run_dir = RunFolder(folder / "run")
        run_steps(_md_steps(folder, run_dir, spec, platform), announce)
        topology, trajectory = run_dir.topology_pdb, run_dir.last_trajectory()
        temperature = _final_temperature(spec["protocol"])
    else:
        run_dir = RunFolder(spec["run_dir"]) if spec.get("run_dir") else None
        topology, trajectory = Path(spec["topology"]), Path(spec["trajectory"])
        temperature = spec.get("temperature_K")
        if temperature is None and run_dir is not None:
            temperature = _final_temperature(run_dir.read_run()["protocol"])
    steps = []
    if "report" in spec["analysis"] and run_dir is not None:
        from qsse_md.workflow.analyze_run import report_run

        report_dir = run_dir.path if spec["kind"] == "md" else folder / "report"
        steps.append(Step("report", partial(report_run, run_dir.path, report_dir),
                          done=report_dir / "summary.json"))
    if "solvation" in spec["analysis"]:
        from qsse_md.workflow.analyze_solvation import analyze_solvation

        out = folder / "solvation"
        steps.append(Step("solvation", partial(analyze_solvation, topology, trajectory, out=out),
                          done=out / "solvation.json", clear=out))
    if "transport" in spec["analysis"]:
        from qsse_md.workflow.analyze_transport import analyze_transport

        out = folder / "transport"
        inputs = (run_dir.path,) if run_dir is not None else (topology, trajectory)  # a run folder has charges
        steps.append(Step("transport", partial(analyze_transport, *inputs, out=out, temperature_K=temperature),
                          done=out / "transport.json", clear=out))
    run_steps(steps, announce)
    atomic_write_json(folder / "results.json", task_metrics(folder, temperature))
    return "results.json"


def _md_steps(folder: Path, run_dir: RunFolder, spec: dict, platform: str | None) -> list[Step]:
    """Build (skipped once the build record exists) and MD (resumes from its checkpoints) on
    the protocol's engine; ``platform`` (OpenMM) is not used by a GROMACS task."""
    from qsse_md.assembly.builder import build_system
    from qsse_md.assembly.recipe import parse_recipe
    from qsse_md.md.protocol import parse_protocol
    from qsse_md.md.runner import run

    def build() -> dict:
        for stale in folder.glob(".run.*"):  # staging folders of a killed build
            shutil.rmtree(stale, ignore_errors=True)
        return build_system(parse_recipe(spec["recipe"]), run_dir.path)

    if spec["protocol"].get("engine") == "gromacs":
        options = {key: spec.get(key) for key in ("threads", "gmx", "mpi_ranks", "mpirun")}
    else:
        options = {"platform": platform or spec.get("platform")}
    return [Step("build", build, done=run_dir.build_record, clear=run_dir.path),
            Step("md", lambda: run(run_dir.path, protocol=parse_protocol(spec["protocol"]), **options))]


def _final_temperature(protocol: dict) -> float | None:
    holds = [s["temperature_K"] for s in protocol.get("stage", []) if "temperature_K" in s]
    return float(holds[-1]) if holds else None
