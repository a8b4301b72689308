"""The campaign ``engine`` setting and grid axis: GROMACS tasks carry the engine in their protocol and
their mdrun threads; a GROMACS task runs build -> MD -> solvation like an OpenMM one."""

import json

import pytest

from qsse_md.campaign import plan
from qsse_md.campaign.spec import load
from qsse_md.campaign.task import execute_task
from qsse_md.cli.main import main
from qsse_md.resources import executable
from qsse_md.runfolder import RunFolder

CAMPAIGN = """
[campaign]
name = "engines"
base = "tiny"
protocol = "test"
analysis = ["solvation"]
threads = 1
{extra}
[grid]
seed = [1]
{grid}
"""


def _write(tmp_path, name, extra="", grid=""):
    path = tmp_path / f"{name}.toml"
    path.write_text(CAMPAIGN.format(extra=extra, grid=grid))
    return path


def _tasks(tmp_path, name, extra="", grid=""):
    return load(_write(tmp_path, name, extra, grid))[1]


def test_engine_is_a_grid_axis_and_a_campaign_setting(tmp_path):
    specs = {task["variables"]["engine"]: task for task in
             _tasks(tmp_path, "both", grid='engine = ["openmm", "gromacs"]')}
    assert specs["gromacs"]["spec"]["protocol"]["engine"] == "gromacs"
    assert specs["gromacs"]["spec"]["threads"] == 1 and specs["gromacs"]["spec"]["platform"] is None
    assert "threads" not in specs["openmm"]["spec"]
    plain = _tasks(tmp_path, "plain")[0]
    setting = _tasks(tmp_path, "setting", extra='engine = "gromacs"')[0]
    assert setting["spec"] == specs["gromacs"]["spec"]
    assert plain["spec"]["protocol"] == {k: v for k, v in specs["openmm"]["spec"]["protocol"].items() if k != "engine"}


def test_unknown_engine_is_one_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(CAMPAIGN.format(extra='engine = "lammps"', grid=""))
    assert main(["campaign", "plan", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "engine = 'lammps'" in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(executable("gmx") is None, reason="GROMACS 'gmx' is not installed")
@pytest.mark.filterwarnings("ignore")
def test_a_gromacs_task_runs_build_md_and_solvation(tmp_path):
    manifest = plan(_write(tmp_path, "gmx", extra='engine = "gromacs"'), tmp_path / "gmx")
    folder = tmp_path / "gmx" / "tasks" / manifest["tasks"][0]["id"]
    record = execute_task(str(folder), max_failures=1, platform="CPU")
    assert record["state"] == "done", record.get("reason")
    run = RunFolder(folder / "run").read_run()
    assert run["engine"] == "gromacs" and run["sessions"][-1]["threads"] == 1
    assert json.loads(next(folder.rglob("solvation.json")).read_text())["frames"]["n_frames"] == 20
