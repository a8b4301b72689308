"""Radial distribution function g(r) with the running coordination number n(r).

One pass over the trajectory: each frame adds a minimum-image pair-distance
histogram (the Numba cell list of :mod:`qsse_md.lib.cell_search`) to the running
counts; pairs are never stored. The search runs on a second thread, in batches of
frames, while the next frames are read (:mod:`qsse_md.lib.search_stream`).
Distances are evaluated in float64; MDAnalysis' grid search rounds some of them at
float32 precision, so a pair lying within ~1e-6 Å of a bin edge can fall in the
neighbouring bin there. The normalisation is that of
MDAnalysis :class:`~MDAnalysis.analysis.rdf.InterRDF` (density = pairs / mean box
volume), so both give the same g(r) on the same data and settings.
"""

import contextlib

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.analysis.results import ResultsGroup
from MDAnalysis.exceptions import NoDataError

from qsse_md.analysis._checks import checked_cutoffs
from qsse_md.lib.box import require_box
from qsse_md.lib.distances import BACKENDS, IndexedSearch, pair_distance_histogram

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
        (:func:`first_shell_cutoff`); without one the cutoff and the coordination
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
        :func:`first_shell_cutoff`; ``fallback_cutoff_angstrom`` (or ``nan``) when there
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
        self._stream = None
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
        # integer counts accumulated in place by the kernel (exact; made float64 in _conclude)
        self.results.count = (self._stream.search.hist[0] if self._stream is not None
                              else np.zeros(len(self._edges) - 1))

    def _compute(self, indexed_frames, verbose=None, *, progressbar_kwargs=None):
        # the stream searches on a second thread; its last batch is finished here, in the
        # process that read the frames (parallel backends aggregate after _compute)
        self._stream = None
        if self._kernel_backend == "numba":
            self._stream = IndexedSearch(self._g1.ix, self._g2.ix, self._edges[-1], self._groups1, self._groups2,
                                         self._edges).stream()
        with self._stream or contextlib.nullcontext():
            result = super()._compute(indexed_frames, verbose=verbose, progressbar_kwargs=progressbar_kwargs)
        self.results.volume_sum_angstrom3 = self._volume_sum
        self._stream = None  # a thread pool: parallel backends pickle the analysis after _compute
        return result

    def _single_frame(self):
        ts = self._ts
        dimensions = require_box(ts.dimensions, f"frame {ts.frame}")
        if self._stream is not None:
            self._stream.push(ts.positions, dimensions)
        else:
            self.results.count += pair_distance_histogram(self._g1.positions, self._g2.positions, self._edges,
                                                          dimensions, self._groups1, self._groups2,
                                                          backend=self._kernel_backend)
        self._volume_sum += ts.volume

    def _get_aggregator(self):
        return ResultsGroup(lookup={"count": ResultsGroup.ndarray_sum, "volume_sum_angstrom3": ResultsGroup.ndarray_sum,
                                    "bins_angstrom": ResultsGroup.ndarray_mean,
                                    "edges_angstrom": ResultsGroup.ndarray_mean})

    def _conclude(self):
        self.results.count = np.asarray(self.results.count, dtype=np.float64)
        n_pairs = len(self._g1) * len(self._g2)
        if self._groups1 is not None:
            shared, count1 = np.unique(self._groups1, return_counts=True)
            count2 = np.array([np.count_nonzero(self._groups2 == group) for group in shared])
            n_pairs -= int(np.dot(count1, count2))
        volume = self.results.volume_sum_angstrom3 / self.n_frames
        shell_volumes = 4.0 / 3.0 * np.pi * np.diff(np.power(self._edges, 3))
        self.results.volume_angstrom3 = volume
        self.results.rdf = self.results.count / (self.n_frames * shell_volumes * n_pairs / volume)
        self.results.coordination_number = np.cumsum(self.results.count) / (self.n_frames * len(self._g1))
        cutoff, reason = first_shell_cutoff(self.results.bins_angstrom, self.results.rdf, self._smoothing,
                                            self._fallback_cutoff)
        self.results.first_shell_cutoff_angstrom = cutoff
        self.results.first_shell_reason = reason
        running = np.concatenate(([0.0], self.results.coordination_number))
        self.results.first_shell_coordination_number = float(np.interp(cutoff, self._edges, running))

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
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
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


