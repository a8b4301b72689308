"""The Numba cell-list kernel behind :mod:`qsse_md.lib.distances`.

Positions are turned into fractional coordinates wrapped into [0, 1), and the second
atom set is counting-sorted by cell into contiguous columns (structure of arrays), so
the candidates of a first-set atom form a few contiguous runs: the cells along the
box's **c** axis of one (a, b) column are adjacent in memory. Each run is scanned in
two simple loops that the compiler vectorises (minimum-image squared distances of the
whole run, then a branch-free compaction of the slots within the cutoff); only those
slots reach the scalar code (exclusions, binning, pair output). Working in fractional
coordinates gives orthorhombic and triclinic boxes one code path: the minimum image is
``d - rint(d)`` per fractional component, then the Cartesian vector is ``d @ box``.

Cells are at least a cutoff wide along **a** and **b** and about cutoff / 8 along **c**
(Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed., 2017,
doi:10.1093/oso/9780198803195.001.0001, sec. 5.3). In orthorhombic boxes the run of
each column is trimmed to the part of the cutoff sphere it can reach, and a column
whose nearest face lies beyond the cutoff is skipped.

Helpers that take arrays are inlined (``inline="always"``): a Numba call with array
arguments pays reference counting on every call, which dominated the inner loops.
"""

import numpy as np

from qsse_md.lib._jit import jit

#: cells per cutoff along a, b and c
CELLS_PER_CUTOFF = (1, 1, 8)
#: cell-unit margin that keeps the trimmed runs conservative against rounding
_MARGIN = 1e-6


#: :func:`scaled_bin`'s answer where numpy's comparison with the edges must decide
AT_EDGE = -2


@jit(cache=True)
def scaled_bin(distance, first_edge, bins_per_unit, n_bins):
    """Bin of ``distance`` from its scaled value, or :data:`AT_EDGE`.

    Bins are equally spaced from ``first_edge`` with ``bins_per_unit = n_bins /
    (edges[-1] - edges[0])``. Within 1e-9 bins of an edge, and outside the edges, the
    answer is :data:`AT_EDGE` and :func:`bin_at_edge` gives the bin :func:`numpy.histogram`
    would (the two steps together equal numpy's binning exactly). Scalar arguments only:
    a Numba call that takes an array pays reference counting (about 10 ns), even when
    inlined, which is more than the binning itself.
    """
    scaled = (distance - first_edge) * bins_per_unit
    if not 0.0 <= scaled < n_bins:
        return AT_EDGE
    index = int(scaled)
    fraction = scaled - index
    if fraction < 1e-9 or fraction > 1.0 - 1e-9:
        return AT_EDGE
    return index


@jit(cache=True)
def bin_at_edge(distance, edges, bins_per_unit):
    """Bin of ``distance`` by numpy's rule (-1: outside the edges): a first guess, then
    one step down or up against the edges."""
    n_bins = edges.shape[0] - 1
    if distance < edges[0] or distance > edges[n_bins]:
        return -1
    index = int((distance - edges[0]) * bins_per_unit)
    if index >= n_bins:
        index = n_bins - 1
    if distance < edges[index]:
        index -= 1
    elif index != n_bins - 1 and distance >= edges[index + 1]:
        index += 1
    return index


@jit(cache=True, inline="always")
def _fractional(x, y, z, inverse, k):
    """Fractional coordinate along box axis ``k``, wrapped into [0, 1)."""
    f = x * inverse[0, k] + y * inverse[1, k] + z * inverse[2, k]
    return f - np.floor(f)


@jit(cache=True, inline="always")
def _fractions_of(positions, row, inverse):
    """Wrapped fractional coordinates (a, b, c) of ``positions[row]``, read as float64."""
    x = np.float64(positions[row, 0])
    y = np.float64(positions[row, 1])
    z = np.float64(positions[row, 2])
    return _fractional(x, y, z, inverse, 0), _fractional(x, y, z, inverse, 1), _fractional(x, y, z, inverse, 2)


@jit(cache=True, inline="always")
def _cell(fraction, n):
    """Cell of a wrapped fractional coordinate among ``n`` cells."""
    c = int(fraction * n)
    return n - 1 if c >= n else (0 if c < 0 else c)


