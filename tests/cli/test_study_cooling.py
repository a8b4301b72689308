import json

import pytest

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.recipe import load_recipe
from qsse_md.cli.main import main
from qsse_md.md.runner import run
from qsse_md.resources import systems_dir

LADDER = """
name = "short_cooling"
seed = 3
platform = "CPU"
checkpoint_interval_s = 0.0
[[stage]]
kind = "ramp"
name = "cool_298_to_248K"
ensemble = "npt"
start_temperature_K = 298.0
end_temperature_K = 248.0
profile = "linear"
duration_ps = 1.0
timestep_fs = 2.0
report_interval_ps = 0.1
[[stage]]
kind = "npt"
name = "hold_248K"
temperature_K = 248.0
duration_ps = 1.0
timestep_fs = 2.0
report_interval_ps = 0.1
"""


@pytest.mark.filterwarnings("ignore")
def test_cooling_study_continues_an_equilibrated_run(tmp_path, capsys):
    source = tmp_path / "equilibrated"
    build_system(load_recipe(systems_dir() / "tiny.toml"), source)
    run(source, protocol="test", platform="CPU")
    protocol = tmp_path / "ladder.toml"
    protocol.write_text(LADDER)
    out = tmp_path / "study"
    assert main(["study", "cooling", str(source), "--out", str(out),
                 "--protocol", str(protocol)]) == 0
    assert "analysed 2 windows" in capsys.readouterr().out
    record = json.loads((out / "analysis" / "cooling.json").read_text())
    assert [w["stage"] for w in record["windows"]] == ["01_cool_298_to_248K", "02_hold_248K"]
    assert json.loads((out / "md" / "continued_from.json").read_text())["state"].endswith(
        "final_state.xml")
    assert (out / "analysis" / "cooling.png").is_file()
    # a second call resumes: nothing is rerun, the analysis is returned as it is
    assert main(["study", "cooling", str(source), "--out", str(out),
                 "--protocol", str(protocol)]) == 0


def test_cooling_study_needs_a_build_folder(tmp_path, capsys):
    assert main(["study", "cooling", str(tmp_path / "nothing"), "--out", str(tmp_path / "s")]) == 2
    assert "not found" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
