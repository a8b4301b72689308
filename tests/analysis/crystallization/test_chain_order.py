"""ChainOrder and the order kernels on aligned and isotropic constructed chains."""

import MDAnalysis as mda
import numpy as np
import pytest

from qsse_md.analysis.crystallization.backbone import backbone_chains, chord_pairs, side_chain_pairs
from qsse_md.analysis.crystallization.chain_order import ChainOrder
from qsse_md.lib.box import minimum_image
from qsse_md.lib.order import local_p2, nematic_order


def chain_universe(backbones, box, side=True, resname="PA"):
    """Universe of chains given as backbone coordinates, 2 backbone C per residue.

    Parameters
    ----------
    backbones : list of numpy.ndarray, shape (n_backbone, 3)
        Backbone carbon positions per chain (even length), Å.
    box : sequence of 6 floats
    side : bool
        Add one O side atom bonded to every second backbone carbon (1.4 Å along +x).
    """
    positions, resindex, bonds, elements = [], [], [], []
    residue = 0
    for chain in backbones:
        previous = None
        for i, point in enumerate(chain):
            index = len(positions)
            positions.append(point)
            resindex.append(residue + i // 2)
            elements.append("C")
            if previous is not None:
                bonds.append((previous, index))
            previous = index
            if side and i % 2 == 1:
                positions.append(np.asarray(point) + [1.4, 0.0, 0.0])
                resindex.append(residue + i // 2)
                elements.append("O")
                bonds.append((index, len(positions) - 1))
        residue += len(chain) // 2
    universe = mda.Universe.empty(len(positions), n_residues=residue, atom_resindex=resindex, trajectory=True)
    universe.add_TopologyAttr("elements", elements)
    universe.add_TopologyAttr("names", elements)
    universe.add_TopologyAttr("resnames", [resname] * residue)
    universe.add_TopologyAttr("bonds", bonds)
    universe.atoms.positions = np.array(positions, dtype=np.float32)
    universe.dimensions = list(box)
    return universe


def zigzag(origin, n_atoms, axis=2, bond=1.54, angle_deg=112.0):
    """Planar all-trans zigzag along ``axis`` starting at ``origin``."""
    half = np.radians(angle_deg) / 2
    rise, offset = bond * np.sin(half), bond * np.cos(half)
    points = np.zeros((n_atoms, 3))
    points[:, axis] = rise * np.arange(n_atoms)
    points[:, (axis + 1) % 3] = offset * (np.arange(n_atoms) % 2)
    return points + origin


def random_walk(rng, start, n_atoms, bond=1.54):
    """Freely jointed chain of ``n_atoms`` from ``start``."""
    steps = rng.normal(size=(n_atoms - 1, 3))
    steps *= bond / np.linalg.norm(steps, axis=1)[:, None]
    return start + np.vstack([np.zeros(3), np.cumsum(steps, axis=0)])


def _aligned(axis=2):
    """16 all-trans chains of 12 backbone C on a 4.8 Å square lattice, along ``axis``."""
    origins = [np.roll([2.0 + 4.8 * i, 2.0 + 4.8 * j, 1.0], axis - 2) for i in range(4) for j in range(4)]
    return chain_universe([zigzag(origin, 12, axis=axis) for origin in origins], [19.2, 19.2, 19.2, 90, 90, 90])


def test_backbone_found_from_bonds_and_chords():
    universe = _aligned()
    chains = backbone_chains(universe.atoms)
    assert len(chains) == 16
    carbons = universe.select_atoms("element C")
    # link to link (backbone C 1 .. 10), continued into the end residues by atom name: all 12 C
    assert np.array_equal(chains[0], carbons.ix[:12])
    first, second, chain = chord_pairs(chains, span=2)
    assert len(first) == 16 * 10 and np.all(chain[:10] == 0)
    with pytest.raises(ValueError, match="too short"):
        chord_pairs(chains, span=12)
    assert np.array_equal(backbone_chains(universe.atoms, "element C")[0], carbons.ix[:12])


def test_end_units_need_consistent_backbone_names():
    universe = _aligned()
    universe.atoms[universe.atoms.elements == "O"].names = "C"  # side atoms named like the backbone
    carbons = universe.select_atoms("element C")
    # first residue: the end link (C 1) has two bonded "C" in its residue, so the path stops there;
    # last residue: its end link (C 10) has one, so C 11 is added
    assert np.array_equal(backbone_chains(universe.atoms)[0], carbons.ix[1:12])


def test_backbone_of_a_built_polyacrylate_is_every_alpha_and_beta_carbon(tmp_path):
    from openmm.app import PDBFile

    from qsse_md.assembly.molecules import build_topology, polymer_molecule
    from qsse_md.chem.polymer import build_segment

    segment = build_segment("DOA", n_units=5, seed=2)
    molecule = polymer_molecule("PDOA", segment, seed=2)
    path = tmp_path / "chain.pdb"
    with open(path, "w") as handle:  # 1 nm = 10 Å
        PDBFile.writeFile(build_topology([molecule], [1], 60.0), molecule.coordinates_angstrom / 10.0, handle)
    universe = mda.Universe(str(path))
    order = molecule.atom_order
    expected = [k for k, atom in enumerate(order) if segment.atom_role[atom] == "backbone"
                and molecule.mol.GetAtomWithIdx(int(atom)).GetAtomicNum() == 6]
    chain = backbone_chains(universe.atoms)[0]
    assert len(expected) == 10 and sorted(chain.tolist()) == expected  # caps and side chains left out
    assert np.all(np.linalg.norm(np.diff(universe.atoms.positions[chain], axis=0), axis=1) < 1.7)  # bonded path


@pytest.mark.parametrize("axis", [0, 2])
def test_aligned_chains_are_perfectly_ordered(axis):
    result = ChainOrder(_aligned(axis).atoms, cutoff_angstrom=6.0).run().results
    assert result.mean_local_p2[0, 0] == pytest.approx(1.0)
    assert result.crystalline_fraction[0, 0] == 1.0
    assert result.nematic_order[0, 0] == pytest.approx(1.0)
    assert np.allclose(np.abs(result.director[0, 0]), np.eye(3)[axis], atol=1e-6)
    assert result.n_chords == {"polymer": 160} and result.threshold == 0.8


def test_side_chain_vectors_of_inner_units():
    universe = _aligned()
    first, second, chain = side_chain_pairs(universe.atoms, backbone_chains(universe.atoms))
    assert len(first) == 16 * 4  # residues 1..4 of 6 per chain
    assert set(universe.atoms[second].elements) == {"O"} and set(universe.atoms[first].elements) == {"C"}
    result = ChainOrder(universe.atoms, vectors="side_chain", cutoff_angstrom=6.0).run().results
    assert result.crystalline_fraction[0, 0] == 1.0 and result.vectors == "side_chain"
    assert np.allclose(result.director[0, 0], [1, 0, 0], atol=1e-6)


def test_isotropic_chains_have_no_order():
    rng = np.random.default_rng(7)
    box = 40.0
    chains = [random_walk(rng, rng.random(3) * box, 12) for _ in range(150)]
    universe = chain_universe(chains, [box, box, box, 90, 90, 90], side=False)
    analysis = ChainOrder(universe.atoms, cutoff_angstrom=6.0, exclude_same_chain=True).run()
    r = analysis.results
    n_with_neighbours = r.p2_histogram.sum()
    # P2 of an isotropic pair has mean 0 and variance 1/5; a chord's local mean averages >= 1
    # pairs, so the mean over chords spreads by at most sqrt(0.2 / n); allow 4 of that
    assert abs(r.mean_local_p2[0, 0]) < 4 * np.sqrt(0.2 / n_with_neighbours)
    assert r.nematic_order[0, 0] < 4 / np.sqrt(r.n_chords["polymer"])
    assert r.crystalline_fraction[0, 0] < 0.05


def test_kernels_backends_and_minimum_image():
    rng = np.random.default_rng(3)
    midpoints, vectors = rng.random((200, 3)) * 20, rng.normal(size=(200, 3))
    box = [20, 20, 20, 90, 90, 90]
    p2_numba, n_numba = local_p2(midpoints, vectors, 5.0, box)
    p2_numpy, n_numpy = local_p2(midpoints, vectors, 5.0, box, backend="numpy")
    assert np.array_equal(n_numba, n_numpy) and np.allclose(p2_numba, p2_numpy, equal_nan=True)
    assert np.allclose(minimum_image([[19.0, 0, 0], [-11, 3, 0]], box), [[-1, 0, 0], [9, 3, 0]])
    order, director, q = nematic_order([[0, 0, 1], [0, 0, -2]])
    assert order == pytest.approx(1.0) and np.allclose(director, [0, 0, 1]) and np.trace(q) == pytest.approx(0)


def test_table_plot_and_bad_input():
    import matplotlib

    matplotlib.use("Agg")
    universe = _aligned()
    analysis = ChainOrder({"A": universe.atoms[:54], "B": universe.atoms[54:]}, cutoff_angstrom=6.0).run()
    table = analysis.to_dataframe()
    assert list(table["species"]) == ["A", "B"] and "director_z" in table
    assert analysis.plot().get_ylabel() == "order (dimensionless)"
    with pytest.raises(ValueError, match="no polymer atoms"):
        ChainOrder(universe.select_atoms("resname XX"))
    with pytest.raises(ValueError, match="too short"):
        ChainOrder(universe.atoms, span=12)
    with pytest.raises(ValueError, match="half the smallest box width"):
        ChainOrder(universe.atoms, cutoff_angstrom=15.0)
