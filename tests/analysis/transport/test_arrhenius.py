"""Arrhenius and VTF fits recover known parameters."""

import numpy as np
import pytest

from qsse_md.analysis.transport.arrhenius import KJ_PER_MOL_PER_EV, fit_arrhenius, fit_vtf
from qsse_md.units import GAS_CONSTANT_KJ_PER_MOL_K as R


def test_exact_arrhenius_sigma_t():
    t = np.array([300.0, 325.0, 350.0, 375.0, 400.0])
    sigma = 5e3 * np.exp(-25.0 / (R * t)) / t
    fit = fit_arrhenius(t, sigma)
    assert fit.activation_kJ_per_mol == pytest.approx(25.0, rel=1e-9)
    assert fit.activation_sem_kJ_per_mol < 1e-6
    assert fit.prefactor == pytest.approx(5e3, rel=1e-8)
    assert fit.activation_eV == pytest.approx(25.0 / 96.4853321, rel=1e-8)
    assert KJ_PER_MOL_PER_EV == pytest.approx(96.4853321, rel=1e-9)
    assert np.allclose(fit.predict(t), sigma)


def test_noisy_arrhenius_with_errors_covers_truth():
    rng = np.random.default_rng(0)
    t = np.linspace(280.0, 420.0, 8)
    d = 1e3 * np.exp(-20.0 / (R * t))
    errors = 0.03 * d
    fit = fit_arrhenius(t, d * (1 + 0.03 * rng.standard_normal(8)), errors, multiply_by_T=False)
    assert abs(fit.activation_kJ_per_mol - 20.0) < 3 * fit.activation_sem_kJ_per_mol
    assert 0 < fit.activation_sem_kJ_per_mol < 2.0


def test_exact_vtf():
    t = np.array([260.0, 290.0, 320.0, 350.0, 380.0, 410.0])
    sigma = 2.0 * np.exp(-6.0 / (R * (t - 200.0)))
    fit = fit_vtf(t, sigma)
    assert fit.activation_kJ_per_mol == pytest.approx(6.0, rel=1e-4)
    assert fit.T0_K == pytest.approx(200.0, rel=1e-4)
    assert fit.to_dict()["T0_K"] == pytest.approx(200.0, rel=1e-4)


def test_plot():
    import matplotlib

    matplotlib.use("Agg")
    t = np.array([300.0, 350.0, 400.0])
    ax = fit_arrhenius(t, np.exp(-10 / (R * t))).plot()
    assert ax.get_yscale() == "log"
    assert ax.get_legend_handles_labels()[1][0].startswith("arrhenius: 12.9 ± ")


@pytest.mark.parametrize("t, values, message", [
    ([300.0, 350.0], [1.0, 2.0], "at least 3"),
    ([300.0, 300.0, 350.0], [1.0, 2.0, 3.0], "distinct"),
    ([300.0, np.nan, 350.0], [1.0, 2.0, 3.0], "temperatures must be finite"),
    ([300.0, 320.0, 350.0], [1.0, -2.0, 3.0], "positive"),
    ([300.0, 320.0, 350.0], [1.0, 2.0], "equal length"),
])
def test_bad_input(t, values, message):
    with pytest.raises(ValueError, match=message):
        fit_arrhenius(t, values)


def test_vtf_needs_four_temperatures():
    with pytest.raises(ValueError, match="at least 4"):
        fit_vtf([300.0, 320.0, 350.0], [1.0, 2.0, 3.0])


def test_activation_energy_with_error_above_its_value_is_not_determined():
    import matplotlib

    matplotlib.use("Agg")
    fit = fit_arrhenius([300.0, 350.0, 400.0], [1.0, 1.3, 0.9], multiply_by_T=False)
    assert fit.reason == "the standard error 3.69 kJ/mol exceeds Ea -0.7468 kJ/mol"
    assert np.isnan(fit.activation_kJ_per_mol) and np.isnan(fit.activation_eV) and np.isnan(fit.prefactor)
    record = fit.to_dict()
    assert record["reason"] == fit.reason
    assert record["activation_kJ_per_mol"] is None and record["prefactor"] is None and record["T0_K"] is None
    ax = fit.plot()
    assert [text.get_text() for text in ax.texts] == [f"arrhenius not determined: {fit.reason}"]
    assert not any(line.get_label().startswith("arrhenius:") for line in ax.get_lines())


def test_vtf_without_temperature_dependence_is_not_determined():
    fit = fit_vtf([260.0, 290.0, 320.0, 350.0], [1.0, 1.3, 0.9, 1.1])
    assert fit.reason.startswith("the standard error 0.132 kJ/mol exceeds B ")
    assert np.isnan(fit.T0_K) and fit.to_dict()["T0_K"] is None


def test_vtf_that_does_not_converge_says_so(monkeypatch):
    import scipy.optimize

    def no_convergence(*args, **kwargs):
        raise RuntimeError("Optimal parameters not found: The maximum number of function evaluations is exceeded.")

    monkeypatch.setattr(scipy.optimize, "curve_fit", no_convergence)
    t = np.array([260.0, 290.0, 320.0, 350.0])
    fit = fit_vtf(t, 2.0 * np.exp(-6.0 / (R * (t - 200.0))))
    assert fit.reason == "the fit did not converge" and np.isnan(fit.activation_kJ_per_mol)
