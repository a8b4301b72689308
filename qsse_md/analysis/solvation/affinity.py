"""Polymer-solvent affinity: how much of the liquid sticks to the polymer.

Per frame, a solvent molecule is *bound* when any of its atoms lies within the cutoff
of any polymer atom (minimum image, Numba cell list of
:func:`qsse_md.lib.distances.capped_pairs`); the *free liquid* fraction is the share
of solvent molecules touching no polymer atom. Repeat units are the polymer residues.
"""

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.core.groups import AtomGroup

from qsse_md.analysis._checks import checked_cutoffs
from qsse_md.analysis._plotting import axes_or_new
from qsse_md.analysis.species_guess import element_symbols, molecule_indices
from qsse_md.lib.box import require_box
from qsse_md.lib.distances import BACKENDS, capped_pairs
from qsse_md.lib.statistics import block_average

QUANTITIES = ("bound_molecules", "per_repeat_unit", "free_fraction")


class PolymerSolventAffinity(AnalysisBase):
    """Solvent molecules in contact with a polymer, and the free-liquid fraction.

    Parameters
    ----------
    polymer : AtomGroup
        Polymer atoms (whole residues; each residue is a repeat unit).
    solvents : AtomGroup or dict of str to AtomGroup
        Solvent atoms, or several solvent species by name (results per species and,
        with several, ``"all"`` over their union).
    cutoff_angstrom : float
        Contact distance between atoms, Å; at most half the smallest box width.
    heavy_atoms_only : bool
        Ignore hydrogen atoms on both sides (default; contacts between heavy atoms).
    n_blocks : int
        Blocks for the standard errors (:func:`qsse_md.lib.statistics.block_average`).
    backend : {"numba", "numpy"}
        Pair-search kernel.

    Attributes
    ----------
    results.species : list of str
        Solvent species names (columns of the arrays below), ``"all"`` last when there
        are several.
    results.time_ps : numpy.ndarray, shape (n_frames,)
        Time of each analysed frame, ps.
    results.bound_molecules : numpy.ndarray of int, shape (n_frames, n_species)
        Solvent molecules within the cutoff of any polymer atom.
    results.per_repeat_unit : numpy.ndarray, shape (n_frames, n_species)
        Mean over repeat units of the number of solvent molecules within the cutoff of
        that unit (a molecule touching two units counts for both).
    results.free_fraction : numpy.ndarray, shape (n_frames, n_species)
        Fraction of solvent molecules touching no polymer atom, dimensionless.
    results.n_molecules : dict of str to int
        Solvent molecules per species.
    results.n_repeat_units : int
    results.cutoff_angstrom : float
        Contact distance used, Å.
    results.mean : dict
        ``{species: {quantity: {"mean": float, "sem": float}}}`` for the three
        quantities above (same units), SEM from block averages.
    """

    def __init__(self, polymer, solvents, cutoff_angstrom=3.5, heavy_atoms_only=True, n_blocks=5, backend="numba",
                 **kwargs):
        super().__init__(polymer.universe.trajectory, **kwargs)
        solvents = {"solvent": solvents} if isinstance(solvents, AtomGroup) else dict(solvents)
        if len(polymer) == 0 or not solvents or any(len(group) == 0 for group in solvents.values()):
            raise ValueError("empty selection: the polymer and every solvent group need atoms")
        if len(polymer & sum(solvents.values(), polymer.universe.atoms[[]])):
            raise ValueError("the polymer and solvent selections overlap; make them disjoint")
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; choose one of {BACKENDS}")
        checked_cutoffs(polymer.universe.trajectory, {"contact cutoff": cutoff_angstrom})
        symbols = element_symbols(polymer.universe.atoms)
        keep = (lambda group: group[symbols[group.ix] != "H"]) if heavy_atoms_only else (lambda group: group)
        molecules = molecule_indices(polymer.universe)
        self._polymer = keep(polymer)
        self._unit = np.unique(self._polymer.resindices, return_inverse=True)[1]
        self._names = list(solvents) + (["all"] if len(solvents) > 1 else [])
        self._solvent = keep(sum(solvents.values(), polymer.universe.atoms[[]]))
        species_of = np.concatenate([np.full(len(keep(g)), k) for k, g in enumerate(solvents.values())])
        self._molecule, self._molecule_species = self._molecule_table(molecules[self._solvent.ix], species_of)
        self._n_molecules = np.bincount(self._molecule_species, minlength=len(solvents))
        self._n_units = int(self._unit.max() + 1)
        self._cutoff = float(cutoff_angstrom)
        self._n_blocks = n_blocks
        self._kernel_backend = backend

    @staticmethod
    def _molecule_table(molecule_ids, species_of):
        """Dense molecule index per solvent atom and the species of each molecule."""
        unique, first, dense = np.unique(molecule_ids, return_index=True, return_inverse=True)
        return dense, species_of[first]

    def _prepare(self):
        n_species = len(self._names)
        self.results.species = self._names
        self.results.time_ps = np.zeros(self.n_frames)
        self.results.bound_molecules = np.zeros((self.n_frames, n_species), dtype=np.int64)
        self.results.per_repeat_unit = np.zeros((self.n_frames, n_species))
        self.results.free_fraction = np.zeros((self.n_frames, n_species))

    def _single_frame(self):
        dimensions = require_box(self._ts.dimensions, f"frame {self._ts.frame}")
        pairs, _ = capped_pairs(self._polymer.positions, self._solvent.positions, self._cutoff, dimensions,
                                backend=self._kernel_backend)
        molecules = self._molecule[pairs[:, 1]]
        unit_molecule = np.unique(np.column_stack((self._unit[pairs[:, 0]], molecules)), axis=0)
        bound = np.unique(molecules)
        n_species = len(self._n_molecules)
        bound_count = np.bincount(self._molecule_species[bound], minlength=n_species)
        unit_count = np.bincount(self._molecule_species[unit_molecule[:, 1]], minlength=n_species)
        if len(self._names) > n_species:
            bound_count, unit_count = np.append(bound_count, len(bound)), np.append(unit_count, len(unit_molecule))
        n_molecules = np.append(self._n_molecules, self._n_molecules.sum())[:len(self._names)]
        self.results.time_ps[self._frame_index] = self._ts.time
        self.results.bound_molecules[self._frame_index] = bound_count
        self.results.per_repeat_unit[self._frame_index] = unit_count / self._n_units
        self.results.free_fraction[self._frame_index] = 1.0 - bound_count / n_molecules

    def _conclude(self):
        totals = np.append(self._n_molecules, self._n_molecules.sum()).tolist()
        self.results.n_molecules = dict(zip(self._names, totals))
        self.results.n_repeat_units = self._n_units
        self.results.cutoff_angstrom = self._cutoff
        self.results.mean = {}
        for column, name in enumerate(self._names):
            self.results.mean[name] = {}
            for quantity in QUANTITIES:
                mean, sem = block_average(self.results[quantity][:, column], self._n_blocks)
                self.results.mean[name][quantity] = {"mean": mean, "sem": sem}

    def to_dataframe(self):
        """Tidy time series.

        Returns
        -------
        pandas.DataFrame
            Columns ``time_ps``, ``species``, ``bound_molecules``, ``per_repeat_unit``
            and ``free_fraction`` (dimensionless), one row per frame and species.
        """
        import pandas as pd

        return pd.concat([pd.DataFrame({"time_ps": self.results.time_ps, "species": name,
                                        **{q: self.results[q][:, column] for q in QUANTITIES}})
                          for column, name in enumerate(self._names)], ignore_index=True)

    def plot(self, ax=None):
        """Free-liquid fraction against time, one line per species.

        Returns the matplotlib Axes (a new figure's when ``ax`` is None).
        """
        ax = axes_or_new(ax)
        for column, name in enumerate(self._names):
            ax.plot(self.results.time_ps, self.results.free_fraction[:, column], label=name)
        ax.set_xlabel("time (ps)")
        ax.set_ylabel("free liquid fraction")
        ax.set_ylim(0.0, 1.0)
        ax.legend()
        return ax
