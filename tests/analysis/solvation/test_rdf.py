"""RDF against exact answers, a direct count and MDAnalysis InterRDF."""

import importlib.util
import warnings

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.analysis.rdf import InterRDF
from MDAnalysis.coordinates.memory import MemoryReader

from qsse_md.analysis.solvation.rdf import RDF
from qsse_md.lib.rdf import first_shell_cutoff
from qsse_md.lib.distances import capped_pairs


def _random_universe(n_frames=20, n_residues=60, atoms_per_residue=3, box=30.0, seed=0, npt=True):
    """Uniform random atoms in a cubic box whose edge fluctuates per frame (mimics NPT)."""
    rng = np.random.default_rng(seed)
    n_atoms = n_residues * atoms_per_residue
    universe = mda.Universe.empty(n_atoms, n_residues=n_residues,
                                  atom_resindex=np.repeat(np.arange(n_residues), atoms_per_residue), trajectory=True)
    universe.add_TopologyAttr("name", (["A", "B", "C"] * n_atoms)[:n_atoms])
    edges = box * (1.0 + (0.03 * rng.standard_normal(n_frames) if npt else np.zeros(n_frames)))
    coordinates = (rng.random((n_frames, n_atoms, 3)) * edges[:, None, None]).astype(np.float32)
    dimensions = np.column_stack((edges, edges, edges, np.full((n_frames, 3), 90.0))).astype(np.float32)
    universe.load_new(coordinates, format=MemoryReader, dimensions=dimensions)
    return universe


def test_ideal_gas_gives_one():
    universe = _random_universe(n_frames=60, n_residues=200, atoms_per_residue=1, npt=False)
    atoms = universe.atoms
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rdf = RDF(atoms, atoms, nbins=20, range_angstrom=(3.0, 12.0), exclude_same="residue").run()
    expected_error = 1.0 / np.sqrt(rdf.results.count)  # Poisson error of g = 1 per bin
    assert np.all(np.abs(rdf.results.rdf - 1.0) < 4 * expected_error)


def test_equals_interrdf_on_npt_memory_trajectory():
    universe = _random_universe()
    first, second = universe.select_atoms("name A"), universe.select_atoms("name B or name C")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = RDF(first, second, nbins=150, range_angstrom=(0.0, 12.0), exclude_same="residue").run()
        peer = InterRDF(first, second, nbins=150, range=(0.0, 12.0), exclusion_block=(1, 2)).run()
    np.testing.assert_allclose(ours.results.rdf, peer.results.rdf, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ours.results.count, peer.results.count)
    np.testing.assert_allclose(ours.results.volume_angstrom3, peer.results.volume_cum / peer.n_frames)


