"""Start a new run folder from the final state of a finished one (e.g. a cooling ladder
after the reference protocol's equilibration)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openmm
from openmm import app

from qsse_md.fileio import staged_output_dir
from qsse_md.md.runner import load_build

BUILD_FILES = ("system.xml", "build.json")


def last_final_state(run_dir: Path) -> Path | None:
    """``final_state.xml`` of the last finished stage of ``run_dir``, or None."""
    record_path = Path(run_dir) / "run.json"
    if not record_path.is_file():
        return None
    stages = json.loads(record_path.read_text())["stages"]
    finished = [name for name, info in stages.items() if info.get("status") == "done"]
    for name in reversed(finished):
        path = Path(run_dir) / "stages" / name / "final_state.xml"
        if path.is_file():
            return path
    return None


def continue_run(source_dir: str | Path, target_dir: str | Path) -> Path:
    """Make ``target_dir`` a build folder holding ``source_dir``'s system at its final state.

    ``source_dir`` is a build folder or a run folder; from a run folder the positions and
    box of its last finished stage replace the built ones (velocities are drawn anew).
    Returns ``target_dir``.
    """
    source = Path(source_dir)
    for name in ("topology.pdb", *BUILD_FILES):
        if not (source / name).is_file():
            raise FileNotFoundError(f"{source / name} not found; give a folder made by "
                                    "'qsse-md build' (and optionally run with 'qsse-md run')")
    _, pdb, _ = load_build(source)
    positions, topology = pdb.positions, pdb.topology
    final = last_final_state(source)
    if final is not None:
        state = openmm.XmlSerializer.deserialize(final.read_text())
        positions = state.getPositions()
        topology.setPeriodicBoxVectors(state.getPeriodicBoxVectors())
    with staged_output_dir(Path(target_dir)) as staging:
        for name in BUILD_FILES:
            shutil.copyfile(source / name, staging / name)
        if (source / "forcefield").is_dir():
            shutil.copytree(source / "forcefield", staging / "forcefield")
        with open(staging / "topology.pdb", "w") as handle:
            app.PDBFile.writeFile(topology, positions, handle)
        (staging / "continued_from.json").write_text(json.dumps(
            {"source": str(source.resolve()), "state": str(final) if final else "built"},
            indent=2) + "\n")
    return Path(target_dir)
