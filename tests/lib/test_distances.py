"""Numba cell-list kernels against the numpy reference and a brute-force search."""

import itertools

import numpy as np
import pytest

from qsse_md.lib.box import box_matrix, box_widths
from qsse_md.lib.distances import capped_pairs, pair_distance_histogram

BOXES = {
    "orthorhombic": [23.0, 25.0, 27.0, 90.0, 90.0, 90.0],
    "triclinic": [24.0, 26.0, 28.0, 75.0, 82.0, 105.0],
}


def _random_sets(dimensions, seed):
    rng = np.random.default_rng(seed)
    vectors = box_matrix(dimensions)
    first = (rng.random((120, 3)) * 1.6 - 0.3) @ vectors  # some atoms outside the primary cell
    second = rng.random((150, 3)) @ vectors
    return first, second


def _brute_force(first, second, cutoff, dimensions):
    """All pairs over the 125 nearest images; the shortest image per pair."""
    vectors = box_matrix(dimensions)
    shifts = np.array(list(itertools.product(range(-2, 3), repeat=3))) @ vectors
    delta = second[None, :, None, :] - first[:, None, None, :] + shifts[None, None, :, :]
    distances = np.linalg.norm(delta, axis=-1).min(axis=-1)
    i, j = np.nonzero(distances <= cutoff)
    return np.column_stack((i, j)), distances[i, j]


@pytest.mark.parametrize("shape", sorted(BOXES))
def test_backends_agree_exactly_and_match_brute_force(shape):
    dimensions = BOXES[shape]
    first, second = _random_sets(dimensions, seed=1)
    cutoff = 0.49 * box_widths(dimensions).min()
    pairs_numba, distances_numba = capped_pairs(first, second, cutoff, dimensions, backend="numba")
    pairs_numpy, distances_numpy = capped_pairs(first, second, cutoff, dimensions, backend="numpy")
    np.testing.assert_array_equal(pairs_numba, pairs_numpy)
    np.testing.assert_array_equal(distances_numba, distances_numpy)
    pairs_brute, distances_brute = _brute_force(first, second, cutoff, dimensions)
    np.testing.assert_array_equal(pairs_numba, pairs_brute)
    np.testing.assert_allclose(distances_numba, distances_brute, rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape", sorted(BOXES))
def test_small_cutoff_uses_many_cells(shape):
    dimensions = BOXES[shape]
    first, second = _random_sets(dimensions, seed=2)
    pairs_numba, _ = capped_pairs(first, second, 3.0, dimensions)
    pairs_brute, _ = _brute_force(first, second, 3.0, dimensions)
    np.testing.assert_array_equal(pairs_numba, pairs_brute)


@pytest.mark.parametrize("shape", sorted(BOXES))
def test_histogram_with_group_exclusion_equals_numpy(shape):
    dimensions = BOXES[shape]
    first, second = _random_sets(dimensions, seed=3)
    rng = np.random.default_rng(4)
    groups1, groups2 = rng.integers(0, 15, len(first)), rng.integers(0, 15, len(second))
    edges = np.linspace(0.5, 0.45 * box_widths(dimensions).min(), 61)
    numba_counts = pair_distance_histogram(first, second, edges, dimensions, groups1, groups2, backend="numba")
    numpy_counts = pair_distance_histogram(first, second, edges, dimensions, groups1, groups2, backend="numpy")
    np.testing.assert_array_equal(numba_counts, numpy_counts)
    pairs, distances = capped_pairs(first, second, edges[-1], dimensions)
    kept = groups1[pairs[:, 0]] != groups2[pairs[:, 1]]
    np.testing.assert_array_equal(numba_counts, np.histogram(distances[kept], bins=edges)[0])
    assert numba_counts.sum() < np.histogram(distances, bins=edges)[0].sum()


def test_bad_input_is_refused():
    first, second = _random_sets(BOXES["orthorhombic"], seed=5)
    with pytest.raises(ValueError, match="half the smallest box width"):
        capped_pairs(first, second, 12.0, BOXES["orthorhombic"])
    with pytest.raises(ValueError, match="no periodic box"):
        capped_pairs(first, second, 5.0, None)
    with pytest.raises(ValueError, match="backend"):
        capped_pairs(first, second, 5.0, BOXES["orthorhombic"], backend="cuda")
    with pytest.raises(ValueError, match="invalid box"):
        box_matrix([10.0, 10.0, 0.0, 90.0, 90.0, 90.0])


@pytest.mark.parametrize("shape", sorted(BOXES))
@pytest.mark.parametrize("cutoff", [1.3, 2.9, 4.7, 7.3, 10.9])
def test_trimmed_column_runs_find_every_pair(shape, cutoff):
    dimensions = BOXES[shape]
    first, second = _random_sets(dimensions, seed=int(cutoff * 10))
    pairs_numba, distances_numba = capped_pairs(first, second, cutoff, dimensions)
    pairs_brute, distances_brute = _brute_force(first, second, cutoff, dimensions)
    np.testing.assert_array_equal(pairs_numba, pairs_brute)
    np.testing.assert_allclose(distances_numba, distances_brute, rtol=0, atol=1e-10)


def test_binning_equals_numpy_histogram_on_and_near_the_edges():
    from qsse_md.lib.cell_search import AT_EDGE, bin_at_edge, scaled_bin

    edges = np.linspace(0.0, 8.0, 161)
    bins_per_unit = 160 / 8.0
    near = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf),
                           np.random.default_rng(0).random(2000) * 8.2 - 0.1])
    scaled = np.array([scaled_bin(d, 0.0, bins_per_unit, 160) for d in near])
    assert np.count_nonzero(scaled == AT_EDGE) >= 3 * 161  # on, just below and just above every edge
    ours = np.array([bin_at_edge(d, edges, bins_per_unit) if k == AT_EDGE else k for d, k in zip(near, scaled)])
    inside = (near >= 0.0) & (near <= 8.0)
    assert np.all(ours[~inside] == -1)
    np.testing.assert_array_equal(np.bincount(ours[inside], minlength=160), np.histogram(near, bins=edges)[0])
    np.testing.assert_array_equal(ours[inside], np.digitize(near[inside], edges[1:-1]))
