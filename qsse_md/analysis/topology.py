"""Make a topology from any engine usable by the species guess: elements, molecules, residue names.

LAMMPS data files carry types and masses but no names, elements or residue names; a PDB
written by RDKit puts every atom in one residue ``UNL``; a LAMMPS dump has one residue and
no bonds. :func:`complete_topology` fills in, in place, only what is missing:

- ``elements`` from masses (or names) when the topology has none, so ``element Li``
  selections work on LAMMPS data;
- residues from molecules (bonded fragments) when one residue holds every atom of several
  molecules;
- residue names from the molecular formula (Hill order: ``C4H7N``, ``F6P``, ``Li``) when
  the topology has none, or gives one name to molecules of different formulas.

Atom types, masses and charges are never changed, so ``type`` selections keep working.
"""

from __future__ import annotations

import numpy as np

from qsse_md.analysis.species_guess import element_symbols, molecule_indices


def hill_formula(symbols) -> str:
    """Molecular formula in Hill order (C, H, then alphabetical; e.g. ``"C3H4O3"``, ``"F6P"``).

    Parameters
    ----------
    symbols : sequence of str
        Element symbol per atom; blank symbols count as ``"X"``.
    """
    elements, counts = np.unique([s or "X" for s in symbols], return_counts=True)
    count = dict(zip(elements.tolist(), counts.tolist()))
    if "C" in count:
        order = [e for e in ("C", "H") if e in count] + sorted(e for e in count if e not in ("C", "H"))
    else:
        order = sorted(count)
    return "".join(f"{e}{count[e] if count[e] > 1 else ''}" for e in order)


def complete_topology(universe) -> list[str]:
    """Fill in elements, molecule residues and residue names that ``universe`` lacks (see module).

    Parameters
    ----------
    universe : MDAnalysis.Universe
        Changed in place.

    Returns
    -------
    list of str
        One note per change made, e.g. ``"elements inferred from masses"``.

    """
    notes = []
    if not hasattr(universe.atoms, "elements"):
        universe.add_TopologyAttr("elements", element_symbols(universe.atoms))
        notes.append("elements inferred from masses")
    if len(universe.residues) == 1 and universe.atoms.n_atoms > 1:
        molecules = molecule_indices(universe)
        if len(np.unique(molecules)) > 1:
            _residues_from_molecules(universe, molecules)
            notes.append(f"one residue per bonded molecule ({len(universe.residues)} molecules)")
    if _uninformative_resnames(universe):
        symbols = element_symbols(universe.atoms)
        formulas = [hill_formula(symbols[residue.atoms.ix]) for residue in universe.residues]
        if hasattr(universe.residues, "resnames"):
            universe.residues.resnames = formulas
        else:
            universe.add_TopologyAttr("resnames", formulas)
        notes.append(f"residues named by formula ({', '.join(dict.fromkeys(formulas))})")
    return notes


def _uninformative_resnames(universe) -> bool:
    """No residue names, blank ones, or one name for residues of different formulas."""
    if not hasattr(universe.residues, "resnames"):
        return True
    names = {str(name).strip() for name in universe.residues.resnames}
    if names <= {""}:
        return True
    if len(names) > 1 or len(universe.residues) == 1:
        return False
    symbols = element_symbols(universe.atoms)
    return len({hill_formula(symbols[residue.atoms.ix]) for residue in universe.residues}) > 1


def _residues_from_molecules(universe, molecules: np.ndarray) -> None:
    """Move the atoms of the single residue into one new residue per molecule id (in order)."""
    from MDAnalysis.core.groups import ResidueGroup

    _, first_atom, code = np.unique(molecules, return_index=True, return_inverse=True)
    order = np.argsort(first_atom)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    segment = universe.segments[0]
    residue_attrs = {attr.singular: attr.values[0] for attr in universe._topology.attrs
                     if attr.per_object == "residue" and attr.attrname not in ("resids", "resnums", "resindices")}
    residues = [universe.residues[0]] + [universe.add_Residue(segment=segment, resid=k + 1, resnum=k + 1,
                                                              **residue_attrs) for k in range(1, len(order))]
    universe.atoms.residues = ResidueGroup(np.array([r.ix for r in residues])[rank[code]], universe)
    universe.residues[0].resid = universe.residues[0].resnum = 1
