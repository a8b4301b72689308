import json
import subprocess
import sys

import pytest

from qsse_md.cli.main import main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "qsse_md.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_species_list_prints_formula_mass_and_charge(capsys):
    assert main(["species", "list"]) == 0
    out = capsys.readouterr().out
    assert "EC" in out and "C3H4O3" in out and "88.06" in out
    assert "LiPF6" in out and "PF6-" in out and "-1" in out


def test_species_list_filters_by_kind(capsys):
    assert main(["species", "list", "--kind", "salt"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert [r.split()[0] for r in rows] == ["LiPF6", "LiTFSI"]


def test_species_show(capsys):
    assert main(["species", "show", "DOA"]) == 0
    out = capsys.readouterr().out
    assert "C7H8O5" in out and "172.1" in out and "C=CC(=O)OCC1COC(=O)O1" in out


def test_systems_lists_the_reference_boxes(capsys):
    assert main(["systems"]) == 0
    out = capsys.readouterr().out
    for name in ("PDOA_EC", "PDOA_DEC", "PDOA_ECDEC", "PAEEO_EC", "PAEEO_DEC", "PAEEO_ECDEC"):
        assert name in out


@pytest.mark.parametrize("args,message", [
    (["species", "show", "C1CC"], "neither a known species"),
    (["build", "no_such_recipe.toml", "--out", "x"], "not found"),
])
def test_expected_mistakes_exit_2_with_one_line_and_no_traceback(args, message, tmp_path):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_build_with_invalid_recipe_leaves_no_output(tmp_path):
    recipe = tmp_path / "bad.toml"
    recipe.write_text('[composition]\nform = "counts"\ncounts = { EC = 10, NaCl = 2 }\n')
    result = run_cli("build", str(recipe), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "NaCl" in result.stderr
    assert not (tmp_path / "out").exists()


def test_build_shipped_recipe_by_name(tmp_path, capsys):
    assert main(["build", "tiny", "--out", str(tmp_path / "t")]) == 0
    assert "charge    +0.000000 e" in capsys.readouterr().out
    record = json.loads((tmp_path / "t" / "build.json").read_text())
    assert record["species_counts"] == {"DOA_trimer": 2, "EC": 24, "LiPF6": 4}


def test_demo_refuses_a_build_folder_that_is_not_its_own(tmp_path, capsys):
    assert main(["build", "tiny", "--out", str(tmp_path / "t")]) == 0
    capsys.readouterr()
    assert main(["demo", "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"qsse-md: error: {tmp_path / 't'} is not a demo folder: it holds a build of 'tiny' from "
                   "another recipe; choose another --out")
    assert not (tmp_path / "t" / "run.json").exists()


def test_demo_resumes_its_own_folder(tmp_path, capsys, monkeypatch):
    from qsse_md.assembly.recipe import load_recipe
    from qsse_md.md import runner
    from qsse_md.resources import systems_dir

    folder = tmp_path / "demo"
    folder.mkdir()
    source = load_recipe(systems_dir() / "demo.toml").source
    (folder / "recipe.json").write_text(json.dumps(source, indent=2, default=str))
    (folder / "build.json").write_text(json.dumps({"name": source["name"]}))

    def reached_run(run_dir, protocol):
        raise ValueError(f"run {protocol} in {run_dir}")

    monkeypatch.setattr(runner, "run", reached_run)
    assert main(["demo", "--out", str(folder)]) == 2
    assert capsys.readouterr().err.strip() == f"qsse-md: error: run demo in {folder}"
