"""Li+-coordinating atoms and their chemical group labels, from the bond graph.

Each donor atom (O, N, F by default) of a partner species gets a label made of the
species role and the group, so that a polymer binding Li+ with two carbonyls counts
two ``"polymer C=O"``:

=====================  ==========================================================
group                  rule (neighbours from the topology's bonds)
=====================  ==========================================================
``C=O``                O with one bond, to a C with three neighbours
``amide O``            such a carbonyl O whose C also bonds an N
``ether O``            O with two C neighbours (ethers and esters)
``hydroxyl O``         O bonded to one H and one other atom
``S=O`` / ``P=O``      O with one bond, to S or P (sulfonyl, phosphoryl)
``nitrile N``          N with one bond, to a C with two neighbours
``O``, ``N``, ``F``    any other donor of that element
=====================  ==========================================================

What counts as a partner is ``count``: ``"donors"`` (default) takes these donor atoms
only, so a molecule is in a Li+ shell when one of its O/N/F atoms is within the cutoff;
``"any-atom"`` takes every atom of the species, solvation_analysis' rule (a molecule is in
the shell when any of its atoms, H included, is within the cutoff); donor atoms keep their
group labels either way.

Anion donors are labelled by element only (``"anion F"``, ``"anion O"``, ``"anion N"``).
Labels read e.g. ``"polymer C=O"``, ``"solvent C=O"``, ``"polymer ether O"``,
``"anion F"``. Without bonds in the topology, bonds are guessed from distances with a
warning; if that fails, donors are labelled by element only (``"solvent O"``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from MDAnalysis.core.groups import AtomGroup

from qsse_md.analysis.species_guess import SpeciesGuess, element_symbols, ensure_bonds, select_solute

DONOR_ELEMENTS = ("O", "N", "F")
COUNT_RULES = ("donors", "any-atom")


@dataclass(frozen=True)
class CoordinatingAtoms:
    """Donor atoms per partner species and per group label.

    Attributes
    ----------
    partners : dict of str to AtomGroup
        Species name -> its donor atoms (species without donors are left out).
    groups : dict of str to AtomGroup
        Group label (e.g. ``"polymer C=O"``) -> donor atoms of all species with it.
    labels : dict of int to str
        Atom index -> group label, for every donor atom.
    """

    partners: dict[str, AtomGroup]
    groups: dict[str, AtomGroup]
    labels: dict[int, str]


def group_of(atom, symbols: np.ndarray) -> str:
    """Group of one donor atom from its bonded neighbours (see the module table).

    Parameters
    ----------
    atom : MDAnalysis.core.groups.Atom
    symbols : numpy.ndarray of str, shape (n_atoms_in_universe,)
        Element symbol per atom of the universe (as :func:`element_symbols`).
    """
    element = symbols[atom.ix]
    neighbours = atom.bonded_atoms if hasattr(atom, "bonds") else []
    kinds = [symbols[n.ix] for n in neighbours]
    if element == "O" and len(neighbours) == 1:
        partner = neighbours[0]
        partner_kinds = [symbols[n.ix] for n in partner.bonded_atoms]
        if kinds[0] == "C" and len(partner_kinds) == 3:
            return "amide O" if "N" in partner_kinds else "C=O"
        if kinds[0] in ("S", "P"):
            return f"{kinds[0]}=O"
    if element == "O" and len(neighbours) == 2:
        if kinds == ["C", "C"]:
            return "ether O"
        if "H" in kinds:
            return "hydroxyl O"
    if element == "N" and kinds == ["C"] and len(neighbours[0].bonded_atoms) == 2:
        return "nitrile N"
    return element


def coordinating_atoms(guess: SpeciesGuess, elements=DONOR_ELEMENTS, count="donors") -> CoordinatingAtoms:
    """Donor atoms and group labels of every partner species of ``guess``.

    Parameters
    ----------
    guess : SpeciesGuess
        From :func:`~qsse_md.analysis.species_guess.guess_species` (or
        ``species_from_selections``); cation species are skipped.
    elements : sequence of str
        Donor elements.
    count : {"donors", "any-atom"}
        Partner atoms of a species: its donor atoms, or all its atoms (see the module).

    Returns
    -------
    CoordinatingAtoms

    Raises
    ------
    ValueError
        When ``count`` is unknown or no partner species has a partner atom.
    """
    if count not in COUNT_RULES:
        raise ValueError(f"--count {count!r}: choose one of {', '.join(COUNT_RULES)}")
    universe = guess.solute.universe
    symbols = element_symbols(universe.atoms)
    bonded = ensure_bonds(universe)
    if not bonded:
        warnings.warn("no bonds: donor atoms are labelled by element only", stacklevel=2)
    partners, group_ix, labels = {}, {}, {}
    for name, species in guess.species.items():
        if species.role == "cation":
            continue
        donors = donor_atoms(species.atoms, elements)
        if len(donors if count == "donors" else species.atoms) == 0:
            continue
        partners[name] = donors if count == "donors" else species.atoms
        for atom in donors:
            group = symbols[atom.ix] if species.role == "anion" or not bonded else group_of(atom, symbols)
            label = f"{species.role} {group}"
            labels[int(atom.ix)] = label
            group_ix.setdefault(label, []).append(atom.ix)
    if not partners:
        cations = guess.names("cation")
        raise ValueError(f"no {'/'.join(elements)} donor atoms among the Li+ partners (species {list(guess.species)}"
                         f"{'; ' + ', '.join(cations) + ' taken for cations' if cations else ''}); name the "
                         "partners with --species NAME=SEL (one per molecule kind, e.g. EC='resname EC'), or "
                         "count every atom with --count any-atom")
    groups = {label: universe.atoms[np.array(ix)] for label, ix in group_ix.items()}
    return CoordinatingAtoms(partners, groups, labels)


def donor_atoms(atoms: AtomGroup, elements=DONOR_ELEMENTS) -> AtomGroup:
    """The atoms of ``atoms`` that may coordinate Li+: those of a donor element (O, N, F).

    The one donor rule of the package, used by :func:`coordinating_atoms` (per species) and
    :func:`donors_by_residue` (per residue name).

    Parameters
    ----------
    atoms : AtomGroup
    elements : sequence of str
        Donor elements.

    Returns
    -------
    AtomGroup
    """
    return atoms[np.isin(element_symbols(atoms), elements)]


def donors_by_residue(universe, solute: str | None = None, elements=DONOR_ELEMENTS) -> dict[str, AtomGroup]:
    """Li+ partner atoms per residue name and element, for per-residue g(r).

    The donor atoms (:func:`donor_atoms`) of every residue that holds no Li+, labelled such
    as ``"EC O"``, ``"DOA O"`` (a polymer's repeat units), ``"PF6 F"``, in the order the
    residue names first appear, elements in ``elements`` order. Needs no bonds or species
    roles, unlike :func:`coordinating_atoms`; on a box whose only cation is Li+ both give
    the same atoms.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    solute : str, optional
        Selection of the Li+ atoms (:func:`~qsse_md.analysis.species_guess.select_solute`).
    elements : sequence of str
        Donor elements.

    Returns
    -------
    dict of str to AtomGroup
    """
    donors = donor_atoms(universe.atoms - select_solute(universe, solute).residues.atoms, elements)
    symbols, resnames = element_symbols(donors), donors.resnames.astype(str)
    views = {}
    for resname in dict.fromkeys(universe.residues.resnames.astype(str)):
        for element in elements:
            mask = (resnames == resname) & (symbols == element)
            if mask.any():
                views[f"{resname} {element}"] = donors[mask]
    return views


def default_solvation(guess: SpeciesGuess, donors: CoordinatingAtoms | None = None,
                      cutoffs_angstrom=None):
    """A :class:`~qsse_md.analysis.solvation.solvation.Solvation` of the guessed Li+ by every species'
    coordinating atoms, per-group labels attached and anions marked for ion pairing.

    ``cutoffs_angstrom`` as in ``Solvation`` (None: first minimum of each g(r), Å).
    """
    from qsse_md.analysis.solvation.solvation import Solvation

    donors = donors or coordinating_atoms(guess)
    return Solvation(guess.solute, donors.partners, cutoffs_angstrom, groups=donors.groups,
                     anions=anion_partners(guess, donors))


def anion_partners(guess: SpeciesGuess, donors: CoordinatingAtoms) -> list[str]:
    """Names of the anion species that have coordinating atoms."""
    return [name for name in guess.names("anion") if name in donors.partners]
