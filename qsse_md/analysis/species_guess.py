"""Guess the species of an electrolyte box and their roles from the topology alone.

Works on any topology MDAnalysis reads: our PDBs with CONECT bonds, GROMACS TPR or
GRO + TOP, LAMMPS data, Amber prmtop. Molecules are GROMACS molecule numbers when the
topology has them, else bonded fragments, else residues (after trying to guess bonds
from distances, with a warning). Roles:

- ``"cation"``: the Li+ solute (element Li, or residue name LI/LIT/LI+), and any
  other residue with a positive net charge;
- ``"anion"``: residues with a negative net charge (when the topology has partial
  charges; scaled ionic charges such as -0.8 e count), else known anion residue names;
- ``"polymer"``: molecules spanning several residues;
- ``"solvent"``: every other molecule, one species per residue name.

Every species is an AtomGroup of whole residues.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from MDAnalysis.core.groups import AtomGroup

ROLES = ("cation", "anion", "polymer", "solvent")
LITHIUM_RESNAMES = ("LI", "LIT", "LI+")
ANION_RESNAMES = ("PF6", "TFS", "TFSI", "TFI", "FSI", "BF4", "CLO4", "NO3", "BOB", "DFOB", "OTF", "TFO", "TRF",
                  "ASF6", "DCA", "TCM", "FAP", "BETI")
_ATOMIC_MASSES = {"H": 1.008, "Li": 6.94, "B": 10.81, "C": 12.011, "N": 14.007, "O": 15.999, "F": 18.998,
                  "Na": 22.99, "Mg": 24.305, "Al": 26.982, "Si": 28.085, "P": 30.974, "S": 32.06, "Cl": 35.45,
                  "K": 39.098, "As": 74.922, "Br": 79.904, "I": 126.904}
_ATOMIC_NUMBERS = {"H": 1, "Li": 3, "B": 5, "C": 6, "N": 7, "O": 8, "F": 9, "Na": 11, "Mg": 12, "Al": 13, "Si": 14,
                   "P": 15, "S": 16, "Cl": 17, "K": 19, "As": 33, "Br": 35, "I": 53}


@dataclass(frozen=True)
class Species:
    """One species of the box.

    Attributes
    ----------
    name : str
        Label, e.g. ``"EC"``, ``"PF6"``, ``"polymer"``.
    role : str
        One of ``"cation"``, ``"anion"``, ``"polymer"``, ``"solvent"``.
    atoms : AtomGroup
        All atoms of the species (whole residues).
    """

    name: str
    role: str
    atoms: AtomGroup


@dataclass(frozen=True)
class SpeciesGuess:
    """The Li+ solute atoms and every species, keyed by name (insertion order kept)."""

    solute: AtomGroup
    species: dict[str, Species] = field(default_factory=dict)

    def names(self, role: str) -> list[str]:
        """Names of the species with ``role``."""
        return [name for name, species in self.species.items() if species.role == role]

    def partners(self) -> dict[str, AtomGroup]:
        """Every species that is not a cation: the candidate Li+ partners."""
        return {name: s.atoms for name, s in self.species.items() if s.role != "cation"}


def element_symbols(atoms: AtomGroup) -> np.ndarray:
    """Element symbol per atom: the topology's elements, else guessed from masses, else names.

    Returns
    -------
    numpy.ndarray of str, shape (n_atoms,)
        Symbols such as ``"C"``, ``"Li"``; ``""`` where nothing fits.
    """
    if hasattr(atoms, "elements") and all(str(e).strip() for e in atoms.elements):
        return np.array([str(e).strip().capitalize() for e in atoms.elements])
    symbols = np.array([_from_name(str(name)) for name in atoms.names], dtype=object)
    if hasattr(atoms, "masses"):
        table = np.array(list(_ATOMIC_MASSES.values()))
        names = list(_ATOMIC_MASSES)
        for i, mass in enumerate(atoms.masses):
            nearest = int(np.argmin(np.abs(table - mass)))
            if abs(table[nearest] - mass) < 0.1:
                symbols[i] = names[nearest]
    return symbols.astype(str)


def _from_name(name: str) -> str:
    letters = "".join(c for c in name if c.isalpha())
    for candidate in (letters[:2].capitalize(), letters[:1].upper()):
        if candidate in _ATOMIC_MASSES and not (candidate in ("Li", "Na", "Mg", "Al", "Si", "Cl", "As", "Br")
                                                 and len(name) > 3):
            return candidate
    return ""


def atomic_numbers(symbols) -> np.ndarray:
    """Atomic numbers of element symbols (0 for unknown ones)."""
    return np.array([_ATOMIC_NUMBERS.get(s, 0) for s in symbols], dtype=np.int64)


def has_bonds(universe) -> bool:
    """Whether the topology carries at least one bond."""
    return hasattr(universe, "bonds") and len(universe.bonds) > 0


def ensure_bonds(universe) -> bool:
    """Guess bonds from distances (with a warning) when the topology has none.

    Returns
    -------
    bool
        ``True`` when the universe has bonds afterwards.
    """
    if has_bonds(universe):
        return True
    warnings.warn("the topology has no bonds; guessing them from distances (MDAnalysis guess_bonds)", stacklevel=2)
    try:
        if not hasattr(universe.atoms, "types") or not all(universe.atoms.types):
            universe.add_TopologyAttr("types", element_symbols(universe.atoms))
        universe.atoms.guess_bonds()
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        warnings.warn(f"could not guess bonds ({error}); treating each residue as one molecule", stacklevel=2)
        return False
    return has_bonds(universe)


def molecule_indices(universe) -> np.ndarray:
    """Molecule id per atom: GROMACS molnums, else bonded fragments, else residues.

    Returns
    -------
    numpy.ndarray of int, shape (n_atoms,)
    """
    atoms = universe.atoms
    if hasattr(atoms, "molnums"):
        return np.asarray(atoms.molnums, dtype=np.int64)
    if ensure_bonds(universe):
        return np.asarray(atoms.fragindices, dtype=np.int64)
    return np.asarray(atoms.resindices, dtype=np.int64)


def residue_charges(universe) -> np.ndarray | None:
    """Net charge per residue (e) from the partial charges, or ``None`` when there are none."""
    if not hasattr(universe.atoms, "charges"):
        return None
    charges = np.bincount(universe.atoms.resindices, weights=universe.atoms.charges, minlength=len(universe.residues))
    return None if not np.any(universe.atoms.charges) else charges


def select_solute(universe, selection: str | None = None) -> AtomGroup:
    """The Li+ atoms: ``selection`` when given, else element Li or residue names LI/LIT/LI+."""
    if selection is not None:
        solute = universe.select_atoms(selection)
        if len(solute) == 0:
            raise ValueError(f"--solute {selection!r} matched no atoms; check the selection string")
        return solute
    mask = element_symbols(universe.atoms) == "Li"
    if not mask.any():
        mask = np.isin(np.char.upper(universe.atoms.resnames.astype(str)), LITHIUM_RESNAMES)
    solute = universe.atoms[mask]
    if len(solute) == 0:
        raise ValueError("No Li atoms matched; pass --solute SEL (an MDAnalysis selection of the Li+ atoms)")
    return solute


def guess_role(atoms: AtomGroup, solute: AtomGroup, molecules: np.ndarray, charges: np.ndarray | None) -> str:
    """Role of a species (whole residues) given the solute, molecule ids and residue charges."""
    if len(atoms & solute):
        return "cation"
    residues = atoms.residues
    if charges is not None:
        net = charges[residues.resindices].mean()
        if net < -0.5:
            return "anion"
        if net > 0.5:
            return "cation"
    elif str(residues.resnames[0]).upper() in ANION_RESNAMES:
        return "anion"
    spans = np.unique(np.column_stack((molecules[atoms.ix], atoms.resindices)), axis=0)
    if len(spans) > len(np.unique(spans[:, 0])):
        return "polymer"
    return "solvent"


def guess_species(universe, solute: str | None = None) -> SpeciesGuess:
    """Split the box into species with roles (see the module docstring).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    solute : str, optional
        Selection of the Li+ atoms; default element Li or residue name LI/LIT/LI+.

    Returns
    -------
    SpeciesGuess
        Cation species are named by residue name; all multi-residue molecules form one
        species ``"polymer"`` (or ``"polymer:A-B"`` by residue names when there are
        several kinds); other molecules one species per residue name.

    Raises
    ------
    ValueError
        When no Li atom is found.
    """
    solute_atoms = select_solute(universe, solute)
    molecules = molecule_indices(universe)
    charges = residue_charges(universe)
    residue_molecule = np.full(len(universe.residues), -1, dtype=np.int64)
    residue_molecule[universe.atoms.resindices] = molecules
    residues_per_molecule = np.bincount(np.unique(np.column_stack((residue_molecule, universe.residues.resindices)),
                                                  axis=0)[:, 0])
    keys = {}
    for residue in universe.residues:
        molecule = residue_molecule[residue.resindex]
        if residues_per_molecule[molecule] > 1:
            names = np.unique(universe.residues[residue_molecule == molecule].resnames.astype(str))
            keys.setdefault(("polymer", "-".join(names)), []).append(residue.resindex)
        else:
            keys.setdefault(("small", str(residue.resname)), []).append(residue.resindex)
    polymer_kinds = [key for key in keys if key[0] == "polymer"]
    species = {}
    for key, resindices in keys.items():
        atoms = universe.residues[resindices].atoms
        if key[0] == "polymer":
            name = "polymer" if len(polymer_kinds) == 1 else f"polymer:{key[1]}"
        else:
            name = key[1]
        species[name] = Species(name, guess_role(atoms, solute_atoms, molecules, charges), atoms)
    return SpeciesGuess(solute_atoms, species)


def species_from_selections(universe, selections: dict[str, str], solute: str | None = None) -> SpeciesGuess:
    """Species given as MDAnalysis selections (whole residues are taken), roles guessed.

    Raises
    ------
    ValueError
        When a selection matches nothing, or two selections share atoms.
    """
    solute_atoms = select_solute(universe, solute)
    molecules = molecule_indices(universe)
    charges = residue_charges(universe)
    species, seen = {}, universe.atoms[[]]
    for name, selection in selections.items():
        atoms = universe.select_atoms(selection).residues.atoms
        if len(atoms) == 0:
            raise ValueError(f"--species {name}={selection!r} matched no atoms; check the selection string")
        if len(atoms & seen):
            raise ValueError(f"--species {name}={selection!r} overlaps another species (as whole residues); "
                             "make the selections disjoint")
        seen = seen | atoms
        species[name] = Species(name, guess_role(atoms, solute_atoms, molecules, charges), atoms)
    return SpeciesGuess(solute_atoms, species)
