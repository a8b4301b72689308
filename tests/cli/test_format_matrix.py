"""Files this project did not write: every format loads and gives solvation and transport, or fails in one line.

The inputs are the test data of MDAnalysis (the ``MDAnalysisTests`` package) and of
solvation_analysis (its bn_fec LAMMPS data + DCD): GROMACS TPR/GRO + XTC/TRR, Amber prmtop +
NetCDF/mdcrd, CHARMM PSF + DCD, LAMMPS data + DCD and LAMMPS data + dump, with their ions
(Na+ in water, ...) or one water as the solute. Each case is cut to a few frames.
"""

import json
import warnings

import numpy as np
import pytest

from qsse_md.cli.main import EXIT_USAGE, main

datafiles = pytest.importorskip("MDAnalysisTests.datafiles")
sa_files = pytest.importorskip("solvation_analysis.tests.datafiles")

#: format -> (topology, trajectory, solvation options, transport options)
FORMATS = {
    "GROMACS TPR + XTC": (datafiles.TPR, datafiles.XTC, ["--solute", "name NA", "--stop", "3"],
                          ["--species", "NA=name NA", "--species", "SOL=resname SOL", "--stop", "5",
                           "--min-points", "2"]),
    "GROMACS GRO + TRR": (datafiles.GRO, datafiles.TRR, ["--solute", "name NA", "--species", "SOL=resname SOL",
                                                         "--stop", "3"],
                          ["--species", "NA=name NA", "--species", "SOL=resname SOL", "--stop", "5",
                           "--min-points", "2"]),
    "Amber prmtop + NetCDF (no times: --dt)": (datafiles.PRMncdf, datafiles.NCDF,
                                               ["--solute", "resname Na+", "--dt", "1", "--stop", "5"],
                                               ["--dt", "1", "--stop", "8", "--min-points", "2"]),
    "Amber prmtop + mdcrd (no box: --box)": (datafiles.PRM, datafiles.TRJ,
                                             ["--solute", "resname LYS and name NZ", "--species", "TYR=resname TYR",
                                              "--count", "any-atom", "--box", "60", "60", "60"],
                                             ["--box", "60", "60", "60", "--min-points", "2"]),
    "CHARMM PSF + DCD (triclinic)": (datafiles.PSF_TRICLINIC, datafiles.DCD_TRICLINIC,
                                     ["--solute", "resid 1 and name OH2", "--species",
                                      "water=resname TIP3 and not resid 1", "--cutoff", "3.5", "--stop", "3"],
                                     ["--stop", "5", "--min-points", "2"]),
    "LAMMPS data + DCD (types and masses only)": (datafiles.LAMMPSdata2, datafiles.LAMMPSdcd2,
                                                  ["--solute", "element Na"], ["--min-points", "2"]),
    "LAMMPS data + dump": (datafiles.LAMMPS_image_vf, datafiles.LAMMPSDUMP_image_vf,
                           ["--solute", "index 0", "--count", "any-atom"], None),
    "solvation_analysis LAMMPS data + DCD": (sa_files.bn_fec_data, sa_files.bn_fec_dcd_wrap, [],
                                             ["--min-points", "2"]),
}

#: format -> (topology, trajectory, options, what the one-line message asks for)
FAILURES = {
    "Amber mdcrd without a box": (datafiles.PRM, datafiles.TRJ, [], "--box A B C"),
    "Amber NetCDF without times": (datafiles.PRMncdf, datafiles.NCDF, ["--solute", "resname Na+"], "--dt PS"),
    "LAMMPS dump as its own topology": (datafiles.LAMMPSDUMP, datafiles.LAMMPSDUMP, ["--solute", "index 0"],
                                        "give a topology with bonds or residues"),
    "CHARMM DCD whose box shrinks below the g(r) range": (
        datafiles.PSF_TRICLINIC, datafiles.DCD_TRICLINIC,
        ["--solute", "resid 1 and name OH2", "--species", "water=resname TIP3 and not resid 1"],
        "give --cutoff values (Å) below that, or --stop before the box shrinks"),
    "LAMMPS data + dump of 3 frames, transport": (datafiles.LAMMPS_image_vf, datafiles.LAMMPSDUMP_image_vf,
                                                  ["--transport"], "an MSD needs at least 4"),
}


