"""NPT-safe unwrapping: exact on constructed trajectories."""

import numpy as np

from qsse_md.lib.box import minimum_image
from qsse_md.lib.unwrap import make_whole, unwrap_trajectory


def test_constant_box_unwrapping_is_exact():
    rng = np.random.default_rng(0)
    box = 20.0
    true = np.cumsum(rng.normal(scale=0.8, size=(500, 30, 3)), axis=0) + rng.random((1, 30, 3)) * box
    wrapped = true % box
    dims = np.tile([box, box, box, 90.0, 90.0, 90.0], (500, 1))
    unwrapped = unwrap_trajectory(wrapped, dims)
    assert np.max(np.abs(unwrapped - (true - true[0] + wrapped[0]))) < 1e-9
    assert np.max(np.abs(true)) > 2 * box  # atoms did cross images


def test_scaled_boxes_npt_unwrapping_is_exact():
    """A barostat scales wrapped positions with the box; the scheme recovers the path exactly."""
    rng = np.random.default_rng(1)
    n_frames, n_atoms, box = 400, 25, 18.0
    edges = box * (1.0 + 0.02 * np.sin(np.arange(n_frames) / 7.0) + 0.005 * rng.standard_normal(n_frames))
    wrapped = np.empty((n_frames, n_atoms, 3))
    true = np.empty_like(wrapped)
    wrapped[0] = true[0] = rng.random((n_atoms, 3)) * edges[0]
    for i in range(1, n_frames):
        scaled = wrapped[i - 1] * edges[i] / edges[i - 1]
        step = rng.normal(scale=0.7, size=(n_atoms, 3))
        true[i] = true[i - 1] + (scaled - wrapped[i - 1]) + step
        wrapped[i] = (scaled + step) % edges[i]
    dims = np.column_stack([edges, edges, edges, np.full((n_frames, 3), 90.0)])
    unwrapped = unwrap_trajectory(wrapped, dims)
    assert np.max(np.abs(unwrapped - true)) < 1e-9
    # the image-count scheme u = w + n L_i adds n (L_i - L_0) and is visibly wrong here
    images = np.round((true - wrapped) / edges[:, None, None])
    assert np.max(np.abs(wrapped + images * edges[0] - true)) > 0.1


def test_triclinic_unwrapping_is_exact():
    from qsse_md.lib.box import box_matrix

    rng = np.random.default_rng(2)
    dims = np.array([20.0, 22.0, 24.0, 70.0, 80.0, 100.0])
    matrix = box_matrix(dims)
    true = np.cumsum(rng.normal(scale=0.5, size=(300, 10, 3)), axis=0)
    fractional = true @ np.linalg.inv(matrix)
    wrapped = (fractional - np.floor(fractional)) @ matrix
    unwrapped = unwrap_trajectory(wrapped, np.tile(dims, (300, 1)))
    assert np.max(np.abs(unwrapped - (true - true[0] + wrapped[0]))) < 1e-9


def test_make_whole_and_minimum_image():
    dims = np.array([10.0, 10.0, 10.0, 90.0, 90.0, 90.0])
    positions = np.array([[9.5, 5.0, 5.0], [0.5, 5.0, 5.0], [3.0, 3.0, 3.0]])
    whole = make_whole(positions, np.array([0, 0, 1]), dims)
    assert np.allclose(whole[1], [10.5, 5.0, 5.0]) and np.allclose(whole[2], positions[2])
    assert np.allclose(minimum_image(np.array([[6.0, -6.0, 4.9]]), dims), [[-4.0, 4.0, 4.9]])


def test_make_whole_over_bonds_rebuilds_a_chain_longer_than_half_the_box():
    box = np.array([40.0, 40.0, 40.0, 90.0, 90.0, 90.0])
    chain = np.column_stack((np.arange(30) * 1.5, np.sin(np.arange(30)) * 0.5, np.zeros(30))) + 3.0
    wrapped = chain % 40.0
    bonds = np.column_stack((np.arange(29), np.arange(1, 30)))[::-1]  # any order
    whole = make_whole(wrapped, np.zeros(30, dtype=int), box, bonds)
    np.testing.assert_allclose(whole - whole[0], chain - chain[0], atol=1e-9)
    by_anchor = make_whole(wrapped, np.zeros(30, dtype=int), box)
    assert np.abs(np.diff(by_anchor[:, 0])).max() > 30  # the residue anchor alone breaks the chain
