"""Radial distribution function g(r) with the running coordination number n(r).

One pass over the trajectory: each frame adds a minimum-image pair-distance
histogram (the Numba cell list of :mod:`qsse_md.lib.cell_search`) to the running
counts; pairs are never stored. The search runs on a second thread, in batches of
frames, while the next frames are read (:mod:`qsse_md.lib.search_stream`).
Distances are evaluated in float64; MDAnalysis' grid search rounds some of them at
float32 precision, so a pair lying within ~1e-6 Å of a bin edge can fall in the
neighbouring bin there. The normalisation (:mod:`qsse_md.lib.rdf`) is that of
MDAnalysis :class:`~MDAnalysis.analysis.rdf.InterRDF` (density = pairs / mean box
volume), so both give the same g(r) on the same data and settings.
"""

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.analysis.results import ResultsGroup
from MDAnalysis.exceptions import NoDataError

from qsse_md.analysis._checks import checked_cutoffs
from qsse_md.analysis._plotting import axes_or_new
from qsse_md.lib.box import require_box
from qsse_md.lib.distances import BACKENDS, IndexedSearch, pair_distance_histogram
from qsse_md.lib.rdf import coordination_at, first_shell_cutoff, normalised_rdf, pair_count, running_coordination

EXCLUSIONS = ("residue", "molecule", None)


