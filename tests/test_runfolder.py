"""The run folder: names of its files, and what is read from them (charges, stage logs, temperatures)."""

import json

import numpy as np
import pytest

from qsse_md.forcefield.ions import DEFAULT_ION_CHARGE_SCALE
from qsse_md.runfolder import RunFolder


def test_system_xml_gives_every_atom_its_charge(tiny_run, tmp_path):
    charges = RunFolder(tiny_run).charges_e()
    assert charges.shape == (408,)
    assert charges.sum() == pytest.approx(0.0, abs=1e-9)
    assert np.count_nonzero(charges == DEFAULT_ION_CHARGE_SCALE) == 4  # the Li+ of the default ion model
    (tmp_path / "system.xml").write_text("<System><broken")
    with pytest.raises(ValueError, match="system.xml is corrupt"):
        RunFolder(tmp_path).charges_e()
    with pytest.raises(FileNotFoundError, match="no system.xml"):
        RunFolder(tmp_path / "nowhere").charges_e()


def test_stage_logs_have_a_continuous_clock(tiny_run):
    logs = RunFolder(tiny_run).stage_logs()
    assert list(dict.fromkeys(logs["ensemble"])) == ["nvt", "npt"]
    assert logs["run_time_ps"].is_monotonic_increasing
    assert logs["run_time_ps"].iloc[-1] == pytest.approx(4.0)


def test_ramp_stage_has_no_single_temperature(tiny_run, tmp_path):
    record = json.loads((tiny_run / "run.json").read_text())
    assert RunFolder(tiny_run).last_stage_temperature_K() == 298.0
    last = record["protocol"]["stage"][-1]
    del last["temperature_K"]
    last.update(kind="ramp", ensemble="npt", start_temperature_K=298.0, end_temperature_K=320.0)
    (tmp_path / "run.json").write_text(json.dumps(record))
    assert RunFolder(tmp_path).last_stage_temperature_K() is None


def test_only_the_run_folder_spells_its_file_names():
    """No module but qsse_md/runfolder.py has a string literal that is a run-folder file name."""
    import ast
    from pathlib import Path

    import qsse_md

    names = {"build.json", "recipe.json", "system.xml", "topology.pdb", "topology.cif", "run.json", "state.csv",
             "checkpoint.chk", "final_state.xml", "continued_from.json", "trajectory.xtc", "trajectory.dcd"}
    package = Path(qsse_md.__file__).parent
    spelled = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "runfolder.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip("/") in names:
                spelled.append(f"{path.relative_to(package)}:{node.lineno} {node.value}")
    assert spelled == []
