"""Solvation shells of solute ions (Li+): coordination, compositions, ion pairing, residence.

One pass over the trajectory collects every solute-partner atom contact within the
species' cutoff (one Numba cell-list search per frame,
:func:`qsse_md.lib.distances.capped_pairs`); coordination numbers, shell
compositions, ion pairing, clusters and residence times are all views of that
contact table (:mod:`qsse_md.analysis.solvation.shell_views`, :mod:`qsse_md.analysis.solvation.residence`),
the design of solvation_analysis (Cohen et al., J. Open Source Softw. 2023).

Differences from solvation_analysis, on purpose: every partner atom in contact is
kept (solvation_analysis keeps only the closest atom of each residue), so per-group
atom counts are possible; ion-pairing fractions are counted per solute (its
``Networking.solute_status`` counts networks of three or more members, not the solutes
in them, as "networked"); the empty shell appears in the composition table; times
are in ps, not frames.
"""

import logging
import warnings

import numpy as np
import pandas as pd
from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.analysis.results import ResultsGroup
from MDAnalysis.exceptions import NoDataError

from qsse_md.analysis._checks import checked_cutoffs
from qsse_md.analysis.solvation import shell_views
from qsse_md.analysis.solvation.residence import residence_times
from qsse_md.analysis.solvation.shell_plots import SolvationPlots
from qsse_md.lib._jit import jit
from qsse_md.lib.cell_search import AT_EDGE, bin_at_edge, scaled_bin
from qsse_md.lib.distances import BACKENDS, IndexedSearch, capped_pairs
from qsse_md.lib.rdf import first_shell_cutoff, normalised_rdf, pair_count

MOLECULE_MODES = ("fragment", "residue")
COUNTINGS = ("species", "group", "molecule")
#: shell radius (Å) of a species whose g(r) has no first minimum (no partner in a first shell)
DEFAULT_CUTOFF_ANGSTROM = 3.0

log = logging.getLogger(__name__)


