"""Fit windows and slopes for Einstein relations (private helpers of transport).

The diffusive regime is found automatically: over the candidate lags ``1..max_end``
(frames), the window start is the earliest point on a geometric grid of starts for
which a least-squares line through ``log MSD`` versus ``log t`` over
``[start, max_end]`` has a slope within ``slope_tolerance`` of 1 (ballistic or caged
motion at short lags pushes the start later). The window spans at least a doubling of
the lag (``start <= max_end / 2``): over a few late lags the log-log slope measures
noise, not diffusion (Maginn et al., LiveCoMS 1, 6324 (2019),
DOI 10.33011/livecoms.1.1.6324). The slope of that log-log fit is reported with the
coefficient; the coefficient itself comes from an ordinary least-squares line
``MSD = a t + b`` over the same window.
"""

import numpy as np


class NoDiffusiveRegime(Exception):
    """No window of the MSD has a log-log slope near 1 (the message says why)."""


def loglog_slope(lags, values):
    """Least-squares slope of log(values) against log(lags); nan if any value <= 0."""
    values = np.asarray(values, dtype=np.float64)
    if np.any(values <= 0) or len(values) < 2:
        return float("nan")
    return linear_slope(np.log(lags), np.log(values))


def linear_slope(lags, values):
    """Least-squares slope of values against lags (unit of values per unit of lags):
    sum(dx * dy) / sum(dx^2) with dx, dy the deviations from the means."""
    lags = np.asarray(lags, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    deviation = lags - lags.mean()
    return float(np.dot(deviation, values - values.mean()) / np.dot(deviation, deviation))


def diffusive_window(msd, max_end, slope_tolerance=0.15, min_points=4, n_starts=24):
    """Choose the fit window ``[start, end]`` (frames, inclusive) of an MSD curve.

    Parameters
    ----------
    msd : numpy.ndarray, shape (L,)
        MSD at lags 0..L-1 frames (any length unit).
    max_end : int
        Last lag (frames) that may be used, ``<= L - 1``.
    slope_tolerance : float
        Accept a window when its log-log slope lies in [1 - tol, 1 + tol].
    min_points : int
        Fewest lags in a window; the window also spans at least a doubling of the lag
        (``start <= end / 2``).
    n_starts : int
        Number of geometrically spaced candidate starts.

    Returns
    -------
    tuple (int, int, float)
        ``(start, end, loglog_slope)``.

    Raises
    ------
    NoDiffusiveRegime
        When fewer than ``min_points`` lags are available or no start qualifies.
    """
    end = int(min(max_end, len(msd) - 1))
    if end < min_points:
        raise NoDiffusiveRegime(f"only {end} usable lag(s) (need {min_points}); the trajectory is too short "
                                "for any diffusive regime, so no coefficient is given")
    latest_start = min(end - min_points + 1, end // 2)
    starts = np.unique(np.geomspace(1, latest_start, n_starts).astype(int))
    slopes = []
    for start in starts:
        lags = np.arange(start, end + 1)
        slope = loglog_slope(lags, msd[start:end + 1])
        slopes.append(slope)
        if abs(slope - 1.0) <= slope_tolerance:
            return int(start), end, slope
    finite = [s for s in slopes if np.isfinite(s)]
    found = f"slopes {min(finite):.2f}..{max(finite):.2f}" if finite else "non-positive MSD"
    raise NoDiffusiveRegime(f"no diffusive regime within lags 1..{end} frames: log-log MSD {found} over windows "
                            f"[start, {end}] with start <= {latest_start}, none within "
                            f"1 ± {slope_tolerance}; run longer (or loosen slope_tolerance), no coefficient is given")


def block_sem(values):
    """Standard error of the mean of independent block estimates (ddof = 1); nan if < 2."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2 or not np.all(np.isfinite(values)):
        return float("nan")
    return float(np.std(values, ddof=1) / np.sqrt(len(values)))


def running_integral(values, dt):
    """Cumulative trapezoid integral of ``values`` (axis 0) with spacing ``dt``; starts at 0."""
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros_like(values)
    out[1:] = np.cumsum(0.5 * (values[1:] + values[:-1]) * dt, axis=0)
    return out
