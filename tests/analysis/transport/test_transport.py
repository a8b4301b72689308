"""Transport analyzer against exact answers and against MDAnalysis, tidynamics and kinisi."""

import warnings

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.coordinates.memory import MemoryReader

from qsse_md.analysis.transport.transport import Transport
from qsse_md.analysis.transport.transport_core import D_UNIT, compute_transport

D_TRUE = 0.05  # Å^2/ps = 5e-10 m^2/s


def _universe(coordinates, edges, names, charges=None, dt=1.0, velocities=None, residues=None):
    """Memory universe of single-atom residues (or ``residues`` index) with a cubic box per frame."""
    n_frames, n_atoms, _ = coordinates.shape
    resindex = np.arange(n_atoms) if residues is None else np.asarray(residues)
    universe = mda.Universe.empty(n_atoms, n_residues=resindex.max() + 1, atom_resindex=resindex, trajectory=True,
                                  velocities=velocities is not None)
    universe.add_TopologyAttr("name", names)
    universe.add_TopologyAttr("masses", np.ones(n_atoms))
    if charges is not None:
        universe.add_TopologyAttr("charges", charges)
    edges = np.broadcast_to(np.asarray(edges, dtype=float), (n_frames,))
    dimensions = np.column_stack((edges, edges, edges, np.full((n_frames, 3), 90.0))).astype(np.float32)
    universe.load_new(coordinates.astype(np.float32), format=MemoryReader, dimensions=dimensions, dt=dt,
                      velocities=None if velocities is None else velocities.astype(np.float32))
    return universe


def _brownian(n_frames, n_atoms, seed, d=D_TRUE, dt=1.0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(scale=np.sqrt(2 * d * dt), size=(n_frames, n_atoms, 3)), axis=0)


def _ions(true, box, **kwargs):
    n = true.shape[1] // 2
    names = ["A"] * n + ["B"] * n
    return _universe(true % box, box, names, charges=[1.0] * n + [-1.0] * n, **kwargs)


def test_brownian_wrapped_gives_known_d_within_3_percent():
    box = 30.0
    true = _brownian(2000, 600, 0) + np.random.default_rng(9).random((1, 600, 3)) * box
    universe = _universe(true % box, box, ["A"] * 600)
    result = Transport(universe, {"A": "name A"}, remove_drift=False).run().results
    record = result.diffusion["A"]
    assert record["D_1e-10_m2_per_s"] == pytest.approx(D_TRUE * D_UNIT, rel=0.03)
    assert abs(record["loglog_slope"] - 1) < 0.05
    assert 0 < record["sem_1e-10_m2_per_s"] < 0.03 * D_TRUE * D_UNIT
    assert np.allclose(record["D_xyz_1e-10_m2_per_s"], D_TRUE * D_UNIT, rtol=0.05)


def test_npt_scaled_boxes_give_known_d_and_exact_unwrapping():
    rng = np.random.default_rng(3)
    n_frames, n_atoms = 2000, 400
    edges = 25.0 * (1 + 0.01 * np.sin(np.arange(n_frames) / 15.0) + 0.002 * rng.standard_normal(n_frames))
    wrapped = np.empty((n_frames, n_atoms, 3))
    wrapped[0] = rng.random((n_atoms, 3)) * edges[0]
    path = wrapped[0].copy()
    for i in range(1, n_frames):
        scaled = wrapped[i - 1] * edges[i] / edges[i - 1]
        step = rng.normal(scale=np.sqrt(2 * D_TRUE), size=(n_atoms, 3))
        path += scaled - wrapped[i - 1] + step
        wrapped[i] = (scaled + step) % edges[i]
    universe = _universe(wrapped, edges, ["A"] * n_atoms)
    analysis = Transport(universe, {"A": "name A"}, remove_drift=False).run()
    assert np.max(np.abs(analysis._centres[-1] - path)) < 1e-3  # float32 input positions
    assert analysis.results.diffusion["A"]["D_1e-10_m2_per_s"] == pytest.approx(D_TRUE * D_UNIT, rel=0.03)


