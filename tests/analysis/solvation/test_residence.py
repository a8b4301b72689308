"""Residence times: correlation kernels against brute force and constructed contacts of known lifetime."""

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.coordinates.memory import MemoryReader

from qsse_md.analysis.solvation.residence import ResidenceResult
from qsse_md.analysis.solvation.solvation import Solvation
from qsse_md.lib.statistics import block_average, blocking_analysis
from qsse_md.lib.survival import contact_autocorrelation, continuous_survival, fill_gaps, fit_exponential


def _brute(history, continuous):
    n = history.shape[1]
    norm = history.sum() / n
    out = []
    for k in range(n):
        if continuous:
            windows = sum(history[p, t:t + k + 1].all() for p in range(len(history)) for t in range(n - k))
        else:
            windows = (history[:, : n - k] & history[:, k:]).sum()
        out.append(windows / (n - k) / norm)
    return np.array(out)


def test_kernels_match_brute_force():
    history = np.random.default_rng(1).random((7, 40)) < 0.6
    np.testing.assert_allclose(contact_autocorrelation(history), _brute(history, False), atol=1e-12)
    np.testing.assert_allclose(continuous_survival(history), _brute(history, True), atol=1e-12)


def test_fill_gaps():
    row = np.array([[1, 0, 1, 0, 0, 1, 0, 0]], dtype=bool)
    assert fill_gaps(row, 0).astype(int).tolist() == [[1, 0, 1, 0, 0, 1, 0, 0]]
    assert fill_gaps(row, 1).astype(int).tolist() == [[1, 1, 1, 0, 0, 1, 0, 0]]
    assert fill_gaps(row, 2).astype(int).tolist() == [[1, 1, 1, 1, 1, 1, 0, 0]]  # trailing gap stays open
    with pytest.raises(ValueError):
        fill_gaps(row, -1)


def test_geometric_lifetimes_give_the_known_decay_time():
    rng = np.random.default_rng(2)
    p_leave, n_pairs, n_frames = 0.1, 3000, 300
    history = np.zeros((n_pairs, n_frames), dtype=bool)
    state = rng.random(n_pairs) < 0.5
    for t in range(n_frames):  # two-state Markov chain, equal on/off rates
        history[:, t] = state
        flip = rng.random(n_pairs) < p_leave
        state = state ^ flip
    tau = -1.0 / np.log(1 - p_leave)  # frames
    lags = np.arange(n_frames) * 0.5  # ps
    fit = fit_exponential(lags[:60], continuous_survival(history)[:60])
    assert fit.reason is None and fit.tau == pytest.approx(0.5 * tau, rel=0.05)
    # intermittent correlation of a symmetric telegraph process: (1 + (1 - 2p)^k) / 2
    expected = 0.5 * (1 + (1 - 2 * p_leave) ** np.arange(30))
    np.testing.assert_allclose(contact_autocorrelation(history)[:30], expected, atol=0.02)


def test_exponential_decay_inside_the_span_gives_its_time_within_1_percent():
    lags = np.arange(81) * 0.5  # 40 ps
    fit = fit_exponential(lags, np.exp(-lags / 5.0), unit="ps")
    assert fit.reason is None
    assert fit.tau == pytest.approx(5.0, rel=0.01) and fit.parameters[1] == fit.tau
    assert 0 <= fit.tau_sem < 0.01 * fit.tau


@pytest.mark.parametrize("tau_ps", [60.0, 500.0, 535759.0])
def test_decay_time_longer_than_the_span_is_not_determined(tau_ps):
    lags = np.arange(81) * 0.5  # 40 ps
    fit = fit_exponential(lags, np.exp(-lags / tau_ps), unit="ps")
    assert np.isnan(fit.tau) and np.isnan(fit.tau_sem) and np.all(np.isnan(fit.parameters))
    assert fit.reason.startswith("tau ") and fit.reason.endswith("lies outside the 0-40 ps covered by the data")


def test_decay_time_with_error_above_its_value_is_not_determined():
    lags = np.arange(21) * 2.0
    zigzag = 0.3 * (-1.0) ** np.arange(len(lags))  # frame-to-frame noise as large as the decay itself
    fit = fit_exponential(lags, np.exp(-lags / 2.0) + zigzag, unit="ps")
    assert np.isnan(fit.tau)
    assert fit.reason == "the standard error 0.975 ps exceeds tau 0.8077 ps"
    fit = fit_exponential(lags, np.exp(-lags / 2.0) + zigzag / 3, unit="ps")
    assert fit.reason is None and fit.tau_sem < fit.tau


