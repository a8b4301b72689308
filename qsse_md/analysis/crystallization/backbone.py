"""Polymer backbones from the topology: ordered backbone atoms per chain and chord pairs.

A chain is one molecule spanning several residues (repeat units). Its backbone is found
from the bonds alone: the atoms bonded across residues are the *links*; the backbone
is the shortest bonded path between the two links farthest apart along the bonds
(hydrogens ignored). For a head-to-tail polyacrylate ``-[CH2-CH(R)]n-`` this is the
chain of backbone carbons, whatever the length of the side chains R. The path then
continues into the two end residues, up to as many backbone atoms as an inner residue
has, through atoms that carry the names of the inner residues' backbone atoms (one
such bonded atom at each step; end caps and side chains have other names). Without
consistent atom names the path stops at the end links. A selection of backbone atoms
may be given instead; it must form one unbranched path per chain.
"""

from collections import deque

import numpy as np

from qsse_md.analysis.species_guess import element_symbols, ensure_bonds, molecule_indices


def backbone_chains(polymer, selection=None):
    """Ordered backbone atoms of every chain in ``polymer``.

    Parameters
    ----------
    polymer : MDAnalysis.core.groups.AtomGroup
        Polymer atoms, whole molecules; needs bonds in the topology.
    selection : str, optional
        MDAnalysis selection of the backbone atoms (applied within ``polymer``);
        default: found from the bonds (module docstring).

    Returns
    -------
    list of numpy.ndarray of int
        Universe atom indices of each chain's backbone, in bond order.

    Raises
    ------
    ValueError
        No polymer atoms, no bonds, a molecule of a single residue, or a selected
        backbone that is not one unbranched bonded path.
    """
    if len(polymer) == 0:
        raise ValueError("the polymer selection is empty: no polymer in this box; pass a polymer selection")
    universe = polymer.universe
    if not ensure_bonds(universe):
        raise ValueError("backbones need bonds in the topology (PDB CONECT, TPR, ...); none were found")
    molecules = molecule_indices(universe)[polymer.ix]
    heavy = element_symbols(universe.atoms) != "H"
    selected = None
    if selection is not None:
        selected = np.zeros(len(universe.atoms), dtype=bool)
        selected[polymer.select_atoms(selection).ix] = True
        if not selected.any():
            raise ValueError(f"backbone selection {selection!r} matched no polymer atoms")
    chains = []
    for molecule in np.unique(molecules):
        atoms = polymer[molecules == molecule]
        keep = selected[atoms.ix] if selected is not None else heavy[atoms.ix]
        graph = _graph(atoms[keep])
        if selected is not None:
            chains.append(_walk_path(graph, molecule))
            continue
        links = _link_atoms(atoms[keep])
        if len(links) < 2:
            raise ValueError(f"molecule {molecule} has fewer than two bonded repeat units (residues); "
                             "it is not a polymer chain")
        start = _farthest(graph, links[0], links)
        end = _farthest(graph, start, links)
        chains.append(_with_end_units(_path(graph, min(start, end), max(start, end)), graph, universe.atoms))
    return chains


def _with_end_units(path, graph, atoms):
    """Extend a link-to-link backbone path into its two end residues (module docstring)."""
    residues = atoms.resindices[path]
    inner = (residues != residues[0]) & (residues != residues[-1])
    if not inner.any():
        return path
    names = atoms.names[path[inner]]
    per_unit = int(np.bincount(np.unique(residues[inner], return_inverse=True)[1]).max())
    backbone_names = set(names.tolist())
    ends = []
    for end in (path[0], path[-1]):
        residue, taken, added = atoms.resindices[end], set(path.tolist()), []
        current = end
        while np.count_nonzero(residues == residue) + len(added) < per_unit:
            candidates = [n for n in graph[current] if n not in taken and atoms.resindices[n] == residue
                          and atoms.names[n] in backbone_names]
            if len(candidates) != 1:
                break
            current = candidates[0]
            taken.add(current)
            added.append(current)
        ends.append(added)
    return np.concatenate([np.array(ends[0][::-1], dtype=np.int64), path, np.array(ends[1], dtype=np.int64)])


def chord_pairs(chains, span=2):
    """Atom pairs ``(i, i + span)`` along each backbone.

    Parameters
    ----------
    chains : list of numpy.ndarray of int
        Ordered backbone atom indices per chain (from :func:`backbone_chains`).
    span : int
        Chord spacing in backbone atoms (2: between carbons i and i+2).

    Returns
    -------
    first, second : numpy.ndarray of int, shape (n_chords,)
        Universe atom indices of the chord ends.
    chain : numpy.ndarray of int, shape (n_chords,)
        Chain index (position in ``chains``) of each chord.

    Raises
    ------
    ValueError
        When a chain has ``span`` backbone atoms or fewer.
    """
    if int(span) != span or span < 1:
        raise ValueError(f"chord span must be a positive integer number of backbone atoms, got {span!r}")
    short = [len(chain) for chain in chains if len(chain) <= span]
    if short:
        raise ValueError(f"chains too short for a chord of span {span}: a backbone of {min(short)} atoms; "
                         f"lower the span or select longer chains")
    first = np.concatenate([chain[:-span] for chain in chains])
    second = np.concatenate([chain[span:] for chain in chains])
    chain_of = np.concatenate([np.full(len(chain) - span, k) for k, chain in enumerate(chains)])
    return first, second, chain_of


