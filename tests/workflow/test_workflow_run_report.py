"""The run report of the tiny run: summary, plots and the message for a folder that was not run."""

import json

import pytest

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.recipe import load_recipe
from qsse_md.resources import systems_dir
from qsse_md.workflow.analyze_run import report_run


def test_report_summary_and_plots(tiny_run):
    summary = report_run(tiny_run)
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


def test_report_on_an_unrun_build_says_what_to_do(tmp_path):
    build_system(load_recipe(systems_dir() / "tiny.toml"), tmp_path / "b")
    with pytest.raises(FileNotFoundError, match="run it first with 'qsse-md run"):
        report_run(tmp_path / "b")
