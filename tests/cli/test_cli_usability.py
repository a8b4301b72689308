"""Small promises of ``qsse-md``: --version, help on every option, a registry molecule by SMILES,
shipped names behind same-named folders, warnings as one-line notes, quiet reader finalizers."""

import argparse
import logging
import subprocess
import sys
import warnings

import pytest

from qsse_md import __version__
from qsse_md.cli import main as cli_main
from qsse_md.resources import file_or_shipped, systems_dir

ONE_LI_PDB = ("CRYST1   20.000   20.000   20.000  90.00  90.00  90.00 P 1           1\n"
              "HETATM    1 LI    LI A   1      10.000  10.000  10.000  1.00  0.00          LI\nEND\n")


def test_version_prints_name_and_version(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli_main.main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"qsse-md {__version__}\n"


def _undocumented(parser, command):
    """``command OPTION`` of every argument and sub-command of ``parser`` without help text
    (formatting every help page on the way)."""
    parser.format_help()
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            documented = {choice.dest for choice in action._choices_actions}
            for name, sub in action.choices.items():
                missing += [] if name in documented else [f"{command} {name}"]
                missing += _undocumented(sub, f"{command} {name}")
        elif not action.help:
            missing.append(f"{command} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_option_and_sub_command_has_help_that_renders():
    assert _undocumented(cli_main.build_parser(), "qsse-md") == []


def test_species_show_finds_the_registry_species_of_a_smiles(capsys):
    assert cli_main.main(["species", "show", "CCOC(=O)OCC"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "DEC"] and "density_g_per_cm3      0.975" in lines


def test_a_folder_named_like_a_shipped_recipe_does_not_hide_it(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny").mkdir()
    (tmp_path / "demo").write_text("")
    with caplog.at_level(logging.INFO, logger="qsse_md"):
        assert file_or_shipped("tiny", systems_dir(), "recipe") == systems_dir() / "tiny.toml"
        assert file_or_shipped("demo", systems_dir(), "recipe").resolve() == tmp_path / "demo"
    assert "tiny is a folder, not a recipe file; using the shipped recipe 'tiny'" in caplog.text
    assert "using the recipe file demo, not the shipped recipe 'demo'" in caplog.text


def test_warnings_are_one_line_notes_and_deprecations_are_dropped(monkeypatch, caplog, capsys):
    def noisy_command(args):
        warnings.warn("the fit did not converge", UserWarning)
        warnings.warn("this API is old", DeprecationWarning)

    monkeypatch.setattr(cli_main, "_systems", noisy_command)
    with caplog.at_level(logging.WARNING, logger="qsse_md.cli"):
        assert cli_main.main(["systems"]) == 0
    assert [r.getMessage() for r in caplog.records if r.name == "qsse_md.cli"] == ["note: the fit did not converge"]
    assert capsys.readouterr().err == ""


def test_an_unreadable_xtc_leaves_one_line_even_at_interpreter_exit(tmp_path):
    (tmp_path / "top.pdb").write_text(ONE_LI_PDB)
    (tmp_path / "text.xtc").write_text("not a trajectory\n")
    result = subprocess.run([sys.executable, "-m", "qsse_md.cli.main", "analyze", "solvation", "top.pdb", "text.xtc",
                             "--out", "out"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["qsse-md: error: cannot read text.xtc: XDR read error = magic; check the "
                                          "file is complete and in a format MDAnalysis reads"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["text.xtc", "top.pdb"]
