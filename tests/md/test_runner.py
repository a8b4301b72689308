import io
import json
import logging
import random
import shutil
import signal
import subprocess
import sys
import time

import MDAnalysis as mda
import numpy as np
import openmm
import pytest

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.recipe import load_recipe
from qsse_md.md import progress as progress_module
from qsse_md.md import runner as runner_module
from qsse_md.md import stages
from qsse_md.md.output import read_checkpoint, write_checkpoint
from qsse_md.md.progress import Progress
from qsse_md.md.protocol import dump_protocol, parse_protocol
from qsse_md.md.runner import repartition_hydrogen_mass, run
from qsse_md.resources import systems_dir
from qsse_md.runfolder import RunFolder

from kill_protocol import DYNAMICS_STAGES, REPORT_PS, KILL_PROTOCOL as SHARED_KILL_PROTOCOL

KILL_PROTOCOL = {**SHARED_KILL_PROTOCOL, "platform": "CPU", "checkpoint_interval_s": 0.3}
SHORT_PROTOCOL = {
    "name": "short", "seed": 5, "platform": "CPU", "checkpoint_interval_s": 1000.0,
    "stage": [{"kind": "nvt", "temperature_K": 298.0, "duration_ps": 0.2, "timestep_fs": 2.0,
               "report_interval_ps": REPORT_PS}]}
CLI = ("import argparse, sys; from qsse_md.cli.run import add_run_parser; "
       "parser = argparse.ArgumentParser(); add_run_parser(parser.add_subparsers()); "
       "args = parser.parse_args(sys.argv[1:]); args.func(args)")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("build") / "tiny"
    build_system(load_recipe(systems_dir() / "tiny.toml"), folder)
    return folder


@pytest.fixture(scope="module")
def uninterrupted(built, tmp_path_factory):
    folder = tmp_path_factory.mktemp("plain") / "run"
    shutil.copytree(built, folder)
    run(folder, parse_protocol(KILL_PROTOCOL))
    return folder


def _fresh(built, tmp_path):
    shutil.copytree(built, tmp_path / "run")
    return tmp_path / "run"


def _frames(folder, stage):
    universe = mda.Universe(str(folder / "topology.pdb"),
                            str(folder / "stages" / stage / "trajectory.xtc"))
    return (np.array([ts.time for ts in universe.trajectory]),
            np.array([ts.positions.copy() for ts in universe.trajectory]))


def _log(folder, stage):
    return np.genfromtxt(folder / "stages" / stage / "state.csv", delimiter=",", names=True)


def _rows_written(folder):
    return sum(max(len((folder / "stages" / s / "state.csv").read_text().splitlines()) - 1, 0)
               for s in DYNAMICS_STAGES if (folder / "stages" / s / "state.csv").exists())


def _run_and_kill(folder, protocol_file, after_rows, rng):
    process = subprocess.Popen([sys.executable, "-c", CLI, "run", str(folder), "--protocol",
                                str(protocol_file)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _rows_written(folder) < after_rows and process.poll() is None:
        assert time.monotonic() < deadline, "run made no progress"
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, 0.02))
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate()
    assert process.returncode == -signal.SIGKILL, stderr.decode()[-2000:]