class RDF(AnalysisBase):
    r"""Pair radial distribution function between two atom groups.

    .. math::
        g(r) = \frac{\langle V \rangle}{N_\mathrm{pairs}}
               \frac{\langle n_\mathrm{pairs}(r, r + \Delta r) \rangle}{\tfrac{4}{3}\pi[(r+\Delta r)^3 - r^3]}

    with :math:`N_\mathrm{pairs}` the number of (g1, g2) atom pairs that are not
    excluded and :math:`\langle V \rangle` the box volume averaged over the analysed
    frames (so NPT trajectories are normalised like InterRDF does). See Allen &
    Tildesley, *Computer Simulation of Liquids*, 2nd ed. (2017), sec. 2.6,
    doi:10.1093/oso/9780198803195.001.0001.

    Parameters
    ----------
    g1, g2 : MDAnalysis.core.groups.AtomGroup
        Reference atoms (e.g. Li) and partner atoms (e.g. O); must not be empty. If
        they overlap and no exclusion is used, each shared atom adds a pair at r = 0
        (as in InterRDF).
    nbins : int
        Number of equal-width bins.
    range_angstrom : tuple of float
        ``(r_min, r_max)`` in Å; ``r_max`` may not exceed half the smallest
        perpendicular box width (minimum-image limit).
    exclude_same : {"residue", "molecule", None}
        Skip pairs whose atoms share a residue or a molecule (bonded fragment; needs
        bonds in the topology). Excluded pairs are also removed from
        :math:`N_\mathrm{pairs}`, which equals InterRDF's ``exclusion_block``
        normalisation for blocks of equal size.
    backend : {"numba", "numpy"}
        Kernel of :mod:`qsse_md.lib.distances` (the numpy one is an all-pairs
        reference, for testing).
    smoothing_angstrom : float
        Standard deviation (Å) of the Gaussian used to smooth g(r) before locating
        the first-shell minimum.
    fallback_cutoff_angstrom : float, optional
        First-shell cutoff (Å) used when g(r) has no first minimum
        (:func:`qsse_md.lib.rdf.first_shell_cutoff`); without one the cutoff and the coordination
        number are not determined (``nan``).

    Attributes
    ----------
    results.edges_angstrom : numpy.ndarray, shape (nbins + 1,)
        Bin edges, Å.
    results.bins_angstrom : numpy.ndarray, shape (nbins,)
        Bin centres, Å.
    results.count : numpy.ndarray, shape (nbins,)
        Pairs per bin summed over frames (float64, as InterRDF).
    results.rdf : numpy.ndarray, shape (nbins,)
        g(r), dimensionless.
    results.coordination_number : numpy.ndarray, shape (nbins,)
        Running coordination number n(r) at each bin's upper edge: mean number of
        non-excluded g2 atoms within r of a g1 atom, averaged over frames.
    results.first_shell_cutoff_angstrom : float
        First minimum after the first peak of the smoothed g(r) (bin centre), Å, by
        :func:`qsse_md.lib.rdf.first_shell_cutoff`; ``fallback_cutoff_angstrom`` (or ``nan``) when there
        is none.
    results.first_shell_reason : str or None
        Why g(r) gives no first-shell cutoff (and what was used instead); None when
        the cutoff is its first minimum.
    results.first_shell_coordination_number : float
        n(r) at the first-shell cutoff (linear between bin edges); ``nan`` when the
        cutoff is.
    results.volume_angstrom3 : float
        Mean box volume over the analysed frames, Å³.
    """

    _analysis_algorithm_is_parallelizable = True

    @classmethod
    def get_supported_backends(cls):
        return ("serial", "multiprocessing", "dask")

    def __init__(self, g1, g2, nbins=200, range_angstrom=(0.0, 10.0), exclude_same="residue", backend="numba",
                 smoothing_angstrom=0.1, fallback_cutoff_angstrom=None, **kwargs):
        super().__init__(g1.universe.trajectory, **kwargs)
        if len(g1) == 0 or len(g2) == 0:
            raise ValueError(f"empty selection: g1 has {len(g1)} atoms and g2 has {len(g2)}; check the selection strings")
        if exclude_same not in EXCLUSIONS:
            raise ValueError(f"exclude_same={exclude_same!r}; choose one of {EXCLUSIONS}")
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; choose one of {BACKENDS}")
        if int(nbins) != nbins or nbins < 1:
            raise ValueError(f"nbins must be a positive integer, got {nbins!r}")
        r_min, r_max = (float(r) for r in range_angstrom)
        if not 0.0 <= r_min < r_max:
            raise ValueError(f"range_angstrom {tuple(range_angstrom)} must satisfy 0 <= r_min < r_max (Å)")
        checked_cutoffs(g1.universe.trajectory, {"r_max of range_angstrom": r_max})
        self._g1, self._g2 = g1, g2
        self._groups1, self._groups2 = self._group_ids(exclude_same)
        self._edges = np.linspace(r_min, r_max, int(nbins) + 1)
        self._kernel_backend = backend
        self._smoothing = float(smoothing_angstrom)
        self._search = self._stream = None
        self._fallback_cutoff = fallback_cutoff_angstrom

    def _group_ids(self, exclude_same):
        """Per-atom group ids of g1 and g2 for the exclusion, or ``(None, None)``."""
        if exclude_same is None:
            return None, None
        if exclude_same == "residue":
            return self._g1.resindices, self._g2.resindices
        try:
            return self._g1.fragindices, self._g2.fragindices
        except NoDataError as error:
            raise ValueError("exclude_same='molecule' needs bonds in the topology; use 'residue' or add bonds") from error

    def _prepare(self):
        self.results.edges_angstrom = self._edges
        self.results.bins_angstrom = 0.5 * (self._edges[:-1] + self._edges[1:])
        self._volume_sum = 0.0  # Å³; a plain attribute: each Results assignment costs a dir() call
        self._search = None
        if self._kernel_backend == "numba":  # integer counts accumulated in place by the kernel
            self._search = IndexedSearch(self._g1.ix, self._g2.ix, self._edges[-1], self._groups1, self._groups2,
                                         self._edges)
        self.results.count = self._search.hist[0] if self._search is not None else np.zeros(len(self._edges) - 1)
        self.results.volume_sum_angstrom3 = 0.0  # set at the block's last frame

    def _single_frame(self):
        # The search runs on a second thread (lib.search_stream), started at the first frame
        # of this block and finished at its last, in the process that read the frames:
        # parallel backends pickle the analysis (no thread pool) and aggregate after that.
        ts = self._ts
        if self._search is not None and self._frame_index == 0:
            self._stream = self._search.stream()
        try:
            dimensions = require_box(ts.dimensions, f"frame {ts.frame}")
            if self._stream is not None:
                self._stream.push(ts.positions, dimensions)
            else:
                self.results.count += pair_distance_histogram(self._g1.positions, self._g2.positions, self._edges,
                                                              dimensions, self._groups1, self._groups2,
                                                              backend=self._kernel_backend)
        except BaseException:
            if self._stream is not None:
                self._stream.abandon()
            self._search = self._stream = None
            raise
        self._volume_sum += ts.volume
        if self._frame_index == self.n_frames - 1:  # the last frame of this block
            if self._stream is not None:
                self._stream.close()
            self._search = self._stream = None
            self.results.volume_sum_angstrom3 = self._volume_sum

    def _get_aggregator(self):
        return ResultsGroup(lookup={"count": ResultsGroup.ndarray_sum, "volume_sum_angstrom3": ResultsGroup.ndarray_sum,
                                    "bins_angstrom": ResultsGroup.ndarray_mean,
                                    "edges_angstrom": ResultsGroup.ndarray_mean})

    def _conclude(self):
        r = self.results
        r.count = np.asarray(r.count, dtype=np.float64)
        r.volume_angstrom3 = r.volume_sum_angstrom3 / self.n_frames
        n_pairs = pair_count(len(self._g1), len(self._g2), self._groups1, self._groups2)
        r.rdf = normalised_rdf(r.count, self._edges, self.n_frames, n_pairs, r.volume_angstrom3)
        r.coordination_number = running_coordination(r.count, self.n_frames, len(self._g1))
        r.first_shell_cutoff_angstrom, r.first_shell_reason = first_shell_cutoff(
            r.bins_angstrom, r.rdf, self._smoothing, self._fallback_cutoff)
        r.first_shell_coordination_number = coordination_at(r.first_shell_cutoff_angstrom, self._edges,
                                                            r.coordination_number)

    def plot(self, ax=None):
        """Plot g(r) (left axis) and n(r) (twin right axis) with the first-shell cutoff.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw g(r) on; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            The g(r) axes (the n(r) twin is ``ax.right_ax``).
        """
        ax = axes_or_new(ax)
        ax.plot(self.results.bins_angstrom, self.results.rdf, color="C0", label="g(r)")
        ax.set_xlabel("r (Å)")
        ax.set_ylabel("g(r)")
        right = ax.twinx()
        right.plot(self.results.edges_angstrom[1:], self.results.coordination_number, color="C1", label="n(r)")
        right.set_ylabel("n(r)")
        cutoff, reason = self.results.first_shell_cutoff_angstrom, self.results.first_shell_reason
        if np.isfinite(cutoff):
            ax.axvline(cutoff, color="grey", linestyle="--", label="first-shell cutoff")
        if reason is not None:
            ax.set_title(f"first-shell cutoff: {reason}", fontsize="small", wrap=True)
        ax.right_ax = right
        return ax

    def to_dataframe(self):
        """Tidy table of the curves.

        Returns
        -------
        pandas.DataFrame
            Columns ``r_angstrom`` (bin centre, Å), ``g`` (dimensionless) and ``n``
            (running coordination number at the bin's upper edge).
        """
        import pandas as pd

        return pd.DataFrame({"r_angstrom": self.results.bins_angstrom, "g": self.results.rdf,
                             "n": self.results.coordination_number})
