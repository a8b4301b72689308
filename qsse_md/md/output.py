"""Per-stage output files that can be cut back to a checkpoint: trajectory, state log, checkpoint.

Resuming works by truncation: at each checkpoint the byte sizes of the trajectory and the
state log are recorded together with the integrator state, in one file written atomically.
On restart both files are cut back to those sizes, so every frame appears exactly once.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
from openmm import Vec3, app

from qsse_md.fileio import atomic_write_bytes

STATE_LOG_COLUMNS = ("step", "time_ps", "temperature_K", "potential_energy_kJ_per_mol",
                     "volume_nm3", "density_g_per_cm3", "speed_ns_per_day")
_CHECKPOINT_MAGIC = b"QSSECHK1"


def write_checkpoint(path: Path, meta: dict, state_xml: str) -> None:
    """Write a checkpoint: JSON metadata plus a serialized OpenMM State, atomically."""
    header = json.dumps(meta).encode()
    atomic_write_bytes(path, _CHECKPOINT_MAGIC + struct.pack("<Q", len(header)) + header
                       + state_xml.encode())


def read_checkpoint(path: Path) -> tuple[dict, str]:
    """Read a checkpoint written by :func:`write_checkpoint`; return (metadata, state XML).

    Raises
    ------
    ValueError
        If the file is not a complete qsse_md checkpoint.
    """
    data = Path(path).read_bytes()
    try:
        if not data.startswith(_CHECKPOINT_MAGIC):
            raise ValueError
        (length,) = struct.unpack("<Q", data[8:16])
        meta = json.loads(data[16:16 + length])
        state_xml = data[16 + length:].decode()
        if not state_xml.rstrip().endswith("</State>"):
            raise ValueError
    except (ValueError, struct.error, UnicodeDecodeError):
        raise ValueError(f"checkpoint {path} is corrupt; delete it to restart that stage "
                         "from its beginning") from None
    return meta, state_xml


def file_size(path: Path) -> int:
    """Size of ``path`` in bytes after an fsync (0 if it does not exist)."""
    if not Path(path).exists():
        return 0
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return os.path.getsize(path)


def truncate(path: Path, size_bytes: int) -> None:
    """Cut ``path`` back to ``size_bytes`` (created empty if missing)."""
    with open(path, "ab") as handle:
        handle.truncate(size_bytes)


class TrajectoryWriter:
    """Append frames (positions and box vectors, nm) to an XTC or DCD file.

    Frame ``k`` (1-based) of a stage has time ``k * report_interval_ps``. Positions are
    written as integrated, without wrapping into the box, so molecules stay whole and
    displacements are continuous.

    Parameters
    ----------
    path : Path
        Trajectory file; extended if it already holds ``frames_done`` frames.
    topology : openmm.app.Topology
        Topology of the system (atom count, periodicity).
    report_interval_ps : float
        Time between frames in ps.
    timestep_ps : float
        Current integration time step in ps (frames are ``report/timestep`` steps apart).
    frames_done : int
        Frames already in the file (after truncation to the checkpoint).
    """

    def __init__(self, path: Path, topology: app.Topology, report_interval_ps: float,
                 timestep_ps: float, frames_done: int):
        self.path = Path(path)
        interval = round(report_interval_ps / timestep_ps)
        append = frames_done > 0
        self._handle = None
        if self.path.suffix == ".dcd":
            if append:
                _set_dcd_frame_count(self.path, frames_done, interval)
            self._handle = open(self.path, "r+b" if append else "wb")
            self._file = app.DCDFile(self._handle, topology, timestep_ps, interval, interval,
                                     append=append)
        else:
            self._file = app.XTCFile(str(self.path), topology, timestep_ps, interval, interval,
                                     append=append)

    def write(self, positions_nm: np.ndarray, box_vectors_nm: np.ndarray) -> None:
        """Append one frame: positions (n_atoms, 3) and box vectors (3, 3), both in nm."""
        box = tuple(Vec3(*map(float, row)) for row in box_vectors_nm)
        self._file.writeModel(positions_nm, periodicBoxVectors=box)
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> None:
        """Close the file (XTC frames are closed as they are written)."""
        if self._handle is not None:
            self._handle.close()


def _set_dcd_frame_count(path: Path, frames: int, interval: int) -> None:
    """Rewrite the DCD header's frame count and last step after a truncation."""
    with open(path, "r+b") as handle:
        handle.seek(8)
        handle.write(struct.pack("<i", frames))
        handle.seek(20)
        handle.write(struct.pack("<i", frames * interval))


class StateLog:
    """CSV state log of a stage, one row per frame (columns: :data:`STATE_LOG_COLUMNS`)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.exists() or self.path.stat().st_size == 0:
            self.path.write_text(",".join(STATE_LOG_COLUMNS) + "\n")

    def write(self, row: dict) -> None:
        """Append one row; ``row`` maps every column name to a number."""
        values = [row["step"]] + [f"{row[c]:.6g}" for c in STATE_LOG_COLUMNS[1:]]
        values[1] = f"{row['time_ps']:.6f}"
        with open(self.path, "a") as handle:
            handle.write(",".join(str(v) for v in values) + "\n")
