"""Released liquid: percolation of constructed solvent networks across periodic boundaries."""

import MDAnalysis as mda
import numpy as np
import pytest

from qsse_md.analysis.solvation.liquid_release import LiquidRelease
from qsse_md.lib.percolation import demixing_index, periodic_clusters

BOX = [30.0, 30.0, 30.0, 90.0, 90.0, 90.0]


def _universe(polymer, solvent_centres):
    """A 4-atom polymer (2 residues) and 2-atom solvent molecules (bond 1.2 Å along y)."""
    solvent = [point for centre in solvent_centres for point in (centre, np.add(centre, [0.0, 1.2, 0.0]))]
    n_solvent = len(solvent_centres)
    universe = mda.Universe.empty(4 + 2 * n_solvent, n_residues=2 + n_solvent,
                                  atom_resindex=[0, 0, 1, 1] + [2 + k // 2 for k in range(2 * n_solvent)],
                                  trajectory=True)
    universe.add_TopologyAttr("elements", ["C"] * (4 + 2 * n_solvent))
    universe.add_TopologyAttr("resnames", ["PA", "PA"] + ["EC"] * n_solvent)
    universe.add_TopologyAttr("bonds", [(0, 1), (1, 2), (2, 3)] + [(4 + 2 * k, 5 + 2 * k) for k in range(n_solvent)])
    universe.atoms.positions = np.array(list(polymer) + solvent, dtype=np.float32)
    universe.dimensions = BOX
    return universe


def _run(universe, **kwargs):
    return LiquidRelease(universe.select_atoms("resname PA"), universe.select_atoms("resname EC"), **kwargs).run()


POLYMER = [[5.0, 20.0, 20.0], [6.5, 20.0, 20.0], [8.0, 20.0, 20.0], [9.5, 20.0, 20.0]]


def test_line_wrapping_the_box_percolates():
    # ten molecules 3 Å apart along x starting near the upper face: the line crosses x = 30 and closes on itself
    line = [[(25.0 + 3.0 * k) % 30.0, 5.0, 5.0] for k in range(10)]
    r = _run(_universe(POLYMER, line)).results
    assert r.percolating[0] and list(r.percolation_axes[0]) == [True, False, False]
    assert r.largest_cluster_fraction[0] == 1.0 and r.free_fraction[0] == 1.0


def test_line_with_a_gap_crossing_the_boundary_does_not_percolate():
    line = [[(25.0 + 3.0 * k) % 30.0, 5.0, 5.0] for k in range(10) if k != 4]
    r = _run(_universe(POLYMER, line)).results
    assert not r.percolating[0]
    assert r.largest_cluster_fraction[0] == 1.0  # still one cluster, unwrapped across x = 30


def test_sheet_percolates_in_two_directions_and_bound_solvent():
    sheet = [[3.0 * i + 0.5, 3.0 * j + 0.5, 12.0] for i in range(10) for j in range(10)]
    near = [[7.0, 20.0, 23.0]]  # 3 Å above the polymer: bound, and isolated from the sheet
    analysis = _run(_universe(POLYMER, sheet + near))
    r = analysis.results
    assert list(r.percolation_axes[0]) == [True, True, False]
    assert r.free_fraction[0] == pytest.approx(100 / 101)
    assert r.largest_cluster_fraction[0] == pytest.approx(100 / 101)
    columns = _run(_universe(POLYMER, sheet + near), free_only=True, cluster_angstrom=2.5).results
    # 3 Å apart along x (no link at 2.5 Å), 1.8 Å gaps along y: ten columns wrapping along b
    assert list(columns.percolation_axes[0]) == [False, True, False]
    assert columns.largest_cluster_fraction[0] == pytest.approx(10 / 101)
    table = analysis.to_dataframe()
    assert bool(table["wraps_b"][0]) and "demixing_index" in table


def test_kernels():
    # a ring of 3 nodes whose displacements add up to one box vector along b wraps along b
    labels, wraps = periodic_clusters(4, [(0, 1), (1, 2), (2, 0)], [[0, 10, 0], [0, 10, 0], [0, 10, 0]],
                                      BOX)
    assert list(labels) == [0, 0, 0, 1] and wraps.tolist() == [[False, True, False], [False, False, False]]
    rng = np.random.default_rng(0)
    separated = demixing_index(rng.random((3000, 3)) * [15, 30, 30], rng.random((3000, 3)) * [15, 30, 30] + [15, 0, 0],
                               BOX, 5.0)
    mixed = demixing_index(rng.random((3000, 3)) * 30, rng.random((3000, 3)) * 30, BOX, 5.0)
    assert separated[0] == pytest.approx(1.0)
    assert mixed[0] == pytest.approx(mixed[1], rel=0.3) and mixed[0] < 0.05


def test_plot_and_bad_input():
    import matplotlib

    matplotlib.use("Agg")
    universe = _universe(POLYMER, [[20.0, 5.0, 5.0]])
    assert _run(universe).plot().get_xlabel() == "time (ps)"
    with pytest.raises(ValueError, match="no polymer"):
        LiquidRelease(universe.select_atoms("resname XX"), universe.select_atoms("resname EC"))
    with pytest.raises(ValueError, match="overlap"):
        LiquidRelease(universe.atoms, universe.select_atoms("resname EC"))
