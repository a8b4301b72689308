"""Frames searched on a second thread in batches equal the frame-by-frame search."""

import numpy as np
import pytest

from qsse_md.lib.box import box_matrix
from qsse_md.lib.distances import IndexedSearch


def _frames(n_frames, n_atoms, dimensions, seed):
    rng = np.random.default_rng(seed)
    vectors = box_matrix(dimensions)
    return (rng.random((n_frames, n_atoms, 3)) @ vectors).astype(np.float32)


def _search(n_atoms, keep):
    rng = np.random.default_rng(7)
    index1, index2 = np.arange(0, 40), np.arange(25, n_atoms)  # overlapping sets, as g1 within g2 can be
    groups = rng.integers(0, 30, n_atoms)
    return IndexedSearch(index1, index2, 6.0, groups[index1], groups[index2], np.linspace(0.0, 6.0, 61),
                         rng.integers(0, 3, len(index2)), 3, np.full(len(index2), 3.5) if keep else None)


@pytest.mark.parametrize("batch_frames", [1, 3, 32])
@pytest.mark.parametrize("dimensions", [[20.0, 21.0, 22.0, 90.0, 90.0, 90.0], [21.0, 22.0, 23.0, 80.0, 85.0, 100.0]])
def test_stream_equals_frame_by_frame_search(batch_frames, dimensions):
    frames = _frames(11, 300, dimensions, seed=1)
    boxes = [np.array(dimensions) * [1 + 0.01 * k, 1 + 0.01 * k, 1 + 0.01 * k, 1, 1, 1] for k in range(11)]
    serial, streamed = _search(300, keep=True), _search(300, keep=True)
    expected = [serial(frame, box) for frame, box in zip(frames, boxes)]
    with streamed.stream(batch_frames) as stream:
        for frame, box in zip(frames, boxes):
            stream.push(frame, box)
    assert len(stream.found) == len(expected)
    for got, want in zip(stream.found, expected):
        for got_array, want_array in zip(got, want):
            np.testing.assert_array_equal(got_array, want_array)
    np.testing.assert_array_equal(streamed.hist, serial.hist)
    assert serial.hist.sum() > 0


def test_histogram_only_stream_returns_no_pairs_and_refuses_a_small_box():
    frames = _frames(5, 300, [20.0, 20.0, 20.0, 90.0, 90.0, 90.0], seed=2)
    search = _search(300, keep=False)
    with search.stream(2) as stream:
        for frame in frames:
            stream.push(frame, np.array([20.0, 20.0, 20.0, 90.0, 90.0, 90.0]))
    assert all(len(first) == 0 for first, _, _ in stream.found)
    with pytest.raises(ValueError, match="half the smallest box width"):
        with search.stream(2) as stream:
            stream.push(frames[0], np.array([11.0, 20.0, 20.0, 90.0, 90.0, 90.0]))