@pytest.mark.skipif(importlib.util.find_spec("solvation_analysis") is None, reason="solvation_analysis not installed")
def test_equals_interrdf_on_solvation_analysis_lipf6_data():
    import importlib.resources

    folder = importlib.resources.files("solvation_analysis") / "tests/data/bn_fec_data"
    universe = mda.Universe(str(folder / "bn_fec.data"), str(folder / "bn_fec_short_wrap.dcd"))
    lithium, fluorine = universe.select_atoms("mass 6.0 to 7.0"), universe.select_atoms("mass 18.0 to 20.0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = RDF(lithium, fluorine, nbins=200, range_angstrom=(0.0, 10.0), exclude_same=None).run()
        peer = InterRDF(lithium, fluorine, nbins=200, range=(0.0, 10.0)).run()
    np.testing.assert_allclose(ours.results.rdf, peer.results.rdf, rtol=0, atol=1e-6)
    assert 1.5 < ours.results.first_shell_cutoff_angstrom < 3.5


def test_running_coordination_number_equals_direct_count():
    universe = _random_universe(n_frames=5)
    first, second = universe.select_atoms("name A"), universe.select_atoms("name B")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rdf = RDF(first, second, nbins=40, range_angstrom=(0.0, 10.0), exclude_same="residue").run()
    radii = rdf.results.edges_angstrom[1:]
    direct = np.zeros_like(radii)
    for ts in universe.trajectory:
        pairs, distances = capped_pairs(first.positions, second.positions, 10.0, ts.dimensions, backend="numpy")
        kept = distances[first.resindices[pairs[:, 0]] != second.resindices[pairs[:, 1]]]
        direct += (kept[None, :] < radii[:, None]).sum(axis=1)
    np.testing.assert_allclose(rdf.results.coordination_number, direct / (len(universe.trajectory) * len(first)))


def test_first_shell_cutoff_on_constructed_rdf():
    r = np.linspace(0.025, 9.975, 200)
    g = 1.0 + 4.0 * np.exp(-((r - 2.0) / 0.2) ** 2) - 0.8 * np.exp(-((r - 3.0) / 0.3) ** 2)
    g[r < 1.5] = 0.0
    cutoff, reason = first_shell_cutoff(r, g, smoothing_angstrom=0.1)
    assert reason is None
    assert cutoff == pytest.approx(r[np.argmin(np.where(r > 2.0, g, np.inf))], abs=0.1)


def _rising_rdf(r):
    """g(r) of a partner kept out of the first shell: 0, a slow rise, a dip only near the range end
    (the old search gave a "first shell" of 7.73 Å on this 0-8 Å range)."""
    g = np.clip((r - 3.0) / 3.0, 0.0, None)
    g[(r > 7.6) & (r < 7.9)] -= 0.6
    return g


@pytest.mark.parametrize("g_of_r, message", [
    (lambda r: np.zeros_like(r), "no partner within 8 Å"),
    (lambda r: np.ones_like(r), "no peak before 7.52 Å"),
    (_rising_rdf, "no minimum below 0.8 times its first peak (at 7.42 Å) before 7.52 Å"),
    (lambda r: 3.0 * np.exp(-((r - 2.0) / 0.5) ** 2), "no minimum below 0.8"),  # lowest at the range end
])
def test_no_first_minimum_is_not_determined_never_the_range_end(g_of_r, message):
    r = np.linspace(0.025, 7.975, 160)
    g = g_of_r(r)
    cutoff, reason = first_shell_cutoff(r, g, smoothing_angstrom=0.1)
    assert np.isnan(cutoff)
    assert message in reason and reason.endswith("the first-shell cutoff is not determined")
    cutoff, reason = first_shell_cutoff(r, g, smoothing_angstrom=0.1, fallback_angstrom=3.0)
    assert cutoff == 3.0 and reason.endswith("the default first-shell cutoff 3 Å is used")


def test_a_dip_at_the_range_end_is_no_minimum():
    r = np.linspace(0.025, 7.975, 160)
    g = 1.0 + 3.0 * np.exp(-((r - 2.0) / 0.2) ** 2)
    g[(r > 7.6) & (r < 7.9)] = 0.1  # a dip, smoothed only by half a kernel, 0.4 Å from the end
    cutoff, reason = first_shell_cutoff(r, g, smoothing_angstrom=0.1)
    assert np.isnan(cutoff) and "before 7.52 Å" in reason


def test_no_first_minimum_gives_a_reason_and_no_warning(caplog):
    universe = _random_universe(n_frames=10, n_residues=200, atoms_per_residue=1, npt=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rdf = RDF(universe.atoms, universe.atoms, range_angstrom=(2.0, 8.0), smoothing_angstrom=1.0).run()
        fallback = RDF(universe.atoms, universe.atoms, range_angstrom=(2.0, 8.0), smoothing_angstrom=1.0,
                       fallback_cutoff_angstrom=3.0).run()
    assert np.isnan(rdf.results.first_shell_cutoff_angstrom)
    assert np.isnan(rdf.results.first_shell_coordination_number)
    assert rdf.results.first_shell_reason.endswith("not determined")
    assert fallback.results.first_shell_cutoff_angstrom == 3.0
    assert fallback.results.first_shell_coordination_number == pytest.approx(
        np.interp(3.0, fallback.results.edges_angstrom, np.r_[0.0, fallback.results.coordination_number]))
    assert list(rdf.to_dataframe().columns) == ["r_angstrom", "g", "n"]


def test_plot_returns_axes():
    import matplotlib

    matplotlib.use("Agg")
    universe = _random_universe(n_frames=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = RDF(universe.select_atoms("name A"), universe.select_atoms("name B")).run().plot()
    assert ax.get_ylabel() == "g(r)"


def test_bad_input_is_refused():
    universe = _random_universe(n_frames=2)
    atoms = universe.atoms
    with pytest.raises(ValueError, match="empty selection"):
        RDF(universe.select_atoms("name Z"), atoms)
    with pytest.raises(ValueError, match="half the smallest box width"):
        RDF(atoms, atoms, range_angstrom=(0.0, 20.0))
    with pytest.raises(ValueError, match="needs bonds"):
        RDF(atoms, atoms, exclude_same="molecule")
    with pytest.raises(ValueError, match="r_min < r_max"):
        RDF(atoms, atoms, range_angstrom=(5.0, 2.0))
    boxless = mda.Universe.empty(3, trajectory=True)
    with pytest.raises(ValueError, match="no periodic box"):
        RDF(boxless.atoms, boxless.atoms)


def test_li_o_counts_equal_double_precision_distances_of_mdanalysis():
    """InterRDF's grid search rounds distances in float32, so on bn_fec one Li-O pair falls in
    the neighbouring bin there (0.0044 in two g(r) bins); against MDAnalysis' double-precision
    ``distance_array`` our counts agree exactly."""
    import importlib.resources

    from MDAnalysis.lib.distances import distance_array

    folder = importlib.resources.files("solvation_analysis") / "tests/data/bn_fec_data"
    universe = mda.Universe(str(folder / "bn_fec.data"), str(folder / "bn_fec_short_wrap.dcd"))
    lithium, oxygen = universe.select_atoms("mass 6.0 to 7.0"), universe.select_atoms("mass 15.5 to 16.5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = RDF(lithium, oxygen, nbins=200, range_angstrom=(0.0, 10.0), exclude_same=None).run()
        edges = ours.results.edges_angstrom
        expected = np.zeros(200)
        for ts in universe.trajectory:
            distances = distance_array(lithium.positions, oxygen.positions, box=ts.dimensions).ravel()
            expected += np.histogram(distances, bins=edges)[0]
    np.testing.assert_array_equal(ours.results.count, expected)
