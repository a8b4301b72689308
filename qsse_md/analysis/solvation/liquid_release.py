"""Released liquid and phase separation: free solvent, solvent channels, demixing.

Per frame (heavy atoms only by default):

- *free fraction*: solvent molecules with no atom within the contact cutoff of a polymer
  atom (as :class:`qsse_md.analysis.solvation.affinity.PolymerSolventAffinity`);
- *solvent clusters*: solvent molecules are linked when any two of their atoms lie
  within the cluster cutoff; the largest cluster's share of the solvent molecules and
  whether any cluster wraps the periodic box (:func:`qsse_md.lib.percolation.periodic_clusters`),
  i.e. a continuous liquid channel;
- *demixing index*: polymer/solvent composition fluctuations on a grid of cells
  (:func:`qsse_md.lib.percolation.demixing_index`) with its random-mixing baseline.
"""

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase

from qsse_md.analysis._checks import checked_cutoffs
from qsse_md.analysis._plotting import axes_or_new
from qsse_md.analysis.species_guess import element_symbols, molecule_indices
from qsse_md.lib.box import minimum_image, require_box
from qsse_md.lib.distances import BACKENDS, capped_pairs
from qsse_md.lib.percolation import demixing_index, periodic_clusters
from qsse_md.lib.statistics import block_average

QUANTITIES = ("free_fraction", "largest_cluster_fraction", "percolating", "demixing_index", "demixing_random")


