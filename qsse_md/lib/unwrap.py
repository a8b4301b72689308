"""Unwrapping of periodic trajectories, correct under box fluctuations (NPT).

Scheme: the displacement-based ("heuristic") unwrapping of von Bülow, Bullerjahn &
Hummer, *J. Chem. Phys.* 153, 021101 (2020), doi:10.1063/5.0008316,

    u_{i+1} = u_i + Δ_i - L_{i+1} floor(Δ_i / L_{i+1} + 1/2),   Δ_i = w_{i+1} - w_i,

with ``w`` the wrapped and ``u`` the unwrapped position and ``L_{i+1}`` the box of
the later frame, applied in fractional coordinates of that box so triclinic cells
work too. Unlike the image-count scheme ``u_i = w_i + n_i L_i`` (GROMACS ``trjconv
-pbc nojump`` before 2023, LAMMPS image flags), it does not add the box fluctuation
times the image count to the displacement, which inflates diffusion coefficients in
NPT runs; Kulke & Vermaas, *J. Chem. Theory Comput.* 18, 6161 (2022),
doi:10.1021/acs.jctc.2c00327, analyse both families. The scheme assumes that no atom moves
more than half a box width between stored frames, and is idempotent: an already
unwrapped trajectory passes through unchanged.

Kernels only: numpy arrays in and out; boxes are MDAnalysis ``dimensions``.
"""

import numpy as np

from qsse_md.lib._jit import jit
from qsse_md.lib.box import image_component, is_orthorhombic, minimum_image, require_box


def unwrap_step(previous_wrapped, previous_unwrapped, wrapped, dimensions):
    """One step of the displacement-based unwrapping (von Bülow et al. 2020).

    Parameters
    ----------
    previous_wrapped, previous_unwrapped : numpy.ndarray, shape (n, 3)
        Wrapped and unwrapped positions of the previous frame, Å.
    wrapped : numpy.ndarray, shape (n, 3)
        Wrapped positions of this frame, Å.
    dimensions : array_like, shape (6,)
        Box of this frame.

    Returns
    -------
    numpy.ndarray, shape (n, 3), float64
        Unwrapped positions of this frame, Å.
    """
    step = np.asarray(wrapped, dtype=np.float64) - previous_wrapped
    return previous_unwrapped + minimum_image(step, dimensions)


def unwrap_step_inplace(previous_wrapped, unwrapped, wrapped, dimensions):
    """:func:`unwrap_step` in place, with the same arithmetic (so the same numbers).

    Parameters
    ----------
    previous_wrapped, unwrapped : numpy.ndarray, shape (n, 3), float64
        Wrapped and unwrapped positions of the previous frame (Å); overwritten with
        those of this frame.
    wrapped : numpy.ndarray, shape (n, 3)
        Wrapped positions of this frame (any float type; read as float64), Å.
    dimensions : array_like, shape (6,)
        Box of this frame.
    """
    dimensions = require_box(dimensions)
    if is_orthorhombic(dimensions):
        _unwrap_orthorhombic(previous_wrapped, unwrapped, wrapped, dimensions[:3].copy())
        return
    wrapped = np.asarray(wrapped, dtype=np.float64)
    unwrapped[:] = unwrap_step(previous_wrapped, unwrapped, wrapped, dimensions)
    previous_wrapped[:] = wrapped


@jit(cache=True)
def _unwrap_orthorhombic(previous_wrapped, unwrapped, wrapped, lengths):
    """u += Δ - L floor(Δ / L + 1/2), Δ = w - w_prev, per atom and axis; w_prev = w."""
    for i in range(wrapped.shape[0]):
        for k in range(3):
            position = np.float64(wrapped[i, k])
            step = position - previous_wrapped[i, k]
            if -0.25 * lengths[k] < step < 0.25 * lengths[k]:
                # floor(step / L + 1/2) is exactly 0 here, and step - L * 0 == step
                unwrapped[i, k] = unwrapped[i, k] + step
            else:
                unwrapped[i, k] = unwrapped[i, k] + image_component(step, lengths[k])
            previous_wrapped[i, k] = position


def make_whole(positions, group_index, dimensions, bonds=None):
    """Make molecules whole: each atom at the minimum image of its group's first atom,
    then, where bonds are given, each bonded atom at the minimum image of its bonded
    predecessor along a breadth-first walk of the bond graph.

    Parameters
    ----------
    positions : numpy.ndarray, shape (n, 3)
        Atom positions, Å.
    group_index : numpy.ndarray, shape (n,), int
        Group (molecule) of each atom, values 0..n_groups-1 in any order.
    dimensions : array_like, shape (6,)
        Box.
    bonds : numpy.ndarray of int, shape (n_bonds, 2), optional
        Bonded atom pairs (indices into ``positions``). The walk keeps every bond
        shorter than half a box, so a polymer chain longer than half the box comes out
        whole; without bonds each group must span less than half a box.

    Returns
    -------
    numpy.ndarray, shape (n, 3), float64
    """
    positions = np.asarray(positions, dtype=np.float64)
    group_index = np.asarray(group_index)
    _, first = np.unique(group_index, return_index=True)
    anchors = positions[first][np.searchsorted(np.unique(group_index), group_index)]
    whole = anchors + minimum_image(positions - anchors, dimensions)
    if bonds is None or len(bonds) == 0:
        return whole
    parent, depth = _bond_walk(len(positions), np.asarray(bonds, dtype=np.int64))
    for level in range(1, int(depth.max()) + 1):
        atoms = np.nonzero(depth == level)[0]
        whole[atoms] = whole[parent[atoms]] + minimum_image(whole[atoms] - whole[parent[atoms]], dimensions)
    return whole


def _bond_walk(n_atoms, bonds):
    """Breadth-first predecessor and depth of every atom over the bond graph (roots: the
    lowest index of each bonded component, depth 0; unbonded atoms: depth 0)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    graph = coo_matrix((np.ones(len(bonds)), (bonds[:, 0], bonds[:, 1])), shape=(n_atoms, n_atoms)).tocsr()
    n_components, component = connected_components(graph, directed=False)
    parent = np.full(n_atoms, -1, dtype=np.int64)
    depth = np.zeros(n_atoms, dtype=np.int64)
    sizes = np.bincount(component, minlength=n_components)
    _, roots = np.unique(component, return_index=True)
    for root in roots[sizes > 1]:
        order, predecessors = breadth_first_order(graph, root, directed=False, return_predecessors=True)
        for atom in order[1:]:
            parent[atom] = predecessors[atom]
            depth[atom] = depth[parent[atom]] + 1
    return parent, depth


def unwrap_trajectory(wrapped, dimensions):
    """Unwrap a whole trajectory frame by frame with :func:`unwrap_step`.

    Parameters
    ----------
    wrapped : numpy.ndarray, shape (T, n, 3)
        Wrapped positions, Å.
    dimensions : numpy.ndarray, shape (T, 6)
        Box of every frame.

    Returns
    -------
    numpy.ndarray, shape (T, n, 3), float64
        Unwrapped positions; frame 0 equals the wrapped frame 0.
    """
    wrapped = np.asarray(wrapped, dtype=np.float64)
    out = np.empty_like(wrapped)
    out[0] = wrapped[0]
    for i in range(1, len(wrapped)):
        out[i] = unwrap_step(wrapped[i - 1], out[i - 1], wrapped[i], dimensions[i])
    return out


__all__ = ["make_whole", "unwrap_step", "unwrap_step_inplace", "unwrap_trajectory"]
