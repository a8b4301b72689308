"""Ring stacking and amide hydrogen bonds on a constructed polymer fragment box."""

import MDAnalysis as mda
import numpy as np
import pytest

from qsse_md.analysis.crystallization.side_chain_packing import SideChainPacking
from qsse_md.lib.packing import ring_geometry


def _ring(centre, normal, start):
    """Cyclic carbonate C, O1, Ca, Cb, O2 (regular pentagon, radius 1.2 Å) + carbonyl O; bonds."""
    normal = np.asarray(normal, dtype=float) / np.linalg.norm(normal)
    u = np.cross(normal, [1.0, 0, 0] if abs(normal[0]) < 0.9 else [0, 1.0, 0])
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    angles = np.radians(72.0 * np.arange(5))
    ring = centre + 1.2 * (np.outer(np.cos(angles), u) + np.outer(np.sin(angles), v))
    carbonyl = centre + 2.4 * u
    bonds = [(start + k, start + (k + 1) % 5) for k in range(5)] + [(start, start + 5)]
    return list(ring) + [carbonyl], ["C", "O", "C", "C", "O", "O"], bonds


def _universe(solvent=False):
    """Three ring units (one chain) and two amide fragments (chains A, B); with ``solvent``
    a C=O fragment (residue 5) accepting a hydrogen bond from chain B's N-H."""
    positions, elements, bonds, resindex = [], [], [], []
    rings = [((10, 10, 10), (0, 0, 1)), ((10, 10, 13.6), (0, 0, 1)), ((20, 10, 10), (1, 0, 0))]
    for k, (centre, normal) in enumerate(rings):  # three repeat units of one chain, linked through Cb
        atoms, symbols, ring_bonds = _ring(np.array(centre, float), normal, len(positions))
        positions += atoms
        elements += symbols
        bonds += ring_bonds
        resindex += [k] * 6
        if k:
            bonds.append((len(positions) - 9, len(positions) - 3))  # Cb of the previous unit - Ca of this one
    amide = [(0, 0, 0), (1.0, 0, 0), (-1.3, 0, 0), (-1.9, 1.1, 0),   # chain A: N-H, C=O
             (2.9, 0, 0), (4.1, 0, 0), (4.8, 1.1, 0), (4.8, 2.1, 0)]  # chain B: O=C, N-H
    start = len(positions)
    positions += [np.add(p, (10, 25, 10)) for p in amide]
    elements += ["N", "H", "C", "O", "O", "C", "N", "H"]
    bonds += [(start + a, start + b) for a, b in ((0, 1), (0, 2), (2, 3), (4, 5), (5, 6), (6, 7))]
    resindex += [3] * 4 + [4] * 4
    if solvent:  # O 2.9 Å from chain B's N along its N-H, then its C
        positions += [np.add(p, (10, 25, 10)) for p in ((4.8, 4.0, 0), (4.8, 5.2, 0))]
        elements += ["O", "C"]
        bonds.append((len(positions) - 2, len(positions) - 1))
        resindex += [5, 5]
    universe = mda.Universe.empty(len(positions), n_residues=max(resindex) + 1, atom_resindex=resindex,
                                  trajectory=True)
    universe.add_TopologyAttr("elements", elements)
    universe.add_TopologyAttr("bonds", bonds)
    universe.atoms.positions = np.array(positions, dtype=np.float32)
    universe.dimensions = [30.0, 40.0, 30.0, 90.0, 90.0, 90.0]
    return universe


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_stacking_and_hbonds(backend):
    analysis = SideChainPacking(_universe().atoms, backend=backend).run()
    r = analysis.results
    assert r.n_rings == 3 and r.n_donors == 2 and r.n_acceptors == 5  # 3 ring C=O + 2 amide C=O
    assert r.stacked_fraction[0] == pytest.approx(2 / 3)
    assert r.distance_histogram.sum() == 1 and r.angle_histogram[0] == 1  # one pair within 7 Å, parallel
    assert r.hbonds[0] == 1 and r.hbonds_per_repeat_unit[0] == pytest.approx(1 / 5)
    assert r.hbond_intra_chain_fraction[0] == 0.0


def test_hbonds_to_solvent_carbonyls_are_counted_apart():
    universe = _universe(solvent=True)
    polymer, solvent = universe.atoms[:26], universe.atoms[26:]
    r = SideChainPacking(polymer, solvent=solvent).run().results
    assert r.n_acceptors == 5 and r.n_solvent_acceptors == 1
    assert r.hbonds[0] == 1 and r.hbond_intra_chain_fraction[0] == 0.0  # chain A -> chain B as before
    assert r.hbonds_to_solvent[0] == 1 and r.hbonds_to_solvent_per_repeat_unit[0] == pytest.approx(1 / 5)
    without = SideChainPacking(polymer).run().results
    assert without.hbonds_to_solvent[0] == 0 and without.hbonds[0] == 1


def test_ring_geometry_across_the_boundary():
    atoms, _, _ = _ring(np.array([0.3, 5.0, 5.0]), (0, 0, 1), 0)
    wrapped = np.mod(np.array(atoms[:5]), 10.0)
    centroid, normal = ring_geometry(wrapped[None], [10, 10, 10, 90, 90, 90])
    assert np.allclose(np.mod(centroid[0], 10.0), [0.3, 5.0, 5.0], atol=1e-9)
    assert np.allclose(np.abs(normal[0]), [0, 0, 1], atol=1e-9)


def test_table_plot_and_bad_input():
    import matplotlib

    matplotlib.use("Agg")
    universe = _universe()
    analysis = SideChainPacking(universe.atoms).run()
    assert list(analysis.to_dataframe().columns)[:4] == ["time_ps", "hbonds", "hbonds_to_solvent", "stacked_fraction"]
    assert analysis.plot().get_xlabel() == "ring centroid distance (Å)"
    with pytest.raises(ValueError, match="no cyclic-carbonate rings and no amide"):
        SideChainPacking(universe.atoms[18:22].select_atoms("not element N"))
    with pytest.raises(ValueError, match="no polymer"):
        SideChainPacking(universe.atoms[[]])
