"""Minimum-image pair search and pair-distance histograms in periodic boxes.

Kernels only: numpy arrays in, numpy arrays out, no MDAnalysis objects. Boxes are
given as MDAnalysis ``dimensions`` ``[a, b, c, alpha, beta, gamma]`` (Å, degrees),
orthorhombic or triclinic. Every function has a ``backend`` switch: ``"numba"``
(cell list, compiled with :func:`numba.njit`, cached on disk) or ``"numpy"`` (an
all-pairs reference). Both evaluate the same floating-point expressions in the same
order, so they return identical numbers.

The cell list (Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed., 2017,
doi:10.1093/oso/9780198803195.001.0001, sec. 5.3) is built in fractional
coordinates with cells about ``cutoff / 2`` thick perpendicular to each pair of box
faces; every partner within the cutoff lies within ``reach`` = ceil(cutoff / cell
thickness) cells along each axis (5 x 5 x 5 cells, fewer candidates than the
classic 3 x 3 x 3 cells a cutoff thick), in any triclinic box. Cutoffs above half the smallest perpendicular box width are refused:
beyond it the minimum image of a pair is no longer unique.
"""

import functools

import numpy as np

from qsse_md.lib._jit import jit

BACKENDS = ("numba", "numpy")
_MAX_CELLS_PER_AXIS = 64
_CELLS_PER_CUTOFF = 2


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
def _cell_of(x, y, z, inverse, k, n):
    """Cell index along axis ``k`` of a point: floor(n * wrapped fractional coordinate)."""
    f = x * inverse[0, k] + y * inverse[1, k] + z * inverse[2, k]
    f -= np.floor(f)
    c = int(f * n)
    if c >= n:
        c = n - 1
    elif c < 0:
        c = 0
    return c


