"""The one Li+-partner rule (groups.donor_atoms) seen per species and per residue name."""

import MDAnalysis as mda
import numpy as np

from qsse_md.analysis.solvation.groups import coordinating_atoms, donors_by_residue
from qsse_md.analysis.species_guess import guess_species


def test_per_residue_view_is_the_o_and_f_of_every_partner_residue(tiny_run):
    universe = mda.Universe(str(tiny_run / "topology.pdb"))
    views = donors_by_residue(universe)
    assert list(views) == ["DOA O", "EC O", "PF6 F"]
    for label, atoms in views.items():
        resname, element = label.split()
        np.testing.assert_array_equal(atoms.ix, universe.select_atoms(f"resname {resname} and element {element}").ix)
    by_species = coordinating_atoms(guess_species(universe))
    np.testing.assert_array_equal(np.sort(np.concatenate([atoms.ix for atoms in views.values()])),
                                  np.sort(list(by_species.labels)))
