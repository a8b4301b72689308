"""Bilinear fit of a constructed volume-temperature curve with a known kink."""

import re

import numpy as np
import pytest

from qsse_md.analysis.crystallization.transitions import bilinear_fit


def _curve(rng, noise, break_k=250.0):
    temperature = np.linspace(200.0, 320.0, 25)
    volume = 1.00 + np.where(temperature < break_k, 2e-4, 6e-4) * (temperature - break_k)
    return temperature, volume + rng.normal(scale=noise, size=len(temperature))


def test_kink_recovered_within_noise():
    fit = bilinear_fit(*_curve(np.random.default_rng(4), noise=5e-4), quantity="specific volume (cm³/g)")
    assert abs(fit.break_K - 250.0) < 3 * fit.break_sem_K
    assert 0 < fit.break_sem_K < 15.0
    assert fit.slope_below == pytest.approx(2e-4, abs=3 * fit.slope_below_sem)
    assert fit.slope_above == pytest.approx(6e-4, abs=3 * fit.slope_above_sem)
    assert fit.residual_rms == pytest.approx(5e-4, rel=0.5)


def test_exact_curve_and_outputs():
    import matplotlib

    matplotlib.use("Agg")
    temperature, volume = _curve(np.random.default_rng(0), noise=0.0, break_k=263.0)
    fit = bilinear_fit(temperature[::-1], volume[::-1])
    assert fit.break_K == pytest.approx(263.0, abs=1e-6)
    assert np.allclose(fit.to_dataframe()["residual"], 0.0, atol=1e-9)
    assert fit.summary()["n_points"] == 25 and fit.summary()["reason"] is None
    ax = fit.plot()
    assert ax.get_xlabel() == "temperature (K)" and ax.get_legend_handles_labels()[1][2].startswith("break 263 ± ")


def _cooling_ladder(seed):
    """Windows at the four temperatures of a cooling ladder, density a straight line (no bend) with noise."""
    temperature = np.repeat([223.0, 248.0, 298.0, 323.0], 3)
    density = 1.2 - 6e-4 * (temperature - 260.0) + np.random.default_rng(seed).normal(scale=2e-4, size=12)
    return temperature, density


def test_break_with_error_above_its_value_is_not_determined_everywhere():
    import matplotlib

    matplotlib.use("Agg")
    fit = bilinear_fit(*_cooling_ladder(seed=0))
    # a straight line has no break: its standard error is unbounded, its size set by float rounding
    assert re.fullmatch(r"the standard error \S+ K exceeds break 298 K", fit.reason)
    assert np.isnan(fit.break_K) and np.isnan(fit.break_sem_K) and np.isnan(fit.slope_below)
    summary = fit.summary()
    assert summary["reason"] == fit.reason
    assert summary["break_K"] is None and summary["break_sem_K"] is None and summary["n_points"] == 12
    table = fit.to_dataframe()
    assert table["fit"].isna().all() and table["value"].notna().all()
    ax = fit.plot()
    assert ax.get_xlim() == pytest.approx((223.0 - 5.0, 323.0 + 5.0))  # the axis spans the data, not the error
    assert [text.get_text() for text in ax.texts] == [f"break not determined: {fit.reason}"]
    assert [line.get_label() for line in ax.get_lines()] == ["data"]


def test_straight_line_has_no_break():
    fit = bilinear_fit(*_cooling_ladder(seed=1))
    assert np.isnan(fit.break_K) and "exceeds slope change" in fit.reason


def test_too_few_points():
    with pytest.raises(ValueError, match="at least 4 distinct temperatures"):
        bilinear_fit([298.0, 248.0, 223.0], [1.0, 1.01, 1.02])
    with pytest.raises(ValueError, match="one value per temperature"):
        bilinear_fit([298.0, 248.0, 223.0, 200.0], [1.0, 1.01])
