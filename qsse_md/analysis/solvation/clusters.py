"""Cut representative Li+ solvation clusters out of a trajectory for DFT.

For the most frequent shell compositions of a :class:`~qsse_md.analysis.solvation.solvation.Solvation`
contact table, the shell (frame, Li+) whose Li-partner distances lie closest to the
median ones is cut out: the Li+ and its whole partner molecules, unwrapped around the
Li+ by minimum image. A polymer partner (a molecule spanning several residues) is cut
to its coordinating repeat units; each bond cut is capped with an H placed along the
bond at 1.09 Å. Each cluster is written as XYZ and ORCA input, with and without the
Li+, plus one Li+ input, so that the desolvation energy
dE = E(complex) - E(complex without Li+) - E(Li+) follows from three jobs; the files are
written by :func:`qsse_md.report.dft_inputs.write_clusters`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qsse_md.analysis.species_guess import atomic_numbers, element_symbols, has_bonds, molecule_indices
from qsse_md.lib.box import minimum_image

ORCA_KEYWORDS = "B3LYP D3BJ def2-TZVP Opt"
CAP_BOND_ANGSTROM = 1.09


@dataclass(frozen=True)
class Cluster:
    """Atoms of one cluster.

    Attributes
    ----------
    symbols : list of str
        Element symbols, Li+ first when present.
    positions : numpy.ndarray, shape (n_atoms, 3)
        Cartesian coordinates, Å.
    charge_e : int
        Total charge, e.
    comment : str
        One-line description.
    """

    symbols: list
    positions: np.ndarray
    charge_e: int
    comment: str

    @property
    def multiplicity(self) -> int:
        """1 for an even electron count (closed shell), else 2 (with a warning when cut)."""
        return 1 + int((atomic_numbers(self.symbols).sum() - self.charge_e) % 2)

    def to_xyz(self) -> str:
        """XYZ text (Å)."""
        lines = [str(len(self.symbols)), f"{self.comment}; charge {self.charge_e} multiplicity {self.multiplicity}"]
        lines += [f"{s:2s} {x:14.6f} {y:14.6f} {z:14.6f}" for s, (x, y, z) in zip(self.symbols, self.positions)]
        return "\n".join(lines) + "\n"

    def to_orca(self, keywords: str = ORCA_KEYWORDS) -> str:
        """ORCA input with a ``* xyz charge multiplicity`` block (Å)."""
        atoms = [f"  {s:2s} {x:14.6f} {y:14.6f} {z:14.6f}" for s, (x, y, z) in zip(self.symbols, self.positions)]
        return "\n".join([f"# {self.comment}", f"! {keywords}", "", f"* xyz {self.charge_e} {self.multiplicity}",
                          *atoms, "*"]) + "\n"

    def without_solute(self, solute_charge_e: int = 1) -> "Cluster":
        """The same geometry without the first atom (the Li+)."""
        return Cluster(self.symbols[1:], self.positions[1:], self.charge_e - solute_charge_e,
                       f"{self.comment}, without Li+")


def shell_features(table):
    """One row per (frame, solute) shell: its species composition and sorted distances.

    Parameters
    ----------
    table : pandas.DataFrame
        ``Solvation.results.table`` (columns ``frame``, ``solute_ix``, ``species``,
        ``partner_molecule_ix``, ``distance_angstrom``, ...).

    Returns
    -------
    pandas.DataFrame
        Columns ``frame``, ``solute_ix``, ``composition`` (e.g. ``"3 EC + 1 PF6"``,
        species in alphabetical order) and ``distances_angstrom`` (tuple of the
        shortest Li-molecule distance of each partner molecule, Å, ordered by species
        then distance).
    """
    table = table.astype({"species": str})
    molecules = (table.groupby(["frame", "solute_ix", "species", "partner_molecule_ix"], sort=True)
                 ["distance_angstrom"].min().reset_index()
                 .sort_values(["frame", "solute_ix", "species", "distance_angstrom"]))
    rows = []
    for (frame, solute), shell in molecules.groupby(["frame", "solute_ix"], sort=True):
        counts = shell["species"].value_counts().sort_index()
        rows.append((frame, solute, " + ".join(f"{n} {name}" for name, n in counts.items()),
                     tuple(shell["distance_angstrom"])))
    return pd.DataFrame(rows, columns=["frame", "solute_ix", "composition", "distances_angstrom"])


def representative_shells(table, n_clusters=3):
    """For the ``n_clusters`` most frequent compositions, the shell closest to the median.

    Returns
    -------
    pandas.DataFrame
        Columns ``composition``, ``n_shells`` (shells with it), ``fraction`` (of all
        non-empty shells), ``frame``, ``solute_ix`` and ``distances_angstrom``; the
        chosen shell minimises the summed absolute deviation of its sorted
        distances from their median over the shells of that composition.
    """
    shells = shell_features(table)
    if shells.empty:
        raise ValueError("no Li+ has a partner within the cutoffs; nothing to cut out")
    counts = shells["composition"].value_counts()
    chosen = []
    for composition, n_shells in counts.iloc[:n_clusters].items():
        group = shells[shells["composition"] == composition]
        distances = np.array(group["distances_angstrom"].tolist())
        best = group.iloc[int(np.argmin(np.abs(distances - np.median(distances, axis=0)).sum(axis=1)))]
        chosen.append({"composition": composition, "n_shells": int(n_shells), "fraction": n_shells / len(shells),
                       "frame": int(best["frame"]), "solute_ix": int(best["solute_ix"]),
                       "distances_angstrom": [float(d) for d in best["distances_angstrom"]]})
    return pd.DataFrame(chosen)


def cut_cluster(universe, frame, solute_ix, partner_atom_ix, anions=(), species_of=None):
    """Cut the Li+ and its partner molecules out of one frame.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    frame : int
        Trajectory frame index.
    solute_ix : int
        Atom index of the Li+.
    partner_atom_ix : sequence of int
        Atom indices of the coordinating partner atoms.
    anions : sequence of str
        Anion species names, charged -1 each when the topology has no partial charges.
    species_of : callable, optional
        Partner atom index -> species name (needed with ``anions``).

    Returns
    -------
    Cluster
        Li+ first, then the partner atoms and their H caps. The charge is the sum of
        the rounded partial charges of the Li+ and of each partner molecule (or cut
        repeat unit); without charges Li+ counts +1, anions -1, others 0.
    """
    universe.trajectory[frame]
    molecules = molecule_indices(universe)
    solute = universe.atoms[solute_ix]
    charged = hasattr(universe.atoms, "charges") and np.any(universe.atoms.charges)
    charge = int(round(solute.charge)) if charged else 1
    keep = []
    for molecule in np.unique(molecules[np.asarray(partner_atom_ix)]):
        atoms = universe.atoms[molecules == molecule]
        coordinating = [ix for ix in partner_atom_ix if molecules[ix] == molecule]
        if len(atoms.residues) > 1:
            atoms = universe.atoms[coordinating].residues.atoms
        keep.append(atoms)
        if charged:
            charge += int(round(atoms.charges.sum()))
        elif species_of is not None and species_of(coordinating[0]) in anions:
            charge -= 1
    partners = sum(keep[1:], keep[0])
    symbols = element_symbols(universe.atoms)
    centre = solute.position.astype(np.float64)
    placed = _place_whole(universe, partners, list(partner_atom_ix), centre)
    caps = []
    if has_bonds(universe):
        inside = set(partners.ix.tolist())
        for bond in partners.bonds:
            a, b = bond.atoms
            if (a.ix in inside) != (b.ix in inside):
                start, end = (a, b) if a.ix in inside else (b, a)
                vector = minimum_image(end.position - start.position, universe.dimensions)
                caps.append(placed[start.ix] + CAP_BOND_ANGSTROM * vector / np.linalg.norm(vector))
    unwrapped = np.array([placed[ix] for ix in partners.ix] + caps)
    cluster_symbols = ["Li"] + list(symbols[partners.ix]) + ["H"] * len(caps)
    cluster = Cluster(cluster_symbols, np.vstack((centre[None, :], unwrapped)), charge,
                      f"Li+ atom {solute_ix}, frame {frame}")
    if cluster.multiplicity != 1:
        warnings.warn(f"{cluster.comment}: odd electron count with charge {charge}; multiplicity set to 2",
                      stacklevel=2)
    return cluster


def _place_whole(universe, atoms, anchors, centre):
    """Positions (Å) of ``atoms`` with each bonded piece whole, anchored near ``centre``.

    Pieces are grown over bonds (minimum image per bond) from the anchor atoms first
    (the coordinating atoms, placed at their minimum image relative to ``centre``),
    then from any atom not yet reached; without bonds every atom is its own piece.
    """
    inside = set(atoms.ix.tolist())
    placed = {}
    for seed in [ix for ix in anchors if ix in inside] + atoms.ix.tolist():
        if seed in placed:
            continue
        placed[seed] = centre + minimum_image(universe.atoms[seed].position - centre, universe.dimensions)
        queue = [seed]
        while queue:
            atom = universe.atoms[queue.pop()]
            for neighbour in (atom.bonded_atoms if hasattr(atom, "bonds") else []):
                if neighbour.ix in inside and neighbour.ix not in placed:
                    step = minimum_image(neighbour.position - atom.position, universe.dimensions)
                    placed[neighbour.ix] = placed[atom.ix] + step
                    queue.append(neighbour.ix)
    return placed
