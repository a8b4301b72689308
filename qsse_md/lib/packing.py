"""Side-chain packing geometry: planar ring stacking and hydrogen bonds in periodic boxes.

Kernels only (numpy arrays in and out). Ring normals are the smallest principal axis
of the ring atoms; hydrogen bonds use the geometric donor-acceptor distance and
donor-H...acceptor angle criterion (Luzar & Chandler, Nature 379, 55 (1996),
doi:10.1038/379055a0).
"""

import numpy as np

from qsse_md.lib.distances import capped_pairs
from qsse_md.lib.box import minimum_image


def ring_geometry(ring_positions, dimensions):
    """Centroid and unit normal of each ring.

    Parameters
    ----------
    ring_positions : array_like, shape (n_rings, ring_size, 3)
        Ring atom coordinates, Å (rings may be split by the periodic boundary).
    dimensions : array_like, shape (6,)
        Box ``[a, b, c, alpha, beta, gamma]`` in Å and degrees.

    Returns
    -------
    centroids : numpy.ndarray, shape (n_rings, 3)
        Å (the image next to each ring's first atom).
    normals : numpy.ndarray, shape (n_rings, 3)
        Unit normals (sign arbitrary).
    """
    rings = np.asarray(ring_positions, dtype=np.float64)
    n_rings, size, _ = rings.shape
    offsets = minimum_image((rings - rings[:, :1]).reshape(-1, 3), dimensions).reshape(n_rings, size, 3)
    centroids = rings[:, 0] + offsets.mean(axis=1)
    centred = offsets - offsets.mean(axis=1, keepdims=True)
    normals = np.linalg.svd(centred)[2][:, -1]
    return centroids, normals


def stacking_pairs(centroids, normals, cutoff, dimensions, backend="numba"):
    """Ring pairs with centroids within a cutoff: distance and angle between normals.

    Parameters
    ----------
    centroids, normals : numpy.ndarray, shape (n, 3)
        From :func:`ring_geometry`.
    cutoff : float
        Largest centroid distance, Å.
    dimensions : array_like, shape (6,)
    backend : {"numba", "numpy"}

    Returns
    -------
    pairs : numpy.ndarray of int, shape (n_pairs, 2)
        Ring indices ``i < j``.
    distances : numpy.ndarray, shape (n_pairs,)
        Centroid distances, Å.
    angles : numpy.ndarray, shape (n_pairs,)
        Angles between the ring planes, degrees in [0, 90].
    """
    pairs, distances = capped_pairs(centroids, centroids, cutoff, dimensions, backend=backend)
    keep = pairs[:, 0] < pairs[:, 1]
    pairs, distances = pairs[keep], distances[keep]
    cosine = np.abs(np.einsum("ij,ij->i", normals[pairs[:, 0]], normals[pairs[:, 1]]))
    return pairs, distances, np.degrees(np.arccos(np.clip(cosine, 0.0, 1.0)))


def hydrogen_bonds(donors, hydrogens, acceptors, distance_cutoff, angle_cutoff, dimensions, backend="numba"):
    """Geometric hydrogen bonds D-H...A.

    Parameters
    ----------
    donors, hydrogens : numpy.ndarray, shape (n_dh, 3)
        Donor heavy atom and its bonded hydrogen, one row per D-H bond, Å.
    acceptors : numpy.ndarray, shape (n_a, 3)
        Acceptor atoms, Å.
    distance_cutoff : float
        Largest donor-acceptor distance, Å.
    angle_cutoff : float
        Smallest D-H...A angle, degrees (180 is linear).
    dimensions : array_like, shape (6,)
    backend : {"numba", "numpy"}

    Returns
    -------
    numpy.ndarray of int, shape (n_bonds, 2)
        Pairs ``(D-H row, acceptor index)`` that are hydrogen-bonded.
    """
    pairs, _ = capped_pairs(donors, acceptors, distance_cutoff, dimensions, backend=backend)
    if len(pairs) == 0:
        return pairs
    h_to_d = minimum_image(donors[pairs[:, 0]] - hydrogens[pairs[:, 0]], dimensions)
    h_to_a = minimum_image(acceptors[pairs[:, 1]] - hydrogens[pairs[:, 0]], dimensions)
    cosine = np.einsum("ij,ij->i", h_to_d, h_to_a) / (np.linalg.norm(h_to_d, axis=1) * np.linalg.norm(h_to_a, axis=1))
    return pairs[np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))) >= angle_cutoff]
