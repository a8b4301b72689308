"""Side-chain packing of polymers: cyclic-carbonate ring stacking and amide hydrogen bonds.

Found from the bonds of the topology (no residue or atom names needed):

- a *cyclic carbonate* is a carbon bonded to three oxygens, two of which close a
  five-membered ring O-C-C-O with it (the ring of DOA side chains, EC, PC, VEC);
- an *amide donor* is an N-H whose N is bonded to a carbon carrying a one-bonded
  oxygen (C=O); *acceptors* are one-bonded (carbonyl) oxygens of the polymer and,
  when a solvent group is given, of the solvent (EC, DEC, ... C=O), counted apart.

Per frame: ring pairs within the distribution cutoff give centroid-distance and
plane-angle histograms; a ring is *stacked* when another ring lies within the stacking
distance with planes within the stacking angle (:mod:`qsse_md.lib.packing`); hydrogen
bonds are counted per repeat unit (residue) and split intra-/inter-chain.
"""

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase

from qsse_md.analysis._checks import checked_cutoffs
from qsse_md.analysis._plotting import axes_or_new
from qsse_md.analysis.species_guess import element_symbols, ensure_bonds, molecule_indices
from qsse_md.lib.box import require_box
from qsse_md.lib.distances import BACKENDS
from qsse_md.lib.packing import hydrogen_bonds, ring_geometry, stacking_pairs

QUANTITIES = ("stacked_fraction", "hbonds_per_repeat_unit", "hbond_intra_chain_fraction",
              "hbonds_to_solvent_per_repeat_unit")


