"""Campaigns: plan, run on a local Dask cluster, kill, resume, collect; bad input -> exit 2."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from qsse_md.campaign import collect, jobscript, plan, run_campaign, status  # noqa: E402
from qsse_md.campaign.state import campaign_lock  # noqa: E402
from qsse_md.cli.main import main  # noqa: E402
from qsse_md.resources import systems_dir  # noqa: E402

TINY_GRID = """
[campaign]
name = "tiny_test"
base = "tiny"
protocol = "test"

[grid]
seed = [1, 2]
temperature_K = [298.0, 320.0]

[[point]]                  # made to fail at build: no such salt
seed = 3
composition = { label = "broken", counts = { DOA_trimer = 2, EC = 24, NoSuchSalt = 4 } }

[resources]
system = "slurm"
jobs = 4
cores = 8
memory = "32GB"
walltime = "12:00:00"
queue = "gpu"
account = "qsse-lab"
gpus_per_job = 1
job_script_prologue = ["source /opt/qsse/venv/bin/activate"]
modules = ["gromacs/2023.3", "openmpi"]
"""


def _write(tmp_path, text, name="campaign.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _states(folder):
    return {row["task"]: row for row in status(folder)}


def _wait_for_running(folder, process, timeout_s=90):
    """Poll the task states until one is in its MD step (or later)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        for state in (folder / "tasks").glob("*/state.json"):
            try:
                record = json.loads(state.read_text())
            except (json.JSONDecodeError, OSError):
                continue
            if record["state"] == "running" and record.get("step") in ("md", "report", "solvation"):
                return
        time.sleep(0.2)
    raise AssertionError("no task started running")


