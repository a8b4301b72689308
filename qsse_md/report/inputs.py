"""Trajectory inputs and JSON records shared by the workflow drivers and the report writers.

:func:`resolve_inputs` turns a topology and trajectory (or a qsse-md run folder) into
paths, :func:`load_universe` opens them with one-line errors (and an optional ``--box``,
checked by :func:`box_dimensions`), :func:`one_line`
flattens an exception message and :func:`jsonable` turns a record into plain JSON types.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from qsse_md.runfolder import RunFolder

log = logging.getLogger(__name__)


def resolve_inputs(topology, trajectory=None) -> tuple[Path, Path]:
    """Topology and trajectory paths; a run folder gives topology.pdb and its last stage's trajectory."""
    topology = Path(topology)
    if topology.is_dir() and trajectory is None:
        folder = RunFolder(topology)
        return folder.topology_pdb, folder.last_trajectory()
    if trajectory is None:
        raise ValueError(f"{topology}: give a TRAJECTORY after the topology, or a qsse-md run folder alone")
    for path in (topology, Path(trajectory)):
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; check the path")
    return topology, Path(trajectory)


def load_universe(topology: Path, trajectory: Path, box=None, dt_ps=None):
    """MDAnalysis Universe with one-line errors for unreadable, truncated or mismatched files.

    The last frame is read once up front: MDAnalysis' XTC reader otherwise ends the
    iteration silently before a truncated last frame. A LAMMPS dump named ``*.lammpstrj``
    (a suffix MDAnalysis does not know) is read as ``LAMMPSDUMP``. What the topology lacks
    is filled in by :func:`qsse_md.analysis.topology.complete_topology` (elements from
    masses, molecules as residues, residue names from formulas), logged in one line.

    Parameters
    ----------
    topology, trajectory : Path
    box : sequence of float, optional
        ``a b c`` (Å) or ``a b c alpha beta gamma`` (Å, degrees; default 90): the periodic
        box of every frame, for trajectories without one (replaces any box in the file).
    dt_ps : float, optional
        Time between frames (ps): frame ``i`` is at ``i * dt_ps``, for trajectories that
        record no times (replaces the file's times).

    Raises
    ------
    ValueError
        For unreadable or mismatched files, a malformed ``box`` or ``dt_ps``, or no box at all.
    """
    import MDAnalysis as mda

    from qsse_md.analysis.topology import complete_topology
    from qsse_md.lib.box import require_box

    dimensions = None if box is None else box_dimensions(box)
    if dt_ps is not None and not dt_ps > 0:
        raise ValueError(f"--dt {dt_ps}: give the time between frames in ps, > 0")
    formats = {key: LAMMPS_DUMP for key, path in (("topology_format", topology), ("format", trajectory))
               if _is_lammps_dump(path)}
    try:
        universe = mda.Universe(str(topology), str(trajectory), **formats)
        universe.trajectory[-1]  # a truncated last frame fails here instead of ending the pass silently
        universe.trajectory[0]
    except ValueError as error:
        raise ValueError(f"cannot load {topology} with {trajectory}: {one_line(error)}; check that both "
                         "files belong to the same system") from error
    except (OSError, EOFError, IndexError, RuntimeError, TypeError) as error:  # TypeError: no reader for the format
        raise ValueError(f"cannot read {trajectory}: {one_line(error)}; check the file is complete and in a "
                         "format MDAnalysis reads") from error
    if dimensions is not None or dt_ps is not None:
        from MDAnalysis.transformations.boxdimensions import set_dimensions

        universe.trajectory.add_transformations(*([] if dimensions is None else [set_dimensions(dimensions)]),
                                                *([] if dt_ps is None else [FrameTimes(dt_ps)]))
    require_box(universe.trajectory.ts.dimensions, str(trajectory))
    for note in complete_topology(universe):
        log.info("%s: %s", topology, note)
    return universe


class FrameTimes:
    """MDAnalysis on-the-fly transformation setting the time of frame ``i`` to ``i * dt_ps`` (ps)."""

    def __init__(self, dt_ps: float):
        self.dt_ps = float(dt_ps)
        self.parallelizable = True

    def __call__(self, ts):
        ts.time = ts.frame * self.dt_ps
        return ts


#: MDAnalysis' format name of LAMMPS dump files, and the suffixes it does not recognise as one
LAMMPS_DUMP = "LAMMPSDUMP"
_LAMMPS_DUMP_SUFFIXES = (".lammpstrj", ".dump")


def _is_lammps_dump(path) -> bool:
    name = Path(path).name.lower().removesuffix(".bz2").removesuffix(".gz")
    return name.endswith(_LAMMPS_DUMP_SUFFIXES)


def box_dimensions(box) -> np.ndarray:
    """``[a, b, c, alpha, beta, gamma]`` (Å, degrees) of a ``--box`` of 3 or 6 numbers, checked.

    Raises
    ------
    ValueError
        When ``box`` does not hold 3 or 6 numbers, an edge is not positive or an angle is
        not strictly between 0 and 180 degrees.
    """
    values = [float(v) for v in box]
    if len(values) not in (3, 6):
        raise ValueError(f"--box takes 3 edges (Å) or 3 edges and 3 angles (degrees); got {len(values)} number(s)")
    values += [90.0] * (6 - len(values))
    if not all(edge > 0 for edge in values[:3]):
        raise ValueError(f"--box edges {values[:3]} Å must be positive")
    if not all(0 < angle < 180 for angle in values[3:]):
        raise ValueError(f"--box angles {values[3:]} must lie strictly between 0 and 180 degrees")
    return np.array(values, dtype=np.float32)


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