@jit(cache=True, inline="always")
def _scan_run(start, stop, fa, fb, fc, sa, sb, sc, vectors, cutoff_squared, d2, close, n_close):
    """Squared minimum-image distances (Å²) from the point of fractional coordinates
    ``(sa, sb, sc)`` to slots ``start:stop`` into ``d2``; appends the slots within the
    cutoff to ``close`` and returns their new count."""
    ax, bx, by, cx, cy, cz = vectors[0, 0], vectors[1, 0], vectors[1, 1], vectors[2, 0], vectors[2, 1], vectors[2, 2]
    for s in range(start, stop):
        da = fa[s] - sa
        db = fb[s] - sb
        dc = fc[s] - sc
        da -= np.rint(da)
        db -= np.rint(db)
        dc -= np.rint(dc)
        dx = da * ax + db * bx + dc * cx
        dy = db * by + dc * cy
        dz = dc * cz
        d2[s] = dx * dx + dy * dy + dz * dz
    for s in range(start, stop):
        close[n_close] = s
        n_close += d2[s] <= cutoff_squared
    return n_close


@jit(cache=True, inline="always")
def _face_gap(offset, position_in_cell, width):
    """Distance (Å) from a point ``position_in_cell`` (cells, in [0, 1)) of its cell to the
    near face of the cell ``offset`` cells away along one axis (0 for the own cell)."""
    if offset > 0:
        gap = (offset - position_in_cell) * width
    elif offset < 0:
        gap = (-offset - 1 + position_in_cell) * width
    else:
        return 0.0
    return max(gap - _MARGIN * width, 0.0)


@jit(cache=True)
def _sort_by_cell(positions, index2, inverse, n_cells):
    """Counting sort of ``positions[index2]`` by cell.

    Returns ``cell_start`` (first slot of each cell, and the total), ``cell_order``
    (atom of each slot) and the wrapped fractional coordinates by slot, shape (3, n2).
    """
    n2 = index2.shape[0]
    na, nb, nc = n_cells[0], n_cells[1], n_cells[2]
    linear = np.empty(n2, dtype=np.int64)
    fractions = np.empty((3, n2), dtype=np.float64)
    cell_start = np.zeros(na * nb * nc + 1, dtype=np.int64)
    for j in range(n2):
        fa, fb, fc = _fractions_of(positions, index2[j], inverse)
        fractions[0, j] = fa
        fractions[1, j] = fb
        fractions[2, j] = fc
        linear[j] = (_cell(fa, na) * nb + _cell(fb, nb)) * nc + _cell(fc, nc)
        cell_start[linear[j] + 1] += 1
    for cell in range(na * nb * nc):
        cell_start[cell + 1] += cell_start[cell]
    fill = cell_start[:-1].copy()
    cell_order = np.empty(n2, dtype=np.int64)
    sorted_fractions = np.empty((3, n2), dtype=np.float64)
    for j in range(n2):
        slot = fill[linear[j]]
        fill[linear[j]] += 1
        cell_order[slot] = j
        for k in range(3):
            sorted_fractions[k, slot] = fractions[k, j]
    return cell_start, cell_order, sorted_fractions


@jit(cache=True, inline="always")
def _offsets(cell, n, reach):
    """Range of neighbour cells along one axis: relative offsets, or every cell when the
    reach wraps onto itself (then ``relative`` is False and the range is absolute)."""
    if n >= 2 * reach + 1:
        return -reach, reach, True
    return -cell, n - 1 - cell, False


