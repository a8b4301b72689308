"""Minimum-image pair search and pair-distance histograms in periodic boxes.

Kernels only: numpy arrays in, numpy arrays out, no MDAnalysis objects. Boxes are
given as MDAnalysis ``dimensions`` ``[a, b, c, alpha, beta, gamma]`` (Å, degrees),
orthorhombic or triclinic. Every function has a ``backend`` switch: ``"numba"``
(cell list, compiled with :func:`numba.njit`, cached on disk) or ``"numpy"`` (an
all-pairs reference). Both evaluate the same floating-point expressions in the same
order, so they return identical numbers.

The cell list (Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed., 2017,
doi:10.1093/oso/9780198803195.001.0001, sec. 5.3) is built in fractional
coordinates with cells at least ``cutoff`` thick perpendicular to each pair of box
faces, so the 27 neighbouring cells hold every partner within the cutoff in any
triclinic box. Cutoffs above half the smallest perpendicular box width are refused:
beyond it the minimum image of a pair is no longer unique.
"""

import numpy as np

from qsse_md.lib._jit import jit

BACKENDS = ("numba", "numpy")
_MAX_CELLS_PER_AXIS = 64


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
    if alpha == 90.0 and beta == 90.0 and gamma == 90.0:
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


@jit(cache=True)
def _distance_squared(p, q, vectors, inverse, orthorhombic):
    """Squared minimum-image distance (Å²) between points ``p`` and ``q``."""
    dx = q[0] - p[0]
    dy = q[1] - p[1]
    dz = q[2] - p[2]
    if orthorhombic:
        dx -= vectors[0, 0] * np.rint(dx / vectors[0, 0])
        dy -= vectors[1, 1] * np.rint(dy / vectors[1, 1])
        dz -= vectors[2, 2] * np.rint(dz / vectors[2, 2])
    else:
        n0 = np.rint(dx * inverse[0, 0] + dy * inverse[1, 0] + dz * inverse[2, 0])
        n1 = np.rint(dx * inverse[0, 1] + dy * inverse[1, 1] + dz * inverse[2, 1])
        n2 = np.rint(dx * inverse[0, 2] + dy * inverse[1, 2] + dz * inverse[2, 2])
        dx -= n0 * vectors[0, 0] + n1 * vectors[1, 0] + n2 * vectors[2, 0]
        dy -= n0 * vectors[0, 1] + n1 * vectors[1, 1] + n2 * vectors[2, 1]
        dz -= n0 * vectors[0, 2] + n1 * vectors[1, 2] + n2 * vectors[2, 2]
    return dx * dx + dy * dy + dz * dz


@jit(cache=True)
def _bin_index(distance, edges):
    """Bin of ``distance`` exactly as :func:`numpy.histogram` assigns it (-1: outside)."""
    n_bins = edges.shape[0] - 1
    if distance < edges[0] or distance > edges[n_bins]:
        return -1
    index = int((distance - edges[0]) / (edges[n_bins] - edges[0]) * n_bins)
    if index >= n_bins:
        index = n_bins - 1
    if distance < edges[index]:
        index -= 1
    elif index != n_bins - 1 and distance >= edges[index + 1]:
        index += 1
    return index