class Solvation(SolvationPlots, AnalysisBase):
    """Solvation shells of each solute atom, counted per species, per group and per molecule.

    Parameters
    ----------
    solute : MDAnalysis.core.groups.AtomGroup
        One atom per solute ion (e.g. every Li).
    partners : dict of str to AtomGroup
        Species label -> that species' coordinating atoms (e.g. ``{"EC": EC carbonyl
        O, "polymer": polymer O, "PF6": PF6 F}``). Atom groups must not overlap each
        other or the solute. A partner atom is in a solute's shell when within the
        species' cutoff; pairs within one residue are skipped.
    cutoffs_angstrom : float or dict of str to float, optional
        Shell radius per species, Å (one number for all). Species without a value
        get the first minimum of the solute-partner g(r)
        (:func:`qsse_md.lib.rdf.first_shell_cutoff`, range up to 8 Å) computed on
        the same frames; when g(r) has none, :data:`DEFAULT_CUTOFF_ANGSTROM` with a log
        note. ``results.cutoffs_angstrom`` records what was used and
        ``results.cutoff_reasons`` why a default was used.
    groups : dict of str to AtomGroup, optional
        Coordinating-group label -> subset of the partner atoms (e.g. "polymer C=O",
        "ether O"); groups must not overlap. Counted per atom.
    anions : sequence of str
        Partner labels that are anions (ion pairing and clusters).
    molecule : {"fragment", "residue"}
        What one molecule is: a bonded fragment (needs bonds; falls back to residues
        with a warning when the topology has none) or a residue.
    backend : {"numba", "numpy"}
        Pair-search kernel.
    n_blocks : int
        Blocks for the standard errors (:func:`qsse_md.lib.statistics.block_average`).
    **kwargs
        Passed to :class:`MDAnalysis.analysis.base.AnalysisBase` (e.g. ``verbose``).

    Attributes
    ----------
    results.cutoffs_angstrom : dict of str to float
        Cutoff per species, Å.
    results.cutoff_reasons : dict of str to str or None
        Per species: why its g(r) gave no first-shell cutoff (the default was used);
        None for cutoffs given or found at the g(r) minimum.
    results.table : pandas.DataFrame
        One row per solute-partner atom contact: ``frame``, ``time_ps``, ``solute_ix``
        (atom index), ``species``, ``group`` (NaN when the atom is in no group),
        ``partner_atom_ix``, ``partner_resix``, ``partner_molecule_ix``,
        ``distance_angstrom``.
    results.coordination : pandas.DataFrame
        ``counting`` ("species": distinct partner residues; "group": partner atoms;
        "molecule": distinct molecules of the species), ``label``, ``mean`` and
        ``sem`` (block-averaged standard error), per solute.
    results.coordination_numbers, results.group_coordination_numbers,
    results.molecule_coordination_numbers : dict of str to float
        The means of ``results.coordination`` for each counting rule.
    results.coordination_by_frame : pandas.DataFrame
        Index ``frame``; columns (counting, label): mean count per solute per frame.
    results.coordination_distribution : pandas.DataFrame
        ``counting, label, count, probability``.
    results.compositions : pandas.DataFrame
        Species shell compositions ("1 polymer + 3 EC") with ``fraction`` (of
        solute-frame observations) and ``fraction_of_frames``, most frequent first.
    results.group_compositions : pandas.DataFrame or None
        The same counted by coordinating group (atoms); None without ``groups``.
    results.pairing_fractions : dict of str to float
        Fraction of solute-frame observations with at least one residue of each
        species in the shell (solvation_analysis' ``solvent_pairing``).
    results.ion_pairing : dict of str to float or None
        Fractions of solute-frame observations that are "SSIP", "CIP", "AGG"; None
        when no ``anions`` were named (as the following four).
    results.ion_pairing_by_frame : pandas.DataFrame or None
        Index ``frame``; columns SSIP, CIP, AGG (fractions of solutes).
    results.ion_pairing_status : numpy.ndarray of int8, shape (n_frames, n_solutes) or None
        0 = SSIP, 1 = CIP, 2 = AGG.
    results.clusters : pandas.DataFrame or None
        ``frame, cluster, n_solutes, n_anions`` for each connected component of the
        solute-anion graph of each frame that holds a solute.
    results.cluster_sizes : pandas.DataFrame or None
        Distribution of cluster size in solutes (see
        :func:`qsse_md.analysis.solvation.shell_views.cluster_size_distribution`).
    results.residence : qsse_md.analysis.solvation.residence.ResidenceResult
        Default residence analysis (autocorrelation, no intermittency); other options
        through :meth:`residence`.
    results.residence_times_ps, results.residence_fit_times_ps : dict of str to float
        1/e crossing and fitted exponential decay time per species, ps (``nan`` when
        not determined).
    results.residence_fit_reasons : dict of str to str or None
        Why a fitted decay time is not determined, None where it is.
    results.run_length_ps : float
        Time spanned by the analysed frames, ps.
    results.shell_exchange : dict of str to dict
        Per species: shell exchange (1/e residence) time in ps against the run length,
        with a one-line warning when the run spans fewer than 3 exchange times
        (:meth:`qsse_md.analysis.solvation.residence.ResidenceResult.exchange_check`).
    results.n_solutes : int
    results.times_ps : numpy.ndarray, shape (n_frames,)
        Time of each analysed frame, ps.
    """

    def __init__(self, solute, partners, cutoffs_angstrom=None, groups=None, anions=(), molecule="fragment",
                 backend="numba", n_blocks=5, **kwargs):
        super().__init__(solute.universe.trajectory, **kwargs)
        if len(solute) == 0:
            raise ValueError("No Li atoms matched the solute selection; check it (e.g. 'element Li' or 'name Li*')")
        if not partners:
            raise ValueError("no partner species given; pass partners={'EC': EC oxygens, ...}")
        for name, atoms in partners.items():
            if len(atoms) == 0:
                raise ValueError(f"empty partner selection for species {name!r}; check its selection string")
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; choose one of {BACKENDS}")
        if molecule not in MOLECULE_MODES:
            raise ValueError(f"molecule={molecule!r}; choose one of {MOLECULE_MODES}")
        unknown = [name for name in anions if name not in partners]
        if unknown:
            raise ValueError(f"anions {unknown} are not partner species {list(partners)}")
        self._check_disjoint({"solute": solute, **partners}, "partner selections (and the solute)")
        self._half_width = checked_cutoffs(solute.universe.trajectory, {})
        self._solute, self._partners = solute, dict(partners)
        self._labels = list(partners)
        self._anions = list(anions)
        self._cutoffs = self._normalise_cutoffs(cutoffs_angstrom)
        self._cutoff_reasons = {name: None for name in self._labels}
        self._backend, self._n_blocks = backend, n_blocks
        self._all_partners = sum((partners[name] for name in self._labels[1:]), partners[self._labels[0]])
        self._species_code = np.repeat(np.arange(len(self._labels)), [len(partners[n]) for n in self._labels])
        self._partner_resix = self._all_partners.resindices
        self._solute_resix = solute.resindices
        self._molecule_ix = self._molecule_ids(molecule)
        self._group_labels, self._group_code = self._group_codes(groups or {})

    @staticmethod
    def _check_disjoint(atom_groups, what):
        names = list(atom_groups)
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                if len(np.intersect1d(atom_groups[first].ix, atom_groups[second].ix)):
                    raise ValueError(f"overlapping {what}: {first!r} and {second!r} share atoms; make them disjoint")

    def _normalise_cutoffs(self, cutoffs):
        if cutoffs is None:
            cutoffs = {}
        elif not isinstance(cutoffs, dict):
            cutoffs = {name: float(cutoffs) for name in self._labels}
        unknown = set(cutoffs) - set(self._labels)
        if unknown:
            raise ValueError(f"cutoffs given for unknown species {sorted(unknown)}; species are {self._labels}")
        checked_cutoffs(self._trajectory, {f"cutoff for {name!r}": float(value) for name, value in cutoffs.items()})
        return {name: float(value) for name, value in cutoffs.items()}

    def _molecule_ids(self, molecule):
        if molecule == "fragment":
            try:
                return self._all_partners.fragindices
            except NoDataError:
                warnings.warn("the topology has no bonds, so molecules are counted as residues (molecule='residue')",
                              stacklevel=3)
        return self._partner_resix

    def _group_codes(self, groups):
        codes = np.full(len(self._all_partners), -1, dtype=np.int64)
        self._check_disjoint(groups, "group selections")
        position = {ix: k for k, ix in enumerate(self._all_partners.ix)}
        for code, (name, atoms) in enumerate(groups.items()):
            outside = [ix for ix in atoms.ix if ix not in position]
            if len(atoms) == 0 or outside:
                raise ValueError(f"group {name!r} must be a non-empty subset of the partner atoms "
                                 f"({len(outside)} of its atoms are not partner atoms)")
            codes[[position[ix] for ix in atoms.ix]] = code
        return list(groups), codes

    def run(self, start=None, stop=None, step=None, frames=None, verbose=None, **kwargs):
        """Make the one pass; species without a cutoff get the first minimum of their g(r).

        The g(r) of those species is histogrammed from the same pass (every contact up
        to ``r_max`` = min(8 Å, half the box) is kept until the cutoffs are known), with
        exactly the bins and normalisation of :class:`qsse_md.analysis.solvation.rdf.RDF`.

        Returns
        -------
        Solvation
            ``self``, with ``results`` filled.
        """
        self._rdf_r_max = min(8.0, self._half_width)
        self._rdf_species = [name for name in self._labels if name not in self._cutoffs]
        known = [self._cutoffs[name] for name in self._labels if name in self._cutoffs]
        self._search_cutoff = max(known + ([self._rdf_r_max] if self._rdf_species else []))
        return super().run(start=start, stop=stop, step=step, frames=frames, verbose=verbose, **kwargs)

    #: contacts of species whose cutoff comes from g(r) are stored up to this distance (Å) during the
    #: pass; should a g(r) cutoff come out larger, the contacts are collected again in a second pass
    _STORE_CAP_ANGSTROM = 4.5

    @classmethod
    def get_supported_backends(cls):
        return ("serial", "multiprocessing", "dask")

    _analysis_algorithm_is_parallelizable = True

    def _get_aggregator(self):
        return ResultsGroup(lookup={"_contact_chunks": ResultsGroup.flatten_sequence,
                                    "_rdf_counts": ResultsGroup.ndarray_sum,
                                    "_volumes": ResultsGroup.flatten_sequence})

    def _prepare(self):
        self._search = self._contact_search(self._store_cutoffs())
        self._stream = None
        self._atom_cutoff = None
        self.results._volumes = []
        self.results._rdf_counts = self._search.hist
        self.results._contact_chunks = []  # one (solute, partner, distance) chunk per frame, in frame order

    def _store_cutoffs(self):
        """Per-partner-atom distance up to which contacts are stored during the pass."""
        cap = min(self._rdf_r_max, self._STORE_CAP_ANGSTROM) if self._rdf_species else 0.0
        return np.array([self._cutoffs.get(name, cap) for name in self._labels])[self._species_code]

    def _rdf_edges(self):
        """g(r) bin edges (Å) of the species without a cutoff: 0.05 Å bins up to ``r_max``."""
        return np.linspace(0.0, self._rdf_r_max, int(round(self._rdf_r_max / 0.05)) + 1)

    def _contact_search(self, keep_cutoff):
        edges = self._rdf_edges() if self._rdf_species else None
        return IndexedSearch(self._solute.ix, self._all_partners.ix, self._search_cutoff, self._solute_resix,
                             self._partner_resix, edges, self._species_code, len(self._labels), keep_cutoff)

    def _single_frame(self):
        # The numba search runs on a second thread (lib.search_stream), started at the first
        # frame of this block and finished at its last, in the process that read the frames:
        # parallel backends pickle the analysis (no thread pool) and aggregate after that.
        ts = self._ts
        if self._backend == "numba" and self._frame_index == 0:
            self._stream = self._search.stream()
        try:
            if self._stream is not None:
                self._stream.push(ts.positions, ts.dimensions)
            else:
                self.results._contact_chunks.append(self._numpy_frame(self._solute.positions,
                                                                      self._all_partners.positions, ts.dimensions))
        except BaseException as error:
            if self._stream is not None:
                self._stream.abandon()
                self._stream = None
            if isinstance(error, ValueError):  # the box shrank below twice the search range of the first frame's box
                raise ValueError(f"frame {ts.frame}: {error}; give --cutoff values (Å) below that, or --stop before "
                                 "the box shrinks") from None
            raise
        self.results._volumes.append(ts.volume)
        if self._stream is not None and self._frame_index == self.n_frames - 1:  # the block's last frame
            self.results._contact_chunks = self._stream.close()
            self._stream = None

    def _numpy_frame(self, solute_positions, partner_positions, dimensions):
        """The numpy reference of :meth:`_single_frame`'s kernel (same rows, same histogram)."""
        pairs, distances = capped_pairs(solute_positions, partner_positions, self._search_cutoff, dimensions,
                                        backend="numpy")
        solute, partner = pairs[:, 0], pairs[:, 1]
        keep = self._solute_resix[solute] != self._partner_resix[partner]
        solute, partner, distances = solute[keep], partner[keep], distances[keep]
        if self._rdf_species:
            self._search.hist += _species_histograms(distances, self._species_code[partner], len(self._labels),
                                                     self._search.edges)
        keep = distances <= self._search.keep_cutoff[partner]
        return solute[keep], partner[keep], distances[keep]

    def _atom_cutoff_of(self, partner):
        if self._atom_cutoff is None:
            self._atom_cutoff = np.array([self._cutoffs[name] for name in self._labels])[self._species_code]
        return self._atom_cutoff[partner]

    def _cutoffs_from_rdf(self, counts):
        """First-shell cutoffs of the species without one, from the pair histograms up to ``r_max``
        (the g(r) of :class:`qsse_md.analysis.solvation.rdf.RDF` with ``exclude_same="residue"``)."""
        edges = self._rdf_edges()
        bins = 0.5 * (edges[:-1] + edges[1:])
        volume = self._volume_sum / self.n_frames
        for name in self._rdf_species:
            partners = self._partners[name]
            n_pairs = pair_count(len(self._solute), len(partners), self._solute_resix, partners.resindices)
            g = normalised_rdf(counts[self._labels.index(name)].astype(np.float64), edges, self.n_frames, n_pairs,
                               volume)
            cutoff, reason = first_shell_cutoff(bins, g, fallback_angstrom=DEFAULT_CUTOFF_ANGSTROM)
            self._cutoffs[name], self._cutoff_reasons[name] = cutoff, reason
            if reason is not None:
                log.info("shell of %s: %s", name, reason)

    @staticmethod
    def _stack(chunks):
        if not chunks:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        solute, partner, distance = zip(*chunks)
        lengths = np.fromiter((len(s) for s in solute), dtype=np.int64, count=len(solute))
        frame = np.repeat(np.arange(len(chunks), dtype=np.int64), lengths)  # chunk k: the k-th analysed frame
        return (frame, np.concatenate(solute).astype(np.int64, copy=False),
                np.concatenate(partner).astype(np.int64, copy=False), np.concatenate(distance))

    def _collected(self):
        """Contact rows (frame, solute, partner, distance) within each species' cutoff."""
        r = self.results
        chunks, counts = r.pop("_contact_chunks"), r.pop("_rdf_counts")
        self._volume_sum = 0.0
        for volume in r.pop("_volumes"):  # summed in frame order, as the serial pass always did
            self._volume_sum += volume
        frame, solute, partner, distance = self._stack(chunks)
        del chunks
        if self._rdf_species:
            stored = self._store_cutoffs()
            self._cutoffs_from_rdf(counts)
            self._atom_cutoff = None
            final = self._atom_cutoff_of(np.arange(len(self._species_code)))
            if np.any(final > stored):  # a g(r) cutoff beyond the stored range: collect the contacts again
                frame, solute, partner, distance = self._second_pass(final)
            keep = distance <= self._atom_cutoff_of(partner)
            frame, solute, partner, distance = frame[keep], solute[keep], partner[keep], distance[keep]
        return frame, solute, partner, distance

    def _second_pass(self, keep_cutoff):
        """Contacts within ``keep_cutoff`` (per partner atom) over the analysed frames, serially."""
        search = self._contact_search(keep_cutoff)
        chunks = []
        for ts in self._trajectory[self.frames]:
            if self._backend == "numba":
                solute, partner, distances = search(ts.positions, ts.dimensions)
            else:
                self._search = search
                solute, partner, distances = self._numpy_frame(self._solute.positions,
                                                               self._all_partners.positions, ts.dimensions)
            chunks.append((solute, partner, distances))
        return self._stack(chunks)

    def _conclude(self):
        frame, solute, partner, distance = self._collected()
        self._rows = (frame, solute, partner)
        n_frames, n_solutes = self.n_frames, len(self._solute)
        species, resix = self._species_code[partner], self._partner_resix[partner]
        molix, group = self._molecule_ix[partner], self._group_code[partner]
        shape = (n_frames, n_solutes)
        cubes = {"species": (count_species := shell_views.count_cube(frame, solute, species, resix, *shape,
                                                                    len(self._labels)), self._labels),
                 "group": (shell_views.count_cube(frame, solute, group, partner, *shape, len(self._group_labels)),
                           self._group_labels),
                 "molecule": (shell_views.count_cube(frame, solute, species, molix, *shape, len(self._labels)),
                              self._labels)}
        summaries, by_frame, distributions = [], {}, []
        for counting, (cube, labels) in cubes.items():
            summary, per_frame, distribution = shell_views.summarize_counts(cube, labels, counting, self.frames,
                                                                           self._n_blocks)
            summaries.append(summary)
            by_frame[counting] = per_frame
            distributions.append(distribution)
        r = self.results
        r.n_solutes = n_solutes
        r.times_ps = np.asarray(self.times, dtype=np.float64)
        r.cutoffs_angstrom = dict(self._cutoffs)
        r.cutoff_reasons = dict(self._cutoff_reasons)
        r.coordination = pd.concat(summaries, ignore_index=True)
        for counting, attribute in zip(COUNTINGS, ("coordination_numbers", "group_coordination_numbers",
                                                   "molecule_coordination_numbers")):
            chosen = r.coordination[r.coordination["counting"] == counting]
            r[attribute] = dict(zip(chosen["label"], chosen["mean"]))
        r.coordination_by_frame = pd.concat(by_frame, axis=1)
        r.coordination_distribution = pd.concat(distributions, ignore_index=True)
        r.compositions = shell_views.composition_table(count_species, self._labels)
        r.group_compositions = (shell_views.composition_table(cubes["group"][0], self._group_labels)
                                if self._group_labels else None)
        r.pairing_fractions = dict(zip(self._labels, (count_species > 0).mean(axis=(0, 1))))
        self._conclude_ion_pairing(frame, solute, species, molix)
        r.residence = self.residence()
        r.residence_times_ps, r.residence_fit_times_ps = r.residence.times_ps, r.residence.fit_times_ps
        r.residence_fit_reasons = r.residence.fit_reasons
        r.run_length_ps = float(r.times_ps[-1] - r.times_ps[0]) if len(r.times_ps) > 1 else 0.0
        r.shell_exchange = r.residence.exchange_check(r.run_length_ps)
        for check in r.shell_exchange.values():
            if check["warning"]:
                log.warning("%s", check["warning"])
        r.table = pd.DataFrame({
            "frame": self.frames[frame], "time_ps": r.times_ps[frame], "solute_ix": self._solute.ix[solute],
            "species": pd.Categorical.from_codes(species, self._labels),
            "group": pd.Categorical.from_codes(group, self._group_labels),
            "partner_atom_ix": self._all_partners.ix[partner], "partner_resix": resix,
            "partner_molecule_ix": molix, "distance_angstrom": distance})

    def _conclude_ion_pairing(self, frame, solute, species, molix):
        r = self.results
        if not self._anions:
            r.ion_pairing = r.ion_pairing_by_frame = r.ion_pairing_status = r.clusters = r.cluster_sizes = None
            return
        anion = np.isin(species, [self._labels.index(name) for name in self._anions])
        status, clusters = shell_views.ion_pairing(frame[anion], solute[anion], molix[anion], self.n_frames,
                                                   len(self._solute))
        names = shell_views.PAIRING_NAMES
        r.ion_pairing_status = status
        r.ion_pairing_by_frame = pd.DataFrame({name: (status == k).mean(axis=1) for k, name in enumerate(names)},
                                              index=pd.Index(self.frames, name="frame"))
        r.ion_pairing = {name: float((status == k).mean()) for k, name in enumerate(names)}
        clusters.insert(0, "frame", self.frames[clusters.pop("frame_position").to_numpy()])
        r.clusters = clusters
        r.cluster_sizes = shell_views.cluster_size_distribution(clusters)

    def residence(self, intermittency=0, method="autocorrelation"):
        """Residence times of each species' residues in the shells, ps.

        Parameters
        ----------
        intermittency : int
            Longest absence, in analysed frames, still counted as one contact.
        method : {"autocorrelation", "survival"}
            Intermittent contact correlation (solvation_analysis' definition) or
            continuous survival probability; see :mod:`qsse_md.analysis.solvation.residence`.

        Returns
        -------
        qsse_md.analysis.solvation.residence.ResidenceResult
        """
        frame, solute, partner = self._rows
        times = np.asarray(self.times, dtype=np.float64)
        dt_ps = float(np.median(np.diff(times))) if len(times) > 1 else float(self._trajectory.dt)
        return residence_times(frame, solute, self._species_code[partner], self._partner_resix[partner],
                               self._labels, self.n_frames, dt_ps, intermittency, method)

    def to_dataframe(self):
        """The contact table (``results.table``); see the class docstring for its columns.

        Returns
        -------
        pandas.DataFrame
        """
        return self.results.table


@jit(cache=True)
def _species_histograms(distance, species, n_species, edges):
    """Pair counts per species and bin (binning of :func:`numpy.histogram`, as the RDF kernel)."""
    n_bins = edges.shape[0] - 1
    counts = np.zeros((n_species, n_bins), dtype=np.int64)
    bins_per_unit = n_bins / (edges[-1] - edges[0])
    for row in range(distance.shape[0]):
        index = scaled_bin(distance[row], edges[0], bins_per_unit, n_bins)
        if index == AT_EDGE:
            index = bin_at_edge(distance[row], edges, bins_per_unit)
        if index >= 0:
            counts[species[row], index] += 1
    return counts