def side_chain_pairs(polymer, chains):
    """Anchor and tip atoms of the side chain of every inner repeat unit.

    The side chain of a residue is its heavy atoms off the backbone; the anchor is the
    backbone atom bonded to them and the tip the side-chain atom most bonds away from
    the anchor. The first and last residue of each chain (end groups, caps) are left out.

    Parameters
    ----------
    polymer : MDAnalysis.core.groups.AtomGroup
        The polymer atoms the ``chains`` came from.
    chains : list of numpy.ndarray of int
        Ordered backbone atom indices per chain (from :func:`backbone_chains`).

    Returns
    -------
    first, second : numpy.ndarray of int, shape (n_vectors,)
        Universe atom indices of the anchors and tips.
    chain : numpy.ndarray of int, shape (n_vectors,)

    Raises
    ------
    ValueError
        When no inner residue carries a side chain.
    """
    universe = polymer.universe
    heavy = element_symbols(universe.atoms) != "H"
    molecules = molecule_indices(universe)
    first, second, chain_of = [], [], []
    for k, chain in enumerate(chains):
        backbone = set(chain.tolist())
        atoms = polymer[molecules[polymer.ix] == molecules[chain[0]]]
        for residue in np.unique(atoms.resindices)[1:-1]:
            side = atoms[(atoms.resindices == residue) & heavy[atoms.ix] & ~np.isin(atoms.ix, chain)]
            graph = _graph(side + atoms[np.isin(atoms.ix, chain)])
            anchors = sorted(a for a in backbone if a in graph and any(n not in backbone for n in graph[a]))
            if not len(side) or not anchors:
                continue
            nodes = set(side.ix.tolist()) | {anchors[0]}
            side_graph = {a: [n for n in graph[a] if n in nodes] for a in nodes}
            first.append(anchors[0])
            second.append(_farthest(side_graph, anchors[0], side.ix.tolist()))
            chain_of.append(k)
    if not first:
        raise ValueError("no side chains found on the inner repeat units of the polymer")
    return np.array(first, dtype=np.int64), np.array(second, dtype=np.int64), np.array(chain_of, dtype=np.int64)


def _graph(atoms):
    """Adjacency dict of the bonds among ``atoms`` (universe indices)."""
    members = set(atoms.ix.tolist())
    graph = {index: [] for index in members}
    for a, b in atoms.bonds.indices:
        if a in members and b in members:
            graph[a].append(b)
            graph[b].append(a)
    return graph


def _link_atoms(atoms):
    """Atoms bonded to an atom of another residue (sorted universe indices)."""
    resindex = dict(zip(atoms.ix.tolist(), atoms.resindices.tolist()))
    links = {int(i) for a, b in atoms.bonds.indices for i in (a, b)
             if a in resindex and b in resindex and resindex[a] != resindex[b]}
    return sorted(links)


def _bfs(graph, start):
    """Parent map of a breadth-first search from ``start``."""
    parents, queue = {start: None}, deque([start])
    while queue:
        node = queue.popleft()
        for neighbour in graph[node]:
            if neighbour not in parents:
                parents[neighbour] = node
                queue.append(neighbour)
    return parents


def _farthest(graph, start, targets):
    """Target atom with the most bonds between it and ``start`` (first on ties)."""
    parents = _bfs(graph, start)
    depth = {start: 0}
    for node in parents:  # insertion order is breadth-first order
        if parents[node] is not None:
            depth[node] = depth[parents[node]] + 1
    return max((target for target in targets if target in depth), key=lambda t: depth[t])


def _path(graph, start, end):
    """Shortest bonded path from ``start`` to ``end`` as an index array."""
    parents, path = _bfs(graph, start), [end]
    while parents[path[-1]] is not None:
        path.append(parents[path[-1]])
    return np.array(path[::-1], dtype=np.int64)


def _walk_path(graph, molecule):
    """Order a selected backbone that must be one unbranched bonded path."""
    ends = [node for node, neighbours in graph.items() if len(neighbours) == 1]
    if len(graph) == 1 or len(ends) != 2 or any(len(n) > 2 for n in graph.values()):
        raise ValueError(f"the selected backbone atoms of molecule {molecule} do not form one unbranched "
                         "bonded path; select exactly the backbone atoms")
    path = _path(graph, min(ends), max(ends))
    if len(path) != len(graph):
        raise ValueError(f"the selected backbone atoms of molecule {molecule} are not all bonded in one path")
    return path
