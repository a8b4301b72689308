"""Frame-block parallel runs (MDAnalysis multiprocessing backend) give exactly the serial results;
the in-place indexed kernel equals the numpy reference; the second contact pass is exact."""

import warnings

import MDAnalysis as mda
import numpy as np
import pandas as pd
import pytest
from MDAnalysis.coordinates.memory import MemoryReader

from qsse_md.analysis.solvation.rdf import RDF
from qsse_md.analysis.solvation.solvation import Solvation
from qsse_md.lib.distances import IndexedSearch, capped_pairs, pair_distance_histogram

BOX = 18.0
N_LI, N_MOL = 12, 60  # Li ions; two-atom partner molecules (O and F kinds alternate)


def _random_universe(n_frames=12, seed=3, triclinic=False):
    rng = np.random.default_rng(seed)
    n_atoms = N_LI + 2 * N_MOL
    resindex = list(range(N_LI)) + [N_LI + k // 2 for k in range(2 * N_MOL)]
    universe = mda.Universe.empty(n_atoms, n_residues=N_LI + N_MOL, atom_resindex=resindex, trajectory=True)
    names = ["Li"] * N_LI + ["O", "C"] * (N_MOL // 2) + ["F", "P"] * (N_MOL // 2)
    universe.add_TopologyAttr("name", names)
    universe.add_TopologyAttr("resname", ["LI"] * N_LI + ["EC"] * (N_MOL // 2) + ["PF6"] * (N_MOL // 2))
    start = rng.uniform(0, BOX, size=(n_atoms, 3))
    start[N_LI + 1::2] = start[N_LI::2] + 1.2  # bonded partner atom
    steps = rng.normal(scale=0.4, size=(n_frames, n_atoms, 3))
    steps[0] = 0
    coordinates = (start[None] + np.cumsum(steps, axis=0)).astype(np.float32)
    angles = (80.0, 95.0, 100.0) if triclinic else (90.0, 90.0, 90.0)
    universe.load_new(coordinates, format=MemoryReader, dimensions=np.array([BOX, BOX, BOX, *angles], np.float32),
                      dt=2.0)
    return universe


def _partners(universe):
    atoms = universe.atoms
    return {"EC": atoms.select_atoms("name O"), "PF6": atoms.select_atoms("name F")}


def _same(a, b, path=""):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), path
    elif hasattr(a, "curves"):
        _same(a.curves, b.curves, path)
        _same(a.times_ps, b.times_ps, path)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert a == b, path


def _solvation(universe, **kwargs):
    return Solvation(universe.atoms[:N_LI], _partners(universe), anions=["PF6"], molecule="residue", **kwargs)


@pytest.mark.parametrize("cutoffs", [None, 2.5])
def test_solvation_parallel_equals_serial(cutoffs):
    universe = _random_universe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        serial = _solvation(universe, cutoffs_angstrom=cutoffs).run(step=1)
        parallel = _solvation(universe, cutoffs_angstrom=cutoffs).run(backend="multiprocessing", n_workers=2)
    assert set(serial.results) == set(parallel.results)
    assert not any(key.startswith("_") for key in serial.results)
    for key in serial.results:
        _same(serial.results[key], parallel.results[key], key)
    np.testing.assert_array_equal(serial.frames, parallel.frames)
    assert serial.results.table["frame"].is_monotonic_increasing


def test_rdf_parallel_equals_serial():
    universe = _random_universe()
    li, partners = universe.atoms[:N_LI], universe.select_atoms("name O F")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        serial = RDF(li, partners, nbins=40, range_angstrom=(0, 8)).run()
        parallel = RDF(li, partners, nbins=40, range_angstrom=(0, 8)).run(backend="multiprocessing", n_workers=2)
    for key in serial.results:
        _same(serial.results[key], parallel.results[key], key)
    assert serial.results.count.dtype == np.float64


def test_numba_and_numpy_solvation_backends_agree():
    universe = _random_universe(n_frames=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = _solvation(universe).run()
        reference = _solvation(universe, backend="numpy").run()
    for key in fast.results:
        _same(fast.results[key], reference.results[key], key)


def test_second_pass_when_gr_cutoff_exceeds_stored_range(monkeypatch):
    """Contacts stored only up to a small range during the pass: a larger g(r) cutoff triggers
    an exact second pass (same rows as storing everything)."""
    universe = _random_universe(n_frames=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        everything = _solvation(universe).run()
        monkeypatch.setattr(Solvation, "_STORE_CAP_ANGSTROM", 0.5)
        capped = _solvation(universe).run()
    for key in everything.results:
        _same(everything.results[key], capped.results[key], key)


@pytest.mark.parametrize("triclinic", [False, True])
def test_indexed_search_equals_numpy_reference(triclinic):
    universe = _random_universe(n_frames=3, triclinic=triclinic)
    ts = universe.trajectory[2]
    li, partners = universe.atoms[:N_LI], universe.select_atoms("name O F")
    species = (partners.names == "F").astype(np.int64)
    edges = np.linspace(0.0, 6.0, 61)
    keep = np.where(species == 1, 3.0, 4.0)
    search = IndexedSearch(li.ix, partners.ix, 6.0, li.resindices, partners.resindices, edges, species, 2, keep)
    first, second, distances = search(ts.positions, ts.dimensions)
    pairs, reference = capped_pairs(li.positions, partners.positions, 6.0, ts.dimensions, backend="numpy")
    pairs_kept = li.resindices[pairs[:, 0]] != partners.resindices[pairs[:, 1]]
    pairs, reference = pairs[pairs_kept], reference[pairs_kept]
    within = reference <= keep[pairs[:, 1]]
    np.testing.assert_array_equal(first, pairs[within, 0])
    np.testing.assert_array_equal(second, pairs[within, 1])
    np.testing.assert_array_equal(distances, reference[within])
    for code in (0, 1):
        mine = partners[species == code]
        expected = pair_distance_histogram(li.positions, mine.positions, edges, ts.dimensions, li.resindices,
                                           mine.resindices, backend="numpy")
        np.testing.assert_array_equal(search.hist[code], expected)