def _run(argv, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(argv)
    return code, capsys.readouterr()


@pytest.mark.parametrize("name", FORMATS)
def test_format_loads_and_gives_solvation_and_transport(name, tmp_path, capsys):
    topology, trajectory, solvation_options, transport_options = FORMATS[name]
    code, captured = _run(["analyze", "solvation", topology, trajectory, *solvation_options,
                           "--out", str(tmp_path / "solv")], capsys)
    assert code == 0, captured.err
    record = json.loads((tmp_path / "solv" / "solvation.json").read_text())
    assert record["coordination"]["species"] and all(
        np.isfinite(value["mean"]) for value in record["coordination"]["species"].values())
    assert all(f"cutoff {value:.2f} Å" in captured.out for value in record["cutoffs_angstrom"].values())
    if transport_options is None:  # 3 frames: too few for an MSD (see FAILURES)
        return
    code, captured = _run(["analyze", "transport", topology, trajectory, *transport_options,
                           "--out", str(tmp_path / "tr")], capsys)
    assert code == 0, captured.err
    transport = json.loads((tmp_path / "tr" / "transport.json").read_text())
    assert transport["diffusion"]


@pytest.mark.parametrize("name", FAILURES)
def test_format_fails_in_one_line_saying_what_to_add(name, tmp_path, capsys):
    topology, trajectory, options, message = FAILURES[name]
    command = "transport" if "--transport" in options else "solvation"
    options = [option for option in options if option != "--transport"]
    code, captured = _run(["analyze", command, topology, trajectory, *options, "--out", str(tmp_path / "out")],
                          capsys)
    errors = [line for line in captured.err.splitlines() if line.startswith("qsse-md: error: ")]
    assert code == EXIT_USAGE and len(errors) == 1 and message in errors[0], captured.err
    assert "Traceback" not in captured.err and not (tmp_path / "out").exists()


def test_bn_fec_any_atom_coordination_matches_solvation_analysis(tmp_path, capsys):
    """Type selections and solvation_analysis' cutoffs on its own data: the same coordination numbers."""
    import MDAnalysis as mda
    from solvation_analysis.solute import Solute

    radii = {"pf6": 2.8, "bn": 2.61468, "fec": 2.43158}
    selections = {"pf6": "byres type 20", "bn": "byres type 5", "fec": "byres type 19"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        universe = mda.Universe(sa_files.bn_fec_data, sa_files.bn_fec_dcd_wrap)
        peer = Solute.from_atoms(universe.select_atoms("type 22"),
                                 {name: universe.select_atoms(sel) for name, sel in selections.items()},
                                 radii=radii, rdf_init_kwargs={"range": (0, 8.0)}).run()
    argv = ["analyze", "solvation", sa_files.bn_fec_data, sa_files.bn_fec_dcd_wrap, "--solute", "type 22",
            "--count", "any-atom", "--out", str(tmp_path / "solv")]
    for name, selection in selections.items():
        argv += ["--species", f"{name}={selection}", "--cutoff", f"{name}={radii[name]}"]
    code, captured = _run(argv, capsys)
    assert code == 0, captured.err
    ours = json.loads((tmp_path / "solv" / "solvation.json").read_text())["coordination"]["species"]
    for name, value in peer.coordination.coordination_numbers.items():
        assert ours[name]["mean"] == pytest.approx(value, abs=0.02), name


def test_bn_fec_without_names_guesses_species_by_formula_with_the_anion_from_charges(tmp_path, capsys):
    code, captured = _run(["analyze", "solvation", sa_files.bn_fec_data, sa_files.bn_fec_dcd_wrap,
                           "--out", str(tmp_path / "solv")], capsys)
    assert code == 0, captured.err
    record = json.loads((tmp_path / "solv" / "solvation.json").read_text())
    assert {name: entry["role"] for name, entry in record["species"].items()} == {
        "C4H7N": "solvent", "C3H3FO3": "solvent", "F6P": "anion", "Li": "cation"}
    assert record["ion_pairing"] is not None and record["count"] == "donors"
