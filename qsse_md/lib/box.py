"""The periodic box: matrix, widths, the orthorhombic test, the minimum image and the box check.

Boxes are MDAnalysis ``dimensions`` ``[a, b, c, alpha, beta, gamma]`` (Å, degrees),
orthorhombic or triclinic; the box vectors are the rows of a lower-triangular matrix
(**a** along x, **b** in the xy plane), as in MDAnalysis. Kernels only: numpy arrays in
and out. Every other module asks this one whether a box exists (:func:`require_box`),
whether a cutoff fits it (:func:`require_cutoff`) and what the minimum image of a vector
is (:func:`minimum_image`; Numba kernels call :func:`image_component`, its jitted
orthorhombic step).
"""

import functools
import itertools

import numpy as np

from qsse_md.lib._jit import jit

#: the one "no box" message; ``{where}`` names the trajectory, file or frame
NO_BOX_MESSAGE = ("{where} has no periodic box; give it with --box A B C [ALPHA BETA GAMMA] (edges in Å, angles "
                  "in degrees; in Python: MDAnalysis.transformations.boxdimensions.set_dimensions)")


def require_box(dimensions, where="the trajectory"):
    """The box as a float64 array, or a one-line ValueError when there is none.

    Parameters
    ----------
    dimensions : array_like, shape (6,), or None
        ``[a, b, c, alpha, beta, gamma]`` (Å, degrees); MDAnalysis gives ``None`` (or
        zero edges, depending on the reader) for a frame without a box.
    where : str
        What lacks the box, for the message (``"the trajectory"``, ``"frame 12"``, a
        file name).

    Returns
    -------
    numpy.ndarray, shape (6,), float64
    """
    if dimensions is None or np.any(np.asarray(dimensions[:3], dtype=np.float64) <= 0):
        raise ValueError(NO_BOX_MESSAGE.format(where=where))
    return np.asarray(dimensions[:6], dtype=np.float64)


def is_orthorhombic(dimensions):
    """True when all three box angles are exactly 90 degrees.

    Parameters
    ----------
    dimensions : array_like, shape (6,)
        ``[a, b, c, alpha, beta, gamma]`` (Å, degrees).
    """
    return bool(dimensions[3] == 90.0 and dimensions[4] == 90.0 and dimensions[5] == 90.0)


def box_matrix(dimensions):
    """Box vectors as rows of a lower-triangular matrix (MDAnalysis convention).

    Parameters
    ----------
    dimensions : array_like, shape (6,)
        ``[a, b, c, alpha, beta, gamma]`` in Å and degrees.

    Returns
    -------
    numpy.ndarray, shape (3, 3), float64
        Rows are the box vectors **a**, **b**, **c** in Å; **a** lies along x and
        **b** in the xy plane.
    """
    a, b, c, alpha, beta, gamma = np.asarray(dimensions, dtype=np.float64)
    if a <= 0 or b <= 0 or c <= 0 or not 0 < alpha < 180 or not 0 < beta < 180 or not 0 < gamma < 180:
        raise ValueError(f"invalid box dimensions {list(dimensions)}: need positive lengths (Å) and angles in (0, 180) degrees")
    if is_orthorhombic((a, b, c, alpha, beta, gamma)):
        return np.diag([a, b, c])
    cos_a, cos_b, cos_g = np.cos(np.radians([alpha, beta, gamma]))
    sin_g = np.sin(np.radians(gamma))
    cx = c * cos_b
    cy = c * (cos_a - cos_b * cos_g) / sin_g
    cz_squared = c * c - cx * cx - cy * cy
    if cz_squared <= 0:
        raise ValueError(f"box dimensions {list(dimensions)} do not describe a valid triclinic cell")
    return np.array([[a, 0.0, 0.0], [b * cos_g, b * sin_g, 0.0], [cx, cy, np.sqrt(cz_squared)]])


def box_widths(dimensions):
    """Perpendicular distances between opposite box faces.

    Parameters
    ----------
    dimensions : array_like, shape (6,)
        ``[a, b, c, alpha, beta, gamma]`` in Å and degrees.

    Returns
    -------
    numpy.ndarray, shape (3,)
        Widths in Å along the reciprocal directions of **a**, **b**, **c**; a
        minimum-image cutoff must not exceed half the smallest of them.
    """
    vectors = box_matrix(dimensions)
    volume = abs(np.linalg.det(vectors))
    return np.array([volume / np.linalg.norm(np.cross(vectors[(k + 1) % 3], vectors[(k + 2) % 3])) for k in range(3)])