@jit(cache=True, nogil=True)
def indexed_search(positions, index1, index2, groups1, groups2, n_cells, reach, vectors, inverse, orthorhombic,
                   cutoff, exclude_same_group, edges, species, hist, keep_cutoff, want_pairs):
    """Cell-list search between ``positions[index1]`` and ``positions[index2]``, read in place.

    Every pair within ``cutoff`` (Å; not sharing a group when ``exclude_same_group``) is
    histogrammed into ``hist[species[j]]`` (in place, binning of :func:`scaled_bin` and :func:`bin_at_edge`); with
    ``want_pairs`` the pairs with ``distance <= keep_cutoff[j]`` are returned as
    ``(i, j, distance)`` arrays ordered by ``i`` then ``j``. Coordinates are converted to
    float64 on reading, so the numbers equal those on float64 copies, and to those of
    :func:`qsse_md.lib.distances._numpy_distances` (the same arithmetic).
    """
    n1, n2 = index1.shape[0], index2.shape[0]
    na, nb, nc = n_cells[0], n_cells[1], n_cells[2]
    cell_start, cell_order, sorted_fractions = _sort_by_cell(positions, index2, inverse, n_cells)
    fa2, fb2, fc2 = sorted_fractions[0], sorted_fractions[1], sorted_fractions[2]
    sorted_groups = np.empty(n2, dtype=np.int64)
    sorted_species = np.empty(n2, dtype=np.int64)
    sorted_keep = np.empty(n2, dtype=np.float64)
    for slot in range(n2):
        j = cell_order[slot]
        sorted_groups[slot] = groups2[j]
        sorted_species[slot] = species[j]
        sorted_keep[slot] = keep_cutoff[j] if want_pairs else 0.0
    width_a, width_b = vectors[0, 0] / na, vectors[1, 1] / nb
    cutoff_squared = cutoff * cutoff
    n_bins = edges.shape[0] - 1
    bins_per_unit = n_bins / (edges[n_bins] - edges[0]) if n_bins > 0 else 0.0
    first_edge = edges[0] if n_bins > 0 else 0.0
    d2 = np.empty(n2, dtype=np.float64)
    close = np.empty(n2 + 1, dtype=np.int64)
    capacity = max(16, 4 * n1) if want_pairs else 1
    first = np.empty(capacity, dtype=np.int64)
    second = np.empty(capacity, dtype=np.int64)
    distances = np.empty(capacity, dtype=np.float64)
    n_found = 0
    for i in range(n1):
        sa, sb, sc = _fractions_of(positions, index1[i], inverse)
        ca, cb, cc = _cell(sa, na), _cell(sb, nb), _cell(sc, nc)
        fa, fb, fc = sa * na, sb * nb, sc * nc
        low_a, high_a, relative_a = _offsets(ca, na, reach[0])
        low_b, high_b, relative_b = _offsets(cb, nb, reach[1])
        n_close = 0
        for oa in range(low_a, high_a + 1):
            gap_a = _face_gap(oa, fa - ca, width_a) if orthorhombic and relative_a else 0.0
            for ob in range(low_b, high_b + 1):
                gap_b = _face_gap(ob, fb - cb, width_b) if orthorhombic and relative_b else 0.0
                rest = cutoff_squared - gap_a * gap_a - gap_b * gap_b
                if rest < 0.0:
                    continue
                if orthorhombic:
                    half = np.sqrt(rest) * nc / vectors[2, 2]
                    low_c = int(np.floor(fc - half - _MARGIN))
                    high_c = int(np.floor(fc + half + _MARGIN))
                else:
                    low_c, high_c = cc - reach[2], cc + reach[2]
                base = (((ca + oa) % na) * nb + (cb + ob) % nb) * nc
                if high_c - low_c + 1 >= nc:
                    n_close = _scan_run(cell_start[base], cell_start[base + nc], fa2, fb2, fc2, sa, sb, sc, vectors, cutoff_squared, d2, close, n_close)
                    continue
                low_c %= nc
                high_c %= nc
                if low_c <= high_c:
                    n_close = _scan_run(cell_start[base + low_c], cell_start[base + high_c + 1], fa2, fb2, fc2, sa, sb, sc, vectors, cutoff_squared, d2, close, n_close)
                else:
                    n_close = _scan_run(cell_start[base + low_c], cell_start[base + nc], fa2, fb2, fc2, sa, sb, sc, vectors, cutoff_squared, d2, close, n_close)
                    n_close = _scan_run(cell_start[base], cell_start[base + high_c + 1], fa2, fb2, fc2, sa, sb, sc, vectors, cutoff_squared, d2, close, n_close)
        group_i = groups1[i]
        segment = n_found
        for q in range(n_close):
            slot = close[q]
            if exclude_same_group and group_i == sorted_groups[slot]:
                continue
            distance = np.sqrt(d2[slot])
            index = scaled_bin(distance, first_edge, bins_per_unit, n_bins)
            if index == AT_EDGE:
                index = bin_at_edge(distance, edges, bins_per_unit)
            if index >= 0:
                hist[sorted_species[slot], index] += 1
            if not want_pairs or distance > sorted_keep[slot]:
                continue
            if n_found == capacity:
                capacity *= 2
                first = np.concatenate((first, np.empty_like(first)))
                second = np.concatenate((second, np.empty_like(second)))
                distances = np.concatenate((distances, np.empty_like(distances)))
            j = cell_order[slot]
            put = n_found  # insertion into the row of i, kept sorted by j
            while put > segment and second[put - 1] > j:
                second[put] = second[put - 1]
                distances[put] = distances[put - 1]
                put -= 1
            first[n_found] = i
            second[put] = j
            distances[put] = distance
            n_found += 1
    return first[:n_found], second[:n_found], distances[:n_found]