def _prepare(coords1, coords2, cutoff, dimensions, backend):
    """Validate inputs; return float64 coordinates, box matrix and its inverse."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    coords1 = np.ascontiguousarray(coords1, dtype=np.float64).reshape(-1, 3)
    coords2 = np.ascontiguousarray(coords2, dtype=np.float64).reshape(-1, 3)
    if dimensions is None:
        raise ValueError("no periodic box given: minimum-image distances need box dimensions [a, b, c, alpha, beta, gamma]")
    vectors, inverse, widths, orthorhombic = _box_geometry(tuple(float(v) for v in np.asarray(dimensions)[:6]))
    if not cutoff > 0 or cutoff > 0.5 * widths.min():
        raise ValueError(
            f"cutoff {cutoff} Å must be > 0 and at most half the smallest box width ({0.5 * widths.min():.4g} Å)"
        )
    return coords1, coords2, vectors, inverse, widths, orthorhombic


@functools.lru_cache(maxsize=16)
def _box_geometry(dimensions):
    """Box matrix, its inverse, perpendicular widths and orthorhombicity of a box (memoised:
    a constant-volume trajectory pays for them once). Arrays are read-only."""
    vectors = box_matrix(dimensions)
    inverse = np.linalg.inv(vectors)
    widths = box_widths(dimensions)
    orthorhombic = bool(np.all(np.asarray(dimensions[3:6], dtype=np.float64) == 90.0))
    for array in (vectors, inverse, widths):
        array.flags.writeable = False
    return vectors, inverse, widths, orthorhombic


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
    coords1, coords2, vectors, inverse, widths, orthorhombic = _prepare(coords1, coords2, cutoff, dimensions, backend)
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
    n_cells, reach = _cell_grid(tuple(float(w) for w in widths), float(cutoff))
    edges = np.array([0.0, float(cutoff)]) if edges is None else edges  # the kernel always bins
    n1, n2 = len(coords1), len(coords2)
    hist = np.zeros((1, len(edges) - 1), dtype=np.int64)
    keep_all = np.full(n2 if want_pairs else 1, np.inf)
    first, second, distances = _indexed_search(
        np.concatenate((coords1, coords2)), np.arange(n1), n1 + np.arange(n2), groups1, groups2, n_cells,
        reach, vectors, inverse, orthorhombic, float(cutoff), exclude, edges, np.zeros(n2, np.int64), hist,
        keep_all, want_pairs)
    return hist[0], first, second, distances


@functools.lru_cache(maxsize=64)
def _cell_grid(widths, cutoff):
    """Cells per axis and search reach (cells) for a box of perpendicular ``widths`` (Å).

    Cells are about ``cutoff / 2`` thick and the reach is 2 cells: the 5^3 searched cells
    hold ~2.5x fewer candidates than 3^3 cells a cutoff thick. The reach covers every
    partner within the cutoff (with a margin for the rounding of the fractional coordinates).
    """
    widths = np.asarray(widths)
    n_cells = np.clip(np.floor(_CELLS_PER_CUTOFF * widths / cutoff), 1, _MAX_CELLS_PER_AXIS).astype(np.int64)
    reach = np.ceil(cutoff * n_cells / widths * (1.0 + 1e-9)).astype(np.int64)
    n_cells.flags.writeable = False
    reach.flags.writeable = False
    return n_cells, reach


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
    order = np.lexsort((second, first)) if backend == "numpy" else slice(None)  # the kernel sorts already
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


@jit(cache=True)
def _indexed_search(positions, index1, index2, groups1, groups2, n_cells, reach, vectors, inverse, orthorhombic,
                    cutoff, exclude_same_group, edges, species, hist, keep_cutoff, want_pairs):
    """Cell-list search between ``positions[index1]`` and ``positions[index2]``, read in place.

    The second set is counting-sorted by cell (stable) so each cell is one contiguous run;
    cells are about cutoff/2 thick and searched ``reach`` cells out (:func:`_cell_grid`).

    Every pair within ``cutoff`` (not sharing a group when ``exclude_same_group``) is
    histogrammed into ``hist[species[j]]`` (in place, binning of :func:`_bin_index`);
    with ``want_pairs`` the pairs with ``distance <= keep_cutoff[j]`` are returned,
    ordered by ``i`` then ``j`` (the order of :func:`capped_pairs`). Coordinates are
    converted to float64 on reading, so the numbers equal those on float64 copies.
    """
    n1, n2 = index1.shape[0], index2.shape[0]
    total = n_cells[0] * n_cells[1] * n_cells[2]
    cells1 = np.empty((n1, 3), dtype=np.int64)
    coords1 = np.empty((n1, 3), dtype=np.float64)
    for i in range(n1):
        for k in range(3):
            coords1[i, k] = positions[index1[i], k]
        for k in range(3):
            cells1[i, k] = _cell_of(coords1[i, 0], coords1[i, 1], coords1[i, 2], inverse, k, n_cells[k])
    linear2 = np.empty(n2, dtype=np.int64)
    cell_start = np.zeros(total + 1, dtype=np.int64)
    for j in range(n2):
        x = np.float64(positions[index2[j], 0])
        y = np.float64(positions[index2[j], 1])
        z = np.float64(positions[index2[j], 2])
        c0 = _cell_of(x, y, z, inverse, 0, n_cells[0])
        c1 = _cell_of(x, y, z, inverse, 1, n_cells[1])
        c2 = _cell_of(x, y, z, inverse, 2, n_cells[2])
        linear2[j] = (c0 * n_cells[1] + c1) * n_cells[2] + c2
        cell_start[linear2[j] + 1] += 1
    for c in range(total):
        cell_start[c + 1] += cell_start[c]
    fill = cell_start[:total].copy()
    cell_order = np.empty(n2, dtype=np.int64)
    sorted2 = np.empty((n2, 3), dtype=np.float64)
    sorted_groups2 = np.empty(n2, dtype=np.int64)
    for j in range(n2):
        slot = fill[linear2[j]]
        fill[linear2[j]] += 1
        cell_order[slot] = j
        sorted2[slot, 0] = positions[index2[j], 0]
        sorted2[slot, 1] = positions[index2[j], 1]
        sorted2[slot, 2] = positions[index2[j], 2]
        sorted_groups2[slot] = groups2[j]
    cutoff_squared = cutoff * cutoff
    capacity = max(16, 4 * n1) if want_pairs else 1
    first = np.empty(capacity, dtype=np.int64)
    second = np.empty(capacity, dtype=np.int64)
    distances = np.empty(capacity, dtype=np.float64)
    n_found = 0
    lowest = np.empty(3, dtype=np.int64)
    highest = np.empty(3, dtype=np.int64)
    for axis in range(3):
        if n_cells[axis] >= 2 * reach[axis] + 1:
            lowest[axis] = -reach[axis]
            highest[axis] = reach[axis]
        else:
            lowest[axis] = 0
            highest[axis] = n_cells[axis] - 1
    lx = vectors[0, 0]
    ly = vectors[1, 1]
    lz = vectors[2, 2]
    half_x = 0.5 * lx
    half_y = 0.5 * ly
    half_z = 0.5 * lz
    for i in range(n1):
        px = coords1[i, 0]
        py = coords1[i, 1]
        pz = coords1[i, 2]
        group_i = groups1[i]
        segment = n_found
        for ox in range(lowest[0], highest[0] + 1):
            cx = (cells1[i, 0] + ox) % n_cells[0]
            for oy in range(lowest[1], highest[1] + 1):
                cy = (cells1[i, 1] + oy) % n_cells[1]
                for oz in range(lowest[2], highest[2] + 1):
                    cell = (cx * n_cells[1] + cy) * n_cells[2] + (cells1[i, 2] + oz) % n_cells[2]
                    for slot in range(cell_start[cell], cell_start[cell + 1]):
                        if exclude_same_group and group_i == sorted_groups2[slot]:
                            continue
                        dx = sorted2[slot, 0] - px
                        dy = sorted2[slot, 1] - py
                        dz = sorted2[slot, 2] - pz
                        if orthorhombic:
                            if dx > half_x or dx < -half_x:
                                dx -= lx * np.rint(dx / lx)
                            if dy > half_y or dy < -half_y:
                                dy -= ly * np.rint(dy / ly)
                            if dz > half_z or dz < -half_z:
                                dz -= lz * np.rint(dz / lz)
                        else:
                            n0 = np.rint(dx * inverse[0, 0] + dy * inverse[1, 0] + dz * inverse[2, 0])
                            n1_ = np.rint(dx * inverse[0, 1] + dy * inverse[1, 1] + dz * inverse[2, 1])
                            n2_ = np.rint(dx * inverse[0, 2] + dy * inverse[1, 2] + dz * inverse[2, 2])
                            dx -= n0 * vectors[0, 0] + n1_ * vectors[1, 0] + n2_ * vectors[2, 0]
                            dy -= n0 * vectors[0, 1] + n1_ * vectors[1, 1] + n2_ * vectors[2, 1]
                            dz -= n0 * vectors[0, 2] + n1_ * vectors[1, 2] + n2_ * vectors[2, 2]
                        d2 = dx * dx + dy * dy + dz * dz
                        if d2 > cutoff_squared:
                            continue
                        distance = np.sqrt(d2)
                        j = cell_order[slot]
                        index = _bin_index(distance, edges)
                        if index >= 0:
                            hist[species[j], index] += 1
                        if not want_pairs or distance > keep_cutoff[j]:
                            continue
                        if n_found == capacity:
                            capacity *= 2
                            first = np.concatenate((first, np.empty_like(first)))
                            second = np.concatenate((second, np.empty_like(second)))
                            distances = np.concatenate((distances, np.empty_like(distances)))
                        # insertion into the row of i, kept sorted by j
                        put = n_found
                        while put > segment and second[put - 1] > j:
                            second[put] = second[put - 1]
                            distances[put] = distances[put - 1]
                            put -= 1
                        first[n_found] = i
                        second[put] = j
                        distances[put] = distance
                        n_found += 1
    return first[:n_found], second[:n_found], distances[:n_found]


class IndexedSearch:
    """Per-frame pair search between two fixed atom subsets of one coordinate array.

    Set up once (index arrays, group ids, species codes, histogram edges), then called
    once per frame with the frame's full ``positions`` array (n_atoms, 3) and box: the
    kernel reads ``positions[index1]`` and ``positions[index2]`` in place (no copies) and
    adds each pair within ``cutoff`` to ``hist[species[j]]``; optionally it returns the
    pairs with ``distance <= keep_cutoff[j]``. The numbers (distances, bins, order) are
    those of :func:`capped_pairs` / :func:`pair_distance_histogram` (numba backend).

    Parameters
    ----------
    index1, index2 : numpy.ndarray of int, shape (n1,) and (n2,)
        Rows of ``positions`` of the two sets.
    cutoff : float
        Search cutoff, Å.
    groups1, groups2 : numpy.ndarray of int, optional
        Group ids: pairs sharing one are skipped.
    edges : numpy.ndarray, shape (n_bins + 1,), optional
        Histogram bin edges (Å); ``hist`` has shape (n_species, n_bins).
    species : numpy.ndarray of int, shape (n2,), optional
        Histogram row of each atom of the second set (default all 0).
    n_species : int
    keep_cutoff : numpy.ndarray, shape (n2,), optional
        Per-atom distance up to which pairs are returned; ``None`` returns no pairs.
    """

    def __init__(self, index1, index2, cutoff, groups1=None, groups2=None, edges=None, species=None, n_species=1,
                 keep_cutoff=None):
        self.index1 = np.ascontiguousarray(index1, dtype=np.int64)
        self.index2 = np.ascontiguousarray(index2, dtype=np.int64)
        self.cutoff = float(cutoff)
        self.exclude = groups1 is not None
        self.groups1 = (np.zeros(len(self.index1), np.int64) if groups1 is None
                        else np.ascontiguousarray(groups1, dtype=np.int64))
        self.groups2 = (np.zeros(len(self.index2), np.int64) if groups2 is None
                        else np.ascontiguousarray(groups2, dtype=np.int64))
        self.edges = np.zeros(1) if edges is None else np.ascontiguousarray(edges, dtype=np.float64)
        self.species = (np.zeros(len(self.index2), np.int64) if species is None
                        else np.ascontiguousarray(species, dtype=np.int64))
        self.hist = np.zeros((n_species, max(len(self.edges) - 1, 0)), dtype=np.int64)
        self.want_pairs = keep_cutoff is not None
        self.keep_cutoff = (np.zeros(1) if keep_cutoff is None
                            else np.ascontiguousarray(keep_cutoff, dtype=np.float64))

    def __call__(self, positions, dimensions, hist=None):
        """Search one frame; returns ``(first, second, distances)`` (empty without pairs)."""
        if dimensions is None:
            raise ValueError("no periodic box given: minimum-image distances need box dimensions "
                             "[a, b, c, alpha, beta, gamma]")
        vectors, inverse, widths, orthorhombic = _box_geometry(tuple(float(v) for v in dimensions[:6]))
        cutoff = self.cutoff
        if not cutoff > 0 or cutoff > 0.5 * widths.min():
            raise ValueError(
                f"cutoff {cutoff} Å must be > 0 and at most half the smallest box width ({0.5 * widths.min():.4g} Å)")
        n_cells, reach = _cell_grid(tuple(float(w) for w in widths), cutoff)
        return _indexed_search(positions, self.index1, self.index2, self.groups1, self.groups2, n_cells, reach,
                               vectors, inverse, orthorhombic, cutoff, self.exclude, self.edges, self.species,
                               self.hist if hist is None else hist, self.keep_cutoff, self.want_pairs)
