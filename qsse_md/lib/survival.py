"""Contact correlation functions for residence times (numpy only).

A contact history is a boolean array ``h[p, t]``: pair ``p`` (a solute and one
partner molecule) is in contact at frame ``t``. Two normalised correlation functions
of the lag ``k`` (frames) are provided:

- :func:`contact_autocorrelation`, the intermittent (history-independent)
  correlation ``<h(t) h(t+k)> / <h(t)>`` with the unbiased ``1 / (n - k)`` weighting
  of each lag; this is the autocovariance without mean subtraction that
  solvation_analysis uses (statsmodels ``acovf(demean=False, adjusted=True)``
  summed over pairs), computed here with one FFT per pair (Wiener-Khinchin).
- :func:`continuous_survival`, the probability that a contact present at ``t``
  persists without a break until ``t + k`` (Impey, Madden & McDonald, J. Phys. Chem.
  87, 5071 (1983), doi:10.1021/j100248a028), from the lengths of uninterrupted runs.

:func:`fill_gaps` implements the intermittency option: absences of at most ``N``
frames between two contacts are counted as contacts (as MDAnalysis'
``SurvivalProbability(intermittency=N)``).
"""

import warnings
from typing import NamedTuple

import numpy as np

from qsse_md.lib.fit_quality import undetermined_reason


def _as_history(contacts):
    history = np.asarray(contacts, dtype=bool)
    if history.ndim != 2:
        raise ValueError("contacts must be a 2-D boolean array (pairs, frames)")
    return history


def fill_gaps(contacts, intermittency=0):
    """Close absences of at most ``intermittency`` frames that lie between two contacts.

    Parameters
    ----------
    contacts : array_like of bool, shape (n_pairs, n_frames)
        Contact history.
    intermittency : int
        Longest gap (frames) to close; 0 returns a copy unchanged.

    Returns
    -------
    numpy.ndarray of bool, shape (n_pairs, n_frames)
        Contact history with the short gaps filled.
    """
    history = _as_history(contacts).copy()
    if int(intermittency) != intermittency or intermittency < 0:
        raise ValueError(f"intermittency must be a non-negative integer number of frames, got {intermittency!r}")
    if intermittency == 0 or history.size == 0:
        return history
    n_frames = history.shape[1]
    index = np.broadcast_to(np.arange(n_frames), history.shape)
    previous = np.maximum.accumulate(np.where(history, index, -1), axis=1)
    following = np.minimum.accumulate(np.where(history, index, n_frames)[:, ::-1], axis=1)[:, ::-1]
    gap = following - previous - 1
    history |= (previous >= 0) & (following < n_frames) & (gap <= intermittency)
    return history


def contact_autocorrelation(contacts):
    """Intermittent contact correlation ``C(k) = <h(t) h(t+k)> / <h(t)>``.

    Parameters
    ----------
    contacts : array_like of bool, shape (n_pairs, n_frames)
        Contact history.

    Returns
    -------
    numpy.ndarray, shape (n_frames,)
        ``C(k)`` for lags ``k = 0 .. n_frames - 1`` (frames), with
        ``C(k) = [sum_p sum_t h(t) h(t+k) / (n - k)] / [sum_p sum_t h(t) / n]``, so
        ``C(0) = 1``; all ``nan`` when there is no contact at all.
    """
    history = _as_history(contacts).astype(np.float64)
    n_frames = history.shape[1]
    if history.sum() == 0:
        return np.full(n_frames, np.nan)
    size = 1 << int(np.ceil(np.log2(max(2 * n_frames, 2))))
    spectrum = np.fft.rfft(history, n=size, axis=1)
    products = np.fft.irfft((spectrum * spectrum.conj()).real.sum(axis=0), n=size)[:n_frames]
    products = np.rint(products)  # integer counts; remove FFT round-off
    correlation = products / (n_frames - np.arange(n_frames))
    return correlation / correlation[0]


