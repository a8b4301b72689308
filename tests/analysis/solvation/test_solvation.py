"""Solvation shells: exact answers on a constructed box, bad input, and solvation_analysis on its data."""

import importlib.util
import warnings

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.coordinates.memory import MemoryReader

from qsse_md.analysis.solvation.solvation import Solvation

BOX = 20.0
# atoms: 5 Li | EC1 O, EC2 O | polymer O_a C_a C_b O_b (2 residues, 1 chain) | PF6 A: P F F | PF6 B: P F
NAMES = ["Li"] * 5 + ["O", "O"] + ["O", "C", "C", "O"] + ["P", "F", "F"] + ["P", "F"]
RESINDEX = [0, 1, 2, 3, 4, 5, 6, 7, 7, 8, 8, 9, 9, 9, 10, 10]
FRAME0 = [(5, 5, 5), (15, 5, 5), (5, 15, 15), (9, 15, 15), (0.5, 10, 10),
          (3, 5, 5), (19.0, 10, 10),
          (7, 5, 5), (8, 6.5, 5), (6.5, 8, 5), (5, 7, 5),
          (16, 6, 5), (17, 5, 5), (15, 7, 5),
          (7, 16.5, 15), (7, 15, 15)]


def _universe(n_frames=2, with_box=True):
    """Two frames; in frame 1 PF6 A (atoms 11-13) moves 5 Å away from Li1."""
    universe = mda.Universe.empty(len(NAMES), n_residues=11, atom_resindex=RESINDEX, trajectory=True)
    universe.add_TopologyAttr("name", NAMES)
    universe.add_TopologyAttr("resname", ["LI"] * 5 + ["EC", "EC", "POL", "POL", "PF6", "PF6"])
    universe.add_TopologyAttr("bonds", [(8, 7), (8, 9), (9, 10), (11, 12), (11, 13), (14, 15)])
    coordinates = np.repeat(np.array(FRAME0, dtype=np.float32)[None], n_frames, axis=0)
    coordinates[1:, 11:14, 2] += 5.0
    dimensions = np.array([BOX, BOX, BOX, 90, 90, 90], dtype=np.float32) if with_box else None
    universe.load_new(coordinates, format=MemoryReader, dimensions=dimensions, dt=2.0)
    return universe


def _solvation(universe, **kwargs):
    atoms = universe.atoms
    partners = {"EC": atoms[[5, 6]], "polymer": atoms[[7, 10]], "PF6": atoms[[12, 13, 15]]}
    groups = {"polymer C=O": atoms[[7, 10]], "solvent C=O": atoms[[5, 6]], "anion F": atoms[[12, 13, 15]]}
    options = dict(cutoffs_angstrom=2.5, groups=groups, anions=["PF6"])
    options.update(kwargs)
    return Solvation(atoms[:5], partners, **options)


@pytest.fixture(scope="module")
def constructed():
    return _solvation(_universe()).run()


def test_coordination_three_ways(constructed):
    r = constructed.results
    assert r.coordination_numbers == pytest.approx({"EC": 0.4, "polymer": 0.4, "PF6": 0.5})
    assert r.group_coordination_numbers == pytest.approx({"polymer C=O": 0.4, "solvent C=O": 0.4, "anion F": 0.6})
    # the chain binds Li0 with two carbonyls: 2 groups, 2 residues, 1 molecule
    assert r.molecule_coordination_numbers == pytest.approx({"EC": 0.4, "polymer": 0.2, "PF6": 0.5})
    by_frame = r.coordination_by_frame
    assert list(by_frame[("species", "PF6")]) == pytest.approx([0.6, 0.4])
    assert list(by_frame[("group", "anion F")]) == pytest.approx([0.8, 0.4])
    dist = r.coordination_distribution
    pf6 = dist[(dist["counting"] == "species") & (dist["label"] == "PF6")]
    assert list(pf6["probability"]) == pytest.approx([0.5, 0.5])
    assert set(r.coordination.columns) == {"counting", "label", "mean", "sem"}