def test_sigkilled_run_resumes_to_exactly_the_uninterrupted_frames(built, uninterrupted,
                                                                   tmp_path):
    folder = _fresh(built, tmp_path)
    protocol_file = tmp_path / "kill.toml"
    dump_protocol(parse_protocol(KILL_PROTOCOL), protocol_file)
    rng = random.Random(20261122)
    _run_and_kill(folder, protocol_file, rng.randint(5, 90), rng)
    assert RunFolder(folder).last_trajectory() == folder / "stages" / DYNAMICS_STAGES[0] / "trajectory.xtc"
    _run_and_kill(folder, protocol_file, rng.randint(110, 170), rng)
    finished = subprocess.run([sys.executable, "-c", CLI, "run", str(folder)],
                              capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-2000:]

    record = json.loads((folder / "run.json").read_text())
    assert len(record["sessions"]) == 3
    assert sum(len(record["stages"][s].get("resumes", [])) for s in DYNAMICS_STAGES) == 2
    for stage in DYNAMICS_STAGES:
        assert record["stages"][stage]["status"] == "done"
        assert not (folder / "stages" / stage / "checkpoint.chk").exists()
        times, positions = _frames(folder, stage)
        ref_times, ref_positions = _frames(uninterrupted, stage)
        assert len(times) == len(ref_times) == 100
        np.testing.assert_allclose(times, ref_times, atol=1e-5)
        np.testing.assert_allclose(np.diff(times), REPORT_PS, atol=1e-5)
        log, ref_log = _log(folder, stage), _log(uninterrupted, stage)
        np.testing.assert_array_equal(log["step"], ref_log["step"])
        np.testing.assert_allclose(log["time_ps"], times, atol=1e-5)
        typical_nm = np.abs(np.diff(ref_positions, axis=0)).max() / 10.0
        for resume in record["stages"][stage].get("resumes", []):
            frame = resume["frame"]
            assert resume["time_ps"] == pytest.approx(frame * REPORT_PS)
            if frame == 0 or frame == len(times):
                continue
            jump_nm = np.abs(positions[frame] - positions[frame - 1]).max() / 10.0
            assert jump_nm < 1.5 * typical_nm, "first frame after resume does not continue"


def test_finished_run_is_not_run_again(uninterrupted, tmp_path, caplog):
    folder = tmp_path / "again"
    shutil.copytree(uninterrupted, folder)
    before = {p: p.stat().st_mtime_ns for p in (folder / "stages").rglob("*")}
    with caplog.at_level(logging.INFO, logger="qsse_md.md.runner"):
        record = run(folder)
    assert f"{folder}: every stage of protocol 'kill' is done" in caplog.text
    assert len(record["sessions"]) == 2
    assert {p: p.stat().st_mtime_ns for p in (folder / "stages").rglob("*")} == before


def test_blow_up_rolls_back_and_halves_the_time_step(built, tmp_path, monkeypatch):
    real_state_row = stages._state_row
    calls = []

    def explode_once(*args):
        calls.append(1)
        if len(calls) == 5:
            raise stages._BlowUp("non-finite energy or coordinates")
        return real_state_row(*args)

    monkeypatch.setattr(stages, "_state_row", explode_once)
    folder = _fresh(built, tmp_path)
    record = run(folder, parse_protocol({**SHORT_PROTOCOL, "trajectory_format": "dcd",
                                         "checkpoint_interval_s": 0.0}))
    entry = record["stages"]["01_nvt"]
    assert (entry["retries"], entry["timestep_fs"], entry["frames"]) == (1, 1.0, 10)
    universe = mda.Universe(str(folder / "topology.pdb"),
                            str(folder / "stages/01_nvt/trajectory.dcd"))
    expected_ps = REPORT_PS * np.arange(1, 11)
    np.testing.assert_allclose([ts.time for ts in universe.trajectory], expected_ps, atol=1e-5)
    log = _log(folder, "01_nvt")
    np.testing.assert_allclose(log["time_ps"], expected_ps, atol=1e-6)
    np.testing.assert_array_equal(np.diff(log["step"]), [10] * 3 + [20] * 6)


def test_persistent_blow_up_fails_with_a_clear_message(built, tmp_path, monkeypatch):
    def explode(*args):
        raise stages._BlowUp("temperature ran away to 9999 K")

    monkeypatch.setattr(stages, "_state_row", explode)
    folder = _fresh(built, tmp_path)
    with pytest.raises(stages.UnstableSimulationError, match="after 2 retries down to 0.5 fs"):
        run(folder, parse_protocol({**SHORT_PROTOCOL, "max_retries": 2}))


