"""Start a new run folder from the final state of a finished one (e.g. a cooling ladder
after the reference protocol's equilibration)."""

from __future__ import annotations

import json
from pathlib import Path

import openmm
from openmm import app

from qsse_md.fileio import staged_output_dir
from qsse_md.runfolder import RunFolder


def continue_run(source_dir: str | Path, target_dir: str | Path) -> Path:
    """Make ``target_dir`` a build folder holding ``source_dir``'s system at its final state.

    ``source_dir`` is a build folder or a run folder; from a run folder the positions and
    box of its last finished stage replace the built ones (velocities are drawn anew).
    Returns ``target_dir``.
    """
    source = RunFolder(source_dir)
    for path in (source.topology_pdb, source.system_xml, source.build_record):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found; give a folder made by "
                                    "'qsse-md build' (and optionally run with 'qsse-md run')")
    _, pdb, _ = source.load_build()
    positions, topology = pdb.positions, pdb.topology
    final = source.last_final_state()
    if final is not None:
        state = openmm.XmlSerializer.deserialize(final.read_text())
        positions = state.getPositions()
        topology.setPeriodicBoxVectors(state.getPeriodicBoxVectors())
    with staged_output_dir(Path(target_dir)) as staging:
        target = RunFolder(staging)
        source.copy_system_to(target)
        with open(target.topology_pdb, "w") as handle:
            app.PDBFile.writeFile(topology, positions, handle)
        target.continued_from.write_text(json.dumps(
            {"source": str(source.path.resolve()), "state": str(final) if final else "built"},
            indent=2) + "\n")
    return Path(target_dir)
