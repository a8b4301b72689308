"""Chain order of polymers: local P2 of backbone chords, nematic order and crystalline fraction.

A chord joins backbone atoms i and i + span of the same chain (span 2: carbons i and
i+2 of a vinyl backbone, parallel to the chain axis of an all-trans or helical stem).
With ``vectors="side_chain"`` the same order parameters are computed for side-chain
vectors (backbone anchor to side-chain tip, :func:`qsse_md.analysis.crystallization.backbone.side_chain_pairs`).
Per frame, each chord's local order is the mean :math:`P_2(\\cos\\theta)` against the
chords whose midpoints lie within the cutoff (:func:`qsse_md.lib.order.local_p2`),
and a chord counts as crystalline when its local P2 exceeds the threshold (the
crystallinity index of Meyer & Müller-Plathe, J. Chem. Phys. 115, 7807 (2001),
doi:10.1063/1.1407293). The global nematic order S and director come from the Q
tensor of all chords of a species (:func:`qsse_md.lib.order.nematic_order`).
"""

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.core.groups import AtomGroup

from qsse_md.analysis._checks import checked_cutoffs
from qsse_md.analysis._plotting import axes_or_new
from qsse_md.analysis.crystallization.backbone import backbone_chains, chord_pairs, side_chain_pairs
from qsse_md.lib.box import minimum_image, require_box
from qsse_md.lib.distances import BACKENDS
from qsse_md.lib.order import local_p2, nematic_order
from qsse_md.lib.statistics import block_average

QUANTITIES = ("mean_local_p2", "crystalline_fraction", "nematic_order")
P2_EDGES = np.linspace(-0.5, 1.0, 61)