class SideChainPacking(AnalysisBase):
    """Ring stacking and amide N-H...O=C hydrogen bonds of a polymer, per frame.

    Parameters
    ----------
    polymer : AtomGroup
        Polymer atoms (whole molecules, bonds in the topology, hydrogens present for
        hydrogen bonds).
    stack_distance_angstrom, stack_angle_deg : float
        Stacking criterion: centroid distance (Å) and angle between ring planes (degrees).
    ring_cutoff_angstrom : float
        Range of the centroid-distance histogram, Å.
    hbond_distance_angstrom, hbond_angle_deg : float
        Hydrogen bond: N...O distance (Å) and smallest N-H...O angle (degrees).
    backend : {"numba", "numpy"}
    solvent : AtomGroup, optional
        Solvent atoms (whole molecules, bonds in the topology) whose carbonyl oxygens
        also accept amide hydrogen bonds; those bonds are counted in
        ``results.hbonds_to_solvent``, not in ``results.hbonds``.

    Attributes
    ----------
    results.time_ps : numpy.ndarray, shape (n_frames,)
    results.stacked_fraction : numpy.ndarray, shape (n_frames,)
        Share of rings with at least one stacked partner (``nan`` without rings).
    results.distance_edges, results.distance_histogram : numpy.ndarray
        Centroid-distance bins (Å) and ring pairs per bin summed over frames.
    results.angle_edges, results.angle_histogram : numpy.ndarray
        Plane-angle bins (degrees, 0-90) and pairs per bin (pairs within the
        distribution cutoff), summed over frames.
    results.hbonds : numpy.ndarray of int, shape (n_frames,)
        Polymer-polymer hydrogen bonds.
    results.hbonds_per_repeat_unit : numpy.ndarray, shape (n_frames,)
        Polymer-polymer hydrogen bonds per residue (``nan`` without amide donors).
    results.hbond_intra_chain_fraction : numpy.ndarray, shape (n_frames,)
        Share of the polymer-polymer hydrogen bonds within one chain.
    results.hbonds_to_solvent : numpy.ndarray of int, shape (n_frames,)
        Amide N-H...O=C bonds to solvent carbonyls (0 without ``solvent``).
    results.hbonds_to_solvent_per_repeat_unit : numpy.ndarray, shape (n_frames,)
        The same per residue (``nan`` without amide donors).
    results.n_rings, results.n_donors, results.n_acceptors, results.n_solvent_acceptors,
    results.n_repeat_units : int
    results.criteria : dict
        The cutoffs used (Å, degrees).
    """

    def __init__(self, polymer, stack_distance_angstrom=4.5, stack_angle_deg=30.0, ring_cutoff_angstrom=7.0,
                 hbond_distance_angstrom=3.5, hbond_angle_deg=150.0, backend="numba", solvent=None, **kwargs):
        super().__init__(polymer.universe.trajectory, **kwargs)
        if len(polymer) == 0:
            raise ValueError("no polymer atoms selected; side-chain packing needs a polymer")
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; choose one of {BACKENDS}")
        if not ensure_bonds(polymer.universe):
            raise ValueError("side-chain packing needs bonds in the topology (PDB CONECT, TPR, ...)")
        checked_cutoffs(polymer.universe.trajectory, {"ring cutoff": ring_cutoff_angstrom,
                                                      "stacking distance": stack_distance_angstrom,
                                                      "hydrogen-bond distance": hbond_distance_angstrom})
        self._rings, self._donors, self._hydrogens, self._acceptors = _find_groups(polymer)
        self._solvent_acceptors = np.zeros(0, dtype=np.int64)
        if solvent is not None and len(solvent):
            self._solvent_acceptors = np.array(sorted(_carbonyl_oxygens(solvent, _neighbours(solvent))),
                                               dtype=np.int64)
        if len(self._rings) == 0 and len(self._donors) == 0:
            raise ValueError("the polymer has no cyclic-carbonate rings and no amide N-H groups; nothing to analyse")
        self._molecule = molecule_indices(polymer.universe)
        self._n_units = len(polymer.residues)
        self._stack = (float(stack_distance_angstrom), float(stack_angle_deg))
        self._hbond = (float(hbond_distance_angstrom), float(hbond_angle_deg))
        self._distance_edges = np.linspace(0.0, ring_cutoff_angstrom, int(round(ring_cutoff_angstrom / 0.1)) + 1)
        self._angle_edges = np.linspace(0.0, 90.0, 19)
        self._universe, self._kernel_backend = polymer.universe, backend

    def _prepare(self):
        self.results.time_ps = np.zeros(self.n_frames)
        for quantity in QUANTITIES:
            self.results[quantity] = np.full(self.n_frames, np.nan)
        self.results.hbonds = np.zeros(self.n_frames, dtype=np.int64)
        self.results.hbonds_to_solvent = np.zeros(self.n_frames, dtype=np.int64)
        self.results.distance_edges, self.results.angle_edges = self._distance_edges, self._angle_edges
        self.results.distance_histogram = np.zeros(len(self._distance_edges) - 1, dtype=np.int64)
        self.results.angle_histogram = np.zeros(len(self._angle_edges) - 1, dtype=np.int64)

    def _single_frame(self):
        dimensions = require_box(self._ts.dimensions, f"frame {self._ts.frame}")
        positions = self._universe.atoms.positions.astype(np.float64)
        frame = self._frame_index
        self.results.time_ps[frame] = self._ts.time
        if len(self._rings):
            centroids, normals = ring_geometry(positions[self._rings], dimensions)
            pairs, distances, angles = stacking_pairs(centroids, normals, self._distance_edges[-1], dimensions,
                                                      backend=self._kernel_backend)
            self.results.distance_histogram += np.histogram(distances, bins=self._distance_edges)[0]
            self.results.angle_histogram += np.histogram(angles, bins=self._angle_edges)[0]
            stacked = pairs[(distances <= self._stack[0]) & (angles <= self._stack[1])]
            self.results.stacked_fraction[frame] = len(np.unique(stacked)) / len(self._rings)
        if len(self._donors):
            acceptors = np.concatenate([self._acceptors, self._solvent_acceptors])
            bonds = hydrogen_bonds(positions[self._donors], positions[self._hydrogens], positions[acceptors],
                                   *self._hbond, dimensions, backend=self._kernel_backend)
            to_solvent = bonds[:, 1] >= len(self._acceptors)
            polymer_bonds = bonds[~to_solvent]
            same = self._molecule[self._donors[polymer_bonds[:, 0]]] == self._molecule[acceptors[polymer_bonds[:, 1]]]
            self.results.hbonds[frame] = len(polymer_bonds)
            self.results.hbonds_per_repeat_unit[frame] = len(polymer_bonds) / self._n_units
            self.results.hbond_intra_chain_fraction[frame] = same.mean() if len(polymer_bonds) else np.nan
            self.results.hbonds_to_solvent[frame] = np.count_nonzero(to_solvent)
            self.results.hbonds_to_solvent_per_repeat_unit[frame] = np.count_nonzero(to_solvent) / self._n_units

    def _conclude(self):
        self.results.n_rings, self.results.n_donors = len(self._rings), len(self._donors)
        self.results.n_acceptors, self.results.n_repeat_units = len(self._acceptors), self._n_units
        self.results.n_solvent_acceptors = len(self._solvent_acceptors)
        self.results.criteria = {"stack_distance_angstrom": self._stack[0], "stack_angle_deg": self._stack[1],
                                 "hbond_distance_angstrom": self._hbond[0], "hbond_angle_deg": self._hbond[1]}

    def to_dataframe(self):
        """Tidy time series: ``time_ps``, ``hbonds``, ``hbonds_to_solvent``,
        ``stacked_fraction``, ``hbonds_per_repeat_unit``, ``hbond_intra_chain_fraction``,
        ``hbonds_to_solvent_per_repeat_unit``.

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        return pd.DataFrame({"time_ps": self.results.time_ps, "hbonds": self.results.hbonds,
                             "hbonds_to_solvent": self.results.hbonds_to_solvent,
                             **{q: self.results[q] for q in QUANTITIES}})

    def plot(self, ax=None):
        """Histogram of ring centroid distances (stacking distance marked).

        Returns the matplotlib Axes (a new figure's when ``ax`` is None).
        """
        ax = axes_or_new(ax)
        edges = self._distance_edges
        ax.stairs(self.results.distance_histogram / max(self.n_frames, 1), edges, label="ring pairs per frame")
        ax.axvline(self._stack[0], color="grey", linestyle="--", label="stacking distance")
        ax.set_xlabel("ring centroid distance (Å)")
        ax.set_ylabel("pairs per frame")
        ax.legend()
        return ax


def _neighbours(group):
    """Bonded neighbours within ``group``: {universe index: [universe indices]}."""
    members = set(group.ix.tolist())
    neighbours = {i: [] for i in members}
    for a, b in group.bonds.indices:
        if a in members and b in members:
            neighbours[a].append(int(b))
            neighbours[b].append(int(a))
    return neighbours


def _carbonyl_oxygens(group, neighbours):
    """Oxygens of ``group`` bonded to exactly one atom, a carbon (C=O), as a set."""
    symbols = element_symbols(group.universe.atoms)
    return {i for i in neighbours if symbols[i] == "O" and len(neighbours[i]) == 1
            and symbols[neighbours[i][0]] == "C"}


def _find_groups(polymer):
    """Ring atom indices (n_rings, 5), amide donor N and H indices, carbonyl O acceptor indices."""
    symbols = element_symbols(polymer.universe.atoms)
    neighbours = _neighbours(polymer)
    members = set(neighbours)
    oxygens = {i: [j for j in n if symbols[j] == "O"] for i, n in neighbours.items()}
    carbonyl_o = _carbonyl_oxygens(polymer, neighbours)
    rings = []
    for carbon in sorted(i for i in members if symbols[i] == "C" and len(oxygens[i]) == 3):
        ester = [o for o in oxygens[carbon] if len(neighbours[o]) == 2]
        for o1 in ester[:1]:
            for o2 in ester[1:]:
                for x in neighbours[o1]:
                    for y in neighbours[x] if x != carbon else []:
                        if o2 in neighbours[y] and y != o1:
                            rings.append([carbon, o1, x, y, o2])
    donors, hydrogens = [], []
    for nitrogen in sorted(i for i in members if symbols[i] == "N"):
        carbonyl_carbon = any(symbols[c] == "C" and any(o in carbonyl_o for o in oxygens[c])
                              for c in neighbours[nitrogen])
        for h in neighbours[nitrogen] if carbonyl_carbon else []:
            if symbols[h] == "H":
                donors.append(nitrogen)
                hydrogens.append(h)
    return (np.array(rings, dtype=np.int64).reshape(-1, 5), np.array(donors, dtype=np.int64),
            np.array(hydrogens, dtype=np.int64), np.array(sorted(carbonyl_o), dtype=np.int64))
