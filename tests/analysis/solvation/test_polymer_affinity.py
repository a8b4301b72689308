"""PolymerSolventAffinity on a constructed box with a known free-liquid fraction."""

import MDAnalysis as mda
import numpy as np
import pytest

from qsse_md.analysis.solvation.affinity import PolymerSolventAffinity


def _box():
    """Two-unit polymer (4 bonded C along x) and 4 two-atom solvents, 2 of them within 3.5 Å."""
    polymer = [[5, 10, 10], [6.5, 10, 10], [8, 10, 10], [9.5, 10, 10]]
    solvent = [[5, 13, 10], [5, 14, 10],      # 3.0 Å from unit 1: bound
               [9.5, 10, 13.2], [9.5, 10, 14],  # 3.2 Å from unit 2: bound
               [20, 20, 20], [21, 20, 20],    # free
               [25, 5, 25], [26, 5, 25]]      # free
    universe = mda.Universe.empty(12, n_residues=6, atom_resindex=[0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
                                  trajectory=True)
    universe.add_TopologyAttr("elements", ["C"] * 12)
    universe.add_TopologyAttr("names", ["C"] * 12)
    universe.add_TopologyAttr("resnames", ["PA", "PA", "SOL", "SOL", "SOL", "SOL"])
    universe.add_TopologyAttr("bonds", [(0, 1), (1, 2), (2, 3), (4, 5), (6, 7), (8, 9), (10, 11)])
    universe.atoms.positions = np.array(polymer + solvent, dtype=np.float32)
    universe.dimensions = [30, 30, 30, 90, 90, 90]
    return universe


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_free_fraction_and_per_unit_counts(backend):
    universe = _box()
    result = PolymerSolventAffinity(universe.select_atoms("resname PA"), universe.select_atoms("resname SOL"),
                                    backend=backend).run().results
    assert result.species == ["solvent"]
    assert result.n_molecules == {"solvent": 4} and result.n_repeat_units == 2
    assert result.bound_molecules[0, 0] == 2
    assert result.free_fraction[0, 0] == pytest.approx(0.5)
    assert result.per_repeat_unit[0, 0] == pytest.approx(1.0)
    assert result.cutoff_angstrom == 3.5


def test_species_split_table_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    universe = _box()
    analysis = PolymerSolventAffinity(universe.select_atoms("resname PA"),
                                      {"near": universe.atoms[4:8], "far": universe.atoms[8:]}).run()
    mean = analysis.results.mean
    assert mean["near"]["free_fraction"]["mean"] == 0.0 and mean["far"]["free_fraction"]["mean"] == 1.0
    assert mean["all"]["free_fraction"]["mean"] == pytest.approx(0.5)
    table = analysis.to_dataframe()
    assert list(table["species"]) == ["near", "far", "all"]
    assert analysis.plot().get_ylabel() == "free liquid fraction"


def test_bad_input():
    universe = _box()
    polymer = universe.select_atoms("resname PA")
    with pytest.raises(ValueError, match="overlap"):
        PolymerSolventAffinity(polymer, universe.atoms)
    with pytest.raises(ValueError, match="half the smallest box width"):
        PolymerSolventAffinity(polymer, universe.select_atoms("resname SOL"), cutoff_angstrom=20.0)
    with pytest.raises(ValueError, match="empty selection"):
        PolymerSolventAffinity(polymer, universe.select_atoms("resname FOO"))
