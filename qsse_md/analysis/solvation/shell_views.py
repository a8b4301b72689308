"""Views of the solvation contact table: counts, compositions, ion pairing, clusters.

Pure numpy/pandas functions on the compact per-contact arrays that
:class:`qsse_md.analysis.solvation.solvation.Solvation` collects (one row per solute-partner
atom contact): ``frame`` (position among the analysed frames, 0..n_frames-1),
``solute`` (position in the solute group), a label code (species or group) and an
integer key identifying what is counted (partner residue, atom or molecule).
"""

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from qsse_md.lib._jit import jit
from qsse_md.lib.statistics import block_average

SSIP, CIP, AGG = 0, 1, 2
PAIRING_NAMES = ("SSIP", "CIP", "AGG")


def count_cube(frame, solute, label, key, n_frames, n_solutes, n_labels):
    """Number of distinct ``key`` values per (frame, solute, label).

    Parameters
    ----------
    frame, solute, label, key : numpy.ndarray of int, shape (n_rows,)
        Contact rows; ``label < 0`` rows are ignored.
    n_frames, n_solutes, n_labels : int
        Shape of the result.

    Returns
    -------
    numpy.ndarray of int64, shape (n_frames, n_solutes, n_labels)
    """
    cube = np.zeros((n_frames, n_solutes, n_labels), dtype=np.int64)
    arrays = [np.ascontiguousarray(a, dtype=np.int64) for a in (frame, solute, label, key)]
    shell = arrays[0] * n_solutes + arrays[1]
    if np.any(shell[1:] < shell[:-1]):  # the Solvation rows come grouped already
        order = np.argsort(shell, kind="stable")
        arrays = [a[order] for a in arrays]
    _count_distinct(*arrays, cube)
    return cube


@jit(cache=True)
def _count_distinct(frame, solute, label, key, cube):
    """Add to ``cube[f, s, l]`` the number of distinct keys of label ``l`` among the rows of
    each (frame, solute) run; rows must be grouped by (frame, solute), ``label < 0`` skipped."""
    n = frame.shape[0]
    start = 0
    while start < n:
        stop = start + 1
        while stop < n and frame[stop] == frame[start] and solute[stop] == solute[start]:
            stop += 1
        for row in range(start, stop):
            if label[row] < 0:
                continue
            repeated = False
            for earlier in range(start, row):
                if label[earlier] == label[row] and key[earlier] == key[row]:
                    repeated = True
                    break
            if not repeated:
                cube[frame[row], solute[row], label[row]] += 1
        start = stop


def _row_codes(rows):
    """One int64 code per row of non-negative integers, ordered like the rows
    (lexicographically), or None when the mixed radix would overflow int64."""
    rows = np.asarray(rows)
    if rows.ndim != 2 or rows.shape[1] == 0 or not np.issubdtype(rows.dtype, np.integer):
        return None, None
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64), np.ones(rows.shape[1], dtype=np.int64)
    if rows.min() < 0:
        return None, None
    radix = rows.max(axis=0).astype(np.int64) + 1
    if np.sum(np.log2(radix.astype(np.float64))) >= 62:
        return None, None
    codes = np.zeros(len(rows), dtype=np.int64)
    for column in range(rows.shape[1]):
        codes *= radix[column]
        codes += rows[:, column]
    return codes, radix


def _decode(codes, radix, dtype):
    out = np.empty((len(codes), len(radix)), dtype=dtype)
    rest = codes.copy()
    for column in range(len(radix) - 1, -1, -1):
        out[:, column] = rest % radix[column]
        rest //= radix[column]
    return out


