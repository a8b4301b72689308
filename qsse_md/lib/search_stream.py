"""Overlap the trajectory read with the pair search: frames in batches on a second thread.

A reader thread (the analysis loop) decompresses frame t + 1 while the search of the
frames before it runs in compiled code that has released the GIL. The stream copies
the atoms the search needs from each frame into a batch buffer; a full batch is handed
to one worker thread, which runs :func:`search_frames` (one Numba call, ``nogil``) while
the next batch fills. At most one batch is in flight, so memory stays at two buffers.
Results (histogram counts and pair lists) are identical to calling the search frame by
frame in order: the batches are searched in push order and the histogram is summed in
integers.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from qsse_md.lib._jit import jit
from qsse_md.lib.cell_search import indexed_search

#: a batch holds at most this many bytes of coordinates (float32), and at most 32 frames
_BATCH_BYTES = 8 * 2**20
_BATCH_FRAMES = 32


@jit(cache=True, nogil=True)
def search_frames(batch, n_frames, index1, index2, groups1, groups2, n_cells, reach, vectors, inverse, orthorhombic,
                  cutoff, exclude_same_group, edges, species, hist, keep_cutoff, want_pairs):
    """:func:`~qsse_md.lib.cell_search.indexed_search` on ``batch[:n_frames]`` in order.

    Per-frame box arrays are stacked along the first axis. Returns one
    ``(first, second, distances)`` tuple per frame.
    """
    found = []
    for f in range(n_frames):
        found.append(indexed_search(batch[f], index1, index2, groups1, groups2, n_cells[f], reach[f], vectors[f],
                                    inverse[f], orthorhombic[f], cutoff, exclude_same_group, edges, species, hist,
                                    keep_cutoff, want_pairs))
    return found


@jit(cache=True)
def _gather_rows(positions, rows, out):
    """``out[:] = positions[rows]`` without numpy's fancy-indexing overhead (about 10 µs a frame)."""
    for k in range(rows.shape[0]):
        for axis in range(3):
            out[k, axis] = positions[rows[k], axis]


def _started_search(started, *arguments):
    started.set()
    return search_frames(*arguments)


class SearchStream:
    """Feed frames of one trajectory to an :class:`~qsse_md.lib.distances.IndexedSearch`.

    Parameters
    ----------
    search : qsse_md.lib.distances.IndexedSearch
        The search; its ``hist`` receives the counts.
    batch_frames : int, optional
        Frames per batch (default: as many as fit in 8 MiB, at most 32).

    Notes
    -----
    Call :meth:`push` once per frame, then :meth:`close` for the pairs of every pushed
    frame; or push inside ``with stream:``, which closes on success (the pairs are then
    in ``stream.found``) and abandons the buffered frames on an error. A box that is
    invalid for the cutoff raises in :meth:`push`.
    """

    def __init__(self, search, batch_frames=None):
        self.search = search
        self._needed = np.union1d(search.index1, search.index2)
        self._index1 = np.searchsorted(self._needed, search.index1)
        self._index2 = np.searchsorted(self._needed, search.index2)
        frame_bytes = 12 * max(len(self._needed), 1)
        size = batch_frames or int(np.clip(_BATCH_BYTES // frame_bytes, 1, _BATCH_FRAMES))
        self._buffers = [self._batch_arrays(size) for _ in range(2)]
        self._filling = 0
        self._n_filled = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qsse-md-search")
        self._in_flight = None
        self._found = []
        self.found = None

    def __enter__(self):
        return self

    def __exit__(self, error_type, error, traceback):
        if error_type is None:
            self.found = self.close()
        else:
            self.abandon()

    def _batch_arrays(self, size):
        n = len(self._needed)
        return {"positions": np.empty((size, n, 3), np.float32), "vectors": np.empty((size, 3, 3)),
                "inverse": np.empty((size, 3, 3)), "n_cells": np.empty((size, 3), np.int64),
                "reach": np.empty((size, 3), np.int64), "orthorhombic": np.empty(size, np.bool_)}

    def push(self, positions, dimensions):
        """Copy one frame's atoms (``positions``: the full (n_atoms, 3) array, Å) and its box."""
        vectors, inverse, n_cells, reach, orthorhombic = self.search.geometry(dimensions)
        batch, k = self._buffers[self._filling], self._n_filled
        _gather_rows(positions, self._needed, batch["positions"][k])
        batch["vectors"][k], batch["inverse"][k] = vectors, inverse
        batch["n_cells"][k], batch["reach"][k], batch["orthorhombic"][k] = n_cells, reach, orthorhombic
        self._n_filled += 1
        if self._n_filled == len(batch["positions"]):
            self._launch()

    def _launch(self):
        self._collect()
        batch, s = self._buffers[self._filling], self.search
        started = threading.Event()
        self._in_flight = self._executor.submit(
            _started_search, started, batch["positions"], self._n_filled, self._index1, self._index2, s.groups1, s.groups2,
            batch["n_cells"], batch["reach"], batch["vectors"], batch["inverse"], batch["orthorhombic"], s.cutoff,
            s.exclude, s.edges, s.species, s.hist, s.keep_cutoff, s.want_pairs)
        # Wait (GIL released) until the worker has taken the GIL and entered the search;
        # otherwise it could wait a whole switch interval (5 ms) for the reading thread.
        started.wait()
        self._filling = 1 - self._filling
        self._n_filled = 0

    def _collect(self):
        if self._in_flight is not None:
            found, self._in_flight = self._in_flight.result(), None
            if self.search.want_pairs:
                self._found.extend(found)

    def close(self):
        """Search the frames still buffered; returns ``[(first, second, distances), ...]``
        per pushed frame (indices into the search's two sets; empty without pairs)."""
        try:
            if self._n_filled:
                self._launch()
            self._collect()
        finally:
            self._executor.shutdown(wait=True)
        found, self._found = self._found, []
        return found

    def abandon(self):
        """Stop without searching the buffered frames (after an error in the caller)."""
        self._n_filled = 0
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._in_flight = None
