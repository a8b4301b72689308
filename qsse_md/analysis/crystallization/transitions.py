"""Breaks in density or volume against temperature: a continuous two-line (bilinear) fit.

On cooling through a glass transition or crystallisation the thermal expansion changes,
so specific volume (or density) against temperature bends at the transition. The fit

.. math::
    y(T) = y_b + s_1 (T - T_b)\\ (T < T_b), \\qquad y(T) = y_b + s_2 (T - T_b)\\ (T \\ge T_b)

is found by a grid search over the break :math:`T_b` (linear least squares for
:math:`y_b, s_1, s_2` at each trial, at least two points on each side) refined by
non-linear least squares, whose covariance gives the standard errors: the dilatometric
reading of a glass transition (or melting) temperature from an MD cooling curve. The
break is reported only when the data determine it and a bend
(:mod:`qsse_md.lib.fit_quality`: the fit converged, the break lies within the measured
temperatures with a standard error below the break and the measured range, and the
slope change :math:`s_2 - s_1` exceeds its standard error); otherwise every fitted
number is ``nan`` and ``reason`` says why.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from qsse_md.analysis._plotting import axes_or_new
from qsse_md.lib.fit_quality import NOT_DETERMINED, finite_or_none, format_fit, undetermined_reason

MIN_POINTS = 4


@dataclass(frozen=True)
class BilinearFit:
    """Result of :func:`bilinear_fit`.

    Attributes
    ----------
    temperature_K, values : numpy.ndarray, shape (n,)
        The data, sorted by temperature (values in the caller's unit).
    break_K, break_sem_K : float
        Break temperature and its standard error, K (``nan``, as every fitted number,
        when not determined).
    value_at_break : float
        Fitted value at the break (unit of ``values``).
    slope_below, slope_above : float
        Slopes below and above the break (unit of ``values`` per K).
    slope_below_sem, slope_above_sem : float
    residual_rms : float
        Root-mean-square residual (unit of ``values``).
    quantity : str
        Label of ``values`` with its unit, for tables and plots.
    reason : str or None
        Why the break is not determined; None when it is.
    """

    temperature_K: np.ndarray
    values: np.ndarray
    break_K: float
    break_sem_K: float
    value_at_break: float
    slope_below: float
    slope_above: float
    slope_below_sem: float
    slope_above_sem: float
    residual_rms: float
    quantity: str
    reason: str | None

    def predict(self, temperature_K):
        """Fitted values at ``temperature_K`` (K)."""
        return _model(np.asarray(temperature_K, dtype=np.float64), self.break_K, self.value_at_break,
                      self.slope_below, self.slope_above)

    def to_dataframe(self):
        """Data and fit: columns ``temperature_K``, ``value``, ``fit``, ``residual``
        (``fit`` and ``residual`` empty when the break is not determined).

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        fit = self.predict(self.temperature_K)
        return pd.DataFrame({"temperature_K": self.temperature_K, "value": self.values, "fit": fit,
                             "residual": self.values - fit})

    def summary(self):
        """Plain dict of the fitted numbers (JSON-ready; None where not determined, with
        ``reason``)."""
        fitted = {"break_K": self.break_K, "break_sem_K": self.break_sem_K, "value_at_break": self.value_at_break,
                  "slope_below_per_K": self.slope_below, "slope_above_per_K": self.slope_above,
                  "slope_below_sem_per_K": self.slope_below_sem, "slope_above_sem_per_K": self.slope_above_sem,
                  "residual_rms": self.residual_rms}
        return {"quantity": self.quantity, "reason": self.reason,
                **{key: finite_or_none(value) for key, value in fitted.items()}, "n_points": int(len(self.values))}

    def plot(self, ax=None):
        """Data (dots), the two fitted lines and the break with its ±1 SE band.

        When the break is not determined only the data are drawn, with the note
        ``not determined: <reason>``. The axes span the data (the SE band is clipped).
        Returns the matplotlib Axes (a new figure's when ``ax`` is None).
        """
        ax = axes_or_new(ax)
        ax.plot(self.temperature_K, self.values, "o", color="C0", label="data")
        if self.reason is None:
            grid = np.linspace(self.temperature_K.min(), self.temperature_K.max(), 200)
            ax.plot(grid, self.predict(grid), color="C1", label="bilinear fit")
            ax.axvline(self.break_K, color="grey", linestyle="--",
                       label=f"break {format_fit(self.break_K, self.break_sem_K, unit='K')}")
            ax.axvspan(self.break_K - self.break_sem_K, self.break_K + self.break_sem_K, color="grey", alpha=0.2)
        else:
            ax.text(0.02, 0.02, f"break {NOT_DETERMINED}: {self.reason}", transform=ax.transAxes, fontsize="small",
                    wrap=True)
        margin = 0.05 * np.ptp(self.temperature_K)
        ax.set_xlim(self.temperature_K.min() - margin, self.temperature_K.max() + margin)
        ax.set_xlabel("temperature (K)")
        ax.set_ylabel(self.quantity)
        ax.legend()
        return ax


def _model(temperature, break_k, value, below, above):
    return value + np.where(temperature < break_k, below, above) * (temperature - break_k)


def bilinear_fit(temperature_K, values, quantity="density (g/cm³)", n_grid=400):
    """Fit two lines joined at a break to values against temperature.

    Parameters
    ----------
    temperature_K : array_like, shape (n,)
        Temperatures, K (any order; e.g. window means of a cooling ramp).
    values : array_like, shape (n,)
        Density, specific volume or box volume at those temperatures (any unit).
    quantity : str
        Label with unit, kept for tables and plots.
    n_grid : int
        Trial breaks of the grid search between the second and the second-to-last
        distinct temperature.

    Returns
    -------
    BilinearFit
        With ``reason`` set (and every fitted number ``nan``) when the break is not
        determined.

    Raises
    ------
    ValueError
        Fewer than four points (or four distinct temperatures), or non-finite input.
    """
    from scipy.optimize import OptimizeWarning, curve_fit

    temperature = np.asarray(temperature_K, dtype=np.float64).ravel()
    values = np.asarray(values, dtype=np.float64).ravel()
    if temperature.shape != values.shape:
        raise ValueError(f"got {len(temperature)} temperatures but {len(values)} values; give one value per "
                         "temperature")
    if len(np.unique(temperature)) < MIN_POINTS:
        raise ValueError(f"a bilinear fit needs at least {MIN_POINTS} distinct temperatures, got "
                         f"{len(np.unique(temperature))}; analyse more temperature windows")
    if not (np.all(np.isfinite(temperature)) and np.all(np.isfinite(values))):
        raise ValueError("temperatures and values must be finite numbers")
    order = np.argsort(temperature, kind="stable")
    temperature, values = temperature[order], values[order]
    distinct = np.unique(temperature)
    best = None
    for trial in np.linspace(distinct[1], distinct[-2], int(n_grid)):
        design = np.column_stack((np.ones_like(temperature), np.minimum(temperature - trial, 0.0),
                                  np.maximum(temperature - trial, 0.0)))
        coefficients, *_ = np.linalg.lstsq(design, values, rcond=None)
        sse = float(np.sum((design @ coefficients - values) ** 2))
        if best is None or sse < best[0]:
            best = (sse, trial, coefficients)
    _, trial, (value, below, above) = best
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)  # an inestimable covariance is judged below
            parameters, covariance = curve_fit(_model, temperature, values, p0=(trial, value, below, above))
        converged = True
    except RuntimeError:
        parameters, covariance, converged = np.full(4, np.nan), np.full((4, 4), np.nan), False
    errors = np.sqrt(np.abs(np.diag(covariance)))
    slope_change_sem = np.sqrt(abs(covariance[2, 2] + covariance[3, 3] - 2.0 * covariance[2, 3]))
    reason = (undetermined_reason(parameters[0], errors[0], converged=converged, bounds=(distinct[0], distinct[-1]),
                                  name="break", unit="K")
              or undetermined_reason(parameters[3] - parameters[2], slope_change_sem, name="slope change",
                                     unit="per K"))
    if reason is not None:
        parameters, errors = np.full(4, np.nan), np.full(4, np.nan)
    residual = values - _model(temperature, *parameters)
    return BilinearFit(temperature, values, float(parameters[0]), float(errors[0]), float(parameters[1]),
                       float(parameters[2]), float(parameters[3]), float(errors[2]), float(errors[3]),
                       float(np.sqrt(np.mean(residual ** 2))), quantity, reason)