def continuous_survival(contacts):
    """Continuous survival ``S(k)``: fraction of contacts that last ``k`` more frames unbroken.

    Parameters
    ----------
    contacts : array_like of bool, shape (n_pairs, n_frames)
        Contact history (apply :func:`fill_gaps` first for intermittency).

    Returns
    -------
    numpy.ndarray, shape (n_frames,)
        ``S(k) = [sum_p #{t: h(t..t+k) all true} / (n - k)] / [sum_p sum_t h(t) / n]``,
        ``S(0) = 1``; all ``nan`` when there is no contact.
    """
    history = _as_history(contacts)
    n_frames = history.shape[1]
    if not history.any():
        return np.full(n_frames, np.nan)
    padded = np.zeros((history.shape[0], n_frames + 2), dtype=np.int8)
    padded[:, 1:-1] = history
    steps = np.diff(padded, axis=1)
    lengths = np.flatnonzero(steps.ravel() == -1) - np.flatnonzero(steps.ravel() == 1)
    histogram = np.bincount(lengths, minlength=n_frames + 1).astype(np.float64)
    # windows of k+1 frames inside runs: sum over runs of max(L - k, 0)
    at_least = np.cumsum(histogram[::-1])[::-1]  # runs with length >= L
    weighted = np.cumsum((histogram * np.arange(n_frames + 1))[::-1])[::-1]
    lags = np.arange(n_frames)
    windows = weighted[lags + 1] - lags * at_least[lags + 1]
    survival = windows / (n_frames - lags)
    return survival / survival[0]


def first_crossing(lags, curve, level=np.exp(-1.0)):
    """First lag at which a decaying curve falls below ``level``.

    Parameters
    ----------
    lags : numpy.ndarray, shape (n,)
        Lag times (any unit, e.g. ps).
    curve : numpy.ndarray, shape (n,)
        Normalised correlation function.
    level : float
        Threshold, default 1/e.

    Returns
    -------
    float
        ``lags[k]`` for the first ``k`` with ``curve[k] < level`` (the rule of
        solvation_analysis); ``nan`` if the curve never drops below it.
    """
    below = np.flatnonzero(np.asarray(curve) < level)
    return float(lags[below[0]]) if len(below) else float("nan")


class ExponentialFit(NamedTuple):
    """Result of :func:`fit_exponential`; every number is ``nan`` when ``reason`` is set.

    Attributes
    ----------
    tau, tau_sem : float
        Decay time and its standard error, unit of the lags.
    parameters : tuple of float
        ``(a, tau, c)`` of ``a exp(-t / tau) + c``.
    reason : str or None
        Why ``tau`` is not determined (:func:`qsse_md.lib.fit_quality.undetermined_reason`
        with the lag span as bounds), None when it is.
    """

    tau: float
    tau_sem: float
    parameters: tuple
    reason: str | None


def fit_exponential(lags, curve, unit=""):
    """Least-squares fit of ``a exp(-t / tau) + c`` to a correlation curve.

    ``tau`` is reported only when determined: the fit converged, ``tau`` lies within the
    span of the finite lags and its standard error (from the fit covariance) is below
    ``tau`` and that span (:mod:`qsse_md.lib.fit_quality`).

    Parameters
    ----------
    lags : numpy.ndarray, shape (n,)
        Lag times (e.g. ps).
    curve : numpy.ndarray, shape (n,)
        Normalised correlation function.
    unit : str
        Unit of ``lags``, for the reason text.

    Returns
    -------
    ExponentialFit
    """
    from scipy.optimize import OptimizeWarning, curve_fit

    lags = np.asarray(lags, dtype=np.float64)
    curve = np.asarray(curve, dtype=np.float64)
    keep = np.isfinite(curve)
    if keep.sum() < 4:
        return _undetermined(f"only {int(keep.sum())} finite point(s) of the curve; the fit needs 4")
    guess = first_crossing(lags, curve)
    guess = guess if np.isfinite(guess) and guess > 0 else max(lags[keep][-1], 1e-12) / 2

    def model(t, a, tau, c):
        # the optimiser tries tau <= 0 on its way; those overflows are rejected below (tau > 0)
        with np.errstate(over="ignore"):
            return a * np.exp(-t / tau) + c

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)  # an inestimable covariance is judged below
            parameters, covariance = curve_fit(model, lags[keep], curve[keep], p0=(1.0, guess, 0.01), maxfev=10000)
    except (RuntimeError, ValueError):
        return _undetermined(undetermined_reason(float("nan"), converged=False))
    tau, tau_sem = float(parameters[1]), float(np.sqrt(abs(covariance[1, 1])))
    reason = undetermined_reason(tau, tau_sem, bounds=(0.0, float(lags[keep][-1] - lags[keep][0])), name="tau",
                                 unit=unit)
    if reason is not None:
        return _undetermined(reason)
    return ExponentialFit(tau, tau_sem, tuple(float(p) for p in parameters), None)


def _undetermined(reason):
    return ExponentialFit(float("nan"), float("nan"), (float("nan"),) * 3, reason)