def test_campaign_killed_midway_resumes_every_task_once(tmp_path):
    import MDAnalysis as mda

    folder = tmp_path / "camp"
    manifest = plan(_write(tmp_path, TINY_GRID), folder)
    assert len(manifest["tasks"]) == 5 and manifest["variables"] == ["seed", "temperature_K", "composition"]
    broken = next(t["id"] for t in manifest["tasks"] if t["variables"].get("composition") == "broken")

    process = subprocess.Popen([sys.executable, "-m", "qsse_md.cli.main", "-q", "campaign", "run", str(folder),
                                "--workers", "2", "--retries", "0"], start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_running(folder, process)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    interrupted = [r for r in status(folder) if r["state"] == "interrupted"]
    assert interrupted, status(folder)

    run_campaign(folder, workers=2, retries=0)
    rows = _states(folder)
    assert rows[broken]["state"] == "failed" and "NoSuchSalt" in rows[broken]["reason"]
    good = [task for task in rows if task != broken]
    assert all(rows[task]["state"] == "done" for task in good), rows
    for task in good:
        record = json.loads((folder / "tasks" / task / "state.json").read_text())
        assert [h["state"] for h in record["history"]].count("done") == 1
        run_dir = folder / "tasks" / task / "run"
        for stage in ("02_nvt", "03_npt"):  # 2 ps every 0.1 ps: 20 frames, none doubled
            universe = mda.Universe(str(run_dir / "topology.pdb"), str(run_dir / "stages" / stage / "trajectory.xtc"))
            assert universe.trajectory.n_frames == 20
    # a second run skips what is done; the failed task has no retries left
    failures = rows[broken]["failures"]
    assert main(["-q", "campaign", "run", str(folder), "--workers", "1", "--retries", "0"]) == 1  # a task failed
    assert _states(folder)[broken]["failures"] == failures
    for task in good:
        record = json.loads((folder / "tasks" / task / "state.json").read_text())
        assert [h["state"] for h in record["history"]].count("done") == 1

    table = collect(folder)
    assert len(table) == 5 and (folder / "results" / "results.csv").is_file()
    done = table[table["state"] == "done"]
    assert done["density_g_per_cm3"].between(0.5, 2.0).all()
    assert done["cn_EC"].notna().all() and done["cn_PF6"].notna().all()
    assert (folder / "results" / "plots" / "density_g_per_cm3.png").is_file()

    # analyze mode: a campaign over existing run folders
    analysis = tmp_path / "analysis"
    assert main(["campaign", "analyze", str(folder / "tasks" / good[0] / "run"), "--out", str(analysis),
                 "--workers", "1"]) == 0
    assert status(analysis)[0]["state"] == "done"
    assert (analysis / "results" / "results.csv").is_file()


def test_slurm_job_script_has_the_campaign_resources(tmp_path):
    folder = tmp_path / "camp"
    plan(_write(tmp_path, TINY_GRID), folder)
    script = jobscript(folder, address="tcp://login1:8786")
    for line in ("#SBATCH -p gpu", "#SBATCH -A qsse-lab", "#SBATCH --cpus-per-task=8", "#SBATCH -t 12:00:00",
                 "#SBATCH --gres=gpu:1", "source /opt/qsse/venv/bin/activate", "tcp://login1:8786",
                 "--name qsse-${SLURM_JOB_ID}"):
        assert line in script, script
    assert "#SBATCH --mem=" in script
    lines = script.splitlines()
    loads = [lines.index("module load gromacs/2023.3"), lines.index("module load openmpi")]
    assert loads == sorted(loads) and loads[-1] < lines.index("source /opt/qsse/venv/bin/activate")


def test_shipped_campaign_files_plan(tmp_path):
    six = plan(systems_dir() / "campaigns" / "reference_six.toml", tmp_path / "six")
    assert len(six["tasks"]) == 6
    grid = plan(systems_dir() / "campaigns" / "conductivity_grid.toml", tmp_path / "grid")
    assert len(grid["tasks"]) == 49
    labels = {t["variables"]["polymer"] for t in grid["tasks"]}
    assert {"DOA-AEEO", "DOA-PCEA"} <= labels
    assert "EC-DEC-FEC 2:1:1" in {t["variables"]["solvent"] for t in grid["tasks"]}


@pytest.mark.parametrize("text, message", [
    ('[campaign]\nbase = "tiny"\nprotocol = "test"\n[grid]\nviscosity = [1, 2]\n', "[grid]: unknown key(s) viscosity"),
    ('[campaign]\nbase = "tiny"\nprotocol = "test"\n[grid]\nseed = []\n', "empty list"),
    ('[campaign]\nbase = "tiny"\nprotocol = "test"\n[grid]\n', "[grid] is empty"),
    ('[campaign]\nbase = "tiny"\nprotocol = "test"\n', "neither [grid] nor [[point]]"),
    ('[campaign]\nbase = "tiny"\nprotocol = "test"\n[grid]\nsalt = ["LiTFSI"]\n', "needs a base composition"),
])
def test_bad_campaign_files_exit_2(tmp_path, capsys, text, message):
    code = main(["campaign", "plan", str(_write(tmp_path, text)), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_runtime_bad_input_exit_2(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "camp"
    plan(_write(tmp_path, TINY_GRID), folder)
    # planning again into the same folder
    assert main(["campaign", "plan", str(tmp_path / "campaign.toml"), "--out", str(folder)]) == 2
    # a scheduler that does not answer
    monkeypatch.setattr("qsse_md.campaign.engine.CONNECT_TIMEOUT_S", 1)
    assert main(["campaign", "run", str(folder), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "does not answer" in capsys.readouterr().err
    # two campaigns writing into one folder
    with campaign_lock(folder):
        assert main(["campaign", "run", str(folder)]) == 2
    assert "is being run by" in capsys.readouterr().err
    # a task folder edited by hand: reported, not overwritten
    spec_path = next((folder / "tasks").glob("*/spec.json"))
    record = json.loads(spec_path.read_text())
    record["spec"]["recipe"]["seed"] = 99
    spec_path.write_text(json.dumps(record))
    edited = spec_path.read_text()
    assert main(["campaign", "run", str(folder)]) == 2
    assert "edited by hand" in capsys.readouterr().err
    assert spec_path.read_text() == edited
    assert main(["campaign", "status", str(folder)]) == 0
    assert "edited" in capsys.readouterr().out
    assert not any((folder / "tasks").glob("*/run"))
    # not a campaign folder
    assert main(["campaign", "status", str(tmp_path)]) == 2
