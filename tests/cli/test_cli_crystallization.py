"""``qsse-md analyze crystallization`` end to end on a constructed ordered box, and bad input."""

import json
import warnings

import MDAnalysis as mda
import numpy as np
import pytest

from qsse_md.cli.main import EXIT_USAGE, main


def _write_box(folder, n_frames=2):
    """9 aligned chains (12 backbone C, 6 residues, one O per residue), 40 CO solvents, 1 Li.

    Frame k is the first shifted by 0.01 k Å, with the Li on a random walk (0.5 Å steps).
    """
    rng = np.random.default_rng(5)
    positions, names, resnames, resindex, bonds = [], [], [], [], []
    residue = 0
    for i in range(3):
        for j in range(3):
            previous = None
            for k in range(12):
                index = len(positions)
                positions.append([2.0 + 4.5 * i + 0.86 * (k % 2), 2.0 + 4.5 * j, 1.0 + 1.28 * k])
                names.append("C")
                resnames.append("PA")
                resindex.append(residue + k // 2)
                bonds += [(previous, index)] if previous is not None else []
                previous = index
                if k % 2:
                    positions.append(np.add(positions[-1], [0.0, 1.4, 0.0]))
                    names.append("O")
                    resnames.append("PA")
                    resindex.append(residue + k // 2)
                    bonds.append((index, len(positions) - 1))
            residue += 6
    for _ in range(40):  # solvent in the empty half of the box
        centre = rng.random(3) * [10.0, 24.0, 24.0] + [14.0, 0.0, 0.0]
        bonds.append((len(positions), len(positions) + 1))
        positions += [centre, centre + [1.2, 0.0, 0.0]]
        names += ["C", "O"]
        resnames += ["EC", "EC"]
        resindex += [residue, residue]
        residue += 1
    positions.append([20.0, 12.0, 12.0])
    names.append("Li")
    resnames.append("LI")
    resindex.append(residue)
    residue += 1
    universe = mda.Universe.empty(len(positions), n_residues=residue, atom_resindex=resindex, trajectory=True)
    universe.add_TopologyAttr("names", names)
    universe.add_TopologyAttr("elements", names)
    universe.add_TopologyAttr("resnames", [resnames[resindex.index(r)] for r in range(residue)])
    universe.add_TopologyAttr("resids", np.arange(1, residue + 1))
    universe.add_TopologyAttr("bonds", bonds)
    universe.dimensions = [24.0, 24.0, 24.0, 90.0, 90.0, 90.0]
    topology, trajectory = folder / "box.pdb", folder / "box.dcd"
    base = np.array(positions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        universe.atoms.positions = base
        universe.atoms.write(topology, bonds="conect")
        with mda.Writer(str(trajectory), len(positions)) as writer:
            walk = rng.normal(scale=0.5, size=(n_frames, 3)).cumsum(axis=0)
            for k in range(n_frames):
                frame = base + 0.01 * k
                frame[-1] += walk[k]
                universe.atoms.positions = frame
                writer.write(universe.atoms)
    return topology, trajectory


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    return _write_box(tmp_path_factory.mktemp("crystallization"))


@pytest.mark.filterwarnings("ignore")
def test_writes_record_tables_and_plots(box, tmp_path):
    out = tmp_path / "cryst"
    assert main(["analyze", "crystallization", str(box[0]), str(box[1]), "--out", str(out), "--direct"]) == 0
    record = json.loads((out / "crystallization.json").read_text())
    assert record["frames"]["n_frames"] == 2
    assert any("clipped" in note for note in record["warnings"])  # q_min 0.3 is below 2π / 12 Å
    assert record["chain_order"]["mean"]["polymer"]["crystalline_fraction"]["mean"] == pytest.approx(1.0)
    assert record["chain_order"]["threshold"] == 0.8
    assert record["liquid_release"]["n_molecules"] == 40
    assert record["side_chain_order"]["mean"]["polymer"]["crystalline_fraction"]["mean"] == pytest.approx(1.0)
    assert "no cyclic-carbonate rings" in record["skipped"]["side_chain_packing"]
    assert "run folder" in record["skipped"]["density_temperature_fit"]
    for name in ("chain_order", "side_chain_order", "structure_factor", "structure_factor_direct", "liquid_release"):
        assert (out / f"{name}.csv").is_file()
    assert (out / "plots" / "chain_order.png").is_file() and (out / "plots" / "structure_factor.png").is_file()


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("options, message", [
    (["--polymer", "resname XX", "--solvent", "resname EC"], "no polymer atoms"),
    (["--span", "20"], "too short"),
    (["--q-min", "200", "--q-max", "300"], "outside what"),
])
def test_bad_input_exit_code_2(box, tmp_path, capsys, options, message):
    out = tmp_path / "cryst"
    code = main(["analyze", "crystallization", str(box[0]), str(box[1]), "--out", str(out), *options])
    error = capsys.readouterr().err
    assert code == EXIT_USAGE and message in error and len(error.strip().splitlines()) == 1
    assert not out.exists()


def _run_folder(box, folder, temperatures=((298.0, 218.0),)):
    """A minimal run folder: topology.pdb and NPT stages (trajectory + state log) over temperature ranges."""
    import shutil

    import pandas as pd

    folder.mkdir(parents=True)
    shutil.copy(box[0], folder / "topology.pdb")
    stages = {}
    for k, (start, end) in enumerate(temperatures):
        stage = folder / "stages" / f"stage{k}"
        stage.mkdir(parents=True)
        shutil.copy(box[1], stage / "traj.dcd")
        temperature = np.linspace(start, end, 120)
        density = 1.30 - np.where(temperature < 250.0, 1e-4, 5e-4) * (temperature - 250.0)
        pd.DataFrame({"step": np.arange(120), "time_ps": np.arange(120) * 10.0, "temperature_K": temperature,
                      "density_g_per_cm3": density}).to_csv(stage / "state.csv", index=False)
        stages[f"stage{k}"] = {"state_log": "state.csv", "time_ps": 1200.0, "trajectory": "traj.dcd"}
    (folder / "run.json").write_text(json.dumps({
        "stages": stages, "protocol": {"stage": [{"kind": "ramp", "ensemble": "npt"}] * len(temperatures)}}))
    return folder


@pytest.mark.filterwarnings("ignore")
def test_run_folder_alone_fits_density_break(box, tmp_path):
    run = _run_folder(box, tmp_path / "run")
    out = tmp_path / "cryst"
    assert main(["analyze", "crystallization", str(run), "--out", str(out)]) == 0
    fit = json.loads((out / "crystallization.json").read_text())["density_temperature_fit"]
    assert fit["break_K"] == pytest.approx(250.0, abs=3.0) and fit["n_points"] == 12
    assert (out / "density_temperature_fit.csv").is_file()


@pytest.mark.filterwarnings("ignore")
def test_study_cooling_windows(tmp_path):
    from qsse_md.workflow.cooling import analyse_cooling_windows

    box = _write_box(tmp_path, n_frames=40)
    run = _run_folder(box, tmp_path / "run", temperatures=((298.0, 248.0), (248.0, 223.0), (223.0, 223.0)))
    record = analyse_cooling_windows(run, out=tmp_path / "cooling")
    windows = record["windows"]
    assert [w["stage"] for w in windows] == ["stage0", "stage1", "stage2"]
    assert [w["start_time_ps"] for w in windows] == [0.0, 1200.0, 2400.0]
    assert windows[2]["temperature_K"] == pytest.approx(223.0)
    assert all(w["crystalline_fraction"] == pytest.approx(1.0) for w in windows)
    assert windows[0]["D_li_1e-10_m2_per_s"] is not None and windows[0]["free_fraction"] is not None
    assert (tmp_path / "cooling" / "cooling.png").is_file() and (tmp_path / "cooling" / "cooling_windows.csv").is_file()
