"""Minimum-image pair search and pair-distance histograms in periodic boxes.

Kernels only: numpy arrays in, numpy arrays out, no MDAnalysis objects. Boxes are
given as MDAnalysis ``dimensions`` ``[a, b, c, alpha, beta, gamma]`` (Å, degrees),
orthorhombic or triclinic. Every function has a ``backend`` switch: ``"numba"``
(cell list, compiled with :func:`numba.njit`, cached on disk) or ``"numpy"`` (an
all-pairs reference). Both evaluate the same floating-point expressions in the same
order, so they return identical numbers.

The cell list (:mod:`qsse_md.lib.cell_search`) is built in fractional coordinates,
so it serves any triclinic box; every partner within the cutoff lies within
``reach`` = ceil(cutoff / cell thickness) cells along each axis. Cutoffs above half
the smallest perpendicular box width are refused: beyond it the minimum image of a
pair is no longer unique.
"""

import functools

import numpy as np

from qsse_md.lib.box import box_geometry, require_box, require_cutoff
from qsse_md.lib.cell_search import CELLS_PER_CUTOFF, indexed_search
from qsse_md.lib.search_stream import SearchStream

BACKENDS = ("numba", "numpy")
_MAX_CELLS_PER_AXIS = 64
_MAX_CELLS = 2**18


def _prepare(coords1, coords2, cutoff, dimensions, backend):
    """Validate inputs; return float64 coordinates, box matrix and its inverse."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    coords1 = np.ascontiguousarray(coords1, dtype=np.float64).reshape(-1, 3)
    coords2 = np.ascontiguousarray(coords2, dtype=np.float64).reshape(-1, 3)
    vectors, inverse, widths, orthorhombic = box_geometry(tuple(require_box(dimensions)))
    require_cutoff(cutoff, dimensions)
    return coords1, coords2, vectors, inverse, widths, orthorhombic


def _wrapped_fractions(coords, inverse):
    """Fractional coordinates wrapped into [0, 1), shape (3, n); the kernel's arithmetic."""
    fractions = np.array([coords[:, 0] * inverse[0, k] + coords[:, 1] * inverse[1, k] + coords[:, 2] * inverse[2, k]
                          for k in range(3)])
    return fractions - np.floor(fractions)


def _numpy_distances(coords1, coords2, vectors, inverse):
    """All-pairs squared minimum-image distances (Å²), shape (n1, n2); same arithmetic as the kernel."""
    f1, f2 = _wrapped_fractions(coords1, inverse), _wrapped_fractions(coords2, inverse)
    da, db, dc = (f2[k][None, :] - f1[k][:, None] for k in range(3))
    da, db, dc = da - np.rint(da), db - np.rint(db), dc - np.rint(dc)
    dx = da * vectors[0, 0] + db * vectors[1, 0] + dc * vectors[2, 0]
    dy = db * vectors[1, 1] + dc * vectors[2, 1]
    dz = dc * vectors[2, 2]
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
        d2 = _numpy_distances(coords1, coords2, vectors, inverse)
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
    first, second, distances = indexed_search(
        np.concatenate((coords1, coords2)), np.arange(n1), n1 + np.arange(n2), groups1, groups2, n_cells,
        reach, vectors, inverse, orthorhombic, float(cutoff), exclude, edges, np.zeros(n2, np.int64), hist,
        keep_all, want_pairs)
    return hist[0], first, second, distances


@functools.lru_cache(maxsize=64)
def _cell_grid(widths, cutoff):
    """Cells per axis and search reach (cells) for a box of perpendicular ``widths`` (Å).

    Cells are about ``cutoff / 2`` wide along **a** and **b** and ``cutoff / 8`` along
    **c** (:data:`~qsse_md.lib.cell_search.CELLS_PER_CUTOFF`), at most ``2**18`` cells in
    all; the reach covers every partner within the cutoff (with a margin for the
    rounding of the fractional coordinates).
    """
    widths = np.asarray(widths)
    n_cells = np.clip(np.floor(np.array(CELLS_PER_CUTOFF) * widths / cutoff), 1, _MAX_CELLS_PER_AXIS).astype(np.int64)
    n_cells[2] = min(n_cells[2], max(1, _MAX_CELLS // (n_cells[0] * n_cells[1])))
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
        self._last_box, self._last_geometry = None, None

    def geometry(self, dimensions):
        """Box arrays of one frame for the kernel: ``(vectors, inverse, n_cells, reach, orthorhombic)``.

        Raises ValueError when the frame has no box or the cutoff exceeds half its
        smallest perpendicular width.
        """
        dimensions = require_box(dimensions)
        key = dimensions.tobytes()
        if key != self._last_box:  # constant-volume trajectories repeat the box every frame
            vectors, inverse, widths, orthorhombic = box_geometry(tuple(dimensions))
            require_cutoff(self.cutoff, dimensions)
            n_cells, reach = _cell_grid(tuple(float(w) for w in widths), self.cutoff)
            self._last_box, self._last_geometry = key, (vectors, inverse, n_cells, reach, orthorhombic)
        return self._last_geometry

    def __call__(self, positions, dimensions, hist=None):
        """Search one frame; returns ``(first, second, distances)`` (empty without pairs)."""
        vectors, inverse, n_cells, reach, orthorhombic = self.geometry(dimensions)
        return indexed_search(positions, self.index1, self.index2, self.groups1, self.groups2, n_cells, reach,
                              vectors, inverse, orthorhombic, self.cutoff, self.exclude, self.edges, self.species,
                              self.hist if hist is None else hist, self.keep_cutoff, self.want_pairs)

    def stream(self, batch_frames=None):
        """A :class:`~qsse_md.lib.search_stream.SearchStream` that searches pushed frames on
        a second thread while the caller reads the next ones."""
        return SearchStream(self, batch_frames)