@jit(cache=True)
def _cell_search(coords1, cells1, coords2, cell_start, cell_order, n_cells, vectors, inverse,
                 orthorhombic, cutoff, groups1, groups2, exclude_same_group, edges, want_pairs):
    """Visit every pair within ``cutoff``: histogram it into ``edges`` or collect it."""
    cutoff_squared = cutoff * cutoff
    counts = np.zeros(max(edges.shape[0] - 1, 0), dtype=np.int64)
    capacity = max(16, 4 * coords1.shape[0]) if want_pairs else 1
    first = np.empty(capacity, dtype=np.int64)
    second = np.empty(capacity, dtype=np.int64)
    distances = np.empty(capacity, dtype=np.float64)
    n_found = 0
    lowest = np.empty(3, dtype=np.int64)
    highest = np.empty(3, dtype=np.int64)
    for axis in range(3):  # unique neighbour offsets when an axis has < 3 cells
        lowest[axis] = -1 if n_cells[axis] >= 3 else 0
        highest[axis] = 1 if n_cells[axis] >= 2 else 0
    for i in range(coords1.shape[0]):
        for ox in range(lowest[0], highest[0] + 1):
            cx = (cells1[i, 0] + ox) % n_cells[0]
            for oy in range(lowest[1], highest[1] + 1):
                cy = (cells1[i, 1] + oy) % n_cells[1]
                for oz in range(lowest[2], highest[2] + 1):
                    cell = (cx * n_cells[1] + cy) * n_cells[2] + (cells1[i, 2] + oz) % n_cells[2]
                    for slot in range(cell_start[cell], cell_start[cell + 1]):
                        j = cell_order[slot]
                        if exclude_same_group and groups1[i] == groups2[j]:
                            continue
                        d2 = _distance_squared(coords1[i], coords2[j], vectors, inverse, orthorhombic)
                        if d2 > cutoff_squared:
                            continue
                        distance = np.sqrt(d2)
                        if not want_pairs:
                            index = _bin_index(distance, edges)
                            if index >= 0:
                                counts[index] += 1
                            continue
                        if n_found == capacity:
                            capacity *= 2
                            first = np.concatenate((first, np.empty_like(first)))
                            second = np.concatenate((second, np.empty_like(second)))
                            distances = np.concatenate((distances, np.empty_like(distances)))
                        first[n_found] = i
                        second[n_found] = j
                        distances[n_found] = distance
                        n_found += 1
    return counts, first[:n_found], second[:n_found], distances[:n_found]


