import argparse
import json
import shutil
import subprocess

import numpy as np
import openmm
import pytest
from openmm import app, unit

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.recipe import load_recipe
from qsse_md.cli.export import add_export_parser
from qsse_md.md.export import export_system
from qsse_md.resources import systems_dir


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    build = build_system(load_recipe(systems_dir() / "tiny.toml"), root / "tiny")
    record = export_system(root / "tiny", root / "out")
    return root, build, record


def _energies(system, positions, platform="Reference"):
    """Potential energy (kJ/mol) per force class and in total."""
    system = openmm.XmlSerializer.deserialize(openmm.XmlSerializer.serialize(system))
    names = [type(f).__name__ for f in system.getForces()]
    for group, force in enumerate(system.getForces()):
        force.setForceGroup(group)
    context = openmm.Context(system, openmm.VerletIntegrator(1e-3),
                             openmm.Platform.getPlatformByName(platform))
    context.setPositions(positions)
    energies = {}
    for group, name in enumerate(names):
        state = context.getState(getEnergy=True, groups={group})
        energies[name] = energies.get(name, 0.0) + state.getPotentialEnergy().value_in_unit(
            unit.kilojoule_per_mole)
    energies["total"] = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(
        unit.kilojoule_per_mole)
    return energies


def _original(root):
    pdb = app.PDBFile(str(root / "tiny" / "topology.pdb"))
    system = openmm.XmlSerializer.deserialize((root / "tiny" / "system.xml").read_text())
    return system, pdb.getPositions()


def _amber(root, build, **kwargs):
    options = build["system_options"]
    prmtop = app.AmberPrmtopFile(str(root / "out" / "system.prmtop"))
    kwargs.setdefault("nonbondedMethod", app.PME)
    if kwargs["nonbondedMethod"] is app.PME:
        kwargs.update(nonbondedCutoff=options["nonbonded_cutoff_nm"] * unit.nanometer,
                      ewaldErrorTolerance=options["ewald_error_tolerance"])
    system = prmtop.createSystem(rigidWater=False, **kwargs)
    for force in system.getForces():
        if isinstance(force, openmm.NonbondedForce):
            force.setUseDispersionCorrection(options["dispersion_correction"])
    return system


def _compare(original, exported_energies):
    """Original vs exported energies, with the PF6- cis angles counted as angles."""
    merged = dict(original)
    merged["HarmonicAngleForce"] += merged.pop("CustomAngleForce", 0.0)
    return {k: exported_energies[k] - merged[k] for k in merged if k != "CMMotionRemover"}


def test_export_writes_files_and_record(exported):
    root, build, record = exported
    out = root / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["export.json", "system.top", "system.gro", "system.prmtop", "system.inpcrd"])
    assert json.loads((out / "export.json").read_text()) == record
    assert record["source"]["name"] == "tiny"
    angles = next(c for c in record["conversions"] if c["force"] == "CustomAngleForce")
    assert angles["angles_kept"] + angles["angles_zero_at_geometry"] == 4 * 15
    restored = next(c for c in record["conversions"] if c["force"] == "constraints")
    assert restored["bonds_restored"] == record["run_settings"]["constrained_bonds"] > 0
    assert record["run_settings"]["nonbonded_cutoff_nm"] == pytest.approx(
        build["system_options"]["nonbonded_cutoff_nm"])
    assert not list(root.glob(".out.*")), "staging folder left behind"


def test_amber_energy_matches_openmm_with_pme(exported):
    root, build, _ = exported
    system, positions = _original(root)
    amber = _amber(root, build, constraints=app.HBonds)
    assert amber.getNumConstraints() == system.getNumConstraints()
    original = _energies(system, positions)
    diff = _compare(original, _energies(amber, positions))
    assert abs(diff.pop("total")) < 1e-4 * abs(original["total"])
    for name, value in diff.items():
        assert abs(value) < 1e-3, (name, value)


def test_amber_flexible_bonds_only_add_constrained_bond_terms(exported):
    root, build, _ = exported
    system, positions = _original(root)
    original = _energies(system, positions)
    diff = _compare(original, _energies(_amber(root, build, constraints=None), positions))
    # X-H bonds are at their constraint length up to the PDB's 0.001 Å rounding
    bonds = diff.pop("HarmonicBondForce")
    assert 0.0 <= bonds < 0.1
    assert diff.pop("total") == pytest.approx(bonds, abs=1e-3)
    for name, value in diff.items():
        assert abs(value) < 1e-3, (name, value)


def test_amber_energy_matches_openmm_without_cutoff(exported):
    root, build, _ = exported
    system, positions = _original(root)
    for force in system.getForces():
        if isinstance(force, openmm.NonbondedForce):
            force.setNonbondedMethod(openmm.NonbondedForce.NoCutoff)
    original = _energies(system, positions)
    amber = _amber(root, build, nonbondedMethod=app.NoCutoff, constraints=app.HBonds)
    diff = _compare(original, _energies(amber, positions))
    assert abs(diff.pop("total")) < 1e-6 * abs(original["total"])
    for name, value in diff.items():
        assert abs(value) < 1e-3, (name, value)