def _unique_rows(rows, return_inverse=False, return_counts=False):
    """``np.unique(rows, axis=0, ...)`` for rows of non-negative integers, through one int64
    code per row (a 1-D sort instead of a structured one); the same result and order."""
    codes, radix = _row_codes(rows)
    if codes is None:
        return np.unique(rows, axis=0, return_inverse=return_inverse, return_counts=return_counts)
    if not (return_inverse or return_counts):
        codes = np.sort(codes)
        distinct = codes[np.concatenate(([True], codes[1:] != codes[:-1]))] if len(codes) else codes
        return _decode(distinct, radix, np.asarray(rows).dtype)
    result = np.unique(codes, return_inverse=return_inverse, return_counts=return_counts)
    return (_decode(result[0], radix, np.asarray(rows).dtype),) + tuple(result[1:])


def summarize_counts(cube, labels, counting, frames, n_blocks=5):
    """Mean, block standard error, per-frame means and distribution of a count cube.

    Parameters
    ----------
    cube : numpy.ndarray, shape (n_frames, n_solutes, n_labels)
        Counts per solute and frame.
    labels : sequence of str, length n_labels
    counting : str
        Name of the counting rule ("species", "group" or "molecule").
    frames : numpy.ndarray, shape (n_frames,)
        Trajectory frame indices (index of the per-frame table).
    n_blocks : int
        Blocks for :func:`qsse_md.lib.statistics.block_average`.

    Returns
    -------
    summary : pandas.DataFrame
        Columns ``counting, label, mean, sem`` (counts per solute).
    by_frame : pandas.DataFrame
        Index ``frame``; one column per label: mean count per solute in that frame.
    distribution : pandas.DataFrame
        Columns ``counting, label, count, probability`` (probability over all
        solute-frame observations; sums to 1 per label).
    """
    per_frame = cube.mean(axis=1) if cube.shape[1] else np.zeros((cube.shape[0], len(labels)))
    rows, dist_rows = [], []
    for k, label in enumerate(labels):
        mean, sem = block_average(per_frame[:, k], n_blocks)
        rows.append((counting, label, mean, sem))
        histogram = np.bincount(cube[:, :, k].ravel(), minlength=1)
        total = histogram.sum()
        for count, n in enumerate(histogram):
            dist_rows.append((counting, label, count, n / total if total else np.nan))
    summary = pd.DataFrame(rows, columns=["counting", "label", "mean", "sem"])
    by_frame = pd.DataFrame(per_frame, index=pd.Index(frames, name="frame"), columns=list(labels))
    distribution = pd.DataFrame(dist_rows, columns=["counting", "label", "count", "probability"])
    return summary, by_frame, distribution


