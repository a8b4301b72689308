"""Transport of a qsse-md run folder (system.xml charges, run.json temperature) and of a charged prmtop."""

import json
import shutil

import numpy as np
import pytest

from qsse_md.analysis.transport.transport import nearest_integer_charge
from qsse_md.forcefield.ions import DEFAULT_ION_CHARGE_SCALE
from qsse_md.md.export import export_system
from qsse_md.report.inputs import system_charges_e
from qsse_md.report.run_report import last_stage_temperature_K, last_trajectory
from qsse_md.report.transport_report import analyze_transport

DEFAULT_MODEL_CHARGES_E = {"DOA": 0.0, "EC": 0.0, "LI": DEFAULT_ION_CHARGE_SCALE, "PF6": -DEFAULT_ION_CHARGE_SCALE}


def test_centre_charges_round_to_integers_within_a_milli_e():
    assert nearest_integer_charge(4.9e-08) == 0.0
    assert nearest_integer_charge(-1.00000006) == -1.0
    assert nearest_integer_charge(0.9985) == 0.9985
    assert nearest_integer_charge(0.5) == 0.5


def test_system_xml_gives_every_atom_its_charge(tiny_run, tmp_path):
    charges = system_charges_e(tiny_run)
    assert charges.shape == (408,)
    assert charges.sum() == pytest.approx(0.0, abs=1e-9)
    assert np.count_nonzero(charges == DEFAULT_ION_CHARGE_SCALE) == 4  # the Li+ of the default ion model
    (tmp_path / "system.xml").write_text("<System><broken")
    with pytest.raises(ValueError, match="system.xml is corrupt"):
        system_charges_e(tmp_path)
    with pytest.raises(FileNotFoundError, match="no system.xml"):
        system_charges_e(tmp_path / "nowhere")


def test_run_folder_needs_no_charges_and_no_temperature(tiny_run, tmp_path):
    record = analyze_transport(tiny_run, out=tmp_path / "tr", n_blocks=2)
    assert record["charges_e"] == pytest.approx(DEFAULT_MODEL_CHARGES_E, abs=1e-9)
    assert record["temperature_K"] == 298.0
    assert record["inputs"]["run_folder"] == str(tiny_run)
    assert record["inputs"]["trajectory"] == str(last_trajectory(tiny_run))
    reason = record["conductivity"]["reason"]  # 2 ps: PF6 may lack a diffusive regime, neutral species never matter
    assert reason is None or ("DOA" not in reason and "EC" not in reason)
    assert (tmp_path / "tr" / "conductivity.png").is_file() == (reason is None)


def test_charge_option_overrides_the_system_charges(tiny_run, tmp_path):
    with pytest.raises(ValueError, match="net charge of \\+1.500 e"):  # 6 DOA residues (2 trimers)
        analyze_transport(tiny_run, out=tmp_path / "tr", charges={"DOA": 0.25})
    assert not (tmp_path / "tr").exists()


def test_ramp_stage_has_no_single_temperature(tiny_run, tmp_path):
    record = json.loads((tiny_run / "run.json").read_text())
    assert last_stage_temperature_K(tiny_run) == 298.0
    last = record["protocol"]["stage"][-1]
    del last["temperature_K"]
    last.update(kind="ramp", ensemble="npt", start_temperature_K=298.0, end_temperature_K=320.0)
    (tmp_path / "run.json").write_text(json.dumps(record))
    assert last_stage_temperature_K(tmp_path) is None


def test_charged_prmtop_treats_neutral_molecules_as_non_ions(tiny_run, tmp_path):
    export_system(tiny_run, tmp_path / "amber", formats=("amber",))
    trajectory = tmp_path / "trajectory.xtc"
    shutil.copy(last_trajectory(tiny_run), trajectory)
    record = analyze_transport(tmp_path / "amber" / "system.prmtop", trajectory, out=tmp_path / "tr", n_blocks=2)
    assert record["charges_e"] == pytest.approx(DEFAULT_MODEL_CHARGES_E, abs=1e-5)  # DOA sums to 4.9e-08 e there
    assert record["temperature_K"] is None and record["conductivity"] is None
    assert sorted(p.name for p in (tmp_path / "tr").iterdir()) == ["diffusion.csv", "msd.csv", "msd.png",
                                                                   "transport.json"]
