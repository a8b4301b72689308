"""Temperature series: Arrhenius and Vogel–Tammann–Fulcher fits.

* Arrhenius for conductivity, ``σ T = A exp(-Ea / (R T))`` (``multiply_by_T=True``),
  or for a diffusion coefficient, ``D = A exp(-Ea / (R T))``: a weighted linear
  least-squares fit of ``ln(y)`` against ``1/T`` (weights ``1/δln y`` when errors
  are given; the parameter covariance is then scaled by the reduced chi-square when
  it exceeds 1, otherwise taken as is).
* VTF, ``y = A exp(-B / (R (T - T0)))`` with the pseudo-activation energy ``B``:
  nonlinear least squares (:func:`scipy.optimize.curve_fit`) on ``ln y`` from the
  Arrhenius start values; needs at least 4 temperatures.

Energies are returned in kJ/mol and eV (1 eV = N_A e / 1000 kJ/mol from
:mod:`qsse_md.units`); uncertainties are one standard error. A fit whose activation
energy (or VTF ``T0``) is not determined (:mod:`qsse_md.lib.fit_quality`: no
convergence, or a standard error above the value) has every fitted number ``nan`` and
its ``reason`` set.
"""

from dataclasses import dataclass, field

import numpy as np

from qsse_md.analysis._plotting import axes_or_new
from qsse_md.lib.fit_quality import NOT_DETERMINED, finite_or_none, format_fit, undetermined_reason
from qsse_md.units import AVOGADRO_PER_MOL, ELEMENTARY_CHARGE_C, GAS_CONSTANT_KJ_PER_MOL_K

KJ_PER_MOL_PER_EV = AVOGADRO_PER_MOL * ELEMENTARY_CHARGE_C / 1000.0


@dataclass
class ArrheniusFit:
    """Result of :func:`fit_arrhenius` or :func:`fit_vtf`.

    Attributes
    ----------
    law : str
        ``"arrhenius"`` or ``"vtf"``.
    temperatures_K, values, errors : numpy.ndarray, shape (n,)
        The data (``errors`` may be None); ``values`` in the caller's unit.
    multiply_by_T : bool
        Whether the fitted quantity is ``value * T``.
    activation_kJ_per_mol, activation_sem_kJ_per_mol : float
        ``Ea`` (Arrhenius) or ``B`` (VTF) and its standard error, kJ/mol.
    prefactor, prefactor_sem : float
        ``A`` in the unit of the fitted quantity (times K when ``multiply_by_T``).
    T0_K, T0_sem_K : float or None
        VTF reference temperature, K.
    reason : str or None
        Why the fit is not determined (every fitted number is then ``nan``); None
        when it is.
    """

    law: str
    temperatures_K: np.ndarray
    values: np.ndarray
    errors: object
    multiply_by_T: bool
    activation_kJ_per_mol: float
    activation_sem_kJ_per_mol: float
    prefactor: float
    prefactor_sem: float
    T0_K: object = None
    T0_sem_K: object = None
    reason: object = None
    extra: dict = field(default_factory=dict)

    @property
    def activation_eV(self):
        """Activation (pseudo-)energy in eV."""
        return self.activation_kJ_per_mol / KJ_PER_MOL_PER_EV

    @property
    def activation_sem_eV(self):
        """Its standard error in eV."""
        return self.activation_sem_kJ_per_mol / KJ_PER_MOL_PER_EV

    def predict(self, temperatures_K):
        """The fitted law (``value``, not ``value * T``) at ``temperatures_K``."""
        t = np.asarray(temperatures_K, dtype=np.float64)
        if self.law == "arrhenius":
            y = self.prefactor * np.exp(-self.activation_kJ_per_mol / (GAS_CONSTANT_KJ_PER_MOL_K * t))
        else:
            y = self.prefactor * np.exp(-self.activation_kJ_per_mol / (GAS_CONSTANT_KJ_PER_MOL_K * (t - self.T0_K)))
        return y / t if self.multiply_by_T else y

    def to_dict(self):
        """JSON-ready record (energies in kJ/mol and eV; fitted numbers null when not
        determined, with ``reason``)."""
        fitted = {"activation_kJ_per_mol": self.activation_kJ_per_mol,
                  "activation_sem_kJ_per_mol": self.activation_sem_kJ_per_mol,
                  "activation_eV": self.activation_eV, "activation_sem_eV": self.activation_sem_eV,
                  "prefactor": self.prefactor, "prefactor_sem": self.prefactor_sem,
                  "T0_K": self.T0_K, "T0_sem_K": self.T0_sem_K}
        return {"law": self.law, "multiply_by_T": self.multiply_by_T,
                "temperatures_K": [float(t) for t in self.temperatures_K],
                "values": [float(v) for v in self.values],
                "errors": None if self.errors is None else [float(e) for e in self.errors],
                **{key: finite_or_none(value) for key, value in fitted.items()}, "reason": self.reason}

    def plot(self, ax=None):
        """ln(value [* T]) against 1000/T with error bars and the fitted law; returns the Axes.

        A fit that is not determined is not drawn; the note ``not determined: <reason>``
        is written instead.
        """
        ax = axes_or_new(ax)
        t = self.temperatures_K
        y = self.values * t if self.multiply_by_T else self.values
        yerr = None if self.errors is None else (self.errors * t if self.multiply_by_T else self.errors)
        ax.errorbar(1000.0 / t, y, yerr=yerr, fmt="o", color="C0", label="data")
        if self.reason is None:
            grid = np.linspace(t.min(), t.max(), 100)
            model = self.predict(grid) * (grid if self.multiply_by_T else 1.0)
            energy = format_fit(self.activation_kJ_per_mol, self.activation_sem_kJ_per_mol, unit="kJ/mol", digits=3)
            ax.plot(1000.0 / grid, model, color="C1", label=f"{self.law}: {energy}")
        else:
            ax.text(0.02, 0.02, f"{self.law} {NOT_DETERMINED}: {self.reason}", transform=ax.transAxes,
                    fontsize="small", wrap=True)
        ax.set_yscale("log")
        ax.set_xlabel("1000 / T (1/K)")
        ax.set_ylabel("σ T" if self.multiply_by_T else "value")
        ax.legend()
        return ax


