"""The periodic box module: exact minimum image against MDAnalysis, the one box check."""

import numpy as np
import pytest
from MDAnalysis.lib.distances import minimize_vectors

from qsse_md.lib.box import (box_matrix, image_component, is_orthorhombic, max_cutoff, minimum_image, require_box,
                             require_cutoff)

BOXES = [np.array([20.0, 22.0, 24.0, 90.0, 90.0, 90.0]), np.array([20.0, 22.0, 24.0, 70.0, 80.0, 100.0]),
         np.array([30.0, 30.0, 30.0, 60.0, 60.0, 90.0])]


@pytest.mark.parametrize("dimensions", BOXES)
def test_minimum_image_is_the_shortest_image_and_agrees_with_mdanalysis(dimensions):
    vectors = np.random.default_rng(3).uniform(-70.0, 70.0, size=(2000, 3))
    ours = minimum_image(vectors, dimensions)
    shifts = np.stack(np.meshgrid(*[np.arange(-5, 6)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    images = vectors[:, None, :] + (shifts @ box_matrix(dimensions))[None]
    shortest = np.sqrt(np.einsum("ijk,ijk->ij", images, images).min(axis=1))
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), shortest, rtol=0, atol=1e-9)
    assert np.allclose(np.rint((vectors - ours) @ np.linalg.inv(box_matrix(dimensions))),
                       (vectors - ours) @ np.linalg.inv(box_matrix(dimensions)), atol=1e-9)  # whole box vectors
    np.testing.assert_allclose(ours, minimize_vectors(vectors, dimensions), atol=1e-4)  # MDAnalysis: float32 box


def test_orthorhombic_image_component_is_the_numpy_formula():
    steps = np.random.default_rng(4).uniform(-50.0, 50.0, size=(500, 3))
    lengths = BOXES[0][:3]
    jitted = np.array([[image_component(s[k], lengths[k]) for k in range(3)] for s in steps])
    np.testing.assert_array_equal(jitted, minimum_image(steps, BOXES[0]))
    assert is_orthorhombic(BOXES[0]) and not is_orthorhombic(BOXES[1])


def test_one_box_check_and_cutoff_rule():
    for missing in (None, np.zeros(6), np.array([0.0, 10.0, 10.0, 90.0, 90.0, 90.0])):
        with pytest.raises(ValueError, match="frame 3 has no periodic box; give it with --box A B C"):
            require_box(missing, "frame 3")
    assert max_cutoff(BOXES[0]) == pytest.approx(10.0, abs=1e-12)
    assert require_cutoff(9.9, BOXES[0]) == max_cutoff(BOXES[0])
    with pytest.raises(ValueError, match="r_max 10.5 Å must be > 0 and at most half the smallest box width"):
        require_cutoff(10.5, BOXES[0], "r_max")
