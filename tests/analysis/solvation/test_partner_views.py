"""The one Li+-partner detector (groups.coordinating_atoms) and its per-residue view."""

import MDAnalysis as mda
import numpy as np

from qsse_md.analysis.solvation.groups import coordinating_atoms, donors_by_residue
from qsse_md.analysis.species_guess import guess_species


def test_per_residue_view_is_the_o_and_f_of_every_partner_residue(tiny_run):
    universe = mda.Universe(str(tiny_run / "topology.pdb"))
    donors = coordinating_atoms(guess_species(universe))
    views = donors_by_residue(donors)
    assert list(views) == ["DOA O", "EC O", "PF6 F"]
    for label, atoms in views.items():
        resname, element = label.split()
        np.testing.assert_array_equal(atoms.ix, universe.select_atoms(f"resname {resname} and element {element}").ix)
    assert sum(len(atoms) for atoms in views.values()) == len(donors.labels)