def test_independent_ions_collective_equals_nernst_einstein():
    box = 30.0
    true = _brownian(3000, 200, 1) + np.random.default_rng(8).random((1, 200, 3)) * box
    result = Transport(_ions(true, box), {"A": "name A", "B": "name B"}, temperature_K=300.0,
                       remove_drift=False).run().results
    c = result.conductivity
    error = np.hypot(c["sigma_sem_S_per_cm"], c["sigma_NE_sem_S_per_cm"])
    assert abs(c["sigma_S_per_cm"] - c["sigma_NE_S_per_cm"]) < 3 * error
    assert c["sigma_sem_S_per_cm"] < 0.5 * c["sigma_S_per_cm"]
    # NE is exact for the known D: e^2 / (V kT) * N * D summed over both species
    assert c["sigma_NE_S_per_cm"] == pytest.approx(0.2295, rel=0.05)
    onsager = c["onsager_S_per_cm"]
    assert onsager["A-A"]["self"] == pytest.approx(c["sigma_NE_S_per_cm"] / 2, rel=0.1)
    assert abs(onsager["A-B"]["total"]) < 3 * onsager["A-B"]["sem"]


def test_bound_pairs_have_no_collective_conductivity():
    box = 30.0
    rng = np.random.default_rng(2)
    cations = _brownian(1000, 100, 2) + rng.random((1, 100, 3)) * box
    anions = cations + rng.normal(scale=1.0, size=(1, 100, 3))  # rigidly attached partner
    true = np.concatenate((cations, anions), axis=1)
    c = Transport(_ions(true, box), {"A": "name A", "B": "name B"}, temperature_K=300.0,
                  remove_drift=False).run().results.conductivity
    assert c["sigma_NE_S_per_cm"] > 0.1
    # sigma is zero up to float rounding (~1e-16 S/cm): either that tiny value or "not determined"
    if c["sigma_S_per_cm"] is None:
        assert "exceeds sigma" in c["sigma_reason"] and c["haven_ratio"] is None
    else:
        assert abs(c["sigma_S_per_cm"]) < 1e-6 * c["sigma_NE_S_per_cm"]
        assert abs(c["haven_ratio"]) > 1e5


def test_transference_exact_for_constructed_cases():
    box = 30.0
    rng = np.random.default_rng(4)
    cations = _brownian(600, 50, 4) + rng.random((1, 50, 3)) * box
    anions = np.broadcast_to(rng.random((1, 50, 3)) * box, cations.shape)  # immobile anions: t+ = 1
    still = Transport(_ions(np.concatenate((cations, anions), axis=1), box), {"A": "name A", "B": "name B"},
                      temperature_K=300.0, remove_drift=False).run().results.conductivity
    assert still["t_plus"] == pytest.approx(1.0, abs=1e-9)
    mirrored = 2 * box - cations  # anion displacements = -cation displacements: t+ = 1/2
    result = Transport(_ions(np.concatenate((cations, mirrored), axis=1), box), {"A": "name A", "B": "name B"},
                       temperature_K=300.0, remove_drift=False).run().results.conductivity
    assert result["t_plus"] == pytest.approx(0.5, abs=1e-6)


def test_msd_equals_einstein_msd_and_tidynamics():
    from MDAnalysis.analysis.msd import EinsteinMSD

    true = _brownian(500, 20, 5) + 15.0  # unwrapped input: unchanged by unwrapping
    universe = _universe(true, 1000.0, ["A"] * 20)
    mine = Transport(universe, {"A": "name A"}, compound="atoms", remove_drift=False).run().results
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = EinsteinMSD(universe, select="name A", msd_type="xyz", fft=True).run().results.timeseries
    assert np.max(np.abs(mine.msd_angstrom2["A"] - reference)) / np.max(reference) < 1e-10
    assert np.allclose(mine.msd_angstrom2["A"][1:], reference[1:], rtol=1e-10, atol=0)
    tidynamics = pytest.importorskip("tidynamics")
    positions = universe.trajectory.timeseries(order="fac").astype(np.float64)
    expected = np.mean([tidynamics.msd(positions[:, i]) for i in range(20)], axis=0)
    assert np.allclose(mine.msd_angstrom2["A"][1:], expected[1:], rtol=1e-10, atol=0)


