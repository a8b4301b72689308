"""Reproducible 3D conformers: ETKDG v3 embedding followed by force-field relaxation.

ETKDG: Riniker & Landrum 2015, DOI 10.1021/acs.jcim.5b00654 (v3: Wang et al. 2020,
DOI 10.1021/acs.jcim.0c00025). Relaxation with MMFF94 (Halgren 1996,
DOI 10.1002/(SICI)1096-987X(199604)17:5/6<490::AID-JCC1>3.0.CO;2-P) where it has
parameters, else UFF (Rappé et al. 1992, DOI 10.1021/ja00051a040), else the ETKDG
geometry is kept (e.g. PF6-, which neither types; MD minimisation relaxes it).
"""

from __future__ import annotations

from rdkit import Chem, rdBase
from rdkit.Chem import AllChem


def embed(mol: Chem.Mol, seed: int = 0, max_iterations: int = 2000) -> Chem.Mol:
    """Return a copy of ``mol`` (explicit H) with one relaxed conformer, coordinates in Å.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Molecule with explicit hydrogens; stereo tags are enforced.
    seed : int
        Random seed; the same seed gives the same coordinates.
    max_iterations : int
        Maximum force-field relaxation steps.
    """
    conformer_mol = Chem.Mol(mol)
    conformer_mol.RemoveAllConformers()
    if conformer_mol.GetNumAtoms() == 1 or _is_octahedral_ion(conformer_mol):
        conformer_mol.AddConformer(_octahedron(conformer_mol), assignId=True)
        return conformer_mol
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    params.enforceChirality = True
    if AllChem.EmbedMolecule(conformer_mol, params) != 0:
        params.useRandomCoords = True
        if AllChem.EmbedMolecule(conformer_mol, params) != 0:
            raise ValueError(f"RDKit could not embed {Chem.MolToSmiles(Chem.RemoveHs(mol))} "
                             "in 3D; check its stereochemistry or give a simpler molecule")
    log_block = rdBase.BlockLogs()
    try:
        if AllChem.MMFFHasAllMoleculeParams(conformer_mol):
            AllChem.MMFFOptimizeMolecule(conformer_mol, maxIters=max_iterations)
        elif AllChem.UFFHasAllMoleculeParams(conformer_mol):
            AllChem.UFFOptimizeMolecule(conformer_mol, maxIters=max_iterations)
    finally:
        del log_block
    return conformer_mol


# Ideal octahedral AX6 (PF6-): ETKDG has no octahedral geometry and embeds it distorted.
OCTAHEDRAL_BOND_ANGSTROM = {"F": 1.606}


def _is_octahedral_ion(mol: Chem.Mol) -> bool:
    centre = max(mol.GetAtoms(), key=lambda a: a.GetDegree())
    return centre.GetDegree() == 6 and mol.GetNumAtoms() == 7


def _octahedron(mol: Chem.Mol) -> Chem.Conformer:
    conformer = Chem.Conformer(mol.GetNumAtoms())
    if mol.GetNumAtoms() == 1:
        return conformer
    centre = max(mol.GetAtoms(), key=lambda a: a.GetDegree())
    directions = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
    for ligand, direction in zip(centre.GetNeighbors(), directions):
        length = OCTAHEDRAL_BOND_ANGSTROM.get(ligand.GetSymbol(), 1.6)
        conformer.SetAtomPosition(ligand.GetIdx(), [length * c for c in direction])
    return conformer
