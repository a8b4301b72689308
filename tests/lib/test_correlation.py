"""Correlation kernels: FFT against the O(T^2) reference and against tidynamics."""

import numpy as np
import pytest

from qsse_md.lib.correlation import (correlation, cross_msd, mean_msd, msd, windowed_correlation,
                                     windowed_cross_msd, windowed_mean_msd, windowed_msd)


def _walks(seed=0, n_frames=400, shape=(5, 3), offset=100.0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=(n_frames,) + shape), axis=0) + offset


def _rel(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("max_lag", [None, 37])
def test_fft_equals_direct(max_lag):
    x, y = _walks(0), _walks(1, offset=-40.0)
    assert _rel(msd(x, max_lag), msd(x, max_lag, backend="direct")) < 1e-10
    assert _rel(cross_msd(x, y, max_lag), cross_msd(x, y, max_lag, backend="direct")) < 1e-10
    assert _rel(correlation(x, y, max_lag), correlation(x, y, max_lag, backend="direct")) < 1e-10
    assert _rel(correlation(x, None, max_lag), correlation(x, None, max_lag, backend="direct")) < 1e-10


def test_cross_msd_of_a_signal_with_itself_is_its_msd_and_sums_are_consistent():
    x, y = _walks(2), _walks(3)
    # MSD of a sum = MSD(x) + MSD(y) + 2 cross
    assert np.allclose(msd(x + y), msd(x) + msd(y) + 2 * cross_msd(x, y), rtol=1e-10, atol=1e-9)
    assert np.allclose(cross_msd(x, x.copy()), msd(x), rtol=1e-10, atol=1e-9)


def test_exact_answers():
    t = np.arange(50, dtype=float)[:, None]
    ballistic = 3.0 * t  # x = v t: MSD = v^2 m^2
    assert np.allclose(msd(ballistic)[:, 0], 9.0 * np.arange(50) ** 2)
    constant = np.ones((20, 2))
    assert np.allclose(correlation(constant), 1.0)


def test_windowed_variants_equal_per_window_calls():
    x, y = _walks(4, n_frames=103), _walks(5, n_frames=103)
    blocks = windowed_msd(x, 4, max_lag=10)
    assert blocks.shape == (4, 11, 5, 3)
    for k in range(4):
        window = slice(25 * k, 25 * (k + 1))
        assert np.allclose(blocks[k], msd(x[window], 10), rtol=1e-12, atol=1e-10)
        assert np.allclose(windowed_cross_msd(x, y, 4, 10)[k], cross_msd(x[window], y[window], 10, "direct"))
        assert np.allclose(windowed_correlation(x, y, 4, 10)[k], correlation(x[window], y[window], 10, "direct"))


@pytest.mark.parametrize("n_particles", [1, 5, 23])  # one block, several blocks with a remainder
def test_mean_msd_equals_the_mean_of_per_particle_msds(n_particles):
    x = _walks(8, n_frames=211, shape=(n_particles, 3))
    reference = msd(x, backend="direct").mean(axis=1)
    assert mean_msd(x).shape == (211, 3)
    assert _rel(mean_msd(x), reference) < 1e-10
    assert _rel(mean_msd(x, 40), reference[:41]) < 1e-10
    assert np.array_equal(mean_msd(x, 40, backend="direct"), reference[:41])
    blocks = windowed_mean_msd(x, 4, max_lag=10)
    assert blocks.shape == (4, 11, 3)
    for k in range(4):
        assert np.allclose(blocks[k], mean_msd(x[52 * k:52 * (k + 1)], 10), rtol=1e-12, atol=1e-10)
    big = _walks(9, n_frames=2100, shape=(100, 3))  # over the batching size: window by window
    assert _rel(windowed_mean_msd(big, 3, max_lag=30)[2], msd(big[1400:], 30).mean(axis=1)) < 1e-10


def test_against_tidynamics():
    tidynamics = pytest.importorskip("tidynamics")
    x, y = _walks(6, shape=(3,)), _walks(7, shape=(3,))
    assert _rel(msd(x).sum(axis=-1), tidynamics.msd(x)) < 1e-10
    both = tidynamics.cross_displacement(np.column_stack((x[:, 0], y[:, 0])))  # components of one signal
    assert _rel(cross_msd(x[:, 0], y[:, 0]), np.asarray(both[0][1])) < 1e-10
    assert _rel(correlation(x).sum(axis=-1), tidynamics.acf(x)) < 1e-10


@pytest.mark.parametrize("call, message", [
    (lambda: msd(np.zeros((5, 3)), backend="gpu"), "backend"),
    (lambda: msd(np.zeros((5, 3)), max_lag=5), "max_lag"),
    (lambda: msd(np.zeros((1, 3))), "at least 2 frames"),
    (lambda: cross_msd(np.zeros((5, 3)), np.zeros((5, 2))), "differ in shape"),
    (lambda: windowed_msd(np.zeros((5, 3)), 3), "windows"),
    (lambda: mean_msd(np.zeros((5,))), "particles"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
