"""Every shipped ffxml reproduces the tleap/prmtop energy of the same molecule."""

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import openmm
import pytest
from openmm import app, unit

from qsse_md.assembly.molecules import build_topology, polymer_molecule, small_molecule
from qsse_md.chem.polymer import build_segment
from qsse_md.chem.species import get_species, list_species
from qsse_md.forcefield.amber import amber_binary
from qsse_md.forcefield.library import library_index, species_ffxml
from qsse_md.forcefield.templates import CAP_CODES
from qsse_md.resources import forcefields_dir

SHIPPED = sorted(record["name"] for record in library_index().values())


def _templates(ffxml: Path) -> dict:
    root = ET.parse(ffxml).getroot()
    return {res.get("name"): {a.get("name"): (a.get("type"), float(a.get("charge")))
                              for a in res.findall("Atom")}
            for res in root.iter("Residue")}


def _energies_kj(system, positions_nm) -> np.ndarray:
    for index, force in enumerate(system.getForces()):
        force.setForceGroup(index)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(positions_nm)
    by_kind = {}
    for index, force in enumerate(system.getForces()):
        energy = context.getState(getEnergy=True, groups={index}).getPotentialEnergy()
        kind = type(force).__name__
        kind = "PeriodicTorsionForce" if kind == "CustomTorsionForce" else kind
        by_kind[kind] = by_kind.get(kind, 0.0) + energy.value_in_unit(unit.kilojoule_per_mole)
    return by_kind


def _tleap_system(tmp_path, topology, positions_angstrom, types_charges, frcmod: Path):
    lines = ["@<TRIPOS>MOLECULE", "MOL", f"{topology.getNumAtoms()} {topology.getNumBonds()} 1",
             "SMALL", "USER_CHARGES", "", "@<TRIPOS>ATOM"]
    for atom, xyz, (atom_type, charge) in zip(topology.atoms(), positions_angstrom, types_charges):
        lines.append(f"{atom.index + 1} A{atom.index} {xyz[0]:.6f} {xyz[1]:.6f} {xyz[2]:.6f} "
                     f"{atom_type} 1 MOL {charge:.10f}")
    lines.append("@<TRIPOS>BOND")
    for index, bond in enumerate(topology.bonds()):
        lines.append(f"{index + 1} {bond[0].index + 1} {bond[1].index + 1} 1")
    lines += ["@<TRIPOS>SUBSTRUCTURE", "1 MOL 1 TEMP 0 **** **** 0 ROOT"]
    (tmp_path / "mol.mol2").write_text("\n".join(lines) + "\n")
    (tmp_path / "leap.in").write_text(
        f"source leaprc.gaff2\nloadamberparams {frcmod}\nm = loadmol2 mol.mol2\n"
        "saveamberparm m mol.prmtop mol.inpcrd\nquit\n")
    subprocess.run([amber_binary("tleap"), "-f", "leap.in"], cwd=tmp_path, check=True,
                   capture_output=True)
    prmtop = app.AmberPrmtopFile(str(tmp_path / "mol.prmtop"))
    return prmtop.createSystem(nonbondedMethod=app.NoCutoff, constraints=None)


def _molecule(name, caps):
    species = get_species(name)
    if species.kind == "monomer":
        segment = build_segment(name, 3 if caps[0] == "methyl" else 4, tacticity="syndiotactic",
                                caps=caps)
        return polymer_molecule(name, segment, seed=3), segment
    return small_molecule(name, species, seed=3), None


def _template_name(prefix, segment, unit_index):
    position = segment.unit_position(unit_index)
    caps = "".join(CAP_CODES[c] for c, end in zip(segment.caps, ("head", "tail"))
                   if position in (end, "single"))
    return f"{prefix}_{position}{caps}"


@pytest.mark.skipif(not SHIPPED, reason="shipped library not generated")
@pytest.mark.parametrize("name,caps", [
    (name, caps) for name in SHIPPED
    for caps in ((("methyl", "H"), ("H", "methyl")) if get_species(name).kind == "monomer"
                 else (("methyl", "H"),))])
def test_shipped_ffxml_energy_matches_tleap_prmtop(name, caps, tmp_path):
    species = get_species(name)
    ffxml = species_ffxml(species)
    molecule, segment = _molecule(name, caps)
    topology = build_topology([molecule], [1], 60.0)
    positions = molecule.coordinates_angstrom
    forcefield = app.ForceField(str(forcefields_dir() / "gaff2.xml"), str(ffxml))
    ours = forcefield.createSystem(topology, nonbondedMethod=app.NoCutoff, constraints=None)

    templates = _templates(ffxml)
    types_charges = []
    for unit_index, residue in enumerate(topology.residues()):
        template = templates[species.residue_name if segment is None
                             else _template_name(species.residue_name, segment, unit_index)]
        types_charges += [template[atom.name] for atom in residue.atoms()]
    reference = _tleap_system(tmp_path, topology, positions, types_charges,
                              ffxml.with_suffix(".frcmod"))

    ours_kj = _energies_kj(ours, positions * 0.1)
    reference_kj = _energies_kj(reference, positions * 0.1)
    for kind in ("HarmonicBondForce", "HarmonicAngleForce", "PeriodicTorsionForce",
                 "NonbondedForce"):
        assert ours_kj[kind] == pytest.approx(reference_kj[kind], rel=1e-5, abs=1e-3), kind


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_templates_have_integer_charges_and_provenance(name):
    ffxml = species_ffxml(get_species(name))
    for template, atoms in _templates(ffxml).items():
        assert abs(sum(q for _, q in atoms.values())) < 1e-6, template
    provenance = json.loads(ffxml.with_suffix(".json").read_text())
    for key in ("input_smiles", "charges", "atom_types", "tool_versions", "date",
                "mixing_rule", "coulomb14scale", "lj14scale"):
        assert provenance[key]


def test_every_registry_solvent_and_monomer_is_shipped():
    shipped = set(SHIPPED)
    wanted = {s.name for s in list_species("solvent") + list_species("monomer")}
    assert wanted <= shipped, sorted(wanted - shipped)
