"""Orientational order of vectors: nematic Q tensor and local P2 order in periodic boxes.

Kernels only (numpy arrays in and out). The global order is the largest eigenvalue of
the traceless order tensor :math:`Q = \\langle \\tfrac{3}{2} u u^T - \\tfrac{1}{2} I \\rangle`
with its eigenvector the director (de Gennes & Prost, *The Physics of Liquid Crystals*,
2nd ed., Oxford 1993, sec. 2.1). The local order of a vector is the mean second Legendre
polynomial :math:`P_2(\\cos\\theta) = (3\\cos^2\\theta - 1)/2` over the vectors whose
midpoints lie within a cutoff of its own, the crystallinity index of polymer MD
(Meyer & Müller-Plathe, J. Chem. Phys. 115, 7807 (2001), doi:10.1063/1.1407293;
Lavine, Waheed & Rutledge, Polymer 44, 1771 (2003), doi:10.1016/S0032-3861(03)00023-5).
"""

import numpy as np

from qsse_md.lib.distances import capped_pairs


def nematic_order(vectors):
    """Nematic order parameter and director of a set of vectors.

    Parameters
    ----------
    vectors : array_like, shape (n, 3)
        Vectors of any length (normalised here; sign does not matter).

    Returns
    -------
    order : float
        Largest eigenvalue S of Q (dimensionless): 1 for perfect alignment, about
        :math:`1/\\sqrt{n}` (positive bias) for n isotropic vectors, ``nan`` for n = 0.
    director : numpy.ndarray, shape (3,)
        Unit eigenvector of S, sign fixed so its largest component is positive.
    q_tensor : numpy.ndarray, shape (3, 3)
        The traceless symmetric order tensor Q.
    """
    vectors = np.asarray(vectors, dtype=np.float64).reshape(-1, 3)
    if len(vectors) == 0:
        return float("nan"), np.full(3, np.nan), np.full((3, 3), np.nan)
    units = vectors / np.linalg.norm(vectors, axis=1)[:, None]
    q_tensor = 1.5 * (units.T @ units) / len(units) - 0.5 * np.eye(3)
    values, eigenvectors = np.linalg.eigh(q_tensor)
    director = eigenvectors[:, -1]
    director = director if director[np.argmax(np.abs(director))] > 0 else -director
    return float(values[-1]), director, q_tensor


def local_p2(midpoints, vectors, cutoff, dimensions, chain_ids=None, backend="numba"):
    """Local P2 order of each vector against its neighbours within a cutoff.

    Parameters
    ----------
    midpoints : array_like, shape (n, 3)
        Positions of the vectors (e.g. chord midpoints), Å.
    vectors : array_like, shape (n, 3)
        The vectors (any length, any sign).
    cutoff : float
        Neighbour distance between midpoints, Å; at most half the smallest box width.
    dimensions : array_like, shape (6,)
        Box ``[a, b, c, alpha, beta, gamma]`` in Å and degrees.
    chain_ids : array_like of int, shape (n,), optional
        Chain of each vector; when given, vectors of the same chain are not
        neighbours (inter-chain order only).
    backend : {"numba", "numpy"}
        Pair-search kernel of :func:`qsse_md.lib.distances.capped_pairs`.

    Returns
    -------
    p2 : numpy.ndarray, shape (n,)
        Mean :math:`P_2(\\cos\\theta_{ij})` over the neighbours j of vector i
        (dimensionless, in [-0.5, 1]); ``nan`` for a vector with no neighbour.
    n_neighbours : numpy.ndarray of int, shape (n,)
    """
    vectors = np.asarray(vectors, dtype=np.float64).reshape(-1, 3)
    units = vectors / np.linalg.norm(vectors, axis=1)[:, None]
    pairs, _ = capped_pairs(midpoints, midpoints, cutoff, dimensions, backend=backend)
    keep = pairs[:, 0] != pairs[:, 1]
    if chain_ids is not None:
        chain_ids = np.asarray(chain_ids)
        keep &= chain_ids[pairs[:, 0]] != chain_ids[pairs[:, 1]]
    first, second = pairs[keep, 0], pairs[keep, 1]
    cosine = np.einsum("ij,ij->i", units[first], units[second])
    n_neighbours = np.bincount(first, minlength=len(units))
    total = np.bincount(first, weights=1.5 * cosine * cosine - 0.5, minlength=len(units))
    with np.errstate(invalid="ignore", divide="ignore"):
        p2 = np.where(n_neighbours > 0, total / np.maximum(n_neighbours, 1), np.nan)
    return p2, n_neighbours
