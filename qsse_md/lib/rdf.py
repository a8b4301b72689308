"""g(r) from pair-distance histograms, the running coordination number and the first-shell cutoff.

Plain functions on arrays (no MDAnalysis objects): :class:`qsse_md.analysis.solvation.rdf.RDF`
and :class:`qsse_md.analysis.solvation.solvation.Solvation` histogram pair distances and
normalise them here, so both give the same g(r) and the same first-shell cutoff. The
normalisation is that of MDAnalysis :class:`~MDAnalysis.analysis.rdf.InterRDF` (density =
pairs / mean box volume); see Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed.
(2017), sec. 2.6, doi:10.1093/oso/9780198803195.001.0001.
"""

import numpy as np


def pair_count(n1, n2, groups1=None, groups2=None):
    """Number of (atom of set 1, atom of set 2) pairs that no exclusion removes.

    Parameters
    ----------
    n1, n2 : int
        Sizes of the two atom sets.
    groups1, groups2 : numpy.ndarray of int, shape (n1,) and (n2,), optional
        Group (residue or molecule) of each atom; pairs within one group are excluded.

    Returns
    -------
    int
    """
    n_pairs = n1 * n2
    if groups1 is not None:
        shared, count1 = np.unique(groups1, return_counts=True)
        count2 = np.array([np.count_nonzero(groups2 == group) for group in shared])
        n_pairs -= int(np.dot(count1, count2))
    return n_pairs


def normalised_rdf(counts, edges_angstrom, n_frames, n_pairs, mean_volume_angstrom3):
    r"""g(r) from pair counts summed over frames.

    .. math::
        g(r) = \frac{\langle V \rangle}{N_\mathrm{pairs}}
               \frac{\langle n_\mathrm{pairs}(r, r + \Delta r) \rangle}{\tfrac{4}{3}\pi[(r+\Delta r)^3 - r^3]}

    Parameters
    ----------
    counts : numpy.ndarray, shape (nbins,)
        Pairs per bin summed over ``n_frames`` frames.
    edges_angstrom : numpy.ndarray, shape (nbins + 1,)
        Bin edges, Å.
    n_frames : int
    n_pairs : int
        Pairs counted per frame (:func:`pair_count`).
    mean_volume_angstrom3 : float
        Box volume averaged over the frames, Å³.

    Returns
    -------
    numpy.ndarray, shape (nbins,)
        g(r), dimensionless.
    """
    shell_volumes = 4.0 / 3.0 * np.pi * np.diff(np.power(edges_angstrom, 3))
    return counts / (n_frames * shell_volumes * n_pairs / mean_volume_angstrom3)


def running_coordination(counts, n_frames, n_reference):
    """Running coordination number n(r) at each bin's upper edge.

    Parameters
    ----------
    counts : numpy.ndarray, shape (nbins,)
        Pairs per bin summed over ``n_frames`` frames.
    n_frames : int
    n_reference : int
        Atoms of the reference set (e.g. Li).

    Returns
    -------
    numpy.ndarray, shape (nbins,)
        Mean number of partners within r of a reference atom, averaged over frames.
    """
    return np.cumsum(counts) / (n_frames * n_reference)


def coordination_at(cutoff_angstrom, edges_angstrom, coordination):
    """n(r) at ``cutoff_angstrom`` (Å), linear between bin edges; ``nan`` for a ``nan`` cutoff.

    Parameters
    ----------
    cutoff_angstrom : float
    edges_angstrom : numpy.ndarray, shape (nbins + 1,)
    coordination : numpy.ndarray, shape (nbins,)
        :func:`running_coordination`.
    """
    return float(np.interp(cutoff_angstrom, edges_angstrom, np.concatenate(([0.0], coordination))))


def first_shell_cutoff(r_angstrom, g, smoothing_angstrom=0.1, fallback_angstrom=None, depth=0.8):
    """First-shell cutoff: the first minimum after the first peak of a smoothed g(r).

    The one rule of the package for a first-shell cutoff (:class:`~qsse_md.analysis.solvation.rdf.RDF`,
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