def composition_table(cube, labels, empty_name="empty"):
    """Shell compositions (e.g. ``"1 polymer + 3 EC"``) and how often they occur.

    Parameters
    ----------
    cube : numpy.ndarray, shape (n_frames, n_solutes, n_labels)
        Counts per solute and frame.
    labels : sequence of str
        Label order used in the composition strings (zero counts are omitted).
    empty_name : str
        Name of the shell with no partner at all.

    Returns
    -------
    pandas.DataFrame
        One row per distinct composition, sorted by ``fraction`` (descending):
        ``composition`` (str), one integer column per label, ``fraction`` (of all
        solute-frame observations), ``fraction_of_frames`` (of frames in which at
        least one solute has it) and ``count`` (observations).
    """
    n_frames, n_solutes, n_labels = cube.shape
    flat = cube.reshape(-1, n_labels)
    unique, inverse, counts = _unique_rows(flat, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(n_frames, n_solutes)
    # frames holding each composition: distinct (frame, composition) pairs per composition
    seen = np.unique(np.arange(n_frames, dtype=np.int64)[:, None] * len(unique) + inverse)
    in_frames = np.bincount(seen % max(len(unique), 1), minlength=len(unique)).astype(np.int64)
    names = [" + ".join(f"{n} {label}" for n, label in zip(row, labels) if n) or empty_name for row in unique]
    table = pd.DataFrame(unique, columns=list(labels))
    table.insert(0, "composition", names)
    table["fraction"] = counts / max(len(flat), 1)
    table["fraction_of_frames"] = in_frames / max(n_frames, 1)
    table["count"] = counts
    return table.sort_values(["fraction", "composition"], ascending=[False, True], ignore_index=True)


def ion_pairing(frame, solute, anion_key, n_frames, n_solutes):
    """Classify each solute per frame as SSIP, CIP or AGG and find Li-anion clusters.

    The bipartite graph of each frame joins a solute to every anion molecule in
    its shell. A solute is SSIP when it has no anion, CIP when its connected
    component is exactly itself and one anion (a network of size 2), and AGG
    otherwise (it binds two or more anions, or its anion binds another solute).
    These are solvation_analysis' ``isolated``/``paired``/``networked`` statuses,
    counted per solute.

    Parameters
    ----------
    frame, solute : numpy.ndarray of int, shape (n_rows,)
        Contact rows restricted to anion partners.
    anion_key : numpy.ndarray of int, shape (n_rows,)
        Anion molecule id of each row (unique across species).
    n_frames, n_solutes : int

    Returns
    -------
    status : numpy.ndarray of int8, shape (n_frames, n_solutes)
        0 = SSIP, 1 = CIP, 2 = AGG.
    clusters : pandas.DataFrame
        One row per connected component containing at least one solute:
        ``frame_position`` (0..n_frames-1), ``cluster``, ``n_solutes``, ``n_anions``.
    """
    n_li_nodes = n_frames * n_solutes
    edges = _unique_rows(np.column_stack((frame, solute, anion_key)))
    li_nodes = edges[:, 0] * n_solutes + edges[:, 1]
    anion_pairs, anion_nodes = _unique_rows(edges[:, [0, 2]], return_inverse=True)
    anion_nodes = anion_nodes.ravel() + n_li_nodes
    n_nodes = n_li_nodes + len(anion_pairs)
    graph = coo_matrix((np.ones(len(edges)), (li_nodes, anion_nodes)), shape=(n_nodes, n_nodes))
    _, component = connected_components(graph, directed=False)
    li_component = component[:n_li_nodes]
    li_per_component = np.bincount(li_component, minlength=component.max() + 1)
    anions_per_component = np.bincount(component[n_li_nodes:], minlength=component.max() + 1)
    size = li_per_component + anions_per_component
    status = np.where(anions_per_component[li_component] == 0, SSIP,
                      np.where(size[li_component] == 2, CIP, AGG)).astype(np.int8)
    status = status.reshape(n_frames, n_solutes)
    ids, first = np.unique(li_component, return_index=True)
    clusters = pd.DataFrame({"frame_position": first // max(n_solutes, 1), "component": ids,
                             "n_solutes": li_per_component[ids], "n_anions": anions_per_component[ids]})
    clusters = clusters.sort_values(["frame_position", "component"], ignore_index=True)
    clusters["cluster"] = clusters.groupby("frame_position").cumcount()
    return status, clusters[["frame_position", "cluster", "n_solutes", "n_anions"]]


def cluster_size_distribution(clusters):
    """Distribution of Li-anion cluster sizes in number of solutes (Li).

    Parameters
    ----------
    clusters : pandas.DataFrame
        As returned by :func:`ion_pairing` (``n_solutes``, ``n_anions`` columns).

    Returns
    -------
    pandas.DataFrame
        ``n_solutes``, ``n_clusters`` (summed over frames), ``fraction_of_clusters``
        and ``fraction_of_solutes`` (fraction of solute-frame observations that sit in
        a cluster of that size); clusters without anions (free solutes) are size 1.
    """
    grouped = clusters.groupby("n_solutes").size()
    table = pd.DataFrame({"n_solutes": grouped.index.to_numpy(), "n_clusters": grouped.to_numpy()})
    table["fraction_of_clusters"] = table["n_clusters"] / max(table["n_clusters"].sum(), 1)
    weighted = table["n_clusters"] * table["n_solutes"]
    table["fraction_of_solutes"] = weighted / max(weighted.sum(), 1)
    return table