def first_shell_cutoff(r_angstrom, g, smoothing_angstrom=0.1, fallback_angstrom=None, depth=0.8):
    """First-shell cutoff: the first minimum after the first peak of a smoothed g(r).

    The one rule of the package for a first-shell cutoff (:class:`RDF`, and through it
    :class:`~qsse_md.analysis.solvation.solvation.Solvation` and the run report). g(r) is
    smoothed with a Gaussian and searched only where the kernel lies wholly inside the
    range (``4 * smoothing_angstrom`` from its ends), so a cutoff is never an artefact
    of the range end. The first peak is the first local maximum of the smoothed curve
    above half its highest value; the cutoff is the first local minimum after it,
    which must lie below ``depth`` times the peak and be followed by a rise.

    Parameters
    ----------
    r_angstrom : numpy.ndarray, shape (n,)
        Equally spaced bin centres, Å.
    g : numpy.ndarray, shape (n,)
        g(r), dimensionless.
    smoothing_angstrom : float
        Standard deviation (Å) of the Gaussian kernel (truncated at 4 sigma,
        renormalised at the ends of the range) applied before the search.
    fallback_angstrom : float, optional
        Cutoff (Å) to use when there is no such minimum; ``nan`` without one.
    depth : float
        The minimum counts only if it lies below ``depth`` times the peak.

    Returns
    -------
    cutoff_angstrom : float
        The minimum's bin centre, else ``fallback_angstrom`` (or ``nan``), Å.
    reason : str or None
        None when the cutoff is the minimum; else why there is none and what is used.
    """
    r_angstrom = np.asarray(r_angstrom, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    minimum, reason = _first_minimum(r_angstrom, g, smoothing_angstrom, depth)
    if reason is None:
        return minimum, None
    if fallback_angstrom is None:
        return float("nan"), f"{reason}: the first-shell cutoff is not determined"
    return float(fallback_angstrom), f"{reason}: the default first-shell cutoff {fallback_angstrom:.3g} Å is used"


def _first_minimum(r_angstrom, g, smoothing_angstrom, depth):
    """``(position in Å, None)`` of the first minimum of :func:`first_shell_cutoff`, or
    ``(None, why there is none)``."""
    r_max = r_angstrom[-1] + 0.5 * (r_angstrom[1] - r_angstrom[0])
    if not np.any(g > 0):
        return None, f"no partner within {r_max:.3g} Å"
    sigma_bins = smoothing_angstrom / (r_angstrom[1] - r_angstrom[0])
    smoothed = _gaussian_smooth(g, sigma_bins)
    reach = _kernel_reach(sigma_bins)
    inside = np.zeros(len(g), dtype=bool)
    inside[reach + 1:len(g) - reach - 1] = True  # bins whose neighbours are smoothed with whole kernels
    rise = 1e-9 * smoothed.max()  # smaller steps are round-off of the smoothing, not structure
    is_peak = np.zeros(len(g), dtype=bool)
    is_peak[1:-1] = (smoothed[1:-1] >= smoothed[:-2]) & (smoothed[1:-1] > smoothed[2:] + rise)
    peaks = np.flatnonzero(is_peak & inside & (smoothed > 0.5 * smoothed.max()))
    if len(peaks) == 0:
        return None, f"g(r) has no peak before {r_angstrom[len(g) - reach - 2]:.3g} Å"
    peak = peaks[0]
    is_minimum = np.zeros(len(g), dtype=bool)
    is_minimum[1:-1] = (smoothed[1:-1] <= smoothed[:-2]) & (smoothed[1:-1] + rise < smoothed[2:])
    minima = np.flatnonzero(is_minimum & inside)
    minima = minima[minima > peak]
    if len(minima) == 0 or smoothed[minima[0]] >= depth * smoothed[peak]:
        return None, (f"g(r) has no minimum below {depth:g} times its first peak (at {r_angstrom[peak]:.3g} Å) "
                      f"before {r_angstrom[len(g) - reach - 2]:.3g} Å")
    return float(r_angstrom[minima[0]]), None


def _gaussian_smooth(values, sigma_bins):
    """Gaussian moving average with ``sigma_bins`` in bins; no smoothing when < 1e-3."""
    if sigma_bins < 1e-3:
        return values
    half = min(_kernel_reach(sigma_bins), (len(values) - 1) // 2)
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma_bins) ** 2)
    weights = np.convolve(np.ones_like(values), kernel, mode="same")
    return np.convolve(values, kernel, mode="same") / weights


def _kernel_reach(sigma_bins):
    """Half-width (bins) of the smoothing kernel, 4 sigma rounded up (0: no smoothing)."""
    return int(np.ceil(4 * sigma_bins - 1e-9)) if sigma_bins >= 1e-3 else 0
