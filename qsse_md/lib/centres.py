"""Per-frame Numba kernels of :class:`qsse_md.analysis.transport.transport.Transport`.

Mass-weighted centres of selected atoms and, for orthorhombic boxes, one call per frame
that unwraps (displacement scheme of :mod:`qsse_md.lib.unwrap`, von Bülow et al. 2020,
DOI 10.1063/5.0008316), forms the centres and removes the drift. ``Transport``'s general
path (``unwrap_step_inplace``, then ``weighted_centres``), used for triclinic boxes, gives
the same numbers (test_per_frame_kernel_equals_the_general_path).
"""

import numpy as np

from qsse_md.lib._jit import jit
from qsse_md.lib.box import image_component
from qsse_md.lib.unwrap import _unwrap_orthorhombic


@jit(cache=True)
def weighted_centres(values, selected, weights, centre_of_atom, n_centres):
    """sum of weights * values[selected] per centre, (n_centres, 3): ``np.bincount`` per
    component, in the same order (so the same numbers), without the temporaries."""
    out = np.zeros((n_centres, 3))
    for c in range(3):
        for a in range(selected.shape[0]):
            out[centre_of_atom[a], c] += values[selected[a], c] * weights[a]
    return out


@jit(cache=True)
def frame_orthorhombic(previous_wrapped, unwrapped, positions, rows, all_atoms, dimensions, selected, weights,
                        centre_of_atom, drift_rows, drift_all, drift_weights, out):
    """One frame in an orthorhombic box, in place; returns the box volume (Å^3).

    ``dimensions`` (6,) must be a box that :func:`qsse_md.lib.box.require_box` and
    :func:`qsse_md.lib.box.is_orthorhombic` accept (the caller checks).

    ``previous_wrapped``/``unwrapped`` (n, 3) advance to this frame with the arithmetic of
    :func:`qsse_md.lib.unwrap.unwrap_step_inplace` (von Bülow et al. 2020), reading the
    wrapped positions as ``positions[rows]``; ``out`` (n_centres, 3) receives the
    mass-weighted centres (the sums of :func:`weighted_centres`, same order) minus the
    weighted mean of ``unwrapped[drift_rows]`` (nothing subtracted when ``drift_rows`` is
    empty). The volume is ``a * b * c`` in float64, as MDAnalysis ``box_volume``.
    """
    lx = np.float64(dimensions[0])
    ly = np.float64(dimensions[1])
    lz = np.float64(dimensions[2])
    lengths = np.empty(3)
    lengths[0] = lx
    lengths[1] = ly
    lengths[2] = lz
    if all_atoms:
        _unwrap_flat(previous_wrapped.reshape(-1), unwrapped.reshape(-1), positions.reshape(-1), lengths)
    else:
        _unwrap_orthorhombic(previous_wrapped, unwrapped, positions[rows], lengths)
    out[:, :] = 0.0
    for c in range(3):
        for a in range(selected.shape[0]):
            out[centre_of_atom[a], c] += unwrapped[selected[a], c] * weights[a]
    if drift_rows.shape[0] > 0:
        # np.dot is the BLAS call of ``drift_weights @ values`` in Transport._reduce
        if drift_all:
            drift = np.dot(drift_weights, unwrapped)
        else:
            drift = np.dot(drift_weights, unwrapped[drift_rows])
        for j in range(out.shape[0]):
            for c in range(3):
                out[j, c] -= drift[c]
    return lx * ly * lz


#: elements (64 atoms x 3) per chunk of :func:`_unwrap_flat`
_CHUNK = 192


@jit(cache=True)
def _unwrap_flat(previous_wrapped, unwrapped, wrapped, lengths):
    """:func:`qsse_md.lib.unwrap._unwrap_orthorhombic` on flattened (3n,) arrays, same numbers.

    Chunk by chunk (64 atoms), a branch-free (vectorised) pass applies ``u += Δ`` wherever
    |Δ| < min(L) / 4, where floor(Δ / L + 1/2) is exactly 0; the rare elements left in a
    chunk (jumps across the box) then get the full ``u += Δ - L floor(Δ / L + 1/2)``.
    """
    bound = 0.25 * min(lengths[0], min(lengths[1], lengths[2]))
    n = wrapped.shape[0]
    for first in range(0, n, _CHUNK):
        last = min(first + _CHUNK, n)
        if _unwrap_small_steps(previous_wrapped[first:last], unwrapped[first:last], wrapped[first:last], bound):
            for j in range(first, last):
                position = np.float64(wrapped[j])
                step = position - previous_wrapped[j]
                if not ((step > -bound) & (step < bound)):
                    length = lengths[j % 3]
                    unwrapped[j] = unwrapped[j] + image_component(step, length)
                    previous_wrapped[j] = position


@jit(cache=True)
def _unwrap_small_steps(previous_wrapped, unwrapped, wrapped, bound):
    """``u += Δ`` and ``w_prev = w`` where |Δ| < bound (branch-free); returns how many were not."""
    slow = 0
    for j in range(wrapped.shape[0]):
        position = np.float64(wrapped[j])
        step = position - previous_wrapped[j]
        fast = (step > -bound) & (step < bound)
        unwrapped[j] = unwrapped[j] + step if fast else unwrapped[j]
        previous_wrapped[j] = position if fast else previous_wrapped[j]
        slow += 0 if fast else 1
    return slow
