import pytest

from qsse_md.md.protocol import (Hold, Minimize, Protocol, Ramp, dump_protocol, load_protocol,
                                 parse_protocol)
from qsse_md.resources import systems_dir

NVT = {"kind": "nvt", "temperature_K": 298.0, "duration_ps": 2.0, "timestep_fs": 2.0,
       "report_interval_ps": 0.1}


SHIPPED_PROTOCOLS = sorted(path.stem for path in (systems_dir() / "protocols").glob("*.toml"))


@pytest.mark.parametrize("name", SHIPPED_PROTOCOLS)
def test_shipped_protocols_load_and_round_trip(name, tmp_path):
    protocol = load_protocol(name)
    dump_protocol(protocol, tmp_path / "p.toml")
    assert load_protocol(tmp_path / "p.toml") == protocol


def test_reference_protocol_is_the_studys():
    stages = load_protocol("reference").stages
    holds = [(s.kind, s.temperature_K, s.duration_ps) for s in stages if isinstance(s, Hold)]
    assert isinstance(stages[0], Minimize)
    assert holds == [("npt", 600.0, 5000.0), ("npt", 298.0, 10000.0), ("nvt", 298.0, 10000.0)]


def test_cooling_ladder_goes_to_223K_and_back():
    stages = load_protocol("cooling").stages
    ramps = [(s.start_temperature_K, s.end_temperature_K) for s in stages if isinstance(s, Ramp)]
    assert ramps == [(298.0, 248.0), (248.0, 223.0), (223.0, 298.0)]
    assert any(isinstance(s, Hold) and s.temperature_K == 223.0 for s in stages)


def test_ramp_temperatures_linear_and_stepped():
    linear = Ramp(start_temperature_K=300.0, end_temperature_K=200.0, duration_ps=10.0)
    assert linear.temperature_at_K(0.0) == 300.0
    assert linear.temperature_at_K(5.0) == pytest.approx(250.0)
    stepped = Ramp(start_temperature_K=300.0, end_temperature_K=200.0, duration_ps=9.0,
                   profile="stepped", plateaus=3)
    assert [stepped.temperature_at_K(t) for t in (0.0, 2.9, 3.0, 6.0, 8.9)] == \
        pytest.approx([300.0, 300.0, 250.0, 200.0, 200.0])


def test_round_trip_keeps_every_option(tmp_path):
    protocol = Protocol(
        stages=(Minimize(max_iterations=5),
                Ramp(ensemble="npt", start_temperature_K=298.0, end_temperature_K=223.0,
                     duration_ps=4.0, timestep_fs=4.0, report_interval_ps=0.2,
                     profile="stepped", plateaus=4, pressure_bar=2.0, name="cool"),
                Hold(kind="nvt", temperature_K=223.0, duration_ps=1.0)),
        name="custom", seed=11, hydrogen_mass_amu=3.0, trajectory_format="dcd",
        checkpoint_interval_s=30.0, platform="CPU", precision="double", max_retries=1)
    dump_protocol(protocol, tmp_path / "custom.toml")
    assert load_protocol(tmp_path / "custom.toml") == protocol
    assert protocol.stage_dirs() == ["01_minimize", "02_cool", "03_nvt"]


@pytest.mark.parametrize("stage, message", [
    ({**NVT, "duraton_ps": 1.0}, "unknown key(s) duraton_ps"),
    ({**NVT, "duration_ps": -1.0}, "duration_ps = -1.0 must be positive"),
    ({**NVT, "duration_ps": "2 ps"}, "duration_ps = '2 ps' must be a number"),
    ({**NVT, "duration_ps": float("inf")}, "duration_ps = inf must be a number"),
    ({**NVT, "barostat_interval_steps": 2.5}, "unknown key(s) barostat_interval_steps"),
    ({**NVT, "kind": "npt", "barostat_interval_steps": 2.5}, "must be a whole number"),
    ({"kind": "minimize", "tolerance_kj_per_mol_nm": 0.0}, "tolerance_kj_per_mol_nm = 0.0 must be positive"),
    ({"kind": "minimize", "max_iterations": -1}, "max_iterations = -1 must be >= 0"),
    ({**NVT, "report_interval_ps": 0.003}, "not a whole number of 2.0 fs steps"),
    ({**NVT, "duration_ps": 0.25}, "not a whole number of report intervals"),
    ({**NVT, "pressure_bar": 1.0}, "unknown key(s) pressure_bar"),
    ({**NVT, "temperature_K": -5.0}, "temperature_K = -5.0 must be positive"),
    ({**NVT, "timestep_fs": 20.0, "report_interval_ps": 0.2}, "timestep_fs = 20.0 must be <= 10"),
    ({"kind": "nve"}, "kind = 'nve' is not one of"),
    ({"kind": "npt", "duration_ps": 1.0}, "missing temperature_K"),
    ({"kind": "ramp", "start_temperature_K": 300.0, "end_temperature_K": 200.0,
      "duration_ps": 1.0, "ensemble": "nve"}, "ensemble = 'nve' is not one of nvt, npt"),
    ({"kind": "ramp", "start_temperature_K": 300.0, "end_temperature_K": 200.0,
      "duration_ps": 1.0, "profile": "stepped"}, "plateaus"),
])
def test_bad_stages_fail_with_one_line(stage, message):
    with pytest.raises(ValueError, match="stage 1") as error:
        parse_protocol({"stage": [stage]})
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("options, message", [
    ({"platform": "Metal"}, "platform = 'Metal'"),
    ({"trajectory_format": "trr"}, "trajectory_format"),
    ({"hydrogen_mass_amu": 9.0}, "hydrogen_mass_amu = 9.0 must be between 1.0 and 5.0"),
    ({"seed": -1}, "seed = -1 must be >= 0"),
    ({"seed": True}, "seed = True must be a whole number"),
    ({"max_retries": 1.5}, "max_retries = 1.5 must be a whole number"),
    ({"checkpoint_interval_s": -1.0}, "checkpoint_interval_s"),
    ({"colour": "red"}, "unknown key(s) colour"),
])
def test_bad_options_fail_with_one_line(options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_protocol({**options, "stage": [NVT]})


def test_protocol_without_stages_and_unknown_names_fail(tmp_path):
    with pytest.raises(ValueError, match="no stages"):
        parse_protocol({"name": "empty"})
    with pytest.raises(FileNotFoundError, match="neither a file nor a shipped"):
        load_protocol("no_such_protocol")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[stage]\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_protocol(bad)


def test_old_tolerance_spelling_is_read_with_a_note():
    stage = {"kind": "minimize", "tolerance_kj_mol_nm": 5.0}
    with pytest.warns(FutureWarning, match="stage 1: tolerance_kj_mol_nm is now spelled "
                      "tolerance_kj_per_mol_nm"):
        protocol = parse_protocol({"stage": [stage]})
    assert protocol.stages[0].tolerance_kj_per_mol_nm == 5.0


def test_protocol_file_errors_name_the_file(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[[stage]]\nkind = "minimize"\nmax_iterations = "many"\n')
    with pytest.raises(ValueError, match=f"protocol {path}: stage 1: max_iterations = 'many' "
                       "must be a whole number"):
        load_protocol(path)