@functools.lru_cache(maxsize=16)
def box_geometry(dimensions):
    """Box matrix, its inverse, perpendicular widths and orthorhombicity (memoised: a
    constant-volume trajectory pays for them once).

    Parameters
    ----------
    dimensions : tuple of float, length 6
        ``[a, b, c, alpha, beta, gamma]`` (Å, degrees), as a hashable tuple.

    Returns
    -------
    vectors, inverse : numpy.ndarray, shape (3, 3), read-only
        :func:`box_matrix` (Å) and its inverse (1/Å; exact reciprocals of the edges in
        orthorhombic boxes).
    widths : numpy.ndarray, shape (3,), read-only
        :func:`box_widths`, Å.
    orthorhombic : bool
    """
    vectors = box_matrix(dimensions)
    orthorhombic = is_orthorhombic(dimensions)
    inverse = np.diag(1.0 / np.diag(vectors)) if orthorhombic else np.linalg.inv(vectors)
    widths = box_widths(dimensions)
    for array in (vectors, inverse, widths):
        array.flags.writeable = False
    return vectors, inverse, widths, orthorhombic


def max_cutoff(dimensions):
    """The largest minimum-image cutoff of a box: half its smallest perpendicular width, Å.

    Parameters
    ----------
    dimensions : array_like, shape (6,)
        ``[a, b, c, alpha, beta, gamma]`` (Å, degrees).
    """
    return 0.5 * float(box_geometry(tuple(float(v) for v in dimensions[:6]))[2].min())


def require_cutoff(cutoff, dimensions, name="cutoff"):
    """Check that a minimum-image cutoff fits the box; returns half the smallest width (Å).

    Parameters
    ----------
    cutoff : float
        Distance, Å; must be > 0 and at most half the smallest perpendicular box width
        (beyond it the minimum image of a pair is no longer unique).
    dimensions : array_like, shape (6,)
        ``[a, b, c, alpha, beta, gamma]`` (Å, degrees).
    name : str
        What the cutoff is, for the one-line ValueError.

    Returns
    -------
    float
        Half the smallest box width, Å.
    """
    half_width = max_cutoff(dimensions)
    if not 0 < cutoff <= half_width:
        raise ValueError(f"{name} {cutoff} Å must be > 0 and at most half the smallest box width ({half_width:.4g} Å); "
                         "use a smaller cutoff or a bigger box")
    return half_width


@jit(cache=True)
def image_component(step, length):
    """Orthorhombic minimum image of one component: ``step - length floor(step / length + 1/2)``
    (Å), in [-length/2, length/2); the jitted form of :func:`minimum_image` for kernels."""
    return step - length * np.floor(step / length + 0.5)


#: the 27 image shifts (in box vectors) of a reduced vector, the zero shift first
_SHIFTS = np.array(sorted(itertools.product((-1, 0, 1), repeat=3), key=lambda s: sum(map(abs, s))), dtype=np.float64)


def minimum_image(vectors, dimensions):
    """The shortest periodic image of each displacement vector (exact, triclinic too).

    The fractional components are first reduced to [-1/2, 1/2) (exact in orthorhombic
    boxes); in a triclinic box a reduced vector longer than half the smallest width can
    still have a shorter image, so those are compared against their 26 neighbouring
    images, as MDAnalysis ``minimize_vectors`` does (exact for the reduced cells that
    simulation engines use). Vectors shorter than half the smallest width are their own
    minimum image and come back as the reduction gives them.

    Parameters
    ----------
    vectors : array_like, shape (..., 3)
        Displacements, Å.
    dimensions : array_like, shape (6,)
        ``[a, b, c, alpha, beta, gamma]`` (Å, degrees).

    Returns
    -------
    numpy.ndarray, same shape as ``vectors``, float64
        Minimum-image displacements, Å.
    """
    dimensions = require_box(dimensions)
    vectors = np.asarray(vectors, dtype=np.float64)
    shape = vectors.shape
    vectors = vectors.reshape(-1, 3)
    matrix = box_matrix(dimensions)
    if is_orthorhombic(dimensions):
        lengths = np.diag(matrix)
        return (vectors - lengths * np.floor(vectors / lengths + 0.5)).reshape(shape)
    fractional = vectors @ np.linalg.inv(matrix)
    reduced = (fractional - np.floor(fractional + 0.5)) @ matrix
    long = np.einsum("ij,ij->i", reduced, reduced) > (0.5 * box_widths(dimensions).min()) ** 2
    if long.any():
        candidates = reduced[long][:, None, :] + (_SHIFTS @ matrix)[None, :, :]
        best = np.argmin(np.einsum("ijk,ijk->ij", candidates, candidates), axis=1)
        reduced[long] = candidates[np.arange(len(best)), best]
    return reduced.reshape(shape)


__all__ = ["NO_BOX_MESSAGE", "box_geometry", "box_matrix", "box_widths", "image_component", "is_orthorhombic",
           "max_cutoff", "minimum_image", "require_box", "require_cutoff"]