def test_molecule_centres_of_mass_and_drift_removal():
    rng = np.random.default_rng(6)
    n_frames, n_mol, box = 400, 60, 20.0
    centres = _brownian(n_frames, n_mol, 6) + rng.random((1, n_mol, 3)) * box
    offsets = np.array([[0.0, 0.0, 0.0], [1.2, 0.0, 0.0], [-1.2, 0.0, 0.0]])  # symmetric rigid triatomic
    atoms = (centres[:, :, None, :] + offsets).reshape(n_frames, 3 * n_mol, 3)
    drift = np.arange(n_frames)[:, None, None] * np.array([0.3, 0.0, 0.0])  # the whole box drifts
    universe = _universe((atoms + drift) % box, box, ["X", "Y", "Y"] * n_mol, residues=np.repeat(np.arange(n_mol), 3))
    analysis = Transport(universe, {"M": "all"}).run()
    moved = analysis._centres - analysis._centres[0]
    relative = centres - centres.mean(axis=1, keepdims=True)  # drift removal: relative to the system COM
    assert np.max(np.abs(moved - (relative - relative[0]))) < 1e-3
    assert analysis.results.diffusion["M"]["D_1e-10_m2_per_s"] == pytest.approx(D_TRUE * D_UNIT, rel=0.1)


def test_green_kubo_matches_einstein_for_langevin_velocities():
    rng = np.random.default_rng(7)
    n_frames, n_atoms, dt, tau, sigma_v = 4000, 100, 0.1, 1.0, 0.5
    a = np.exp(-dt / tau)
    v = np.empty((n_frames, n_atoms, 3))
    v[0] = rng.normal(scale=sigma_v, size=(n_atoms, 3))
    for i in range(1, n_frames):
        v[i] = a * v[i - 1] + np.sqrt(1 - a * a) * sigma_v * rng.normal(size=(n_atoms, 3))
    x = np.concatenate((np.zeros((1, n_atoms, 3)), np.cumsum(0.5 * (v[1:] + v[:-1]) * dt, axis=0)))
    n = n_atoms // 2
    universe = _universe(x + 50.0, 1000.0, ["A"] * n + ["B"] * n, charges=[1.0] * n + [-1.0] * n, dt=dt,
                         velocities=v)
    result = Transport(universe, {"A": "name A", "B": "name B"}, temperature_K=300.0, remove_drift=False,
                       slope_tolerance=0.1).run().results
    gk = result.green_kubo
    for name in "AB":
        einstein = result.diffusion[name]["D_1e-10_m2_per_s"]
        assert gk["D_1e-10_m2_per_s"][name] == pytest.approx(einstein, rel=0.1)
        assert 0 < gk["D_sem_1e-10_m2_per_s"][name] < 0.1 * einstein
        start, end = gk["D_window_ps"][name]
        assert 3 * tau <= start < end <= gk["lag_ps"][-1]  # the plateau lies past the VACF decay
        xyz, xyz_sem = result.diffusion[name]["D_xyz_1e-10_m2_per_s"], result.diffusion[name]["D_xyz_sem_1e-10_m2_per_s"]
        assert all(0 < sem < 0.2 * value for value, sem in zip(xyz, xyz_sem))
    einstein, einstein_sem = result.conductivity["sigma_S_per_cm"], result.conductivity["sigma_sem_S_per_cm"]
    assert gk["sigma_sem_S_per_cm"] > 0
    assert abs(gk["sigma_S_per_cm"] - einstein) < 3 * np.hypot(gk["sigma_sem_S_per_cm"], einstein_sem)


