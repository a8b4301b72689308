"""Trajectory inputs and JSON records shared by the analysis report writers.

:func:`resolve_inputs` turns a topology and trajectory (or a qsse-md run folder) into
paths, :func:`system_charges_e` reads a run folder's per-atom charges from its
``system.xml``, :func:`load_universe` opens them with one-line errors, :func:`one_line`
flattens an exception message and :func:`jsonable` turns a record into plain JSON types.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np


def resolve_inputs(topology, trajectory=None) -> tuple[Path, Path]:
    """Topology and trajectory paths; a run folder gives topology.pdb and its last stage's trajectory."""
    topology = Path(topology)
    if topology.is_dir() and trajectory is None:
        from qsse_md.report.run_report import last_trajectory

        return topology / "topology.pdb", last_trajectory(topology)
    if trajectory is None:
        raise ValueError(f"{topology}: give a TRAJECTORY after the topology, or a qsse-md run folder alone")
    for path in (topology, Path(trajectory)):
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; check the path")
    return topology, Path(trajectory)


def system_charges_e(run_dir) -> np.ndarray:
    """Partial charge of every atom of a qsse-md build or run folder, in e.

    Read from the particles of the ``NonbondedForce`` in the folder's ``system.xml``
    (a serialized OpenMM System, parsed as plain XML: no OpenMM import).

    Parameters
    ----------
    run_dir : str or Path
        Folder written by ``qsse-md build`` (and ``qsse-md run``).

    Returns
    -------
    numpy.ndarray, shape (n_atoms,)
        Charges in e, in the atom order of ``topology.pdb``.

    Raises
    ------
    FileNotFoundError
        When the folder has no ``system.xml``.
    ValueError
        When ``system.xml`` is not XML or has no ``NonbondedForce``.
    """
    path = Path(run_dir) / "system.xml"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} has no system.xml; give a folder written by 'qsse-md build'")
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise ValueError(f"{path} is corrupt ({one_line(error)}); rebuild the box with 'qsse-md build'") from None
    for force in root.iter("Force"):
        if force.get("type") == "NonbondedForce":
            return np.array([float(particle.get("q")) for particle in force.find("Particles")])
    raise ValueError(f"{path} has no NonbondedForce, so no charges; give them with --charge NAME=Q")


def load_universe(topology: Path, trajectory: Path):
    """MDAnalysis Universe with one-line errors for unreadable, truncated or mismatched files.

    The last frame is read once up front: MDAnalysis' XTC reader otherwise ends the
    iteration silently before a truncated last frame.
    """
    import MDAnalysis as mda

    try:
        universe = mda.Universe(str(topology), str(trajectory))
        universe.trajectory[-1]  # a truncated last frame fails here instead of ending the pass silently
        universe.trajectory[0]
    except ValueError as error:
        raise ValueError(f"cannot load {topology} with {trajectory}: {one_line(error)}; check that both "
                         "files belong to the same system") from error
    except (OSError, EOFError, IndexError, RuntimeError, TypeError) as error:  # TypeError: no reader for the format
        raise ValueError(f"cannot read {trajectory}: {one_line(error)}; check the file is complete and in a "
                         "format MDAnalysis reads") from error
    if universe.trajectory.ts.dimensions is None or np.any(universe.trajectory.ts.dimensions[:3] <= 0):
        raise ValueError(f"{trajectory} has no periodic box; shells need one (add it with "
                         "MDAnalysis.transformations.boxdimensions.set_dimensions)")
    return universe


def one_line(error) -> str:
    """The message of ``error`` on one line, or its type name when it has none."""
    return " ".join(str(error).split()) or type(error).__name__


def jsonable(value):
    """Plain JSON types: numpy scalars to Python, NaN and inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    return value
