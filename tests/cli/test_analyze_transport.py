"""``qsse-md analyze transport`` / ``arrhenius`` on the solvation_analysis bn_fec data and on fakes."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from qsse_md.cli.analyze_transport import add_transport_parsers
from qsse_md.forcefield.ions import DEFAULT_ION_CHARGE_SCALE


def _run(argv):
    """Run through ``qsse-md`` when it has ``analyze``; else through an equivalent parser."""
    from qsse_md.cli import main as cli_main

    parser = cli_main.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "analyze" in commands.choices:
        return cli_main.main(argv)
    parser = argparse.ArgumentParser(prog="qsse-md")
    analyze = parser.add_subparsers(dest="command").add_parser("analyze")
    add_transport_parsers(analyze.add_subparsers(dest="analysis", required=True))
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"qsse-md: error: {error}", file=sys.stderr)
        return 2
    return 0


@pytest.fixture(scope="module")
def bn_fec():
    datafiles = pytest.importorskip("solvation_analysis.tests.datafiles")
    return datafiles.bn_fec_data, datafiles.bn_fec_dcd_unwrap


def test_bn_fec_unwrapped_trajectory_runs_through_the_cli(bn_fec, tmp_path, capsys):
    out = tmp_path / "transport"
    code = _run(["analyze", "transport", *bn_fec, "--species", "Li=type 22", "--species", "PF6=type 20 or type 21",
                 "--temperature", "298.15", "--blocks", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    record = json.loads((out / "transport.json").read_text())
    assert record["n_frames"] == 10 and record["charges_e"]["Li"] == pytest.approx(1.0)
    assert record["charges_e"]["PF6"] == pytest.approx(-1.0, abs=1e-4)
    assert set(record["diffusion"]) == {"Li", "PF6"}
    for entry in record["diffusion"].values():  # 10 frames: a coefficient or an explicit reason, never both missing
        assert (entry["D_1e-10_m2_per_s"] is None) != (entry["reason"] is None) or entry["reason"].startswith("imm")
    for name in ("msd.csv", "diffusion.csv", "msd.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "conductivity.png").exists() == (record["conductivity"]["reason"] is None)  # never an empty plot
    assert not list(tmp_path.glob(".transport*"))


def test_bn_fec_non_neutral_selection_exits_2(bn_fec, tmp_path, capsys):
    out = tmp_path / "bad"
    code = _run(["analyze", "transport", *bn_fec, "--species", "Li=type 22", "--temperature", "298", "--out", str(out)])
    assert code == 2 and "net charge" in capsys.readouterr().err
    assert not out.exists()


def test_no_temperature_says_so_in_one_line_and_draws_no_conductivity(bn_fec, tmp_path, capsys):
    out = tmp_path / "transport"
    code = _run(["analyze", "transport", *bn_fec, "--species", "Li=type 22", "--species", "PF6=type 20 or type 21",
                 "--blocks", "2", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert [line for line in err.splitlines() if "conductivity" in line] == [
        "  conductivity: needs --temperature K (none given, none recorded in a run folder)"]
    assert json.loads((out / "transport.json").read_text())["conductivity"] is None
    assert not (out / "conductivity.png").exists()


def test_run_folder_alone_needs_no_charge_options(tiny_run, tmp_path, capsys):
    code = _run(["analyze", "transport", str(tiny_run), "--blocks", "2", "--out", str(tmp_path / "tr")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "--temperature" not in err and "charge" not in err
    record = json.loads((tmp_path / "tr" / "transport.json").read_text())
    assert record["charges_e"] == pytest.approx({"DOA": 0.0, "EC": 0.0, "LI": DEFAULT_ION_CHARGE_SCALE,
                                                 "PF6": -DEFAULT_ION_CHARGE_SCALE}, abs=1e-9)
    assert record["temperature_K"] == 298.0


def _fake_result(folder, temperature, ea=15.0):
    folder.mkdir()
    sigma = 1e2 * np.exp(-ea / (0.0083144626 * temperature)) / temperature if temperature else 1e-3
    d = 1e3 * np.exp(-ea / (0.0083144626 * temperature)) if temperature else 1.0
    record = {"temperature_K": temperature,
              "conductivity": {"sigma_S_per_cm": sigma, "sigma_sem_S_per_cm": 0.01 * sigma,
                               "sigma_NE_S_per_cm": 2 * sigma, "sigma_NE_sem_S_per_cm": 0.01 * sigma},
              "diffusion": {"Li": {"D_1e-10_m2_per_s": d, "sem_1e-10_m2_per_s": 0.02 * d}}}
    (folder / "transport.json").write_text(json.dumps(record))
    return str(folder)


def test_arrhenius_cli(tmp_path, capsys):
    folders = [_fake_result(tmp_path / f"T{t}", float(t)) for t in (300, 330, 360, 390)]
    out = tmp_path / "fits" / "arrhenius.json"
    assert _run(["analyze", "arrhenius", *folders, "--law", "both", "--out", str(out)]) == 0
    fits = json.loads(out.read_text())["fits"]
    assert fits["sigma_S_per_cm"]["arrhenius"]["activation_kJ_per_mol"] == pytest.approx(15.0, rel=1e-6)
    assert fits["D_Li_1e-10_m2_per_s"]["arrhenius"]["activation_eV"] == pytest.approx(15.0 / 96.4853, rel=1e-5)
    assert "kJ/mol" in capsys.readouterr().out


def test_arrhenius_cli_bad_input(tmp_path, capsys):
    folders = [_fake_result(tmp_path / f"T{t}", float(t)) for t in (300, 330)]
    assert _run(["analyze", "arrhenius", *folders]) == 2
    assert "at least 3" in capsys.readouterr().err
    folders.append(_fake_result(tmp_path / "none", None))
    assert _run(["analyze", "arrhenius", *folders]) == 2
    assert "no temperature" in capsys.readouterr().err
    assert _run(["analyze", "arrhenius", str(tmp_path / "missing"), *folders]) == 2


def test_arrhenius_cli_reports_an_activation_energy_it_cannot_determine(tmp_path, capsys):
    folders = [_fake_result(tmp_path / f"T{t}", float(t)) for t in (300, 330, 360, 390)]
    for folder, d in zip(folders, (1.0, 1.3, 0.9, 1.1)):  # D without a temperature trend
        record = json.loads((Path(folder) / "transport.json").read_text())
        record["diffusion"]["Li"] = {"D_1e-10_m2_per_s": d, "sem_1e-10_m2_per_s": 0.05}
        (Path(folder) / "transport.json").write_text(json.dumps(record))
    out = tmp_path / "arrhenius.json"
    assert _run(["analyze", "arrhenius", *folders, "--out", str(out)]) == 0
    fit = json.loads(out.read_text())["fits"]["D_Li_1e-10_m2_per_s"]["arrhenius"]
    assert fit["activation_kJ_per_mol"] is None and fit["reason"].startswith("the standard error ")
    assert f"D_Li_1e-10_m2_per_s          Ea not determined: {fit['reason']}" in capsys.readouterr().out