def _prepare(coords1, coords2, cutoff, dimensions, backend):
    """Validate inputs; return float64 coordinates, box matrix and its inverse."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    coords1 = np.ascontiguousarray(coords1, dtype=np.float64).reshape(-1, 3)
    coords2 = np.ascontiguousarray(coords2, dtype=np.float64).reshape(-1, 3)
    if dimensions is None:
        raise ValueError("no periodic box given: minimum-image distances need box dimensions [a, b, c, alpha, beta, gamma]")
    widths = box_widths(dimensions)
    if not cutoff > 0 or cutoff > 0.5 * widths.min():
        raise ValueError(
            f"cutoff {cutoff} Å must be > 0 and at most half the smallest box width ({0.5 * widths.min():.4g} Å)"
        )
    vectors = box_matrix(dimensions)
    return coords1, coords2, vectors, np.linalg.inv(vectors)


def _numpy_distances(coords1, coords2, vectors, inverse, orthorhombic):
    """All-pairs minimum-image distance matrix (Å), shape (n1, n2); same arithmetic as the kernel."""
    dx, dy, dz = (coords2[None, :, k] - coords1[:, None, k] for k in range(3))
    if orthorhombic:
        dx = dx - vectors[0, 0] * np.rint(dx / vectors[0, 0])
        dy = dy - vectors[1, 1] * np.rint(dy / vectors[1, 1])
        dz = dz - vectors[2, 2] * np.rint(dz / vectors[2, 2])
    else:
        n = [np.rint(dx * inverse[0, k] + dy * inverse[1, k] + dz * inverse[2, k]) for k in range(3)]
        dx, dy, dz = (
            d - (n[0] * vectors[0, k] + n[1] * vectors[1, k] + n[2] * vectors[2, k]) for k, d in enumerate((dx, dy, dz))
        )
    return dx * dx + dy * dy + dz * dz


def _search(coords1, coords2, cutoff, dimensions, backend, groups1, groups2, edges, want_pairs):
    """Shared driver of :func:`capped_pairs` and :func:`pair_distance_histogram`."""
    coords1, coords2, vectors, inverse = _prepare(coords1, coords2, cutoff, dimensions, backend)
    orthorhombic = bool(np.all(np.asarray(dimensions[3:6], dtype=np.float64) == 90.0))
    exclude = groups1 is not None
    groups1 = np.zeros(len(coords1), np.int64) if groups1 is None else np.asarray(groups1, dtype=np.int64)
    groups2 = np.zeros(len(coords2), np.int64) if groups2 is None else np.asarray(groups2, dtype=np.int64)
    if groups1.shape != (len(coords1),) or groups2.shape != (len(coords2),):
        raise ValueError("group ids must give one integer per atom of each coordinate set")
    if backend == "numpy":
        d2 = _numpy_distances(coords1, coords2, vectors, inverse, orthorhombic)
        keep = (d2 <= cutoff * cutoff) & ~(exclude & (groups1[:, None] == groups2[None, :]))
        first, second = np.nonzero(keep)
        distances = np.sqrt(d2[first, second])
        counts = np.histogram(distances, bins=edges)[0] if not want_pairs else None
        return counts, first, second, distances
    n_cells = np.clip(np.floor(box_widths(dimensions) / cutoff), 1, _MAX_CELLS_PER_AXIS).astype(np.int64)
    cells1, cells2 = (
        np.minimum((np.mod(coords @ inverse, 1.0) * n_cells).astype(np.int64), n_cells - 1) for coords in (coords1, coords2)
    )
    linear2 = (cells2[:, 0] * n_cells[1] + cells2[:, 1]) * n_cells[2] + cells2[:, 2]
    cell_order = np.argsort(linear2, kind="stable").astype(np.int64)
    cell_start = np.zeros(int(np.prod(n_cells)) + 1, dtype=np.int64)
    np.cumsum(np.bincount(linear2, minlength=int(np.prod(n_cells))), out=cell_start[1:])
    edges = np.zeros(1) if edges is None else edges
    return _cell_search(coords1, np.ascontiguousarray(cells1), coords2, cell_start, cell_order, n_cells, vectors,
                        inverse, orthorhombic, float(cutoff), groups1, groups2, exclude, edges, want_pairs)


def capped_pairs(coords1, coords2, cutoff, dimensions, backend="numba"):
    """All minimum-image pairs between two coordinate sets within ``cutoff``.

    Parameters
    ----------
    coords1, coords2 : array_like, shape (n1, 3) and (n2, 3)
        Cartesian coordinates in Å (any image; they need not be wrapped).
    cutoff : float
        Largest pair distance kept (inclusive), Å; at most half the smallest box width.
    dimensions : array_like, shape (6,)
        Box ``[a, b, c, alpha, beta, gamma]`` in Å and degrees.
    backend : {"numba", "numpy"}
        Cell-list kernel or the all-pairs numpy reference.

    Returns
    -------
    pairs : numpy.ndarray, shape (n_pairs, 2), int64
        Indices ``(i, j)`` into ``coords1`` and ``coords2``, sorted by ``i`` then ``j``.
    distances : numpy.ndarray, shape (n_pairs,), float64
        Minimum-image distances in Å.
    """
    _, first, second, distances = _search(coords1, coords2, cutoff, dimensions, backend, None, None, None, True)
    order = np.lexsort((second, first))
    return np.column_stack((first[order], second[order])).astype(np.int64), distances[order]


def pair_distance_histogram(coords1, coords2, edges, dimensions, groups1=None, groups2=None, backend="numba"):
    """Count minimum-image pair distances per bin without materialising the pairs.

    Parameters
    ----------
    coords1, coords2 : array_like, shape (n1, 3) and (n2, 3)
        Cartesian coordinates in Å.
    edges : numpy.ndarray, shape (n_bins + 1,)
        Increasing, equally spaced bin edges in Å (as from :func:`numpy.linspace`);
        binning follows :func:`numpy.histogram` (last bin closed). ``edges[-1]`` is
        the search cutoff and must be at most half the smallest box width.
    dimensions : array_like, shape (6,)
        Box ``[a, b, c, alpha, beta, gamma]`` in Å and degrees.
    groups1, groups2 : array_like of int, shape (n1,) and (n2,), optional
        Group id per atom (e.g. residue or molecule index); when given, pairs whose
        two atoms share a group id are not counted.
    backend : {"numba", "numpy"}
        Cell-list kernel or the all-pairs numpy reference.

    Returns
    -------
    numpy.ndarray, shape (n_bins,), int64
        Number of pairs per bin.
    """
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0) or edges[0] < 0:
        raise ValueError("edges must be an increasing 1-D array of at least two non-negative distances (Å)")
    if (groups1 is None) != (groups2 is None):
        raise ValueError("give group ids for both coordinate sets or for neither")
    counts = _search(coords1, coords2, edges[-1], dimensions, backend, groups1, groups2, edges, False)[0]
    return counts.astype(np.int64)
