"""The GROMACS engine: the tiny box through the ``test`` protocol, kill and resume, the same run
folder as the OpenMM engine (state.csv columns, analyze solvation), the .mdp mapping, and the
one-line error when ``gmx`` is missing. Tests that run ``gmx`` skip where it is absent."""

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import MDAnalysis as mda
import numpy as np
import pytest

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.recipe import load_recipe
from qsse_md.cli.main import EXIT_USAGE, main
from qsse_md.md import gromacs
from qsse_md.md.mdp import Nonbonded, annealing_points, stage_mdp
from qsse_md.md.protocol import dump_protocol, parse_protocol
from qsse_md.md.runner import run
from qsse_md.resources import executable, systems_dir
from qsse_md.runfolder import RunFolder

from kill_protocol import DYNAMICS_STAGES, REPORT_PS, KILL_PROTOCOL as SHARED_KILL_PROTOCOL

needs_gmx = pytest.mark.skipif(executable("gmx") is None, reason="GROMACS 'gmx' is not installed")
KILL_PROTOCOL = {**SHARED_KILL_PROTOCOL, "engine": "gromacs", "checkpoint_interval_s": 0.0}
CLI = "import sys; from qsse_md.cli.main import main; sys.exit(main(sys.argv[1:]))"
NONBONDED = Nonbonded(cutoff_nm=0.8, switch_nm=None, ewald_rtol=1e-5, fourier_spacing_nm=0.1,
                      dispersion_correction=True, remove_com_motion=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tiny box, built once for this module."""
    folder = tmp_path_factory.mktemp("gmx_build") / "tiny"
    build_system(load_recipe(systems_dir() / "tiny.toml"), folder)
    return folder


def _copy(source, parent):
    """A copy of the folder ``source`` as ``parent/run``."""
    return Path(shutil.copytree(source, parent / "run"))


@pytest.fixture(scope="module")
def gromacs_run(built, tmp_path_factory):
    """The tiny box through the shipped ``test`` protocol on GROMACS, by the command line."""
    folder = _copy(built, tmp_path_factory.mktemp("gmx_test"))
    assert main(["run", str(folder), "--protocol", "test", "--engine", "gromacs", "--threads", "1"]) == 0
    return folder


@pytest.fixture(scope="module")
def uninterrupted(built, tmp_path_factory):
    """The tiny box through :data:`KILL_PROTOCOL` without interruption."""
    folder = _copy(built, tmp_path_factory.mktemp("gmx_plain"))
    run(folder, parse_protocol(KILL_PROTOCOL))
    return folder


def _frames(folder, stage):
    """Times (ps) and positions (Å) of the frames of ``stage``'s trajectory."""
    run_folder = RunFolder(folder)
    universe = mda.Universe(str(run_folder.topology_pdb), str(run_folder.stage(stage).trajectory("xtc")))
    return (np.array([ts.time for ts in universe.trajectory]),
            np.array([ts.positions.copy() for ts in universe.trajectory]))


def _log(folder, stage):
    """``state.csv`` of ``stage`` as a structured array."""
    return np.genfromtxt(RunFolder(folder).stage(stage).state_log, delimiter=",", names=True)


@needs_gmx
def test_test_protocol_on_gromacs_fills_the_run_folder_like_openmm(gromacs_run, tiny_run):
    record = json.loads((gromacs_run / "run.json").read_text())
    assert record["engine"] == "gromacs" and record["sessions"][-1]["platform"].startswith("GROMACS")
    assert record["sessions"][-1]["threads"] == 1
    assert all(entry["status"] == "done" for entry in record["stages"].values())
    energies = record["stages"]["01_minimize"]["potential_energy_kj_per_mol"]
    assert energies["minimised"] <= energies["start"]
    for stage in ("02_nvt", "03_npt"):
        ours = (gromacs_run / "stages" / stage / "state.csv").read_text().splitlines()
        theirs = (tiny_run / "stages" / stage / "state.csv").read_text().splitlines()
        assert ours[0] == theirs[0]  # the same columns, in the same order and units
        log = _log(gromacs_run, stage)
        times, positions = _frames(gromacs_run, stage)
        np.testing.assert_allclose(times, 0.1 * np.arange(1, 21), atol=1e-5)
        np.testing.assert_allclose(log["time_ps"], times, atol=1e-6)
        np.testing.assert_array_equal(log["step"], 50 * np.arange(1, 21))
        assert np.all((log["temperature_K"] > 100) & (log["temperature_K"] < 500))
        assert np.all((log["density_g_per_cm3"] > 0.8) & (log["density_g_per_cm3"] < 1.3))
        assert np.all(log["speed_ns_per_day"] > 0)
        assert (gromacs_run / "stages" / stage / "final_state.xml").is_file()
    # written as the OpenMM engine writes: unwrapped, molecules whole, continuous across stages
    universe = mda.Universe(str(gromacs_run / "topology.pdb"), str(gromacs_run / "stages/03_npt/trajectory.xtc"))
    assert max(universe.atoms.bonds.values().max() for _ in universe.trajectory) < 2.0  # Å
    last_nvt, first_npt = _frames(gromacs_run, "02_nvt")[1][-1], _frames(gromacs_run, "03_npt")[1][0]
    assert np.abs(first_npt - last_nvt).max() < 3.0  # Å in 0.1 ps; a wrapped atom would jump ~18 Å
    npt = _log(gromacs_run, "03_npt")
    assert np.ptp(npt["volume_nm3"]) > 0  # the barostat moves the box
    assert np.ptp(_log(gromacs_run, "02_nvt")["volume_nm3"]) == 0
    assert RunFolder(gromacs_run).stage_logs()["run_time_ps"].iloc[-1] == pytest.approx(4.0)


@needs_gmx
@pytest.mark.filterwarnings("ignore")
def test_analyze_solvation_reads_the_gromacs_run_folder(gromacs_run, tmp_path):
    out = tmp_path / "solvation"
    assert main(["analyze", "solvation", str(gromacs_run), "--out", str(out)]) == 0
    record = json.loads((out / "solvation.json").read_text())
    assert record["frames"]["n_frames"] == 20
    assert set(record["coordination"]["species"]) == {"polymer", "EC", "PF6"}


@needs_gmx
@pytest.mark.filterwarnings("ignore")
def test_run_report_reads_the_gromacs_run_folder(gromacs_run, tmp_path):
    from qsse_md.workflow.analyze_run import report_run

    summary = report_run(gromacs_run, tmp_path / "report")
    assert summary["md"]["simulated_ps"] == pytest.approx(4.0) and summary["md"]["speed_ns_per_day"] > 0
    assert 0.8 < summary["density_g_per_cm3"]["mean"] < 1.3
    assert (tmp_path / "report" / "report.md").is_file()


@needs_gmx
def test_a_gromacs_run_can_be_continued_from_its_final_state(gromacs_run, tmp_path):
    from qsse_md.md.continuation import continue_run

    target = RunFolder(continue_run(gromacs_run, tmp_path / "next"))
    last = _frames(gromacs_run, "03_npt")[1][-1]
    continued = mda.Universe(str(target.topology_pdb)).atoms.positions
    # the final state at the last frame's images; under NPT the unwrapped frame can be off by
    # the box fluctuation (a few tenths of an Å) for atoms that crossed the box earlier
    assert np.abs(continued - last).max() < 1.0  # Å; a wrong image would be ~18 Å off
    assert json.loads(target.continued_from.read_text())["state"].endswith("final_state.xml")


def _run_and_kill(folder, protocol_file, stage, after_bytes, rng):
    process = subprocess.Popen([sys.executable, "-c", CLI, "run", str(folder), "--protocol", str(protocol_file)],
                               stderr=subprocess.PIPE)
    raw = RunFolder(folder).stage(stage).mdrun_trajectory
    deadline = time.monotonic() + 120
    while not (raw.exists() and raw.stat().st_size >= after_bytes) and process.poll() is None:
        assert time.monotonic() < deadline, "run made no progress"
        time.sleep(0.002)
    time.sleep(rng.uniform(0.0, 0.02))
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate()
    assert process.returncode == -signal.SIGKILL, stderr.decode()[-2000:]


@needs_gmx
def test_sigkilled_gromacs_run_resumes_to_exactly_the_uninterrupted_frames(built, uninterrupted, tmp_path):
    folder = _copy(built, tmp_path)
    protocol_file = tmp_path / "kill.toml"
    dump_protocol(parse_protocol(KILL_PROTOCOL), protocol_file)
    frame_bytes = (uninterrupted / "stages/02_nvt/trajectory.xtc").stat().st_size / 100
    rng = random.Random(20261124)
    _run_and_kill(folder, protocol_file, "02_nvt", rng.randint(5, 90) * frame_bytes, rng)
    _run_and_kill(folder, protocol_file, "03_ramp", rng.randint(10, 90) * frame_bytes, rng)
    finished = subprocess.run([sys.executable, "-c", CLI, "run", str(folder)], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-2000:]

    record = json.loads((folder / "run.json").read_text())
    assert len(record["sessions"]) == 3
    assert sum(len(record["stages"][s].get("resumes", [])) for s in DYNAMICS_STAGES) == 2
    for stage in DYNAMICS_STAGES:
        assert record["stages"][stage]["status"] == "done"
        stage_folder = RunFolder(folder).stage(stage)
        assert not stage_folder.gromacs_checkpoint.exists() and not stage_folder.mdrun_trajectory.exists()
        times, positions = _frames(folder, stage)
        ref_times, ref_positions = _frames(uninterrupted, stage)
        assert len(times) == len(ref_times) == 100
        np.testing.assert_allclose(times, REPORT_PS * np.arange(1, 101), atol=1e-5)
        # GROMACS' stochastic dynamics draws its noise by step: a resumed run is the same run
        np.testing.assert_allclose(positions, ref_positions, atol=2e-3)
        log, ref_log = _log(folder, stage), _log(uninterrupted, stage)
        np.testing.assert_array_equal(log["step"], ref_log["step"])
        np.testing.assert_allclose(log["time_ps"], times, atol=1e-5)
        for resume in record["stages"][stage].get("resumes", []):
            assert resume["frame"] * REPORT_PS <= resume["time_ps"] + 1e-9 < (resume["frame"] + 1) * REPORT_PS


def _running(pid):
    """Whether process ``pid`` exists and is not a zombie awaiting its reaper."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@needs_gmx
def test_terminated_run_stops_mdrun_and_resumes(built, tmp_path):
    folder = _copy(built, tmp_path)
    protocol_file = tmp_path / "long.toml"
    long_nvt = {**KILL_PROTOCOL["stage"][1], "duration_ps": 40.0}
    dump_protocol(parse_protocol({**KILL_PROTOCOL, "stage": KILL_PROTOCOL["stage"][:1] + [long_nvt]}), protocol_file)
    process = subprocess.Popen([sys.executable, "-c", CLI, "run", str(folder), "--protocol", str(protocol_file)],
                               stderr=subprocess.PIPE)
    raw = RunFolder(folder).stage("02_nvt").mdrun_trajectory
    deadline = time.monotonic() + 120
    while not (raw.exists() and raw.stat().st_size > 20000):
        assert process.poll() is None and time.monotonic() < deadline, "run made no progress"
        time.sleep(0.01)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()[-2000:]
    assert children and not any(_running(pid) for pid in children), "mdrun still runs"
    stopped = RunFolder(folder)
    assert stopped.last_trajectory() == stopped.stage("02_nvt").trajectory("xtc")
    times = _frames(folder, "02_nvt")[0]
    assert 0 < len(times) < 2000
    np.testing.assert_allclose(times, REPORT_PS * np.arange(1, len(times) + 1), atol=1e-5)
    stopped_wall_s = stopped.read_run()["stages"]["02_nvt"]["wall_s"]
    assert stopped_wall_s > 0.0  # the stopped session's share of the stage is kept
    assert main(["run", str(folder)]) == 0
    entry = json.loads((folder / "run.json").read_text())["stages"]["02_nvt"]
    assert len(entry["resumes"]) == 1 and entry["frames"] == 2000
    assert entry["wall_s"] > stopped_wall_s
    np.testing.assert_allclose(_frames(folder, "02_nvt")[0], REPORT_PS * np.arange(1, 2001), atol=1e-5)


@needs_gmx
def test_engine_of_a_started_folder_cannot_change(gromacs_run, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(gromacs_run, folder)
    before = (folder / "run.json").read_text()
    with pytest.raises(ValueError, match="started with the gromacs engine, not openmm"):
        run(folder, engine="openmm")
    assert (folder / "run.json").read_text() == before


def test_missing_gmx_is_one_line_on_how_to_install_it(built, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gromacs, "executable", lambda name: None)
    folder = _copy(built, tmp_path)
    assert main(["run", str(folder), "--protocol", "test", "--engine", "gromacs"]) == EXIT_USAGE
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "GROMACS 'gmx' was not found" in lines[0]
    assert "apt-get install gromacs" in lines[0] and "--gmx PATH" in lines[0]
    assert not (folder / "run.json").exists() and not (folder / "stages").exists()


needs_mpi = pytest.mark.skipif(executable("gmx_mpi") is None or executable("mpirun") is None,
                               reason="no MPI build of GROMACS (gmx_mpi) or no mpirun")
SHORT_PROTOCOL = {**KILL_PROTOCOL, "stage": KILL_PROTOCOL["stage"][:2]}


@needs_mpi
def test_mdrun_runs_under_mpirun_with_an_mpi_build(built, tmp_path, monkeypatch):
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT", "1")  # Open MPI refuses root (CI runs as root)
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    monkeypatch.setenv("OMPI_MCA_plm", "isolated")  # start the ranks here, without ssh
    folder = _copy(built, tmp_path)
    protocol = tmp_path / "short.toml"
    dump_protocol(parse_protocol(SHORT_PROTOCOL), protocol)
    assert main(["run", str(folder), "--protocol", str(protocol), "--engine", "gromacs",
                 "--gmx", "gmx_mpi", "--mpi-ranks", "2", "--threads", "1"]) == 0
    record = json.loads((folder / "run.json").read_text())
    assert record["sessions"][-1]["mpi_ranks"] == 2
    assert all(entry["status"] == "done" for entry in record["stages"].values())
    stage = RunFolder(folder).stage(list(record["stages"])[-1])
    assert "mpirun -np 2 gmx mdrun" in stage.gromacs_output.read_text()
    assert "2 MPI processes" in stage.gromacs_log.read_text()
    assert len(_frames(folder, stage.name)[0]) > 0


@needs_gmx
def test_mpi_ranks_of_a_thread_mpi_build_is_one_line(built, tmp_path, capsys):
    folder = _copy(built, tmp_path)
    assert main(["run", str(folder), "--protocol", "test", "--engine", "gromacs",
                 "--mpi-ranks", "2"]) == EXIT_USAGE
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "uses thread-MPI; give --gmx gmx_mpi" in lines[0]
    assert not (folder / "run.json").exists()


def test_gromacs_options_without_the_gromacs_engine_are_refused(built, tmp_path):
    folder = _copy(built, tmp_path)
    with pytest.raises(ValueError, match="options of the GROMACS engine"):
        run(folder, "test", mpi_ranks=2)
    assert not (folder / "run.json").exists()


def test_dcd_trajectories_are_refused_before_anything_is_written(built, tmp_path):
    folder = _copy(built, tmp_path)
    with pytest.raises(ValueError, match="GROMACS engine writes XTC trajectories, not dcd"):
        run(folder, parse_protocol({**KILL_PROTOCOL, "trajectory_format": "dcd"}))
    assert not (folder / "run.json").exists()


def test_stages_map_onto_gromacs_settings():
    protocol = parse_protocol({"hydrogen_mass_amu": 3.0, "stage": [
        {"kind": "minimize", "tolerance_kj_per_mol_nm": 5.0},
        {"kind": "npt", "temperature_K": 350.0, "duration_ps": 10.0, "timestep_fs": 4.0,
         "report_interval_ps": 2.0, "friction_per_ps": 2.0, "pressure_bar": 1.0,
         "barostat_interval_steps": 25},
        {"kind": "ramp", "start_temperature_K": 300.0, "end_temperature_K": 240.0, "profile": "stepped",
         "plateaus": 3, "duration_ps": 3.0, "report_interval_ps": 0.5}]})
    minimize, npt, ramp = (stage_mdp(s, NONBONDED, "hbonds", 7, generate_velocities=True).splitlines()
                           for s in protocol.stages)
    assert {"integrator = steep", "emtol = 5.0", "nsteps = -1", "constraints = h-bonds"} <= set(minimize)
    assert {"integrator = sd", "dt = 0.004", "nsteps = 2500", "tau-t = 0.5", "ref-t = 350.0",
            "pcoupl = c-rescale", "nstpcouple = 25", "ref-p = 1.0", "nstxout-compressed = 500",
            "nstenergy = 500", "gen-vel = yes", "gen-seed = 7", "DispCorr = EnerPres"} <= set(npt)
    assert "pcoupl = c-rescale" not in ramp and "annealing = single" in ramp
    times, temperatures = annealing_points(protocol.stages[2])
    assert times == [0.0, 1.0, 1.0, 2.0, 2.0, 3.0]
    assert temperatures == [300.0, 300.0, 270.0, 270.0, 240.0, 240.0]
    assert [protocol.stages[2].temperature_at_K(t) for t in (0.0, 1.0, 2.5)] == [300.0, 270.0, 240.0]


def test_mdrun_is_waited_on_in_checkpoint_intervals():
    calls = []
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2.5)"],
                               stdin=subprocess.PIPE, text=True)
    gromacs._wait(process, None, (1.0, lambda: calls.append(1)))
    assert process.returncode == 0 and len(calls) >= 2
