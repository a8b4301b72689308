"""Guess the species of an electrolyte box and their roles from the topology alone.

Works on any topology MDAnalysis reads: our PDBs with CONECT bonds, GROMACS TPR or
GRO + TOP, LAMMPS data, Amber prmtop. Molecules are GROMACS molecule numbers when the
topology has them, else bonded fragments, else residues (after trying to guess bonds
from distances, with a warning). Roles:

- ``"cation"``: the Li+ solute (element Li, or residue name LI/LIT/LI+), and any
  other residue with a positive net charge;
- ``"anion"``: residues with a negative net charge (from the partial charges, scaled ionic
  charges such as -0.8 e count, else from the formal charges of a PDB), else known anion
  residue names or formulas (``PF6``, ``TFSI``, ``F6P``, ...);
- ``"polymer"``: molecules spanning several residues;
- ``"solvent"``: every other molecule, one species per residue name.

``roles`` overrides the guess per species name (the CLI's ``--anion NAME``/``--cation NAME``);
with neither charges nor a known anion in the box, a warning names ``--anion``. Every species
is an AtomGroup of whole residues.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from MDAnalysis.core.groups import AtomGroup

ROLES = ("cation", "anion", "polymer", "solvent")
LITHIUM_RESNAMES = ("LI", "LIT", "LI+")
ANION_RESNAMES = ("PF6", "TFS", "TFSI", "TFI", "FSI", "BF4", "CLO4", "NO3", "BOB", "DFOB", "OTF", "TFO", "TRF",
                  "ASF6", "DCA", "TCM", "FAP", "BETI", "CL", "CL-", "CLA",
                  "BR", "BR-", "I-",
                  # Hill formulas, the residue names of topologies without any (qsse_md.analysis.topology)
                  "F6P", "C2F6NO4S2", "F2NO4S2", "CF3O3S", "CLO4", "F6AS")
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
    """Element symbol per atom: the topology's elements, else guessed from masses, else from names.

    Returns
    -------
    numpy.ndarray of str, shape (n_atoms,)
        Symbols such as ``"C"``, ``"Li"``; ``""`` where nothing fits.
    """
    if hasattr(atoms, "elements") and all(str(e).strip() for e in atoms.elements):
        return np.array([str(e).strip().capitalize() for e in atoms.elements])
    names = atoms.names if hasattr(atoms, "names") else [""] * len(atoms)
    symbols = np.array([_from_name(str(name)) for name in names], dtype=object)
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
    """Net charge per residue (e) from the partial charges, else the formal charges (PDB),
    or ``None`` when the topology has neither (or all are zero)."""
    for attribute in ("charges", "formalcharges"):
        if hasattr(universe.atoms, attribute) and np.any(getattr(universe.atoms, attribute)):
            return np.bincount(universe.atoms.resindices, weights=getattr(universe.atoms, attribute).astype(float),
                               minlength=len(universe.residues))
    return None


def species_molecules(universe) -> np.ndarray:
    """:func:`molecule_indices`, refusing a single residue of several atoms without bonds.

    Raises
    ------
    ValueError
        When every atom sits in one residue and no bonds are found or guessed (a LAMMPS
        dump read as its own topology): the molecules, and so the species, are unknown.
    """
    molecules = molecule_indices(universe)
    if len(universe.residues) == 1 and universe.atoms.n_atoms > 1 and not has_bonds(universe):
        raise ValueError(f"the topology holds all {universe.atoms.n_atoms} atoms in one residue and has no bonds, "
                         "so its molecules are unknown; give a topology with bonds or residues (LAMMPS data, PSF, "
                         "TPR, prmtop, PDB with CONECT) as TOPOLOGY")
    return molecules


def select_solute(universe, selection: str | None = None) -> AtomGroup:
    """The Li+ atoms: ``selection`` when given, else element Li or residue names LI/LIT/LI+."""
    if selection is not None:
        solute = universe.select_atoms(selection)
        if len(solute) == 0:
            raise ValueError(f"--solute {selection!r} matched no atoms; check the selection string")
        return solute
    mask = element_symbols(universe.atoms) == "Li"
    if not mask.any() and hasattr(universe.atoms, "resnames"):
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


def guess_species(universe, solute: str | None = None, roles: dict[str, str] | None = None) -> SpeciesGuess:
    """Split the box into species with roles (see the module docstring).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    solute : str, optional
        Selection of the Li+ atoms; default element Li or residue name LI/LIT/LI+.
    roles : dict of str to str, optional
        Species name -> ``"anion"`` or ``"cation"``, overriding the guessed role.

    Returns
    -------
    SpeciesGuess
        Cation species are named by residue name; all multi-residue molecules form one
        species ``"polymer"`` (or ``"polymer:A-B"`` by residue names when there are
        several kinds); other molecules one species per residue name.

    Raises
    ------
    ValueError
        When no Li atom is found, the molecules are unknown (:func:`species_molecules`) or
        ``roles`` names an unknown species or role.
    """
    solute_atoms = select_solute(universe, solute)
    molecules = species_molecules(universe)
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
    return _with_roles(SpeciesGuess(solute_atoms, species), roles, charges is not None)


def species_from_selections(universe, selections: dict[str, str], solute: str | None = None,
                            roles: dict[str, str] | None = None) -> SpeciesGuess:
    """Species given as MDAnalysis selections (whole residues are taken), roles guessed
    unless ``roles`` gives them (as in :func:`guess_species`).

    Raises
    ------
    ValueError
        When a selection matches nothing, two selections share atoms, or as
        :func:`guess_species`.
    """
    solute_atoms = select_solute(universe, solute)
    molecules = species_molecules(universe)
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
    return _with_roles(SpeciesGuess(solute_atoms, species), roles, charges is not None)


def _with_roles(guess: SpeciesGuess, roles: dict[str, str] | None, charged: bool) -> SpeciesGuess:
    """``guess`` with the roles of ``roles`` (species name -> "anion"/"cation") set; warns in one
    line, naming ``--anion``, when without charges no species could be taken for the anion."""
    roles = roles or {}
    for name, role in roles.items():
        if role not in ("anion", "cation"):
            raise ValueError(f"role {role!r} of {name!r}: give 'anion' or 'cation'")
        if name not in guess.species:
            raise ValueError(f"--{role} {name}: no species of that name; the species are {list(guess.species)}")
        if role == "anion" and len(guess.species[name].atoms & guess.solute):
            raise ValueError(f"--anion {name}: that species holds the Li+ solute; name another species")
    species = {name: replace(s, role=roles.get(name, s.role)) for name, s in guess.species.items()}
    if not charged and not any(s.role == "anion" for s in species.values()):
        warnings.warn(f"the topology has no charges and no species is a known anion, so ion pairing is left out; "
                      f"mark the anion with --anion NAME (species: {', '.join(species)})", stacklevel=3)
    return SpeciesGuess(guess.solute, species)
