"""Error bars for time series: block averages and the Flyvbjerg-Petersen blocking analysis.

Consecutive frames of a trajectory are correlated, so the naive standard error of a
mean over frames is too small. Averaging within blocks longer than the correlation
time gives nearly independent block means whose spread estimates the true error
(Flyvbjerg & Petersen, J. Chem. Phys. 91, 461 (1989), doi:10.1063/1.457480).
"""

import numpy as np


def block_average(series, n_blocks=5):
    """Mean of a time series and its standard error from non-overlapping blocks.

    Parameters
    ----------
    series : array_like, shape (n,)
        Values in time order (any unit; the results carry the same unit).
    n_blocks : int
        Number of equal, consecutive blocks; trailing values that do not fill a
        block are left out of the error (not of the mean). With fewer than
        ``n_blocks`` values every value is its own block.

    Returns
    -------
    mean : float
        Mean of all values (``nan`` for an empty series).
    sem : float
        Standard error of the mean, ``std(block means, ddof=1) / sqrt(n_blocks)``;
        ``nan`` with fewer than two blocks.
    """
    values = np.asarray(series, dtype=np.float64).ravel()
    if int(n_blocks) != n_blocks or n_blocks < 1:
        raise ValueError(f"n_blocks must be a positive integer, got {n_blocks!r}")
    if len(values) == 0:
        return float("nan"), float("nan")
    mean = float(values.mean())
    n_blocks = min(int(n_blocks), len(values))
    if n_blocks < 2:
        return mean, float("nan")
    size = len(values) // n_blocks
    means = values[: size * n_blocks].reshape(n_blocks, size).mean(axis=1)
    return mean, float(means.std(ddof=1) / np.sqrt(n_blocks))


def blocking_analysis(series):
    """Flyvbjerg-Petersen blocking transformation of a time series.

    At each level neighbouring values are averaged pairwise (halving the series) and
    the standard error of the mean is estimated as if the values were independent.
    The estimate rises with the level until the blocks outgrow the correlation time
    and then levels off; that plateau is the error of the mean.

    Parameters
    ----------
    series : array_like, shape (n,)
        Values in time order.

    Returns
    -------
    n_values : numpy.ndarray of int, shape (n_levels,)
        Length of the blocked series at each level (level 0 is the raw series).
    sem : numpy.ndarray, shape (n_levels,)
        Standard-error estimate at each level (unit of ``series``).
    sem_error : numpy.ndarray, shape (n_levels,)
        Uncertainty of each estimate, ``sem / sqrt(2 (n_values - 1))``.
    """
    values = np.asarray(series, dtype=np.float64).ravel()
    n_values, sems = [], []
    while len(values) >= 2:
        n_values.append(len(values))
        sems.append(np.sqrt(values.var(ddof=0) / (len(values) - 1)))
        values = 0.5 * (values[: len(values) // 2 * 2:2] + values[1: len(values) // 2 * 2:2])
    n_values = np.array(n_values, dtype=np.int64)
    sems = np.array(sems)
    return n_values, sems, sems / np.sqrt(2.0 * np.maximum(n_values - 1, 1))
