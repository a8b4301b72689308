"""X-ray S(q): form factors, fcc Bragg peaks, ideal gas, direct sum against the RDF transform."""

import warnings

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.coordinates.memory import MemoryReader

from qsse_md.analysis.crystallization.scattering import StructureFactor
from qsse_md.lib.scattering import CROMER_MANN, form_factor, reciprocal_vectors, two_theta_degrees

ATOMIC_NUMBER = {"H": 1, "Li": 3, "B": 5, "C": 6, "N": 7, "O": 8, "F": 9, "Na": 11, "P": 15, "S": 16, "Cl": 17}


def _universe(frames, box, elements):
    universe = mda.Universe.empty(len(elements), trajectory=True)
    universe.add_TopologyAttr("elements", elements)
    universe.load_new(np.array(frames, dtype=np.float32), format=MemoryReader,
                      dimensions=np.array([list(box) + [90.0] * 3] * len(frames)))
    return universe


def _hard_spheres(rng, n, box, diameter):
    """Random sequential addition of non-overlapping spheres (a structured liquid-like frame)."""
    points = np.empty((0, 3))
    while len(points) < n:
        trial = rng.random(3) * box
        delta = points - trial
        delta -= box * np.rint(delta / box)
        if len(points) == 0 or np.einsum("ij,ij->i", delta, delta).min() > diameter ** 2:
            points = np.vstack([points, trial])
    return points


def test_form_factors_and_angles():
    for element in ("H", "C", "N", "O", "F", "P", "S", "Li"):
        assert form_factor(element, 0.0) == pytest.approx(ATOMIC_NUMBER[element], abs=0.01)
    assert set(ATOMIC_NUMBER) == set(CROMER_MANN)
    assert form_factor("C", 4 * np.pi * 0.5) == pytest.approx(1.69, abs=0.01)  # ITC Vol. C Table 6.1.1.1
    assert two_theta_degrees(4 * np.pi / 1.5406 * np.sin(np.radians(10.0))) == pytest.approx(20.0)
    assert np.isnan(two_theta_degrees(9.0))
    with pytest.raises(ValueError, match="no Cromer-Mann"):
        form_factor("Xx", 1.0)
    assert len(reciprocal_vectors([10, 10, 10, 90, 90, 90], 0.1, 1.3)) == 16  # |hkl|^2 = 1..4, one of ±q


def test_fcc_bragg_peaks_positions_and_intensities():
    a, n = 4.0, 4
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.array([[i, j, k] for i in range(n) for j in range(n) for k in range(n)])
    positions = (cells[:, None, :] + basis[None]).reshape(-1, 3) * a
    universe = _universe([positions], [a * n] * 3, ["C"] * len(positions))
    with pytest.warns(UserWarning, match="clipped"):
        r = StructureFactor(universe.atoms, q_range=(0.5, 6.0), direct=True, max_vectors_per_bin=10 ** 6).run().results
    n_atoms = len(positions)
    total = r.direct_i_q * r.direct_n_vectors / n_atoms  # sum over the shell's vectors of |A|^2 / N^2
    peaks = np.flatnonzero(total > 0.5 * form_factor("C", r.direct_q) ** 2)
    # fcc reflections hkl all odd or all even: (111) (200) (220) (311) (222) (400), one of each ±q
    expected = {3: 4, 4: 3, 8: 6, 11: 12, 12: 4, 16: 3}
    q_hkl = 2 * np.pi / a * np.sqrt(np.array(sorted(expected)))
    assert len(peaks) == len(expected)
    width = 2 * np.pi / (a * n)
    assert np.all(np.abs(r.direct_q[peaks] - q_hkl) < width / 2)
    intensity = total[peaks] / form_factor("C", q_hkl) ** 2  # Bragg vectors per shell, times f(q_hkl)^2 removed
    assert np.allclose(intensity, [expected[k] for k in sorted(expected)], rtol=1e-4)


