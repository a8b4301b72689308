"""Connected clusters in a periodic box, whether they wrap (percolate), and grid demixing.

A cluster percolates when it connects to its own periodic image: unwrapping it through
its bonds (each bond carries the minimum-image displacement between its two nodes) and
returning to a visited node by another route that lands a whole box vector away. This
winding test holds for any box shape and needs no spanning heuristics. Cluster
labelling follows Hoshen & Kopelman, Phys. Rev. B 14, 3438 (1976),
doi:10.1103/PhysRevB.14.3438, done here by breadth-first search.
"""

from collections import deque

import numpy as np

from qsse_md.lib.box import box_matrix


def periodic_clusters(n_nodes, edges, displacements, dimensions):
    """Clusters of a graph embedded in a periodic box and the box directions they wrap.

    Parameters
    ----------
    n_nodes : int
    edges : array_like of int, shape (n_edges, 2)
        Node pairs ``(i, j)`` that are connected.
    displacements : array_like, shape (n_edges, 3)
        Vector from node i to node j of each edge through the contact that links them
        (a minimum-image path), Å.
    dimensions : array_like, shape (6,)
        Box ``[a, b, c, alpha, beta, gamma]`` in Å and degrees.

    Returns
    -------
    labels : numpy.ndarray of int, shape (n_nodes,)
        Cluster index per node, clusters numbered by decreasing size (0 = largest).
    wraps : numpy.ndarray of bool, shape (n_clusters, 3)
        Whether each cluster reaches its own image along box vectors a, b, c.
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    displacements = np.asarray(displacements, dtype=np.float64).reshape(-1, 3)
    inverse = np.linalg.inv(box_matrix(dimensions))
    neighbours = [[] for _ in range(n_nodes)]
    for (i, j), vector in zip(edges, displacements):
        neighbours[i].append((j, vector))
        neighbours[j].append((i, -vector))
    labels = np.full(n_nodes, -1, dtype=np.int64)
    unwrapped = np.zeros((n_nodes, 3))
    wraps = []
    for seed in range(n_nodes):
        if labels[seed] >= 0:
            continue
        cluster, winding, queue = len(wraps), np.zeros(3, dtype=bool), deque([seed])
        labels[seed] = cluster
        while queue:
            node = queue.popleft()
            for other, vector in neighbours[node]:
                expected = unwrapped[node] + vector
                if labels[other] < 0:
                    labels[other] = cluster
                    unwrapped[other] = expected
                    queue.append(other)
                else:
                    winding |= np.rint((expected - unwrapped[other]) @ inverse) != 0
        wraps.append(winding)
    sizes = np.bincount(labels, minlength=len(wraps))
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels], np.array(wraps, dtype=bool).reshape(-1, 3)[order]


def demixing_index(positions_a, positions_b, dimensions, cell_angstrom):
    """Composition fluctuations of two components on a grid of box cells.

    Parameters
    ----------
    positions_a, positions_b : array_like, shape (n_a, 3) and (n_b, 3)
        Coordinates of the two components (e.g. polymer and solvent heavy atoms), Å.
    dimensions : array_like, shape (6,)
        Box (Å, degrees); cells are the box divided evenly along a, b, c.
    cell_angstrom : float
        Target cell edge, Å (each axis gets ``max(1, round(length / cell))`` cells).

    Returns
    -------
    index : float
        :math:`\\mathrm{Var}_w(\\phi) / [\\bar\\phi(1-\\bar\\phi)]`, the occupancy-weighted
        variance of the local fraction φ of component b over occupied cells, relative
        to complete separation: 0 for a uniform mixture, 1 for fully demixed cells.
    random_index : float
        Its expectation for random mixing at the same cell occupancies
        (binomial counting noise, mean of :math:`1/n_c` over weighted cells).
    """
    box = box_matrix(dimensions)
    n_cells = np.maximum(1, np.rint(np.linalg.norm(box, axis=1) / cell_angstrom)).astype(int)

    def counts(positions):
        fractional = np.mod(np.asarray(positions, dtype=np.float64).reshape(-1, 3) @ np.linalg.inv(box), 1.0)
        cells = np.minimum((fractional * n_cells).astype(int), n_cells - 1)
        return np.bincount(np.ravel_multi_index(cells.T, n_cells), minlength=int(np.prod(n_cells)))

    count_a, count_b = counts(positions_a), counts(positions_b)
    total = count_a + count_b
    occupied = total > 0
    phi = count_b[occupied] / total[occupied]
    weights = total[occupied] / total.sum()
    mean = float(weights @ phi)
    if mean in (0.0, 1.0):
        return 0.0, 0.0
    variance = float(weights @ (phi - mean) ** 2)
    return variance / (mean * (1 - mean)), float(weights @ (1.0 / total[occupied]))
