"""Files the GROMACS engine reads and writes: the topology with the run's masses, GROMOS-96
coordinates (positions in nm, velocities in nm/ps, 9 decimals) and the state log from
``gmx energy`` output.

GROMOS-96 (``.g96``) carries positions and velocities at full precision between stages, where
a ``.gro`` file would round them to 1e-3 nm.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import openmm
from MDAnalysis.lib.mdamath import triclinic_box
from openmm import app

from qsse_md.fileio import write_text_atomic
from qsse_md.lib.unwrap import unwrap_step
from qsse_md.md.export import portable_system, to_structure
from qsse_md.md.output import STATE_LOG_COLUMNS
from qsse_md.units import density_g_per_cm3

EDR_TERMS = ("Potential", "Temperature", "Volume", "Density")
"""The ``gmx energy`` terms the state log is made of (kJ/mol, K, nm3, kg/m3)."""


def write_topology(path: Path, system: openmm.System, topology: app.Topology,
                   positions_nm: np.ndarray, forcefield_dir: Path) -> None:
    """Write the GROMACS topology of ``system`` (its masses, so with any repartitioned
    hydrogen masses) to ``path`` atomically, through :func:`qsse_md.md.export.portable_system`.

    Raises
    ------
    ValueError
        If a force cannot be written to a GROMACS topology exactly.
    """
    portable, _ = portable_system(system, topology, positions_nm, forcefield_dir)
    structure = to_structure(topology, portable, positions_nm)
    staging = path.with_name(f".{path.stem}.tmp{path.suffix}")
    structure.save(str(staging), format="gromacs", combine="all", overwrite=True)
    write_text_atomic(path, staging.read_text())
    staging.unlink()


def write_g96(path: Path, topology: app.Topology, positions_nm: np.ndarray,
              box_nm: np.ndarray, velocities_nm_per_ps: np.ndarray | None = None) -> None:
    """Write a GROMOS-96 coordinate file atomically.

    Parameters
    ----------
    path : Path
        Output file.
    topology : openmm.app.Topology
        Residue and atom names, in atom order.
    positions_nm : ndarray, shape (n_atoms, 3)
        Positions in nm.
    box_nm : ndarray, shape (3, 3)
        Box vectors (rows) in nm, in OpenMM's reduced form.
    velocities_nm_per_ps : ndarray, shape (n_atoms, 3), optional
        Velocities in nm/ps; left out of the file when None.
    """
    labels = [f"{a.residue.index % 100000 + 1:5d} {a.residue.name[:5]:<5s} {a.name[:5]:<5s} "
              f"{a.index % 10000000 + 1:6d}" for a in topology.atoms()]
    lines = ["TITLE", "written by qsse_md", "END", "POSITION"]
    lines += [f"{label}{x:15.9f}{y:15.9f}{z:15.9f}" for label, (x, y, z) in zip(labels, positions_nm)]
    lines.append("END")
    if velocities_nm_per_ps is not None:
        lines.append("VELOCITY")
        lines += [f"{label}{x:15.9f}{y:15.9f}{z:15.9f}"
                  for label, (x, y, z) in zip(labels, velocities_nm_per_ps)]
        lines.append("END")
    box = np.asarray(box_nm, dtype=float)
    values = [box[0, 0], box[1, 1], box[2, 2]]
    if np.any(box[np.triu_indices(3, 1)]) or np.any(box[np.tril_indices(3, -1)]):
        values += [box[0, 1], box[0, 2], box[1, 0], box[1, 2], box[2, 0], box[2, 1]]
    lines += ["BOX", "".join(f"{v:15.9f}" for v in values), "END"]
    write_text_atomic(path, "\n".join(lines) + "\n")


def read_g96(path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Positions (nm), velocities (nm/ps, None if absent) and box vectors (3, 3; nm) of a
    GROMOS-96 file written by GROMACS or :func:`write_g96`."""
    blocks, name = {}, None
    for line in Path(path).read_text().splitlines():
        if name is None:
            name = line.strip()
            blocks[name] = []
        elif line.strip() == "END":
            name = None
        elif not line.startswith("#"):
            blocks[name].append(line)

    def table(block):
        return np.array([[float(row[24 + 15 * k:39 + 15 * k]) for k in range(3)] for row in block])

    positions = table(blocks["POSITION"])
    velocities = table(blocks["VELOCITY"]) if "VELOCITY" in blocks else None
    values = [float(v) for v in blocks["BOX"][0].split()]
    box = np.diag(values[:3])
    if len(values) == 9:
        box[0, 1], box[0, 2], box[1, 0], box[1, 2], box[2, 0], box[2, 1] = values[3:]
    return positions, velocities, box