def test_residue_mode_counts_chain_residues():
    r = _solvation(_universe(), molecule="residue").run().results
    assert r.molecule_coordination_numbers["polymer"] == pytest.approx(0.4)


def test_compositions(constructed):
    table = constructed.results.compositions.set_index("composition")
    assert table["fraction"].to_dict() == pytest.approx({"1 PF6": 0.5, "1 EC + 2 polymer": 0.2, "1 EC": 0.2,
                                                         "empty": 0.1})
    assert table["fraction_of_frames"].to_dict() == pytest.approx({"1 PF6": 1.0, "1 EC + 2 polymer": 1.0,
                                                                   "1 EC": 1.0, "empty": 0.5})
    assert constructed.results.compositions["composition"].iloc[0] == "1 PF6"
    groups = constructed.results.group_compositions.set_index("composition")["fraction"]
    assert groups["2 anion F"] == pytest.approx(0.1) and groups["2 polymer C=O + 1 solvent C=O"] == pytest.approx(0.2)


def test_ion_pairing_and_clusters(constructed):
    r = constructed.results
    assert r.ion_pairing == pytest.approx({"SSIP": 0.5, "CIP": 0.1, "AGG": 0.4})
    assert r.ion_pairing_status.tolist() == [[0, 1, 2, 2, 0], [0, 0, 2, 2, 0]]
    assert r.ion_pairing_by_frame["CIP"].tolist() == pytest.approx([0.2, 0.0])
    sizes = r.cluster_sizes.set_index("n_solutes")
    assert sizes["n_clusters"].to_dict() == {1: 6, 2: 2}
    assert sizes["fraction_of_solutes"].to_dict() == pytest.approx({1: 0.6, 2: 0.4})
    frame0 = r.clusters[r.clusters["frame"] == 0]
    assert sorted(zip(frame0["n_solutes"], frame0["n_anions"])) == [(1, 0), (1, 0), (1, 1), (2, 1)]
    assert r.pairing_fractions == pytest.approx({"EC": 0.4, "polymer": 0.2, "PF6": 0.5})


def test_table_and_periodic_contact(constructed):
    table = constructed.results.table
    assert len(table) == 8 + 6
    li4 = table[table["solute_ix"] == 4]
    assert list(li4["partner_atom_ix"]) == [6, 6]
    assert li4["distance_angstrom"].to_numpy() == pytest.approx([1.5, 1.5])
    assert list(li4["time_ps"]) == pytest.approx([0.0, 2.0])
    chain = table[(table["frame"] == 0) & (table["species"] == "polymer")]
    assert list(chain["partner_resix"]) == [7, 8] and list(chain["partner_molecule_ix"]) == [7, 7]  # fragindex
    assert set(chain["group"]) == {"polymer C=O"}
    assert constructed.results.cutoffs_angstrom == {"EC": 2.5, "polymer": 2.5, "PF6": 2.5}


def test_numpy_backend_same_table(constructed):
    other = _solvation(_universe(), backend="numpy").run().results.table
    assert other.equals(constructed.results.table)