def test_green_kubo_plateau_window_on_constructed_running_integrals():
    from qsse_md.analysis.transport._green_kubo import plateau_window

    t = np.arange(200.0)
    rng = np.random.default_rng(3)
    blocks = 1.0 - np.exp(-t / 5.0) + rng.normal(size=(5, 200)) * 0.004 * t  # spread grows linearly with t
    start, end = plateau_window(blocks)
    spread = blocks.std(axis=0, ddof=1) / np.abs(blocks.mean(axis=0))
    assert spread[end] <= 0.4 < spread[end + 1]
    assert start == end // 2
    assert plateau_window(np.ones((4, 50)))[1] == 49  # no noise: integrate to the end


def test_msd_window_spans_a_doubling_of_the_lag():
    from qsse_md.analysis.transport._msd_fit import NoDiffusiveRegime, diffusive_window

    lag = np.arange(151.0)
    caged = lag ** 0.6
    caged[-4:] = caged[-4] * lag[-4:] / lag[-4]  # the last 4 lags alone have log-log slope 1
    with pytest.raises(NoDiffusiveRegime, match="start <= 75"):
        diffusive_window(caged, 150)
    crossover = np.where(lag < 20, lag ** 0.5 * 20 ** 0.5, lag)  # caged, then diffusive from lag 20
    start, end, slope = diffusive_window(crossover, 150)
    assert start <= 75 and end == 150 and abs(slope - 1) <= 0.15


def test_green_kubo_plateau_with_error_above_its_value_is_not_determined():
    from qsse_md.analysis.transport._green_kubo import _estimate

    delta = np.zeros(10)
    delta[0] = 1.0  # running integral of a delta ACF: 0, then 0.5 (trapezoid) at every lag
    blocks = np.array([10.0, -10.0, 10.0, -10.0, 1.0])[:, None] * delta
    value, sem, reason, _, window = _estimate(0.4 * delta, blocks, 1.0, 1.0, "D", "1e-10 m2/s")
    assert window == [0.0, 1.0]  # the block spread exceeds 40 % of their mean from lag 1 on
    assert value is None and sem is None
    assert reason == "the standard error 1.12 1e-10 m2/s exceeds D 0.1 1e-10 m2/s"
    value, sem, reason, _, _ = _estimate(delta, np.ones(5)[:, None] * delta, 1.0, 1.0, "D", "1e-10 m2/s")
    assert value == pytest.approx(0.5) and sem == 0.0 and reason is None


def _moving_in_the_first_block_only(frozen, seed=0, n_frames=500):
    """Random walks of one + and one - centre (Å, 1 ps frames); the ``frozen`` ones stop after frame 100.
    A frozen walker's MSD has log-log slopes 1.18-1.32 over lags 1-50 ps, hence slope_tolerance=0.35."""
    steps = np.random.default_rng(seed).normal(scale=0.3, size=(n_frames, 2, 3))
    steps[100:, frozen] = 0.0
    return np.cumsum(steps, axis=0)


def test_diffusion_with_error_above_its_value_is_not_determined():
    import matplotlib

    from qsse_md.analysis.transport.transport_plots import diffusion_table, plot_msd

    matplotlib.use("Agg")
    out = compute_transport(_moving_in_the_first_block_only([0]), np.array([0, 1]), ["A", "B"], 1.0,
                            volume_angstrom3=1000.0, temperature_K=300.0, charges_e=[1.0, -1.0],
                            slope_tolerance=0.35)
    a, b = out["diffusion"]["A"], out["diffusion"]["B"]
    assert a["reason"] == "the standard error 1.89 1e-10 m2/s exceeds D 1.465 1e-10 m2/s"
    assert a["D_1e-10_m2_per_s"] is None and a["sem_1e-10_m2_per_s"] is None and a["fit_window_ps"] is None
    assert b["reason"] is None and 0 < b["sem_1e-10_m2_per_s"] < b["D_1e-10_m2_per_s"]
    assert out["conductivity"]["sigma_reason"] is None and out["conductivity"]["sigma_S_per_cm"] > 0
    table = diffusion_table(type("Results", (), out)).set_index("species")
    assert np.isnan(table.loc["A", "D_1e-10_m2_per_s"]) and table.loc["A", "reason"] == a["reason"]
    labels = plot_msd(type("Results", (), out)).get_legend_handles_labels()[1]
    assert labels == [f"A: D not determined: {a['reason']}", "B"]


