"""Transport of a qsse-md run folder (system.xml charges, run.json temperature) and of a charged prmtop."""

import shutil

import pytest

from qsse_md.analysis.transport.transport import nearest_integer_charge
from qsse_md.forcefield.ions import DEFAULT_ION_CHARGE_SCALE
from qsse_md.md.export import export_system
from qsse_md.runfolder import RunFolder
from qsse_md.workflow.analyze_transport import analyze_transport

DEFAULT_MODEL_CHARGES_E = {"DOA": 0.0, "EC": 0.0, "LI": DEFAULT_ION_CHARGE_SCALE, "PF6": -DEFAULT_ION_CHARGE_SCALE}


def test_centre_charges_round_to_integers_within_a_milli_e():
    assert nearest_integer_charge(4.9e-08) == 0.0
    assert nearest_integer_charge(-1.00000006) == -1.0
    assert nearest_integer_charge(0.9985) == 0.9985
    assert nearest_integer_charge(0.5) == 0.5


def test_run_folder_needs_no_charges_and_no_temperature(tiny_run, tmp_path):
    record = analyze_transport(tiny_run, out=tmp_path / "tr", n_blocks=2)
    assert record["charges_e"] == pytest.approx(DEFAULT_MODEL_CHARGES_E, abs=1e-9)
    assert record["temperature_K"] == 298.0
    assert record["inputs"]["run_folder"] == str(tiny_run)
    assert record["inputs"]["trajectory"] == str(RunFolder(tiny_run).last_trajectory())
    reason = record["conductivity"]["reason"]  # 2 ps: PF6 may lack a diffusive regime, neutral species never matter
    assert reason is None or ("DOA" not in reason and "EC" not in reason)
    assert (tmp_path / "tr" / "conductivity.png").is_file() == (reason is None)


def test_charge_option_overrides_the_system_charges(tiny_run, tmp_path):
    with pytest.raises(ValueError, match="net charge of \\+1.500 e"):  # 6 DOA residues (2 trimers)
        analyze_transport(tiny_run, out=tmp_path / "tr", charges={"DOA": 0.25})
    assert not (tmp_path / "tr").exists()


def test_charged_prmtop_treats_neutral_molecules_as_non_ions(tiny_run, tmp_path):
    export_system(tiny_run, tmp_path / "amber", formats=("amber",))
    trajectory = tmp_path / "trajectory.xtc"
    shutil.copy(RunFolder(tiny_run).last_trajectory(), trajectory)
    record = analyze_transport(tmp_path / "amber" / "system.prmtop", trajectory, out=tmp_path / "tr", n_blocks=2)
    assert record["charges_e"] == pytest.approx(DEFAULT_MODEL_CHARGES_E, abs=1e-5)  # DOA sums to 4.9e-08 e there
    assert record["temperature_K"] is None and record["conductivity"] is None
    assert sorted(p.name for p in (tmp_path / "tr").iterdir()) == ["diffusion.csv", "msd.csv", "msd.png",
                                                                   "transport.json"]