def test_ideal_gas_is_one():
    rng = np.random.default_rng(1)
    frames = [rng.random((1200, 3)) * 30.0 for _ in range(3)]
    universe = _universe(frames, [30.0] * 3, ["C"] * 800 + ["O"] * 400)
    groups = {"a": universe.atoms[:600], "b": universe.atoms[600:]}
    r = StructureFactor(groups, q_range=(1.0, 5.0), direct=True, max_vectors_per_bin=100).run().results
    assert np.abs(r.s_q - 1).max() < 0.1 and abs(np.mean(r.s_q) - 1) < 0.01
    assert abs(np.mean(r.direct_s_q) - 1) < 0.03
    assert sorted(r.partials) == ["a-a", "a-b", "b-b"]
    assert np.allclose(1 + sum(r.partials.values()), r.s_q)


def test_direct_agrees_with_rdf_transform():
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(2)
    frames = [_hard_spheres(rng, 450, 24.0, 2.6) for _ in range(3)]
    universe = _universe(frames, [24.0] * 3, ["C"] * 300 + ["O"] * 150)
    analysis = StructureFactor(universe.atoms, q_range=(0.9, 6.0), direct=True, max_vectors_per_bin=300).run()
    r = analysis.results
    assert r.s_q.max() > 1.3  # a real first peak
    assert np.abs(r.direct_s_q - np.interp(r.direct_q, r.q, r.s_q)).max() < 0.12
    assert list(analysis.to_dataframe().columns[:4]) == ["q_inv_angstrom", "two_theta_deg", "S", "I_e2_per_atom"]
    assert analysis.plot(axis="two_theta").get_ylabel() == "S(q)"


def test_bad_input():
    universe = _universe([np.random.default_rng(0).random((20, 3)) * 20], [20.0] * 3, ["C"] * 19 + ["Xe"])
    with pytest.raises(ValueError, match="no form factor"):
        StructureFactor(universe.atoms, q_range=(1.0, 5.0))
    with pytest.raises(ValueError, match="outside what"):
        StructureFactor(universe.atoms[:19], q_range=(200.0, 300.0))
    with pytest.raises(ValueError, match="overlap"):
        StructureFactor({"a": universe.atoms[:10], "b": universe.atoms[5:15]}, q_range=(1.0, 5.0))


@pytest.mark.parametrize("dimensions", [[20.0, 22.0, 24.0, 90.0, 90.0, 90.0], [20.0, 22.0, 24.0, 80.0, 95.0, 100.0]])
def test_typed_histogram_backends_agree(dimensions):
    from qsse_md.lib.scattering import typed_pair_histogram

    rng = np.random.default_rng(3)
    positions, types = rng.random((300, 3)) * 25.0 - 2.0, rng.integers(0, 3, 300)
    edges = np.linspace(0.0, 8.0, 81)
    reference = typed_pair_histogram(positions, types, 3, edges, dimensions, backend="numpy")
    for n_threads in (1, 2, 3):
        fast = typed_pair_histogram(positions, types, 3, edges, dimensions, n_threads=n_threads)
        assert np.array_equal(fast, reference) and np.array_equal(fast, fast.transpose(1, 0, 2))


def test_agrees_with_freud_debye_on_solvation_analysis_lipf6_data():
    """One element (F of PF6 and FEC in bn_fec): our Lorch-windowed transform of g(r) and
    freud's Debye sum over minimum-image pairs give the same S(q) above 2 Å⁻¹."""
    import importlib.resources

    freud = pytest.importorskip("freud")
    folder = importlib.resources.files("solvation_analysis") / "tests/data/bn_fec_data"
    universe = mda.Universe(str(folder / "bn_fec.data"), str(folder / "bn_fec_short_wrap.dcd"))
    fluorine = universe.select_atoms("mass 18.0 to 20.0")
    universe.add_TopologyAttr("elements", ["F" if atom in fluorine else "X" for atom in universe.atoms])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = StructureFactor({"F": fluorine}, q_range=(1.0, 5.0), n_q=161).run()
    debye = freud.diffraction.StaticStructureFactorDebye(num_k_values=161, k_max=5.0, k_min=1.0)
    for ts in universe.trajectory:
        debye.compute((freud.box.Box.from_box(ts.dimensions[:3]), fluorine.positions), reset=False)
    k = debye.k_values
    difference = (np.interp(k, ours.results.q, ours.results.s_q) - debye.S_k)[k > 2.0]
    assert np.sqrt(np.mean(difference ** 2)) < 0.015
    assert np.abs(difference).max() < 0.05
