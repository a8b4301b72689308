"""Residue templates for small molecules and for polymer repeat units.

A polymer is parameterised once per monomer on a methyl-capped fitting oligomer
(``fit_units`` repeat units). Each template position takes its atom types and charges
from one unit of that oligomer (head from the first, middle from the central one, tail
from the last), each unit's charges are shifted to make it exactly neutral and each
methyl cap likewise, so a segment of any length and sequence assembled from the
templates is exactly neutral. An H cap has charge 0 and the GAFF2 type it has in an
H-capped oligomer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem

from qsse_md.chem.naming import atom_names
from qsse_md.chem.polymer import CAPS, Segment, build_segment
from qsse_md.forcefield.ffxml import Residue

CAP_CODES = {"H": "h", "methyl": "m"}


def molecule_residue(mol: Chem.Mol, name: str, atom_types, charges_e) -> Residue:
    """One residue template for a whole small molecule (explicit H)."""
    bonds = tuple((b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds())
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    charges = neutralised(np.asarray(charges_e, float), Chem.GetFormalCharge(mol))
    return Residue(name, tuple(atom_names(symbols)), tuple(symbols), tuple(atom_types),
                   charges, bonds)


def neutralised(charges_e: np.ndarray, target_e: float) -> np.ndarray:
    """Shift ``charges_e`` evenly so that they sum to ``target_e`` (e)."""
    return charges_e + (target_e - charges_e.sum()) / len(charges_e)


def unit_atoms(segment: Segment, unit: int) -> np.ndarray:
    """Atom indices of repeat unit ``unit``, ordered by index in the monomer (caps last)."""
    members = np.flatnonzero(segment.atom_unit == unit)
    return members[np.argsort(segment.atom_monomer_index[members], kind="stable")]


@dataclass(frozen=True)
class UnitParameters:
    """Types and charges of one monomer's repeat unit, keyed by index in the monomer.

    Attributes
    ----------
    residue_name : str
        Residue name of the monomer (3 characters).
    unit : dict
        ``{"head"|"middle"|"tail": (types, charges_e)}`` over the monomer's atoms.
    caps : dict
        ``{("head"|"tail", cap): (types, charges_e)}`` over the cap atoms.
    """

    residue_name: str
    unit: dict
    caps: dict

    def residue(self, segment: Segment, unit: int) -> Residue:
        """The template of ``unit`` of ``segment`` (any length, caps and sequence)."""
        atoms = unit_atoms(segment, unit)
        position = segment.unit_position(unit)
        types, charges = self.unit["middle" if position == "single" else position]
        n_monomer = len(types)
        atom_types, atom_charges = [], []
        for index in segment.atom_monomer_index[atoms]:
            if index < n_monomer:
                atom_types.append(types[index])
                atom_charges.append(charges[index])
            else:
                side = "head" if index < n_monomer + 4 else "tail"
                cap = segment.caps[0 if side == "head" else 1]
                cap_types, cap_charges = self.caps[(side, cap)]
                offset = index - n_monomer - (0 if side == "head" else 4)
                atom_types.append(cap_types[offset])
                atom_charges.append(cap_charges[offset])
        local = {int(atom): i for i, atom in enumerate(atoms)}
        bonds, external = [], set()
        for bond in segment.mol.GetBonds():
            i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            if i in local and j in local:
                bonds.append((local[i], local[j]))
            elif i in local or j in local:
                external.add(local[i] if i in local else local[j])
        symbols = [segment.mol.GetAtomWithIdx(int(a)).GetSymbol() for a in atoms]
        cap_code = "".join(CAP_CODES[c] for c, end in zip(segment.caps, ("head", "tail"))
                           if position in (end, "single"))
        return Residue(f"{self.residue_name}_{position}{cap_code}", tuple(atom_names(symbols)),
                       tuple(symbols), tuple(atom_types), np.asarray(atom_charges),
                       tuple(bonds), tuple(sorted(external)))

    def all_residues(self, monomer: str) -> list[Residue]:
        """Every template of the monomer: head/tail for each cap, middle, single for each cap pair."""
        residues = {}
        for head_cap in CAPS:
            for tail_cap in CAPS:
                for n_units in (1, 3):
                    segment = build_segment(monomer, n_units, caps=(head_cap, tail_cap))
                    for unit in range(n_units):
                        residue = self.residue(segment, unit)
                        residues[residue.name] = residue
        return list(residues.values())


def fitting_segment(monomer: str, fit_units: int) -> Segment:
    """The methyl-capped isotactic oligomer on which a monomer's templates are fitted."""
    return build_segment(monomer, fit_units, tacticity="isotactic", caps=("methyl", "methyl"))


def unit_parameters(segment: Segment, residue_name: str, atom_types, charges_e,
                    h_cap_types: dict) -> UnitParameters:
    """Slice types and charges of a typed, charged fitting oligomer into :class:`UnitParameters`.

    ``h_cap_types`` maps "head"/"tail" to the GAFF2 type of an H cap on that end.
    """
    atom_types = np.asarray(atom_types)
    charges_e = np.asarray(charges_e, float)
    last = segment.n_units - 1
    unit = {}
    for position, source in (("head", 0), ("middle", segment.n_units // 2), ("tail", last)):
        atoms = unit_atoms(segment, source)
        body = atoms[[segment.atom_role[a] != "cap" for a in atoms]]
        unit[position] = (tuple(atom_types[body]), neutralised(charges_e[body], 0.0))
    caps = {(side, "H"): ((h_cap_types[side],), np.zeros(1)) for side in ("head", "tail")}
    for side, source in (("head", 0), ("tail", last)):
        atoms = unit_atoms(segment, source)
        cap_atoms = atoms[[segment.atom_role[a] == "cap" for a in atoms]]
        n_monomer = len(unit["middle"][0])
        first = n_monomer + (0 if side == "head" else 4)
        cap_atoms = cap_atoms[(segment.atom_monomer_index[cap_atoms] >= first)
                              & (segment.atom_monomer_index[cap_atoms] < first + 4)]
        caps[(side, "methyl")] = (tuple(atom_types[cap_atoms]),
                                  neutralised(charges_e[cap_atoms], 0.0))
    return UnitParameters(residue_name, unit, caps)
