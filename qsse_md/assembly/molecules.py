"""Molecule types of a box and the OpenMM Topology built from their RDKit graphs.

Bonds come from the RDKit graph of each species or segment, never from PDB CONECT
guessing; each polymer repeat unit is one residue named after its monomer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from openmm import Vec3, app, unit
from rdkit import Chem

from qsse_md.chem.conformer import embed
from qsse_md.chem.naming import atom_names
from qsse_md.chem.polymer import Segment
from qsse_md.chem.species import Species
from qsse_md.forcefield.templates import unit_atoms
from qsse_md.units import NM_PER_ANGSTROM


@dataclass(frozen=True)
class MoleculeType:
    """One kind of molecule in a box, with a 3D conformer.

    Attributes
    ----------
    name : str
        Component name (e.g. ``"EC"``, ``"Li+"``, ``"PDOA"``).
    mol : rdkit.Chem.Mol
        Explicit-H molecule with one conformer, coordinates in Å.
    residues : tuple of (str, numpy.ndarray)
        Residue name and atom indices of each residue, in topology order.
    species : tuple of Species
        Species whose force-field templates parameterise this molecule.
    """

    name: str
    mol: Chem.Mol
    residues: tuple[tuple[str, np.ndarray], ...]
    species: tuple[Species, ...]

    @property
    def atom_order(self) -> np.ndarray:
        """Atom indices of ``mol`` in topology order (residue by residue)."""
        return np.concatenate([atoms for _, atoms in self.residues])

    @property
    def coordinates_angstrom(self) -> np.ndarray:
        """Conformer coordinates (n_atoms, 3) in Å, in topology order."""
        return self.mol.GetConformer().GetPositions()[self.atom_order]

    @property
    def charge_e(self) -> int:
        """Net formal charge in e."""
        return Chem.GetFormalCharge(self.mol)


def small_molecule(name: str, species: Species, seed: int = 0) -> MoleculeType:
    """A molecule type for a solvent or ion: one residue."""
    mol = embed(species.mol, seed)
    return MoleculeType(name, mol, ((species.residue_name, np.arange(mol.GetNumAtoms())),),
                        (species,))


def polymer_molecule(name: str, segment: Segment, seed: int = 0) -> MoleculeType:
    """A molecule type for a polymer segment: one residue per repeat unit."""
    mol = embed(segment.mol, seed)
    residues = tuple((segment.monomers[u].residue_name, unit_atoms(segment, u))
                     for u in range(segment.n_units))
    unique = tuple({s.name: s for s in segment.monomers}.values())
    return MoleculeType(name, mol, residues, unique)


def build_topology(molecule_types: Sequence[MoleculeType], counts: Sequence[int],
                   box_edge_angstrom: float) -> app.Topology:
    """OpenMM Topology of ``counts[i]`` copies of each molecule type in a cubic box."""
    topology = app.Topology()
    element = app.Element.getByAtomicNumber
    for molecule, count in zip(molecule_types, counts):
        order = molecule.atom_order
        position = {int(old): new for new, old in enumerate(order)}
        for _ in range(count):
            chain = topology.addChain()
            atoms = []
            for resname, residue_atoms in molecule.residues:
                residue = topology.addResidue(resname, chain)
                names = atom_names(molecule.mol.GetAtomWithIdx(int(i)).GetSymbol()
                                   for i in residue_atoms)
                for atom_index, atom_name in zip(residue_atoms, names):
                    number = molecule.mol.GetAtomWithIdx(int(atom_index)).GetAtomicNum()
                    atoms.append(topology.addAtom(atom_name, element(number), residue))
            for bond in molecule.mol.GetBonds():
                topology.addBond(atoms[position[bond.GetBeginAtomIdx()]],
                                 atoms[position[bond.GetEndAtomIdx()]])
    edge_nm = box_edge_angstrom * NM_PER_ANGSTROM
    topology.setPeriodicBoxVectors(
        [Vec3(edge_nm, 0, 0), Vec3(0, edge_nm, 0), Vec3(0, 0, edge_nm)] * unit.nanometer)
    return topology
