"""Time-correlation kernels: mean-squared displacements and correlation functions.

Kernels only: numpy arrays in, numpy arrays out, no MDAnalysis objects. Time runs
along axis 0 of every signal; any trailing axes (particles, x/y/z components) are
independent signals and are kept in the result, so a caller sums over components or
averages over particles itself. Everything is evaluated in float64.

Every function has a ``backend`` switch:

``"fft"``
    O(T log T) per signal via the Wiener–Khinchin theorem with zero padding to at
    least 2T (no circular wrap-around), as in Calandrini et al., *Collection SFN* 12,
    201 (2011), doi:10.1051/sfn/201112010 (the algorithm of tidynamics and
    MDAnalysis ``EinsteinMSD(fft=True)``). Each signal is shifted by its time mean
    first (displacements do not change) to limit cancellation.
``"direct"``
    The plain O(T^2) sums over time origins, kept as the reference for tests.

The ``windowed_*`` variants cut the trajectory into ``n_windows`` contiguous,
non-overlapping time windows and time-average inside each one: the independent
blocks used for block-averaged standard errors (Flyvbjerg & Petersen, *J. Chem.
Phys.* 91, 461 (1989), doi:10.1063/1.457480).
"""

import numpy as np
from scipy import fft as _fft

BACKENDS = ("fft", "direct")


def _as_signal(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[0] < 2:
        raise ValueError(f"a time signal needs at least 2 frames along axis 0, got shape {x.shape}")
    return x


def _check(backend, n_frames, max_lag):
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r}; choose one of {BACKENDS}")
    max_lag = n_frames - 1 if max_lag is None else int(max_lag)
    if not 0 <= max_lag < n_frames:
        raise ValueError(f"max_lag={max_lag} must lie in [0, {n_frames - 1}] for {n_frames} frames")
    return max_lag


#: Bytes of float64 work per block of signals in the FFT kernels, and at most this many signals
#: per block: blocks this small stay in the allocator's reused heap (no fresh pages per call)
#: and near the CPU caches (a 1,000-frame MSD of 180 signals takes half the time in blocks of
#: 32 signals as in one block of 180).
_BLOCK_BYTES = 1 << 22
_BLOCK_SIGNALS = 32