def test_gromacs_top_read_by_openmm_matches(exported):
    root, build, _ = exported
    system, positions = _original(root)
    options = build["system_options"]
    box = system.getDefaultPeriodicBoxVectors()
    top = app.GromacsTopFile(str(root / "out" / "system.top"), periodicBoxVectors=box)
    gromacs = top.createSystem(nonbondedMethod=app.PME, constraints=app.HBonds,
                               nonbondedCutoff=options["nonbonded_cutoff_nm"] * unit.nanometer,
                               ewaldErrorTolerance=options["ewald_error_tolerance"],
                               rigidWater=False)
    for force in gromacs.getForces():
        if isinstance(force, openmm.NonbondedForce):
            force.setUseDispersionCorrection(options["dispersion_correction"])
    original = _energies(system, positions)
    diff = _compare(original, _energies(gromacs, positions))
    assert abs(diff.pop("total")) < 1e-4 * abs(original["total"])
    for name, value in diff.items():
        assert abs(value) < 1e-3, (name, value)


@pytest.mark.skipif(shutil.which("gmx") is None, reason="GROMACS (gmx) is not installed")
def test_gromacs_rerun_energy_matches(exported, tmp_path):
    root, build, _ = exported
    system, positions = _original(root)
    options = build["system_options"]
    cutoff = options["nonbonded_cutoff_nm"]
    (tmp_path / "rerun.mdp").write_text(
        f"integrator = md\nnsteps = 0\ncutoff-scheme = Verlet\ncoulombtype = PME\n"
        f"rcoulomb = {cutoff}\nrvdw = {cutoff}\nvdw-modifier = None\n"
        f"ewald-rtol = {options['ewald_error_tolerance']}\nDispCorr = EnerPres\n"
        "constraints = h-bonds\nverlet-buffer-tolerance = -1\nrlist = "
        f"{cutoff}\n")
    out = root / "out"
    subprocess.run(["gmx", "grompp", "-f", "rerun.mdp", "-c", str(out / "system.gro"),
                    "-p", str(out / "system.top"), "-o", "rerun.tpr", "-maxwarn", "5"],
                   cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["gmx", "mdrun", "-s", "rerun.tpr", "-rerun", str(out / "system.gro"),
                    "-e", "rerun.edr", "-nt", "1"], cwd=tmp_path, check=True, capture_output=True)
    result = subprocess.run(["gmx", "energy", "-f", "rerun.edr", "-o", "rerun.xvg"],
                            input="Potential\n\n", text=True, cwd=tmp_path, check=True,
                            capture_output=True)
    rows = [line.split() for line in (tmp_path / "rerun.xvg").read_text().splitlines()
            if line and line[0] not in "#@"]
    gmx_total = float(rows[0][1])
    positions_gro = app.GromacsGroFile(str(out / "system.gro")).getPositions()
    original = _energies(system, positions_gro)["total"]
    assert gmx_total == pytest.approx(original, rel=1e-3), result.stdout


def _copy_build(root, tmp_path):
    target = tmp_path / "build"
    shutil.copytree(root / "tiny", target)
    return target


def test_unsupported_force_is_refused(exported, tmp_path):
    root, _, _ = exported
    build = _copy_build(root, tmp_path)
    system = openmm.XmlSerializer.deserialize((build / "system.xml").read_text())
    system.addForce(openmm.CustomExternalForce("x^2"))
    (build / "system.xml").write_text(openmm.XmlSerializer.serialize(system))
    with pytest.raises(ValueError, match="CustomExternalForce"):
        export_system(build, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))


def test_unknown_custom_angle_expression_is_refused(exported, tmp_path):
    root, _, _ = exported
    build = _copy_build(root, tmp_path)
    text = (build / "system.xml").read_text().replace("0.5*k*(theta - theta0)^2",
                                                      "k*(theta - theta0)^4")
    (build / "system.xml").write_text(text)
    with pytest.raises(ValueError, match="CustomAngleForce"):
        export_system(build, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_input_fails_early_and_writes_nothing(exported, tmp_path):
    root, _, _ = exported
    with pytest.raises(FileNotFoundError, match="build folder"):
        export_system(tmp_path / "missing", tmp_path / "out")
    build = _copy_build(root, tmp_path)
    (build / "system.xml").unlink()
    with pytest.raises(FileNotFoundError, match="system.xml"):
        export_system(build, tmp_path / "out")
    with pytest.raises(ValueError, match="unknown export format"):
        export_system(root / "tiny", tmp_path / "out", formats=("lammps",))
    with pytest.raises(FileExistsError):
        export_system(root / "tiny", root / "tiny")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build"]


def test_cli_export_command(exported, tmp_path, capsys):
    root, _, _ = exported
    parser = argparse.ArgumentParser(prog="qsse-md")
    add_export_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["export", str(root / "tiny"), "--out", str(tmp_path / "amb"),
                              "--format", "amber"])
    args.func(args)
    assert sorted(p.name for p in (tmp_path / "amb").iterdir()) == [
        "export.json", "system.inpcrd", "system.prmtop"]
    assert "amber" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["export", str(root / "tiny"), "--out", "x", "--format", "pdb"])
