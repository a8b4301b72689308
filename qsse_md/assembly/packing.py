"""Initial boxes packed with PACKMOL.

PACKMOL: Martínez, Andrade, Birgin & Martínez 2009, DOI 10.1002/jcc.21224. The binary
ships in the ``packmol`` pip package. Molecules are packed inside a cube shrunk by half
the tolerance on every face, so periodic images keep the tolerance distance too.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from qsse_md.assembly.molecules import MoleculeType
from qsse_md.errors import UserFixableError
from qsse_md.resources import executable


log = logging.getLogger(__name__)
# The four reference-study boxes PACKMOL could not fill at 1.0 failed at 1.06 too; three packed
# at 1.13 and P(AEEO)/EC-DEC at 1.2 (issue 12's build times). The squeeze back takes 8-11 ps of
# MD, a failed PACKMOL try minutes.
EDGE_FACTORS = (1.0, 1.13, 1.2)


class PackingError(UserFixableError):
    """PACKMOL could not place the molecules."""


def packmol_binary() -> str:
    """Path of the PACKMOL executable."""
    try:
        import packmol

        package = Path(packmol.__file__).parent
        path = executable("packmol", package / "binaries", package)
    except ImportError:
        path = executable("packmol")
    if path is None:
        raise FileNotFoundError("PACKMOL not found; install it with: pip install packmol")
    return path


def pack_growing_box(molecule_types: Sequence[MoleculeType], counts: Sequence[int],
                     box_edge_angstrom: float, tolerance_angstrom: float = 2.0, seed: int = 0,
                     edge_factors: Sequence[float] = EDGE_FACTORS) -> tuple[np.ndarray, float]:
    """Pack into the cube of ``box_edge_angstrom``, or the first larger cube PACKMOL can fill.

    Long segments at liquid density defeat PACKMOL; each factor of ``edge_factors`` is tried
    in turn (1.0, then edges 13 and 20 % longer: 69 and 58 % of the density).

    Returns
    -------
    positions : numpy.ndarray, shape (n_atoms, 3)
        Coordinates in Å (see :func:`pack_box`).
    edge_angstrom : float
        Edge of the cube packed, Å.
    """
    error = None
    for factor in edge_factors:
        edge = box_edge_angstrom * factor
        try:
            return pack_box(molecule_types, counts, edge, tolerance_angstrom, seed), edge
        except PackingError as failure:
            error = failure
            log.info("PACKMOL could not fill a %.1f Å cube; trying a larger one", edge)
    raise error


def pack_box(molecule_types: Sequence[MoleculeType], counts: Sequence[int],
             box_edge_angstrom: float, tolerance_angstrom: float = 2.0, seed: int = 0,
             timeout_s: float = 1800.0) -> np.ndarray:
    """Pack ``counts[i]`` copies of each molecule type into a cube; return coordinates in Å.

    Parameters
    ----------
    molecule_types : sequence of MoleculeType
    counts : sequence of int
        Copies of each molecule type.
    box_edge_angstrom : float
        Cube edge in Å.
    tolerance_angstrom : float
        Minimum distance between atoms of different molecules, in Å.
    seed : int
        PACKMOL random seed.

    Returns
    -------
    numpy.ndarray, shape (n_atoms, 3)
        Coordinates in Å, molecule types in order, copies in order, atoms in topology order.
    """
    largest = max(_longest_distance_angstrom(m.coordinates_angstrom)
                  for m, n in zip(molecule_types, counts) if n > 0)
    span = box_edge_angstrom - tolerance_angstrom
    if largest > span * np.sqrt(3.0):
        raise ValueError(f"box edge {box_edge_angstrom:.1f} Å is too small for a molecule "
                         f"{largest:.1f} Å long; lower the density or add molecules")
    low, high = tolerance_angstrom / 2, box_edge_angstrom - tolerance_angstrom / 2
    lines = [f"tolerance {tolerance_angstrom}", f"seed {seed}", "filetype xyz",
             "output packed.xyz", "nloop 200"]
    with tempfile.TemporaryDirectory(prefix="qsse_packmol_") as tmp:
        work = Path(tmp)
        for index, (molecule, count) in enumerate(zip(molecule_types, counts)):
            if count == 0:
                continue
            _write_xyz(work / f"m{index}.xyz", molecule)
            lines += [f"structure m{index}.xyz", f"  number {count}",
                      f"  inside cube {low} {low} {low} {high - low}", "end structure"]
        (work / "pack.inp").write_text("\n".join(lines) + "\n")
        with open(work / "pack.inp") as stdin:
            try:
                result = subprocess.run([packmol_binary()], stdin=stdin, cwd=work,
                                        capture_output=True, text=True, timeout=timeout_s)
            except subprocess.TimeoutExpired:
                raise PackingError(f"PACKMOL did not finish in {timeout_s:.0f} s; lower the "
                                   "density or the molecule counts") from None
        output = work / "packed.xyz"
        if result.returncode != 0 or not output.is_file() or "Success!" not in result.stdout:
            errors = [line.strip() for line in result.stdout.splitlines() if "ERROR" in line]
            detail = f" (PACKMOL: {errors[0]})" if errors else ""
            raise PackingError("PACKMOL could not pack the box at this density; lower "
                               f"density_g_per_cm3 or use more, smaller molecules{detail}")
        return np.loadtxt(output, skiprows=2, usecols=(1, 2, 3), ndmin=2)


def _longest_distance_angstrom(xyz: np.ndarray) -> float:
    return float(np.sqrt(((xyz[:, None, :] - xyz[None, :, :]) ** 2).sum(-1)).max())


def _write_xyz(path: Path, molecule: MoleculeType) -> None:
    symbols = [molecule.mol.GetAtomWithIdx(int(i)).GetSymbol() for i in molecule.atom_order]
    xyz = molecule.coordinates_angstrom
    rows = [f"{s} {x:.4f} {y:.4f} {z:.4f}" for s, (x, y, z) in zip(symbols, xyz)]
    path.write_text(f"{len(rows)}\n{molecule.name}\n" + "\n".join(rows) + "\n")