def _prepare(temperatures_K, values, errors, minimum):
    t = np.asarray(temperatures_K, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError(f"temperatures ({t.shape}) and values ({y.shape}) must be 1-D and of equal length")
    if len(t) < minimum:
        raise ValueError(f"{len(t)} temperature(s) given; this fit needs at least {minimum} distinct temperatures")
    if len(np.unique(t)) < minimum:
        raise ValueError(f"only {len(np.unique(t))} distinct temperatures; the fit needs at least {minimum}")
    if np.any(~np.isfinite(t)) or np.any(t <= 0):
        raise ValueError("temperatures must be finite and positive (K); a result without a temperature cannot "
                         "enter the fit")
    if np.any(~np.isfinite(y)) or np.any(y <= 0):
        raise ValueError("values must be finite and positive for a logarithmic fit")
    e = None
    if errors is not None:
        e = np.asarray(errors, dtype=np.float64)
        if e.shape != y.shape or np.any(~np.isfinite(e)) or np.any(e <= 0):
            e = None
    return t, y, e


def fit_arrhenius(temperatures_K, values, errors=None, multiply_by_T=True):
    """Fit ``y = A exp(-Ea/(R T))`` with ``y = value * T`` (default, conductivity) or ``value``.

    Parameters
    ----------
    temperatures_K : array_like, shape (n,)
        Temperatures, K; at least 3 distinct ones.
    values : array_like, shape (n,)
        Positive values (e.g. σ in S/cm or D in 1e-10 m^2/s).
    errors : array_like, shape (n,), optional
        Standard errors of ``values`` (same unit); ignored unless all positive.
    multiply_by_T : bool

    Returns
    -------
    ArrheniusFit
    """
    t, y, e = _prepare(temperatures_K, values, errors, 3)
    (log_a, ea), sem = _log_linear_fit(t, np.log(y * t if multiply_by_T else y), None if e is None else e / y)
    reason = undetermined_reason(float(ea), float(sem[1]), name="Ea", unit="kJ/mol")
    if reason is not None:
        return _undetermined("arrhenius", t, y, e, multiply_by_T, reason)
    return ArrheniusFit("arrhenius", t, y, e, multiply_by_T, float(ea), float(sem[1]), float(np.exp(log_a)),
                        float(np.exp(log_a) * sem[0]))


def _log_linear_fit(t, target, sigma):
    """Weighted least squares of ``target = ln A - Ea / (R T)``: ``(ln A, Ea in kJ/mol)`` and their
    standard errors (``sigma``: errors of ``target``, or None)."""
    x = 1.0 / t
    weights = np.ones_like(x) if sigma is None else 1.0 / sigma
    design = np.column_stack((np.ones_like(x), -x / GAS_CONSTANT_KJ_PER_MOL_K)) * weights[:, None]
    coefficients, *_ = np.linalg.lstsq(design, target * weights, rcond=None)
    residual = target * weights - design @ coefficients
    chi2 = float(residual @ residual) / (len(t) - 2)
    covariance = np.linalg.inv(design.T @ design) * (chi2 if sigma is None else max(chi2, 1.0))
    return coefficients, np.sqrt(np.diag(covariance))


def _undetermined(law, t, y, e, multiply_by_T, reason):
    """An :class:`ArrheniusFit` of ``nan`` numbers that says why."""
    nan = float("nan")
    t0 = nan if law == "vtf" else None
    return ArrheniusFit(law, t, y, e, multiply_by_T, nan, nan, nan, nan, t0, t0, reason)


def fit_vtf(temperatures_K, values, errors=None, multiply_by_T=False, T0_guess_K=None):
    """Fit the Vogel–Tammann–Fulcher law ``y = A exp(-B/(R (T - T0)))``.

    Parameters
    ----------
    temperatures_K, values, errors : array_like, shape (n,)
        As :func:`fit_arrhenius`; at least 4 distinct temperatures.
    multiply_by_T : bool
        Fit ``value * T`` instead of ``value`` (default False: σ itself).
    T0_guess_K : float, optional
        Start value of T0 (default 0.75 of the lowest temperature).

    Returns
    -------
    ArrheniusFit
        With ``T0_K`` and ``T0_sem_K``; ``activation_*`` is B; ``reason`` when the fit
        did not converge or B or T0 is not determined.
    """
    from scipy.optimize import curve_fit

    t, y, e = _prepare(temperatures_K, values, errors, 4)
    target = np.log(y * t if multiply_by_T else y)
    sigma = None if e is None else e / y
    (log_a0, ea0), _ = _log_linear_fit(t, target, sigma)  # Arrhenius start values
    t0 = 0.75 * t.min() if T0_guess_K is None else float(T0_guess_K)

    def model(temperature, log_a, b, t_zero):
        return log_a - b / (GAS_CONSTANT_KJ_PER_MOL_K * (temperature - t_zero))

    b0 = ea0 * (1 - t0 / t.mean()) ** 2
    try:
        params, covariance = curve_fit(model, t, target, p0=(log_a0, max(b0, 1e-3), t0),
                                       sigma=sigma, absolute_sigma=sigma is not None,
                                       bounds=([-np.inf, 0.0, 0.0], [np.inf, np.inf, t.min() - 1e-6]))
    except RuntimeError:
        return _undetermined("vtf", t, y, e, multiply_by_T, undetermined_reason(float("nan"), converged=False))
    sem = np.sqrt(np.diag(covariance))
    reason = (undetermined_reason(float(params[1]), float(sem[1]), name="B", unit="kJ/mol")
              or undetermined_reason(float(params[2]), float(sem[2]), name="T0", unit="K"))
    if reason is not None:
        return _undetermined("vtf", t, y, e, multiply_by_T, reason)
    return ArrheniusFit("vtf", t, y, e, multiply_by_T, float(params[1]), float(sem[1]), float(np.exp(params[0])),
                        float(np.exp(params[0]) * sem[0]), float(params[2]), float(sem[2]))


__all__ = ["ArrheniusFit", "KJ_PER_MOL_PER_EV", "fit_arrhenius", "fit_vtf"]
