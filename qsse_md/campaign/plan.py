"""Planning: a campaign file (or a list of existing trajectories) -> task folders + manifest."""

from __future__ import annotations

import shutil
from pathlib import Path

from qsse_md.campaign import spec as campaign_spec
from qsse_md.campaign.state import MANIFEST, now
from qsse_md.fileio import atomic_write_json, staged_output_dir
from qsse_md.runfolder import RunFolder


def plan(campaign_file: str | Path, out_dir: str | Path) -> dict:
    """Expand ``campaign_file`` into ``out_dir`` (must not exist or be empty); return the manifest.

    One folder ``tasks/ID`` per point, ``ID`` = first 12 hex digits of the SHA-256 of the
    task's full specification; ``manifest.json`` lists them with their grid variables.
    Nothing is written if validation fails.
    """
    campaign_file = Path(campaign_file)
    settings, tasks = campaign_spec.load(campaign_file)
    return _write(Path(out_dir), settings, tasks, campaign_file)


def plan_analysis(inputs: list[str | Path], out_dir: str | Path, temperature_K: float | None = None,
                  analysis: tuple[str, ...] = ("solvation", "transport"), name: str = "analysis") -> dict:
    """Plan a campaign that only analyses existing trajectories.

    ``inputs``: run folders (with ``run.json``: the last stage's trajectory is used) or
    ``TOPOLOGY:TRAJECTORY`` pairs of any format MDAnalysis reads. ``temperature_K`` is
    needed for conductivities of plain trajectories (run folders supply their own).
    """
    if not inputs:
        raise ValueError("give at least one run folder or TOPOLOGY:TRAJECTORY pair to analyse")
    unknown = sorted(set(analysis) - set(campaign_spec.ANALYSES))
    if unknown:
        raise ValueError(f"unknown analysis {', '.join(unknown)}; choose from solvation, transport, report")
    tasks, seen = [], set()
    for item in inputs:
        spec = _analysis_spec(str(item), temperature_K, list(analysis))
        digest = campaign_spec.spec_hash(spec)
        if digest in seen:
            raise ValueError(f"{item} is given twice")
        seen.add(digest)
        tasks.append({"id": digest[:campaign_spec.ID_DIGITS], "sha256": digest,
                      "variables": {"input": spec["label"]}, "spec": spec})
    settings = {"name": name, "analysis": list(analysis), "resources": {}}
    return _write(Path(out_dir), settings, tasks, None)


def _analysis_spec(item: str, temperature_K, analysis: list[str]) -> dict:
    path = Path(item)
    if path.is_dir():
        folder = RunFolder(path)
        if not folder.is_run():
            raise FileNotFoundError(f"{path} is not a run folder (no {folder.run_record.name}); "
                                    "give TOPOLOGY:TRAJECTORY")
        return {"kind": "analyze", "run_dir": str(path.resolve()), "topology": str(folder.topology_pdb.resolve()),
                "trajectory": str(folder.last_trajectory().resolve()), "temperature_K": temperature_K,
                "analysis": analysis, "label": path.name}
    if ":" not in item:
        raise FileNotFoundError(f"{item} is neither a run folder nor TOPOLOGY:TRAJECTORY")
    topology, trajectory = (Path(p) for p in item.split(":", 1))
    for file in (topology, trajectory):
        if not file.is_file():
            raise FileNotFoundError(f"{file} does not exist")
    if "report" in analysis:
        raise ValueError("the run report needs a run folder; leave 'report' out for plain trajectories")
    return {"kind": "analyze", "run_dir": None, "topology": str(topology.resolve()),
            "trajectory": str(trajectory.resolve()), "temperature_K": temperature_K,
            "analysis": analysis, "label": trajectory.stem if trajectory.stem != "trajectory" else
            trajectory.parent.name}


def _write(out_dir: Path, settings: dict, tasks: list[dict], source: Path | None) -> dict:
    variables = list(dict.fromkeys(name for task in tasks for name in task["variables"]))
    manifest = {"name": settings["name"], "description": settings.get("description", ""),
                "created": now(), "source": None if source is None else str(source.resolve()),
                "settings": settings, "variables": variables,
                "tasks": [{"id": t["id"], "sha256": t["sha256"], "variables": t["variables"]} for t in tasks]}
    with staged_output_dir(out_dir) as staging:
        if source is not None:
            shutil.copyfile(source, staging / "campaign.toml")
        for task in tasks:
            folder = staging / "tasks" / task["id"]
            folder.mkdir(parents=True)
            atomic_write_json(folder / "spec.json", task)
            atomic_write_json(folder / "state.json", {"state": "pending", "failures": 0, "reason": None,
                                                      "updated": now(), "history": []})
        atomic_write_json(staging / MANIFEST, manifest)
    return manifest