def _blocks(n_signals, size):
    """Slices of at most ``min(_BLOCK_BYTES // (8 * size), _BLOCK_SIGNALS)`` signals (at least one)."""
    per_block = max(1, min(_BLOCK_BYTES // (8 * size), _BLOCK_SIGNALS))
    return [slice(start, min(start + per_block, n_signals)) for start in range(0, n_signals, per_block)]


def _rows(signal, block):
    """Signals ``block`` of a (T, n_signals) view as a contiguous (k, T) array."""
    return np.ascontiguousarray(signal[:, block].T)


def _lagged_rows_fft(x, y, max_lag, size):
    """sum_t x(t) y(t+m), m = 0..max_lag, of (k, T) rows (``y is x``: autocorrelation)."""
    fx = _fft.rfft(x, n=size, axis=-1)
    if y is x:
        fx *= np.conj(fx)
    else:
        np.conj(fx, out=fx)
        fx *= _fft.rfft(y, n=size, axis=-1)
    return _fft.irfft(fx, n=size, axis=-1)[:, :max_lag + 1]


def _lagged_products_fft(x, y, max_lag):
    """sum_{t=0}^{T-m-1} x(t) y(t+m) for m = 0..max_lag, shape (max_lag + 1, ...).

    The signals are processed in blocks of a few, each transposed to (signals, time),
    contiguous in time, before the transforms: several times faster than transforming
    along a strided axis 0, and the work arrays stay small whatever the trajectory length.
    """
    n = x.shape[0]
    size = _fft.next_fast_len(2 * n, real=True)
    x2 = x.reshape(n, -1)
    y2 = x2 if y is x else y.reshape(n, -1)
    out = np.empty((max_lag + 1, x2.shape[1]))
    for block in _blocks(x2.shape[1], size):
        rows = _rows(x2, block)
        out[:, block] = _lagged_rows_fft(rows, rows if y is x else _rows(y2, block), max_lag, size).T
    return out.reshape((max_lag + 1,) + x.shape[1:])


def _end_sums(products, max_lag):
    """sum_{t=0}^{T-m-1} [p(t+m) + p(t)] for m = 0..max_lag of (k, T) rows p, shape (k, max_lag + 1)."""
    n = products.shape[1]
    prefix = np.zeros((products.shape[0], n + 1))
    np.cumsum(products, axis=1, out=prefix[:, 1:])
    # (total - prefix[m]) + prefix[T - m]
    return (prefix[:, n:n + 1] - prefix[:, :max_lag + 1]) + prefix[:, n - max_lag:n + 1][:, ::-1]


def _cross_msd_fft(x, y, max_lag):
    """FFT path of :func:`cross_msd` (``y is x`` for the MSD), block by block of signals."""
    n = x.shape[0]
    size = _fft.next_fast_len(2 * n, real=True)
    x2 = x.reshape(n, -1)
    same = y is x
    y2 = x2 if same else y.reshape(n, -1)
    out = np.empty((max_lag + 1, x2.shape[1]))
    lags = np.arange(max_lag + 1)
    counts = (n - lags).astype(np.float64)
    for block in _blocks(x2.shape[1], size):
        xs = _rows(x2, block)
        xs -= xs.mean(axis=1, keepdims=True)
        if same:
            ys = xs
        else:
            ys = _rows(y2, block)
            ys -= ys.mean(axis=1, keepdims=True)
        squares = _end_sums(xs * ys, max_lag)
        if same:
            mixed = 2.0 * _lagged_rows_fft(xs, xs, max_lag, size)
        else:
            mixed = _lagged_rows_fft(xs, ys, max_lag, size) + _lagged_rows_fft(ys, xs, max_lag, size)
        squares -= mixed
        squares /= counts
        out[:, block] = squares.T
    out[0] = 0.0
    return out.reshape((max_lag + 1,) + x.shape[1:])


def _mean_msd_fft(x, max_lag):
    """FFT path of :func:`mean_msd` on (T, N, R) signals: (max_lag + 1, R).

    Per signal only the mean shift, the squares and the forward transform are done; the
    prefix sums of the squares and the inverse transform act on the sums over the N
    particles, since the lagged product sum is linear in the power spectrum.
    """
    n, n_particles, n_rest = x.shape
    size = _fft.next_fast_len(2 * n, real=True)
    flat = x.reshape(n, n_particles * n_rest)
    power = np.zeros((n_rest, size // 2 + 1))
    square_sum = np.zeros((n_rest, n))
    per_block = max(1, min(_BLOCK_BYTES // (8 * size), _BLOCK_SIGNALS) // n_rest)
    for first in range(0, n_particles, per_block):
        last = min(first + per_block, n_particles)
        rows = _rows(flat, slice(first * n_rest, last * n_rest))
        rows -= rows.mean(axis=1, keepdims=True)
        square_sum += (rows * rows).reshape(last - first, n_rest, n).sum(axis=0)
        spectrum = _fft.rfft(rows, n=size, axis=-1)
        power += (spectrum.real ** 2 + spectrum.imag ** 2).reshape(last - first, n_rest, -1).sum(axis=0)
    squares = _end_sums(square_sum, max_lag)
    squares -= 2.0 * _fft.irfft(power, n=size, axis=-1)[:, :max_lag + 1]
    squares /= (n - np.arange(max_lag + 1)) * float(n_particles)
    out = np.ascontiguousarray(squares.T)
    out[0] = 0.0
    return out


def correlation(a, b=None, max_lag=None, backend="fft"):
    """Time-averaged correlation <a(t) b(t + m)> over all origins t.

    Parameters
    ----------
    a, b : array_like, shape (T, ...)
        Signals sampled at uniform intervals (``b`` defaults to ``a``: an
        autocorrelation); same shape.
    max_lag : int, optional
        Largest lag in frames (default T - 1).
    backend : {"fft", "direct"}

    Returns
    -------
    numpy.ndarray, shape (max_lag + 1, ...), float64
        Element m is the mean over the T - m origins of a(t) * b(t + m), per
        trailing element (unit: unit(a) * unit(b)).
    """
    a = _as_signal(a)
    b = a if b is None else _as_signal(b)
    if a.shape != b.shape:
        raise ValueError(f"signals differ in shape: {a.shape} and {b.shape}")
    n = a.shape[0]
    max_lag = _check(backend, n, max_lag)
    counts = (n - np.arange(max_lag + 1)).reshape((-1,) + (1,) * (a.ndim - 1))
    if backend == "direct":
        out = np.empty((max_lag + 1,) + a.shape[1:])
        for m in range(max_lag + 1):
            out[m] = np.sum(a[:n - m] * b[m:], axis=0)
        return out / counts
    return _lagged_products_fft(a, b, max_lag) / counts


def cross_msd(x, y=None, max_lag=None, backend="fft"):
    """Cross-displacement correlation <[x(t+m) - x(t)] [y(t+m) - y(t)]> over origins t.

    With ``y = x`` this is the mean-squared displacement per component.

    Parameters
    ----------
    x, y : array_like, shape (T, ...)
        Unwrapped positions (or summed positions) at uniform time intervals, e.g. Å.
    max_lag : int, optional
        Largest lag in frames (default T - 1).
    backend : {"fft", "direct"}

    Returns
    -------
    numpy.ndarray, shape (max_lag + 1, ...), float64
        Per trailing element (e.g. per particle and per x/y/z component), in
        unit(x) * unit(y) (Å^2 for positions). Element 0 is 0.
    """
    x = _as_signal(x)
    same = y is None or y is x
    y = x if same else _as_signal(y)
    if x.shape != y.shape:
        raise ValueError(f"signals differ in shape: {x.shape} and {y.shape}")
    n = x.shape[0]
    max_lag = _check(backend, n, max_lag)
    counts = (n - np.arange(max_lag + 1)).reshape((-1,) + (1,) * (x.ndim - 1))
    if backend == "direct":
        out = np.zeros((max_lag + 1,) + x.shape[1:])
        for m in range(1, max_lag + 1):
            out[m] = np.sum((x[m:] - x[:n - m]) * (y[m:] - y[:n - m]), axis=0)
        return out / counts
    return _cross_msd_fft(x, x if same else y, max_lag)


def msd(x, max_lag=None, backend="fft"):
    """Mean-squared displacement per trailing element: ``cross_msd(x, x)``.

    Parameters
    ----------
    x : array_like, shape (T, ...)
        Unwrapped positions at uniform time intervals (Å).
    max_lag : int, optional
        Largest lag in frames (default T - 1).
    backend : {"fft", "direct"}

    Returns
    -------
    numpy.ndarray, shape (max_lag + 1, ...), float64
        <[x(t+m) - x(t)]^2> averaged over the T - m origins, per trailing element (Å^2).
    """
    return cross_msd(x, None, max_lag=max_lag, backend=backend)


def mean_msd(x, max_lag=None, backend="fft"):
    """Mean-squared displacement averaged over the particles of axis 1: ``msd(x).mean(axis=1)``.

    Parameters
    ----------
    x : array_like, shape (T, N, ...)
        Unwrapped positions of N particles at uniform time intervals (Å).
    max_lag : int, optional
        Largest lag in frames (default T - 1).
    backend : {"fft", "direct"}
        The FFT path transforms every particle's signal forward once and sums the power
        spectra before a single inverse transform per trailing element, so it never holds
        or inverts per-particle MSDs.

    Returns
    -------
    numpy.ndarray, shape (max_lag + 1, ...), float64
        Particle-averaged MSD per trailing element (Å^2).
    """
    x = _as_signal(x)
    if x.ndim < 2 or x.shape[1] < 1:
        raise ValueError(f"mean_msd needs signals of shape (T, N, ...) with N >= 1 particles, got {x.shape}")
    max_lag = _check(backend, x.shape[0], max_lag)
    if backend == "direct":
        return cross_msd(x, None, max_lag, backend).mean(axis=1)
    out = _mean_msd_fft(x.reshape(x.shape[0], x.shape[1], -1), max_lag)
    return out.reshape((max_lag + 1,) + x.shape[2:])


def _windows(n_frames, n_windows):
    n_windows = int(n_windows)
    if n_windows < 1 or n_frames // n_windows < 2:
        raise ValueError(f"cannot cut {n_frames} frames into {n_windows} windows of at least 2 frames; "
                         "use fewer windows (blocks) or a longer trajectory")
    length = n_frames // n_windows
    return [slice(i * length, (i + 1) * length) for i in range(n_windows)], length


def windowed_cross_msd(x, y, n_windows, max_lag=None, backend="fft"):
    """:func:`cross_msd` inside each of ``n_windows`` contiguous, non-overlapping windows.

    Parameters
    ----------
    x, y : array_like, shape (T, ...)
        Signals (``y=None`` gives the MSD). Frames beyond ``n_windows * (T //
        n_windows)`` are dropped.
    n_windows : int
        Number of windows of ``T // n_windows`` frames each (at least 2 frames).
    max_lag : int, optional
        Largest lag in frames (default window length - 1).

    Returns
    -------
    numpy.ndarray, shape (n_windows, max_lag + 1, ...), float64
    """
    x = _as_signal(x)
    y = None if y is None else _as_signal(y)
    slices, length = _windows(x.shape[0], n_windows)
    max_lag = _check(backend, length, max_lag)
    if backend == "fft" and x.size * 8 <= _BLOCK_BYTES and (y is None or y.shape == x.shape):
        # small signals (e.g. species sums): all windows in one batch of signals, (length,
        # n_windows, ...), saving the per-call overhead; every window is transformed on its
        # own exactly as cross_msd(x[s], y[s]) does (same numbers). Large ones go window by
        # window below, from contiguous slices without the batching copy.
        count = len(slices)

        def batch(signal):
            return np.moveaxis(signal[:count * length].reshape((count, length) + signal.shape[1:]), 0, 1)
        xs = batch(x)
        out = _cross_msd_fft(xs, xs if y is None else batch(y), max_lag)
        return np.ascontiguousarray(np.moveaxis(out, 1, 0))
    return np.stack([cross_msd(x[s], None if y is None else y[s], max_lag, backend) for s in slices])


def windowed_msd(x, n_windows, max_lag=None, backend="fft"):
    """:func:`msd` inside each of ``n_windows`` windows; shape (n_windows, max_lag + 1, ...)."""
    return windowed_cross_msd(x, None, n_windows, max_lag=max_lag, backend=backend)


def windowed_mean_msd(x, n_windows, max_lag=None, backend="fft"):
    """:func:`mean_msd` inside each of ``n_windows`` windows; shape (n_windows, max_lag + 1, ...).

    Windows as in :func:`windowed_cross_msd`; small signals are transformed in one
    batch of all windows, each window exactly as ``mean_msd(x[s])``.
    """
    x = _as_signal(x)
    slices, length = _windows(x.shape[0], n_windows)
    max_lag = _check(backend, length, max_lag)
    if backend == "fft" and x.ndim >= 2 and x.size * 8 <= _BLOCK_BYTES:
        count = len(slices)
        # (length, N, windows, ...): the windows become trailing signals of every particle
        batched = np.moveaxis(x[:count * length].reshape((count, length) + x.shape[1:]), 0, 2)
        out = mean_msd(batched, max_lag, backend)
        return np.ascontiguousarray(np.moveaxis(out, 1, 0))
    return np.stack([mean_msd(x[s], max_lag, backend) for s in slices])


def windowed_correlation(a, b, n_windows, max_lag=None, backend="fft"):
    """:func:`correlation` inside each of ``n_windows`` windows; shape (n_windows, max_lag + 1, ...)."""
    a = _as_signal(a)
    b = a if b is None else _as_signal(b)
    slices, length = _windows(a.shape[0], n_windows)
    max_lag = _check(backend, length, max_lag)
    return np.stack([correlation(a[s], b[s], max_lag, backend) for s in slices])


__all__ = ["BACKENDS", "correlation", "cross_msd", "mean_msd", "msd", "windowed_correlation", "windowed_cross_msd",
           "windowed_mean_msd", "windowed_msd"]
