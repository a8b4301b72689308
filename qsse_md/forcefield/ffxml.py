"""Write OpenMM ffxml files through ParmEd.

GAFF2 types and parameters come from AmberTools' ``gaff2.dat`` (converted once into the
shipped ``forcefields/gaff2.xml``); each species file holds its residue templates with
per-atom charges plus the parmchk2 parameters its molecule needs beyond ``gaff2.dat``.
Amber conventions are kept: Lorentz-Berthelot mixing, 1-4 electrostatics scaled by
1/1.2 and 1-4 Lennard-Jones by 1/2, impropers in Amber atom order.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import parmed
from parmed.modeller import ResidueTemplate
from parmed.periodic_table import Mass
from parmed.topologyobjects import Atom

from qsse_md.forcefield.amber import gaff2_dat

COULOMB14_SCALE = 1.0 / 1.2
LJ14_SCALE = 0.5
MIXING_RULE = "Lorentz-Berthelot"


@dataclass(frozen=True)
class Residue:
    """A residue template: atoms with GAFF2 types and charges, bonds, external bonds.

    Attributes
    ----------
    name : str
        Template name (unique within the force field).
    atom_names, elements, atom_types : tuple of str
    charges_e : numpy.ndarray
        Partial charges in e.
    bonds : tuple of (int, int)
        Atom index pairs inside the residue.
    external : tuple of int
        Atoms bonded to another residue (polymer repeat units).
    """

    name: str
    atom_names: tuple[str, ...]
    elements: tuple[str, ...]
    atom_types: tuple[str, ...]
    charges_e: np.ndarray
    bonds: tuple[tuple[int, int], ...]
    external: tuple[int, ...] = ()


def _parmed_residue(residue: Residue) -> ResidueTemplate:
    template = ResidueTemplate(residue.name)
    atoms = []
    for name, element, atom_type, charge in zip(residue.atom_names, residue.elements,
                                                residue.atom_types, residue.charges_e):
        atomic_number = parmed.periodic_table.AtomicNum[element]
        atom = Atom(name=name, type=atom_type, charge=float(charge),
                    atomic_number=atomic_number, mass=Mass[element])
        template.add_atom(atom)
        atoms.append(atom)
    for i, j in residue.bonds:
        template.add_bond(atoms[i], atoms[j])
    for i in residue.external:
        template.connections.append(atoms[i])
    return template


def write_species_ffxml(path: Path, residues: Sequence[Residue], frcmod: str,
                        provenance: dict) -> None:
    """Write residue templates and the frcmod parameters they need to ``path`` (ffxml)."""
    with tempfile.TemporaryDirectory(prefix="qsse_ffxml_") as tmp:
        frcmod_path = Path(tmp) / "extra.frcmod"
        frcmod_path.write_text(frcmod)
        params = parmed.amber.AmberParameterSet(str(frcmod_path))
        params_omm = parmed.openmm.OpenMMParameterSet.from_parameterset(params)
        for residue in residues:
            params_omm.residues[residue.name] = _parmed_residue(residue)
        _write(params_omm, path, provenance)


def write_gaff2_ffxml(path: Path) -> None:
    """Convert AmberTools' gaff2.dat into an OpenMM ffxml file at ``path``."""
    source = gaff2_dat()
    params = parmed.amber.AmberParameterSet(str(source))
    params_omm = parmed.openmm.OpenMMParameterSet.from_parameterset(params)
    title = source.read_text(errors="replace").splitlines()[0].strip()
    _write(params_omm, path, {"Source": f"AmberTools gaff2.dat: {title}",
                              "Reference": "Wang et al. 2004, DOI 10.1002/jcc.20035 (GAFF)",
                              "Method": f"ParmEd {parmed.__version__} conversion"})


def _write(params_omm, path: Path, provenance: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params_omm.write(str(partial), provenance={k: str(v) for k, v in provenance.items()},
                         improper_dihedrals_ordering="amber")
    partial.replace(path)