def test_residence_result_reports_undetermined_fits_with_their_reason():
    import matplotlib

    matplotlib.use("Agg")
    lags = np.arange(81) * 0.5
    result = ResidenceResult(lags, {"fast": np.exp(-lags / 5.0), "EC": np.exp(-lags / 535759.0)},
                             "autocorrelation", 0)
    assert result.fit_times_ps["fast"] == pytest.approx(5.0, rel=0.01) and result.fit_reasons["fast"] is None
    assert np.isnan(result.fit_times_ps["EC"]) and "lies outside the 0-40 ps" in result.fit_reasons["EC"]
    labels = [line.get_label() for line in result.plot().get_lines()]
    assert any(label.startswith("EC: tau not determined: tau ") for label in labels)
    assert sum(label.startswith("fast fit: tau 5 ") for label in labels) == 1


def test_exchange_check_warns_when_the_run_spans_few_exchange_times():
    lags = np.arange(201) * 0.5
    curves = {"fast": np.exp(-lags / 5.0), "slow": np.exp(-lags / 60.0),
              "frozen": np.exp(-lags / 1e6), "absent": np.full(lags.shape, np.nan)}
    checks = ResidenceResult(lags, curves, "autocorrelation", 0).exchange_check(100.0)
    assert checks["fast"]["exchange_time_ps"] == pytest.approx(5.0, abs=0.5)
    assert checks["fast"]["exchanges_in_run"] == pytest.approx(20.0, rel=0.1)
    assert checks["fast"]["warning"] is None
    assert checks["slow"]["exchanges_in_run"] == pytest.approx(100.0 / 60.0, rel=0.02)
    assert checks["slow"]["warning"].startswith("Li+-slow shells exchange in 60 ps, only 1.7 times")
    assert checks["frozen"]["exchange_time_ps"] is None
    assert "never decorrelated" in checks["frozen"]["warning"]
    assert checks["absent"]["warning"] is None
    assert all("\n" not in (c["warning"] or "") for c in checks.values())


def _one_contact_universe(present):
    """One Li and one EC oxygen that sits 2 Å away in the frames where ``present`` is true."""
    universe = mda.Universe.empty(2, n_residues=2, atom_resindex=[0, 1], trajectory=True)
    coordinates = np.zeros((len(present), 2, 3), dtype=np.float32)
    coordinates[:, 0] = 5.0
    coordinates[:, 1] = [(7.0 if on else 12.0, 5.0, 5.0) for on in present]
    universe.load_new(coordinates, format=MemoryReader, dimensions=[20, 20, 20, 90, 90, 90], dt=2.0)
    return universe


def test_residence_in_ps_from_a_constructed_contact():
    universe = _one_contact_universe([1, 1, 1, 1, 0, 0, 0, 0])
    solvation = Solvation(universe.atoms[[0]], {"EC": universe.atoms[[1]]}, cutoffs_angstrom=2.5, molecule="residue").run()
    result = solvation.results.residence
    expected = np.array([(4 - k) / (8 - k) / 0.5 if k < 4 else 0.0 for k in range(8)])
    np.testing.assert_allclose(result.curves["EC"], expected, atol=1e-12)
    np.testing.assert_allclose(result.lags_ps, 2.0 * np.arange(8))
    assert solvation.results.residence_times_ps["EC"] == pytest.approx(8.0)  # first lag below 1/e: 4 frames
    assert list(result.to_dataframe().columns) == ["lag_ps", "EC"]


def test_intermittency_closes_a_one_frame_gap():
    gapped = _one_contact_universe([1, 1, 0, 1, 1, 0, 0, 0, 0, 0])
    solid = _one_contact_universe([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    run = [Solvation(u.atoms[[0]], {"EC": u.atoms[[1]]}, cutoffs_angstrom=2.5, molecule="residue").run() for u in (gapped, solid)]
    for method in ("autocorrelation", "survival"):
        closed = run[0].residence(intermittency=1, method=method).curves["EC"]
        np.testing.assert_allclose(closed, run[1].residence(method=method).curves["EC"], atol=1e-12)
    assert run[0].residence(method="survival").curves["EC"][2] == 0.0


def test_block_average():
    mean, sem = block_average(np.arange(10.0), n_blocks=5)
    assert mean == pytest.approx(4.5)
    assert sem == pytest.approx(np.std([0.5, 2.5, 4.5, 6.5, 8.5], ddof=1) / np.sqrt(5))
    assert np.isnan(block_average([1.0], n_blocks=5)[1])
    n_values, sems, _ = blocking_analysis(np.random.default_rng(0).standard_normal(1024))
    assert n_values[0] == 1024 and n_values[1] == 512
    assert sems[0] == pytest.approx(1 / 32, rel=0.1)