class ChainOrder(AnalysisBase):
    """Backbone chord order per polymer species and frame.

    Parameters
    ----------
    polymers : AtomGroup or dict of str to AtomGroup
        Polymer atoms (whole molecules, bonds in the topology), or several polymer
        species by name.
    span : int
        Chord spacing in backbone atoms.
    vectors : {"backbone", "side_chain"}
        Backbone chords, or side-chain vectors of the inner repeat units.
    cutoff_angstrom : float
        Neighbour distance between chord midpoints, Å (at most half the box width).
    threshold : float
        Local P2 above which a chord is crystalline (dimensionless, reported).
    exclude_same_chain : bool
        Count only chords of other chains as neighbours.
    backbone : str, optional
        Selection of the backbone atoms (default: found from bonds, see
        :mod:`qsse_md.analysis.crystallization.backbone`).
    n_blocks : int
        Blocks for the standard errors of the means.
    backend : {"numba", "numpy"}
        Pair-search kernel.

    Attributes
    ----------
    results.species : list of str
    results.time_ps : numpy.ndarray, shape (n_frames,)
        Time of each analysed frame, ps.
    results.mean_local_p2 : numpy.ndarray, shape (n_frames, n_species)
        Mean local P2 over the species' chords that have neighbours (dimensionless).
    results.crystalline_fraction : numpy.ndarray, shape (n_frames, n_species)
        Share of all chords of the species with local P2 > threshold (a chord without
        neighbours is not crystalline).
    results.nematic_order : numpy.ndarray, shape (n_frames, n_species)
        Largest eigenvalue S of the Q tensor of the species' chords.
    results.director : numpy.ndarray, shape (n_frames, n_species, 3)
        Unit director of each frame and species.
    results.p2_edges : numpy.ndarray, shape (61,)
        Bin edges of the local P2 histograms.
    results.p2_histogram : numpy.ndarray, shape (n_species, 60)
        Chords per local-P2 bin summed over frames.
    results.n_chords : dict of str to int
    results.threshold, results.cutoff_angstrom, results.span, results.vectors
        Settings used (dimensionless, Å, backbone atoms, kind of vector).
    results.mean : dict
        ``{species: {quantity: {"mean": float, "sem": float}}}`` for the three
        per-frame quantities, SEM from block averages.
    """

    def __init__(self, polymers, span=2, vectors="backbone", cutoff_angstrom=5.0, threshold=0.8,
                 exclude_same_chain=False, backbone=None, n_blocks=5, backend="numba", **kwargs):
        polymers = {"polymer": polymers} if isinstance(polymers, AtomGroup) else dict(polymers)
        if not polymers or any(len(group) == 0 for group in polymers.values()):
            raise ValueError("no polymer atoms selected: every polymer species needs atoms; check the selection")
        universe = next(iter(polymers.values())).universe
        super().__init__(universe.trajectory, **kwargs)
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; choose one of {BACKENDS}")
        if vectors not in ("backbone", "side_chain"):
            raise ValueError(f"vectors={vectors!r}; choose 'backbone' or 'side_chain'")
        if not -0.5 <= threshold < 1.0:
            raise ValueError(f"threshold {threshold} must lie in [-0.5, 1) (local P2 range)")
        checked_cutoffs(universe.trajectory, {"cutoff": cutoff_angstrom})
        first, second, chain, species = [], [], [], []
        for k, group in enumerate(polymers.values()):
            chains = backbone_chains(group, backbone)
            a, b, c = chord_pairs(chains, span) if vectors == "backbone" else side_chain_pairs(group, chains)
            offset = chain[-1].max() + 1 if chain else 0
            first.append(a)
            second.append(b)
            chain.append(c + offset)
            species.append(np.full(len(a), k))
        self._universe = universe
        self._first, self._second = np.concatenate(first), np.concatenate(second)
        self._chain, self._species = np.concatenate(chain), np.concatenate(species)
        self._names = list(polymers)
        self._span, self._cutoff, self._threshold = int(span), float(cutoff_angstrom), float(threshold)
        self._vectors = vectors
        self._exclude = bool(exclude_same_chain)
        self._n_blocks, self._kernel_backend = n_blocks, backend

    def _prepare(self):
        n_species = len(self._names)
        self.results.species = self._names
        self.results.time_ps = np.zeros(self.n_frames)
        for quantity in QUANTITIES:
            self.results[quantity] = np.zeros((self.n_frames, n_species))
        self.results.director = np.zeros((self.n_frames, n_species, 3))
        self.results.p2_edges = P2_EDGES
        self.results.p2_histogram = np.zeros((n_species, len(P2_EDGES) - 1), dtype=np.int64)

    def _single_frame(self):
        dimensions = require_box(self._ts.dimensions, f"frame {self._ts.frame}")
        positions = self._universe.atoms.positions.astype(np.float64)
        chords = minimum_image(positions[self._second] - positions[self._first], dimensions)
        midpoints = positions[self._first] + 0.5 * chords
        p2, _ = local_p2(midpoints, chords, self._cutoff, dimensions,
                         self._chain if self._exclude else None, backend=self._kernel_backend)
        frame = self._frame_index
        self.results.time_ps[frame] = self._ts.time
        for k in range(len(self._names)):
            mine = self._species == k
            values = p2[mine]
            finite = values[np.isfinite(values)]
            self.results.mean_local_p2[frame, k] = finite.mean() if len(finite) else np.nan
            self.results.crystalline_fraction[frame, k] = np.count_nonzero(finite > self._threshold) / len(values)
            self.results.nematic_order[frame, k], self.results.director[frame, k], _ = nematic_order(chords[mine])
            self.results.p2_histogram[k] += np.histogram(finite, bins=P2_EDGES)[0]

    def _conclude(self):
        self.results.n_chords = {name: int(np.count_nonzero(self._species == k)) for k, name in enumerate(self._names)}
        self.results.threshold, self.results.cutoff_angstrom = self._threshold, self._cutoff
        self.results.span, self.results.vectors = self._span, self._vectors
        self.results.mean = {name: {q: dict(zip(("mean", "sem"), block_average(self.results[q][:, k], self._n_blocks)))
                                    for q in QUANTITIES} for k, name in enumerate(self._names)}

    def to_dataframe(self):
        """Tidy time series.

        Returns
        -------
        pandas.DataFrame
            Columns ``time_ps``, ``species``, ``mean_local_p2``, ``crystalline_fraction``,
            ``nematic_order`` (dimensionless) and ``director_x/y/z``; one row per frame
            and species.
        """
        import pandas as pd

        return pd.concat([pd.DataFrame({"time_ps": self.results.time_ps, "species": name,
                                        **{q: self.results[q][:, k] for q in QUANTITIES},
                                        **{f"director_{axis}": self.results.director[:, k, i]
                                           for i, axis in enumerate("xyz")}})
                          for k, name in enumerate(self._names)], ignore_index=True)

    def plot(self, ax=None):
        """Crystalline fraction (solid) and nematic order S (dashed) against time.

        Returns the matplotlib Axes (a new figure's when ``ax`` is None).
        """
        ax = axes_or_new(ax)
        for k, name in enumerate(self._names):
            ax.plot(self.results.time_ps, self.results.crystalline_fraction[:, k], color=f"C{k}",
                    label=f"{name}: crystalline fraction (P2 > {self._threshold:g})")
            ax.plot(self.results.time_ps, self.results.nematic_order[:, k], color=f"C{k}", linestyle="--",
                    label=f"{name}: nematic S")
        ax.set_xlabel("time (ps)")
        ax.set_ylabel("order (dimensionless)")
        ax.set_ylim(-0.05, 1.05)
        ax.legend()
        return ax
