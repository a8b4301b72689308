import json

import pytest

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.recipe import load_recipe
from qsse_md.report.run_report import stage_logs, wall_clock_speed_ns_per_day, write_run_report
from qsse_md.resources import systems_dir


def test_report_summary_and_plots(tiny_run):
    summary = write_run_report(tiny_run)
    for name in ("report.md", "summary.json", "plots/density.png", "plots/li_rdf.png"):
        assert (tiny_run / name).is_file(), name
    assert json.loads((tiny_run / "summary.json").read_text()) == summary
    assert summary["md"]["simulated_ps"] == pytest.approx(4.0)
    sessions = json.loads((tiny_run / "run.json").read_text())["sessions"]
    wall_s = sum(session["wall_s"] for session in sessions)
    assert wall_s > 0.0 and summary["md"]["wall_s"] == pytest.approx(wall_s)
    assert summary["md"]["speed_ns_per_day"] == pytest.approx(4e-3 / (summary["md"]["wall_s"] / 86400.0))
    assert summary["density_g_per_cm3"]["stage"].endswith("npt")
    assert 0.5 < summary["density_g_per_cm3"]["mean"] < 2.0
    assert set(summary["li_first_shell"]) == {"DOA O", "EC O", "PF6 F"}
    for shell in summary["li_first_shell"].values():
        assert 1.5 < shell["first_peak_r_angstrom"] < 3.0
        assert shell["coordination_number"] >= 0.0
    text = (tiny_run / "report.md").read_text()
    assert "Li+ first shell" in text and "g/cm3" in text


def test_summary_speed_is_simulated_ns_over_wall_days_of_every_session():
    sessions = [{"wall_s": 100.0}, {"wall_s": 200.0}]  # e.g. interrupted once, then finished
    assert wall_clock_speed_ns_per_day(4.0, sessions) == (pytest.approx(4e-3 / (300.0 / 86400.0)), 300.0)
    assert wall_clock_speed_ns_per_day(4.0, [{"wall_s": 100.0}, {}]) == (None, None)  # an older run.json


def test_stage_logs_have_a_continuous_clock(tiny_run):
    logs = stage_logs(tiny_run)
    assert list(dict.fromkeys(logs["ensemble"])) == ["nvt", "npt"]
    assert logs["run_time_ps"].is_monotonic_increasing
    assert logs["run_time_ps"].iloc[-1] == pytest.approx(4.0)


def test_report_on_an_unrun_build_says_what_to_do(tmp_path):
    build_system(load_recipe(systems_dir() / "tiny.toml"), tmp_path / "b")
    with pytest.raises(FileNotFoundError, match="run it first with 'qsse-md run"):
        write_run_report(tmp_path / "b")


def test_report_marks_a_default_first_shell_cutoff_and_says_why():
    from qsse_md.report.run_report import _markdown

    reason = "g(r) has no peak before 7.52 Å: the default first-shell cutoff 3 Å is used"
    summary = {
        "system": {"name": "box", "description": "a box", "species_counts": {"LI": 1}, "atoms": 10},
        "md": {"simulated_ps": 4.0, "speed_ns_per_day": None, "wall_s": None, "stages": ["npt"]},
        "density_g_per_cm3": {"stage": "npt", "mean": 1.2, "std": 0.01, "window_ps": [2.0, 4.0]},
        "li_first_shell": {
            "EC O": {"first_peak_r_angstrom": 2.05, "first_shell_cutoff_angstrom": 2.78, "cutoff_reason": None,
                     "coordination_number": 4.0},
            "DOA O": {"first_peak_r_angstrom": None, "first_shell_cutoff_angstrom": 3.0, "cutoff_reason": reason,
                      "coordination_number": 0.0}},
        "analysis": {"frames": 10, "trajectory": "stages/traj.xtc"},
        "li_shells": {"compositions": [], "ion_pairing": None}}
    text = _markdown(summary)
    assert "| EC O | 2.05 | 2.78 | 4.00 |" in text
    assert "| DOA O | - | 3.00 (default) | 0.00 |" in text
    assert f"Li-DOA O: {reason}." in text