def write_trajectory(source: Path, target: Path, reference_nm: np.ndarray) -> int:
    """Write the XTC file ``source`` of ``gmx mdrun`` to ``target`` (atomically) as the OpenMM
    engine writes its trajectories; return the number of frames written.

    The frame at time 0 is left out (it is where the stage starts: the previous stage's last
    frame), and positions are unwrapped (:func:`qsse_md.lib.unwrap.unwrap_step`, which also
    holds under NPT): GROMACS puts every atom back into the box, the OpenMM engine writes
    positions as integrated, so molecules stay whole and displacements continuous.

    Parameters
    ----------
    source, target : Path
        The trajectory of ``mdrun`` and the stage's trajectory.
    reference_nm : ndarray, shape (n_atoms, 3)
        Unwrapped positions (nm) the stage starts from: the previous stage's last frame, or the
        built coordinates; the frame at time 0 is taken at its images nearest to them.
    """
    from MDAnalysis.lib.formats.libmdaxdr import XTCFile

    staging = target.with_name(f".{target.name}.tmp")
    frames = 0
    with XTCFile(str(source)) as reader, XTCFile(str(staging), "w") as writer:
        first = reader.read()
        wrapped, unwrapped = first.x, nearest_image(first.x, reference_nm, first.box)
        for _ in range(len(reader.offsets) - 1):
            frame = reader.read()
            unwrapped = unwrap_step(wrapped, unwrapped, frame.x, triclinic_box(*frame.box))
            writer.write(unwrapped, frame.box, frame.step, frame.time, frame.prec)
            wrapped = frame.x
            frames += 1
    os.replace(staging, target)
    return frames


def last_frame_nm(path: Path) -> np.ndarray:
    """Positions (nm) of the last frame of the XTC file ``path``."""
    from MDAnalysis.lib.formats.libmdaxdr import XTCFile

    with XTCFile(str(path)) as reader:
        reader.seek(len(reader.offsets) - 1)
        return np.asarray(reader.read().x, dtype=float)


def nearest_image(positions_nm: np.ndarray, reference_nm: np.ndarray, box_nm: np.ndarray) -> np.ndarray:
    """``positions_nm`` (n_atoms, 3) moved by whole box vectors (rows of ``box_nm``) to the
    images nearest to ``reference_nm``, in nm."""
    return unwrap_step(reference_nm, reference_nm, positions_nm, triclinic_box(*box_nm))


def read_xvg(text: str) -> tuple[list[str], np.ndarray]:
    """Legends and data columns of ``gmx energy`` XVG output (the first column is time in ps)."""
    legends, rows = ["Time"], []
    for line in text.splitlines():
        if line.startswith("@ s") and " legend " in line:
            legends.append(line.split('"')[1])
        elif line and line[0] not in "#@":
            rows.append([float(v) for v in line.split()])
    return legends, np.array(rows).reshape(-1, len(legends))


def write_state_log(path: Path, legends: list[str], data: np.ndarray, timestep_fs: float,
                    mass_g_per_mol: float, volume_nm3: float, speeds_ns_per_day: np.ndarray) -> int:
    """Write ``state.csv`` (columns :data:`~qsse_md.md.output.STATE_LOG_COLUMNS`) from
    ``gmx energy`` output, leaving out the energy frame at time 0 (frames are taken at the end
    of each report interval, as by the OpenMM engine).

    Parameters
    ----------
    path : Path
        The stage's state log, written atomically.
    legends, data : list of str, ndarray (n_frames, n_columns)
        ``gmx energy`` output as read by :func:`read_xvg`: "Time" (ps) and some of
        :data:`EDR_TERMS` (Volume and Density are absent at constant volume).
    timestep_fs : float
        Integration time step in fs (steps are times over it).
    mass_g_per_mol : float
        Total mass of the system in g/mol, for the density at constant volume.
    volume_nm3 : float
        Box volume in nm3, used when the output has no Volume.
    speeds_ns_per_day : ndarray
        Simulation speed of each row in ns/day (NaN where unknown); one per frame.

    Returns
    -------
    int
        Number of rows written.
    """
    data = data[data[:, 0] > 1e-9]
    column = {name: data[:, legends.index(name)] for name in legends}
    volume = column.get("Volume", np.full(len(data), volume_nm3))
    density = (column["Density"] / 1000.0 if "Density" in column else
               np.array([density_g_per_cm3(mass_g_per_mol, v * 1000.0) for v in volume]))
    lines = [",".join(STATE_LOG_COLUMNS)]
    for k, time_ps in enumerate(column["Time"]):
        values = (column["Temperature"][k], column["Potential"][k], volume[k], density[k],
                  speeds_ns_per_day[k])
        lines.append(f"{round(time_ps * 1000.0 / timestep_fs)},{time_ps:.6f},"
                     + ",".join(f"{v:.6g}" for v in values))
    write_text_atomic(path, "\n".join(lines) + "\n")
    return len(data)