class LiquidRelease(AnalysisBase):
    """Free solvent, solvent cluster percolation and polymer/solvent demixing per frame.

    Parameters
    ----------
    polymer, solvent : AtomGroup
        Polymer atoms and solvent atoms (whole molecules, disjoint).
    contact_angstrom : float
        Solvent-polymer contact distance, Å.
    cluster_angstrom : float
        Solvent-solvent link distance, Å.
    cell_angstrom : float
        Grid cell edge for the demixing index, Å.
    free_only : bool
        Build clusters from the free (polymer-free) solvent molecules only.
    heavy_atoms_only : bool
        Ignore hydrogens everywhere.
    n_blocks : int
        Blocks for the standard errors.
    backend : {"numba", "numpy"}
        Pair-search kernel.

    Attributes
    ----------
    results.time_ps : numpy.ndarray, shape (n_frames,)
    results.free_fraction : numpy.ndarray, shape (n_frames,)
        Share of solvent molecules touching no polymer atom.
    results.largest_cluster_fraction : numpy.ndarray, shape (n_frames,)
        Solvent molecules in the largest cluster / all solvent molecules.
    results.percolating : numpy.ndarray of bool, shape (n_frames,)
        Some solvent cluster wraps the box along at least one box vector.
    results.percolation_axes : numpy.ndarray of bool, shape (n_frames, 3)
        Box vectors (a, b, c) along which some cluster wraps.
    results.demixing_index, results.demixing_random : numpy.ndarray, shape (n_frames,)
        Demixing index (0 mixed, 1 separated) and its random-mixing expectation.
    results.n_molecules : int
    results.mean : dict
        ``{quantity: {"mean", "sem"}}`` over frames (percolating as a frequency).
    """

    def __init__(self, polymer, solvent, contact_angstrom=3.5, cluster_angstrom=4.0, cell_angstrom=6.0,
                 free_only=False, heavy_atoms_only=True, n_blocks=5, backend="numba", **kwargs):
        super().__init__(polymer.universe.trajectory, **kwargs)
        if len(polymer) == 0:
            raise ValueError("no polymer atoms selected; the released-liquid analysis needs a polymer")
        if len(solvent) == 0:
            raise ValueError("no solvent atoms selected; check the solvent selection")
        if len(polymer & solvent):
            raise ValueError("the polymer and solvent selections overlap; make them disjoint")
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; choose one of {BACKENDS}")
        checked_cutoffs(polymer.universe.trajectory,
                        {"contact cutoff": contact_angstrom, "cluster cutoff": cluster_angstrom})
        symbols = element_symbols(polymer.universe.atoms)
        keep = (lambda group: group[symbols[group.ix] != "H"]) if heavy_atoms_only else (lambda group: group)
        self._polymer, self._solvent = keep(polymer), keep(solvent)
        molecules = molecule_indices(polymer.universe)[self._solvent.ix]
        _, first, self._molecule = np.unique(molecules, return_index=True, return_inverse=True)
        self._reference = first  # solvent-atom index of each molecule's reference atom
        self._contact, self._link, self._cell = float(contact_angstrom), float(cluster_angstrom), float(cell_angstrom)
        self._free_only, self._n_blocks, self._kernel_backend = bool(free_only), n_blocks, backend

    def _prepare(self):
        self.results.time_ps = np.zeros(self.n_frames)
        for quantity in QUANTITIES:
            self.results[quantity] = np.zeros(self.n_frames, dtype=bool if quantity == "percolating" else float)
        self.results.percolation_axes = np.zeros((self.n_frames, 3), dtype=bool)

    def _single_frame(self):
        dimensions = require_box(self._ts.dimensions, f"frame {self._ts.frame}")
        solvent = self._solvent.positions.astype(np.float64)
        n_molecules = len(self._reference)
        pairs, _ = capped_pairs(self._polymer.positions, solvent, self._contact, dimensions,
                                backend=self._kernel_backend)
        bound = np.zeros(n_molecules, dtype=bool)
        bound[self._molecule[pairs[:, 1]]] = True
        labels, wraps = self._clusters(solvent, dimensions, ~bound if self._free_only else np.ones_like(bound))
        frame = self._frame_index
        self.results.time_ps[frame] = self._ts.time
        self.results.free_fraction[frame] = 1.0 - bound.mean()
        sizes = np.bincount(labels[labels >= 0]) if np.any(labels >= 0) else np.zeros(1)
        self.results.largest_cluster_fraction[frame] = sizes.max() / n_molecules
        self.results.percolation_axes[frame] = wraps.any(axis=0) if len(wraps) else False
        self.results.percolating[frame] = self.results.percolation_axes[frame].any()
        self.results.demixing_index[frame], self.results.demixing_random[frame] = demixing_index(
            self._polymer.positions, solvent, dimensions, self._cell)

    def _clusters(self, solvent, dimensions, members):
        """Cluster labels per molecule (-1 for non-members) and wrap flags per cluster."""
        pairs, _ = capped_pairs(solvent, solvent, self._link, dimensions, backend=self._kernel_backend)
        a, b = pairs[:, 0], pairs[:, 1]
        mol_a, mol_b = self._molecule[a], self._molecule[b]
        keep = (mol_a < mol_b) & members[mol_a] & members[mol_b]
        a, b, mol_a, mol_b = a[keep], b[keep], mol_a[keep], mol_b[keep]
        ref_a, ref_b = self._reference[mol_a], self._reference[mol_b]
        # reference atom of a -> contact atom a -> contact atom b -> reference atom of b, each by minimum image
        displacement = (minimum_image(solvent[a] - solvent[ref_a], dimensions)
                        + minimum_image(solvent[b] - solvent[a], dimensions)
                        + minimum_image(solvent[ref_b] - solvent[b], dimensions))
        index = np.cumsum(members) - 1
        labels, wraps = periodic_clusters(int(members.sum()), np.column_stack((index[mol_a], index[mol_b])),
                                          displacement, dimensions)
        full = np.full(len(members), -1, dtype=np.int64)
        full[members] = labels
        return full, wraps

    def _conclude(self):
        self.results.n_molecules = int(len(self._reference))
        self.results.mean = {q: dict(zip(("mean", "sem"), block_average(self.results[q].astype(float),
                                                                         self._n_blocks))) for q in QUANTITIES}

    def to_dataframe(self):
        """Tidy time series: ``time_ps``, the quantities above and ``wraps_a/b/c``.

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        return pd.DataFrame({"time_ps": self.results.time_ps, **{q: self.results[q] for q in QUANTITIES},
                             **{f"wraps_{axis}": self.results.percolation_axes[:, k] for k, axis in enumerate("abc")}})

    def plot(self, ax=None):
        """Free fraction, largest-cluster fraction and demixing index against time.

        Returns the matplotlib Axes (a new figure's when ``ax`` is None).
        """
        ax = axes_or_new(ax)
        r = self.results
        ax.plot(r.time_ps, r.free_fraction, label="free solvent fraction")
        ax.plot(r.time_ps, r.largest_cluster_fraction, label="largest solvent cluster")
        ax.plot(r.time_ps[r.percolating], r.largest_cluster_fraction[r.percolating], "o", color="C1",
                label="percolating")
        ax.plot(r.time_ps, r.demixing_index, label="demixing index")
        ax.set_xlabel("time (ps)")
        ax.set_ylabel("fraction / index (dimensionless)")
        ax.set_ylim(-0.05, 1.05)
        ax.legend()
        return ax