def test_plots_return_axes(constructed):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name in ("plot", "plot_coordination", "plot_distribution", "plot_compositions", "plot_ion_pairing",
                 "plot_cluster_sizes", "plot_residence"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ax = getattr(constructed, name)()
        assert ax is not None and hasattr(ax, "get_xlabel")
        plt.close("all")


def test_no_anions_gives_none():
    r = _solvation(_universe(), anions=()).run().results
    assert r.ion_pairing is None and r.clusters is None


@pytest.mark.parametrize("change, message", [
    (lambda u: dict(solute=u.atoms[[]]), "No Li atoms matched"),
    (lambda u: dict(partners={"EC": u.atoms[[5, 6]], "X": u.atoms[[]]}, anions=[]), "empty partner selection for species 'X'"),
    (lambda u: dict(partners={"EC": u.atoms[[5, 6]], "X": u.atoms[[6, 7]]}, anions=[]), "overlapping"),
    (lambda u: dict(cutoffs_angstrom=10.5), "half the smallest box width"),
    (lambda u: dict(anions=["TFSI"]), "not partner species"),
    (lambda u: dict(groups={"g": u.atoms[[0]]}), "subset of the partner atoms"),
])
def test_bad_input(change, message):
    universe = _universe()
    atoms = universe.atoms
    arguments = dict(solute=atoms[:5], partners={"EC": atoms[[5, 6]], "PF6": atoms[[12, 13, 15]]},
                     cutoffs_angstrom=2.5, anions=["PF6"])
    arguments.update(change(universe))
    with pytest.raises(ValueError, match=message):
        Solvation(**arguments)


def test_no_box():
    with pytest.raises(ValueError, match="no periodic box"):
        _solvation(_universe(with_box=False))


# ---- cross-validation against solvation_analysis on its bn_fec trajectory ------------------------------

needs_sa = pytest.mark.skipif(importlib.util.find_spec("solvation_analysis") is None
                              or importlib.util.find_spec("statsmodels") is None,
                              reason="solvation_analysis (and its statsmodels) not installed")
RADII = {"pf6": 2.8, "bn": 2.61468, "fec": 2.43158}  # the radii of solvation_analysis' own tests


@pytest.fixture(scope="module")
def both():
    from solvation_analysis.solute import Solute
    from solvation_analysis.tests.datafiles import bn_fec_data, bn_fec_dcd_wrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        universe = mda.Universe(bn_fec_data, bn_fec_dcd_wrap)
        li = universe.select_atoms("type 22")
        solvents = {"pf6": universe.select_atoms("byres type 20"), "bn": universe.select_atoms("byres type 5"),
                    "fec": universe.select_atoms("byres type 19")}
        theirs = Solute.from_atoms(li, solvents, radii=dict(RADII), skip_rdf=True, analysis_classes="all",
                                   networking_solvents="pf6")
        theirs.run()
        ours = Solvation(li, solvents, cutoffs_angstrom=RADII, anions=["pf6"]).run()
    return ours.results, theirs


@needs_sa
def test_agrees_with_solvation_analysis(both):
    ours, theirs = both
    for name, value in theirs.coordination.coordination_numbers.items():
        assert ours.coordination_numbers[name] == pytest.approx(value, abs=0.02)
    for name, value in theirs.pairing.solvent_pairing.items():
        assert ours.pairing_fractions[name] == pytest.approx(value, abs=0.02)
    assert ours.ion_pairing["CIP"] == pytest.approx(theirs.networking.solute_status["paired"], abs=0.02)
    assert ours.ion_pairing["SSIP"] == pytest.approx(1 - theirs.pairing.solvent_pairing["pf6"], abs=0.02)
    # per solute: every solute in a network of >= 3 members is AGG (solvation_analysis counts the networks)
    network = theirs.networking.network_df
    sizes = network.groupby(level=[0, 1]).size()
    big = sizes[sizes >= 3].index
    in_big = network.loc[network.index.isin(big)]
    n_agg = (in_big["solvent"] == "solute_0").sum()
    assert ours.ion_pairing["AGG"] == pytest.approx(n_agg / (theirs.n_solutes * theirs.n_frames), abs=0.02)
    table = ours.compositions.set_index(["pf6", "bn", "fec"])["fraction"]
    for _, row in theirs.speciation.speciation_fraction.iterrows():
        key = (int(row["pf6"]), int(row["bn"]), int(row["fec"]))
        assert table[key] == pytest.approx(row["fraction"], abs=0.02)


@needs_sa
def test_residence_matches_solvation_analysis(both):
    ours, theirs = both
    for name, curve in theirs.residence.auto_covariances.items():
        np.testing.assert_allclose(ours.residence.curves[name], curve, atol=1e-9)
        expected = theirs.residence.residence_times_cutoff[name]  # frames; 1 frame = 1 ps here
        assert ours.residence_times_ps[name] == pytest.approx(expected, rel=1e-6, nan_ok=True)
        assert ours.residence_fit_times_ps[name] == pytest.approx(theirs.residence.residence_times_fit[name], abs=0.01)


def _shell_universe(n_frames=10, seed=0):
    """8 Li (resname LI), each with 4 EC oxygens at 2 Å; 200 more EC O anywhere; 100 DOA O kept 4.5 Å from every Li.

    Every residue holds one atom, so atoms and residues count alike.
    """
    rng = np.random.default_rng(seed)
    lithium = np.array([(5.0 + 10 * i, 5.0 + 10 * j, 5.0 + 10 * k) for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    steps = np.array([(2, 0, 0), (-2, 0, 0), (0, 2, 0), (0, -2, 0)], dtype=float)

    def far_from_lithium(n, distance):
        points = np.empty((0, 3))
        while len(points) < n:
            trial = rng.random((4 * n, 3)) * BOX
            gap = trial[:, None] - lithium[None]
            gap -= BOX * np.round(gap / BOX)
            points = np.vstack((points, trial[np.linalg.norm(gap, axis=-1).min(axis=1) > distance]))
        return points[:n]

    frames = []
    for _ in range(n_frames):
        shell = (lithium[:, None] + steps[None] + rng.normal(scale=0.05, size=(8, 4, 3))).reshape(-1, 3)
        frames.append(np.vstack((lithium, shell, far_from_lithium(200, 3.2), far_from_lithium(100, 4.5))))
    n_atoms = len(frames[0])
    resnames = ["LI"] * 8 + ["EC"] * 232 + ["DOA"] * 100
    universe = mda.Universe.empty(n_atoms, n_residues=n_atoms, atom_resindex=np.arange(n_atoms), trajectory=True)
    universe.add_TopologyAttr("resname", resnames)
    universe.add_TopologyAttr("elements", ["Li"] * 8 + ["O"] * 332)
    universe.add_TopologyAttr("name", ["LI"] * 8 + ["O"] * 332)
    universe.load_new(np.array(frames, dtype=np.float32), format=MemoryReader,
                      dimensions=[BOX, BOX, BOX, 90, 90, 90], dt=1.0)
    return universe


def test_run_report_and_solvation_give_the_same_first_shells(caplog):
    import logging

    from qsse_md.analysis.solvation.solvation import DEFAULT_CUTOFF_ANGSTROM
    from qsse_md.workflow.analyze_run import li_first_shell

    universe = _shell_universe()
    partners = {"EC": universe.select_atoms("resname EC"), "DOA": universe.select_atoms("resname DOA")}
    with warnings.catch_warnings(), caplog.at_level(logging.INFO, logger="qsse_md"):
        warnings.simplefilter("error")  # a missing g(r) minimum is a log note, not a warning
        shells = Solvation(universe.select_atoms("resname LI"), partners, molecule="residue").run().results
        rdfs = li_first_shell(universe)
    assert set(rdfs) == {"EC O", "DOA O"}
    ec, doa = rdfs["EC O"].results, rdfs["DOA O"].results
    assert ec.first_shell_reason is None and shells.cutoff_reasons["EC"] is None
    assert ec.first_shell_cutoff_angstrom == shells.cutoffs_angstrom["EC"]
    assert 2.2 < ec.first_shell_cutoff_angstrom < 3.2
    assert ec.first_shell_coordination_number == pytest.approx(4.0) == shells.coordination_numbers["EC"]
    # DOA never enters a shell: no g(r) minimum, so both use the documented default and count no partner
    assert doa.first_shell_cutoff_angstrom == shells.cutoffs_angstrom["DOA"] == DEFAULT_CUTOFF_ANGSTROM
    assert doa.first_shell_reason == shells.cutoff_reasons["DOA"]
    assert doa.first_shell_reason.endswith("the default first-shell cutoff 3 Å is used")
    assert doa.first_shell_coordination_number == 0.0 == shells.coordination_numbers["DOA"]
    notes = [record for record in caplog.records
             if record.name == "qsse_md.analysis.solvation.solvation" and record.getMessage().startswith("shell of")]
    assert [record.getMessage() for record in notes] == [f"shell of DOA: {shells.cutoff_reasons['DOA']}"]
    assert notes[0].levelname == "INFO" and "\n" not in notes[0].getMessage()