def test_conductivity_with_error_above_its_value_is_not_determined_nor_its_ratios():
    out = compute_transport(_moving_in_the_first_block_only([0, 1]), np.array([0, 1]), ["A", "B"], 1.0,
                            volume_angstrom3=1000.0, temperature_K=300.0, charges_e=[1.0, -1.0],
                            slope_tolerance=0.35)
    conductivity = out["conductivity"]
    assert conductivity["sigma_reason"] == "the standard error 0.0356 S/cm exceeds sigma 0.02568 S/cm"
    assert conductivity["sigma_NE_reason"] == "the standard error 0.0216 S/cm exceeds sigma_NE 0.01593 S/cm"
    assert conductivity["reason"] is None
    for key in ("sigma_S_per_cm", "sigma_NE_S_per_cm", "haven_ratio", "uncorrelatedness", "t_plus"):
        assert conductivity[key] is None, key
    assert conductivity["transference"] == {"A": {"t": None, "sem": None}, "B": {"t": None, "sem": None}}


def test_kinisi_agrees_within_its_uncertainty():
    kinisi_analyze = pytest.importorskip("kinisi.analyze")
    import scipp as sc

    box = 40.0
    moving = _brownian(300, 64, 11) + np.random.default_rng(12).random((1, 64, 3)) * box
    still = np.broadcast_to(np.random.default_rng(13).random((1, 64, 3)) * box, moving.shape)
    universe = _universe(np.concatenate((moving, still), axis=1) % box, box, ["A"] * 64 + ["B"] * 64)
    universe.add_TopologyAttr("type", ["A"] * 64 + ["B"] * 64)
    mine = Transport(universe, {"A": "name A"}, drift_selection="name B").run().results.diffusion["A"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analyzer = kinisi_analyze.DiffusionAnalyzer.from_universe(
            universe, specie="A", time_step=1.0 * sc.Unit("ps"), step_skip=1 * sc.Unit("dimensionless"),
            progress=False)
        analyzer.diffusion(1.0 * sc.Unit("ps"), n_samples=300, n_burn=100, progress=False,
                           random_state=np.random.RandomState(0))
    samples = sc.to_unit(analyzer.D, "angstrom**2/ps").values
    kinisi_d, kinisi_error = np.mean(samples) * D_UNIT, np.std(samples) * D_UNIT
    assert abs(mine["D_1e-10_m2_per_s"] - kinisi_d) < 2 * np.hypot(kinisi_error, mine["sem_1e-10_m2_per_s"])
    assert abs(kinisi_d - D_TRUE * D_UNIT) < 3 * kinisi_error


def _simple(n_frames=50, charges=(1.0, -1.0)):
    true = _brownian(n_frames, 2, 0) + 5.0
    return _universe(true, 100.0, ["A", "B"], charges=charges)


@pytest.mark.parametrize("kwargs, message", [
    (dict(species={}), "no species"),
    (dict(species={"A": "name Q"}), "selects no atoms"),
    (dict(species={"A": "name A", "AB": "all"}), "overlap"),
    (dict(species={"A": "name A"}, temperature_K=300.0), "net charge"),
    (dict(species={"A": "name A", "B": "name B"}, temperature_K=-1.0), "positive"),
    (dict(species={"A": "name A"}, compound="chains"), "compound"),
    (dict(species={"A": "name A"}, charges={"Z": 1}), "unknown species"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Transport(_simple(), **kwargs)


def test_missing_charges_and_user_charge_map():
    universe = _universe(_brownian(50, 2, 0) + 5.0, 100.0, ["A", "B"])
    with pytest.raises(ValueError, match="no charges"):
        Transport(universe, {"A": "name A", "B": "name B"}, temperature_K=300.0)
    Transport(universe, {"A": "name A", "B": "name B"}, temperature_K=300.0, charges={"A": 1, "B": -1})


def test_too_few_frames():
    with pytest.raises(ValueError, match="at least 4"):
        Transport(_simple(3), {"A": "name A"}).run()
    result = Transport(_simple(12), {"A": "name A", "B": "name B"}, temperature_K=300.0).run().results
    assert result.diffusion["A"]["D_1e-10_m2_per_s"] is None
    assert "too short" in result.diffusion["A"]["reason"]
    assert result.conductivity["sigma_S_per_cm"] is None and result.conductivity["reason"]


def test_non_uniform_frame_spacing():
    universe = _simple(40)
    analysis = Transport(universe, {"A": "name A"})
    with pytest.raises(ValueError, match="non-uniform frame spacing"):
        analysis.run(frames=np.r_[np.arange(20), np.arange(21, 40, 2)])


def test_plots_and_tables():
    import matplotlib

    matplotlib.use("Agg")
    box = 30.0
    true = _brownian(300, 40, 1) + 5.0
    analysis = Transport(_ions(true, box), {"A": "name A", "B": "name B"}, temperature_K=300.0).run()
    assert analysis.plot().get_xscale() == "log"
    assert analysis.plot_conductivity() is not None
    table = analysis.to_dataframe()
    assert set(table.species) == {"A", "B"} and len(table) == 600
    record = analysis.summary()
    assert record["units"]["D"] == "1e-10 m^2/s" and "t_plus" in record["conductivity"]


def test_bn_fec_wrapped_unwraps_to_the_shipped_unwrapped_trajectory_and_matches_einstein_msd():
    datafiles = pytest.importorskip("solvation_analysis.tests.datafiles")
    from MDAnalysis.analysis.msd import EinsteinMSD

    species = {"Li": "type 22", "PF6": "type 20 or type 21"}
    runs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in ("unwrap", "wrap"):
            universe = mda.Universe(datafiles.bn_fec_data, getattr(datafiles, f"bn_fec_dcd_{key}"))
            runs[key] = Transport(universe, species, temperature_K=298.15, n_blocks=2).run()
    moved = {key: run._centres - run._centres[0] for key, run in runs.items()}
    assert np.max(np.abs(moved["wrap"] - moved["unwrap"])) < 1e-4  # float32 files
    atoms = Transport(universe, {"Li": "type 22"}, compound="atoms", remove_drift=False).run().results
    # the wrapped file unwrapped by us against EinsteinMSD on the shipped unwrapped file
    unwrapped = mda.Universe(datafiles.bn_fec_data, datafiles.bn_fec_dcd_unwrap)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = EinsteinMSD(unwrapped, select="type 22", fft=True).run().results.timeseries
    assert np.allclose(atoms.msd_angstrom2["Li"][1:], reference[1:], rtol=1e-4)
    # ten subdiffusive frames: no coefficient, with the reason
    assert runs["unwrap"].results.diffusion["Li"]["D_1e-10_m2_per_s"] is None
    assert "diffusive regime" in runs["unwrap"].results.diffusion["Li"]["reason"]


def test_per_frame_kernel_equals_the_general_path(monkeypatch):
    import qsse_md.analysis.transport.transport as transport_module

    rng = np.random.default_rng(11)
    n_frames, n_mol, box = 60, 20, 15.0
    centres = _brownian(n_frames, n_mol, 11) + rng.random((1, n_mol, 3)) * box
    atoms = (centres[:, :, None, :] + np.array([[0.0, 0.0, 0.0], [1.0, 0.3, 0.0]])).reshape(n_frames, -1, 3)
    universe = _universe(atoms % box, box, ["X", "Y"] * n_mol, residues=np.repeat(np.arange(n_mol), 2))
    options = [({"M": "all"}, {}), ({"X": "name X"}, {"remove_drift": False})]  # all atoms; a subset
    kernel = [Transport(universe, species, **kwargs).run() for species, kwargs in options]
    monkeypatch.setattr(transport_module, "frame_orthorhombic", lambda *args: -1.0)  # forces the general path
    general = [Transport(universe, species, **kwargs).run() for species, kwargs in options]
    for fast, reference in zip(kernel, general):
        assert np.array_equal(fast._centres, reference._centres)