def test_hydrogen_mass_repartitioning_keeps_total_mass(built):
    system = openmm.XmlSerializer.deserialize((built / "system.xml").read_text())
    masses = lambda: np.array([system.getParticleMass(i)._value  # noqa: E731
                               for i in range(system.getNumParticles())])
    before = masses()
    repartition_hydrogen_mass(system, 3.0)
    after = masses()
    assert after.sum() == pytest.approx(before.sum())
    assert np.allclose(after[before < 1.5], 3.0)


def test_missing_or_corrupt_run_folder_fails_clearly(built, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run(tmp_path / "nowhere", "test")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not a build folder"):
        run(tmp_path / "empty", "test")
    folder = _fresh(built, tmp_path)
    (folder / "system.xml").write_text("<System><broken")
    with pytest.raises(ValueError, match="corrupt system.xml"):
        run(folder, "test")
    assert not (folder / "run.json").exists()


def test_corrupt_record_or_other_protocol_leaves_the_folder_alone(uninterrupted, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(uninterrupted, folder)
    original = (folder / "run.json").read_text()
    with pytest.raises(ValueError, match="started with protocol 'kill'"):
        run(folder, "test")
    assert (folder / "run.json").read_text() == original
    (folder / "run.json").write_text(original[:100])
    with pytest.raises(ValueError, match="run.json is corrupt"):
        run(folder)
    assert (folder / "run.json").read_text() == original[:100]


def test_unavailable_platform_fails_before_writing(built, tmp_path):
    available = {openmm.Platform.getPlatform(i).getName()
                 for i in range(openmm.Platform.getNumPlatforms())}
    missing = [name for name in ("CUDA", "OpenCL") if name not in available]
    if not missing:
        pytest.skip("every platform is available here")
    folder = _fresh(built, tmp_path)
    with pytest.raises(ValueError, match=f"platform '{missing[0]}' is not available"):
        run(folder, parse_protocol(SHORT_PROTOCOL), platform=missing[0])
    assert not (folder / "run.json").exists()


def test_checkpoint_of_another_system_is_refused(built, uninterrupted, tmp_path):
    folder = _fresh(built, tmp_path)
    stage_dir = folder / "stages" / "01_nvt"
    stage_dir.mkdir(parents=True)
    state_xml = (uninterrupted / "stages/02_nvt/final_state.xml").read_text()
    write_checkpoint(stage_dir / "checkpoint.chk", {"system_sha256": "0" * 64, "frames": 3},
                     state_xml)
    before = (stage_dir / "checkpoint.chk").read_bytes()
    with pytest.raises(ValueError, match="written for a different system"):
        run(folder, parse_protocol(SHORT_PROTOCOL))
    assert (stage_dir / "checkpoint.chk").read_bytes() == before
    assert not (folder / "run.json").exists()
    (stage_dir / "checkpoint.chk").write_bytes(before[:50])
    with pytest.raises(ValueError, match="is corrupt"):
        read_checkpoint(stage_dir / "checkpoint.chk")


class FakeClock:
    """Stands in for the ``time`` module of :mod:`qsse_md.md.progress`: ``monotonic()`` returns
    ``now_s``, which moves on by ``tick_s`` at every call."""

    def __init__(self, tick_s=0.0):
        self.now_s, self.tick_s = 0.0, tick_s

    def monotonic(self):
        self.now_s += self.tick_s
        return self.now_s


def test_progress_speed_and_eta_are_by_the_wall_clock(monkeypatch, caplog):
    clock = FakeClock()
    monkeypatch.setattr(progress_module, "time", clock)
    progress = Progress("02_nvt", total_ps=10.0, log_interval_s=0.0)
    with caplog.at_level(logging.INFO, logger="qsse_md.md.progress"):
        clock.now_s = 2.0
        progress.advance(2.0)  # 2 ps in 2 s
        clock.now_s = 10.0
        progress.advance(2.0)  # 4 ps in 10 s: the slow second step counts in full
    assert "02_nvt: 2.0/10.0 ps (20%), 86.40 ns/day, ETA 0:00:08" in caplog.text
    assert "02_nvt: 4.0/10.0 ps (40%), 34.56 ns/day, ETA 0:00:15" in caplog.text
    assert progress.speed_ns_per_day == pytest.approx(4e-3 / (10.0 / 86400.0))


def test_resumed_progress_counts_only_this_session(monkeypatch):
    clock = FakeClock()
    clock.now_s = 100.0
    monkeypatch.setattr(progress_module, "time", clock)
    progress = Progress("03_npt", total_ps=10.0, done_ps=6.0)
    clock.now_s = 104.0
    progress.advance(2.0)
    assert progress.speed_ns_per_day == pytest.approx(2e-3 / (4.0 / 86400.0))


def test_progress_draws_a_bar_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    clock = FakeClock()
    monkeypatch.setattr(progress_module, "time", clock)
    monkeypatch.setattr(sys, "stderr", Terminal())
    progress = Progress("02_nvt", total_ps=10.0)
    clock.now_s = 2.0
    progress.advance(2.0)
    progress.close()
    assert "86.4 ns/day, ETA 0:00:08" in sys.stderr.getvalue()


def test_state_log_speed_is_simulated_time_over_elapsed_wall_time(built, tmp_path, monkeypatch):
    monkeypatch.setattr(progress_module, "time", FakeClock(tick_s=1.0))  # every clock reading: 1 s later
    folder = _fresh(built, tmp_path)
    record = run(folder, parse_protocol(SHORT_PROTOCOL))
    # frame k is read k s after the stage started: k * 0.02 ps / k s, whatever the real speed
    np.testing.assert_allclose(_log(folder, "01_nvt")["speed_ns_per_day"], REPORT_PS * 1e-3 * 86400.0)
    assert record["sessions"][-1]["wall_s"] > 0.0


def test_resumed_run_logs_where_it_continues(built, tmp_path, monkeypatch, caplog):
    real_state_row = stages._state_row
    calls = []

    def killed_at_frame_5(*args):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_state_row(*args)

    folder = _fresh(built, tmp_path)
    protocol = parse_protocol({**SHORT_PROTOCOL, "checkpoint_interval_s": 0.0})
    monkeypatch.setattr(stages, "_state_row", killed_at_frame_5)
    with pytest.raises(KeyboardInterrupt):
        run(folder, protocol)
    interrupted_wall_s = json.loads((folder / "run.json").read_text())["stages"]["01_nvt"]["wall_s"]
    assert interrupted_wall_s > 0.0  # the stopped session's share of the stage is kept
    monkeypatch.setattr(stages, "_state_row", real_state_row)
    with caplog.at_level(logging.INFO, logger="qsse_md.md.runner"):
        record = run(folder)
    assert record["stages"]["01_nvt"]["wall_s"] > interrupted_wall_s
    checkpoint = folder / "stages" / "01_nvt" / "checkpoint.chk"
    assert f"resuming {folder} at stage 01_nvt, 0.080 ps, from {checkpoint}" in caplog.text
    assert len(_log(folder, "01_nvt")) == 10


def test_running_stage_saves_its_wall_time_at_every_checkpoint(built, tmp_path, monkeypatch):
    saved_wall_s = []
    write_record = runner_module.atomic_write_json

    def recording_write(path, record):
        entry = record["stages"].get("01_nvt", {})
        if entry.get("status") == "running":
            saved_wall_s.append(entry.get("wall_s", 0.0))
        write_record(path, record)

    monkeypatch.setattr(runner_module, "atomic_write_json", recording_write)
    run(_fresh(built, tmp_path), parse_protocol({**SHORT_PROTOCOL, "checkpoint_interval_s": 0.0}))
    # a session killed outright (SIGKILL) loses only the time since the last checkpoint
    assert len(saved_wall_s) >= 10 and saved_wall_s[-1] > 0.0
    assert saved_wall_s == sorted(saved_wall_s)
