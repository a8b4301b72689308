import pytest

from qsse_md.report.run_report import wall_clock_speed_ns_per_day


def test_summary_speed_is_simulated_ns_over_wall_days_of_every_session():
    sessions = [{"wall_s": 100.0}, {"wall_s": 200.0}]  # e.g. interrupted once, then finished
    assert wall_clock_speed_ns_per_day(4.0, sessions) == (pytest.approx(4e-3 / (300.0 / 86400.0)), 300.0)
    assert wall_clock_speed_ns_per_day(4.0, [{"wall_s": 100.0}, {}]) == (None, None)  # an older run.json


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
