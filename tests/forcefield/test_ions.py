"""The shipped ion force fields load into OpenMM and reproduce the published parameters.

Published values quoted literally below come from CL&P il.ff (github.com/paduagroup/clandp),
GROMACS oplsaa.ff (opls_406) and Jensen & Jorgensen 2006 (doi:10.1021/ct600252r).
"""

import io
import math

import numpy as np
import openmm
import pytest
from openmm import app, unit
from rdkit import Chem
from rdkit.Chem import AllChem

from qsse_md.forcefield import ions

KCAL_KJ = 4.184
TFSI_SMILES = "O=S(=O)([N-]S(=O)(=O)C(F)(F)F)C(F)(F)F"
PF6_BOND_NM = 0.1606
PF6_BOND_K = 3100.0 * 100.0  # il.ff 3100 kJ/mol/Å² (k/2 form) in kJ/mol/nm²
PF6_ANGLE_K = 1165.0  # kJ/mol/rad²
OCTAHEDRON = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], float)

# (file name, element) -> (charge e, sigma nm, epsilon kJ/mol) as published
PUBLISHED_NONBONDED = {
    ("LI.xml", "Li"): (1.0, 0.287, 0.0005 * KCAL_KJ),
    ("LI_aqvist1990.xml", "Li"): (1.0, 0.212645, 0.0764793),
    ("PF6.xml", "P"): (1.34, 0.374, 0.8368),
    ("PF6.xml", "F"): (-0.39, 0.312, 0.2552),
    ("TFSI.xml", "N"): (-0.66, 0.325, 0.71128),
    ("TFSI.xml", "S"): (1.02, 0.355, 1.046),
    ("TFSI.xml", "O"): (-0.53, 0.296, 0.87864),
    ("TFSI.xml", "C"): (0.35, 0.350, 0.27614),
    ("TFSI.xml", "F"): (-0.16, 0.295, 0.22175),
}
# CL&P OPLS torsions V1..V4 (kJ/mol) by element quadruple (each element has one TFSI type)
TFSI_OPLS_V = {
    ("O", "S", "C", "F"): (0.0, 0.0, 1.4510, 0.0),
    ("N", "S", "C", "F"): (0.0, 0.0, 1.3220, 0.0),
    ("O", "S", "N", "S"): (0.0, 0.0, -0.0150, 0.0),
    ("S", "N", "S", "C"): (32.7730, -10.4200, -3.1950, 0.0),
}
NEON_FFXML = """<ForceField>
 <AtomTypes><Type name="ne" class="ne" element="Ne" mass="20.1797"/></AtomTypes>
 <Residues><Residue name="NEO"><Atom name="NE" type="ne" charge="0.0"/></Residue></Residues>
 <NonbondedForce coulomb14scale="0.8333333333333334" lj14scale="0.5">
  <UseAttributeFromResidue name="charge"/><Atom type="ne" sigma="0.3" epsilon="0.1"/>
 </NonbondedForce>
</ForceField>"""


def ion_graph(name):
    """Elements, bonds and ideal positions (nm) of one ion, atoms in template order."""
    if name == "LI":
        return ["Li"], [], np.zeros((1, 3))
    if name == "PF6":
        return ["P"] + ["F"] * 6, [(0, i) for i in range(1, 7)], np.vstack([[0, 0, 0], PF6_BOND_NM * OCTAHEDRON])
    mol = Chem.MolFromSmiles(TFSI_SMILES)
    params = AllChem.ETKDGv3()
    params.randomSeed = 20240611
    assert AllChem.EmbedMolecule(mol, params) == 0
    positions = mol.GetConformer().GetPositions() * 0.1
    bonds = [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()]
    return [a.GetSymbol() for a in mol.GetAtoms()], bonds, positions


def build_topology(residue_names):
    """Topology with one residue per ion, atoms named by element only (matching is by graph)."""
    topology = app.Topology()
    chain = topology.addChain()
    positions = []
    for index, (ion_name, residue_name) in enumerate(residue_names):
        elements, bonds, xyz = ion_graph(ion_name)
        residue = topology.addResidue(residue_name, chain)
        atoms = [topology.addAtom(symbol, app.Element.getBySymbol(symbol), residue) for symbol in elements]
        for i, j in bonds:
            topology.addBond(atoms[i], atoms[j])
        positions.append(xyz + [2.0 * index, 0.0, 0.0])
    return topology, np.vstack(positions)


def nonbonded_per_atom(system):
    force = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    rows = [force.getParticleParameters(i) for i in range(force.getNumParticles())]
    return [(q.value_in_unit(unit.elementary_charge), s.value_in_unit(unit.nanometer),
             e.value_in_unit(unit.kilojoule_per_mole)) for q, s, e in rows]


def energies_by_force(system, positions_nm):
    """Potential energy (kJ/mol) of each force, keyed by the force's class name."""
    for group, force in enumerate(system.getForces()):
        force.setForceGroup(group)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(positions_nm * unit.nanometer)
    return {type(force).__name__: context.getState(getEnergy=True, groups={group}).getPotentialEnergy()
            .value_in_unit(unit.kilojoule_per_mole) for group, force in enumerate(system.getForces())}


def create_system(ffxml_sources, residue_names):
    topology, positions = build_topology(residue_names)
    forcefield = app.ForceField(*ffxml_sources)
    return forcefield.createSystem(topology, nonbondedMethod=app.NoCutoff), topology, positions


@pytest.mark.parametrize("name, li_model", ions.LIBRARY)
def test_shipped_file_is_the_generated_text(name, li_model):
    assert ions.ion_ffxml_path(name, li_model).read_text() == ions.ion_ffxml(name, 1.0, li_model)


def test_shipped_provenance_is_the_generated_text():
    text = (ions.ion_ffxml_path("PF6").parent / "PROVENANCE.md").read_text()
    assert text == ions.ion_provenance_markdown()
    for doi in ("10.1021/ct600252r", "10.1021/j100384a009", "10.1021/jp0362133", "10.1021/jp0476545"):
        assert doi in text


@pytest.mark.parametrize("charge_scale", [1.0, 0.8])
@pytest.mark.parametrize("name, li_model", ions.LIBRARY)
def test_file_alone_parameterises_its_ion(name, li_model, charge_scale):
    ffxml = io.StringIO(ions.ion_ffxml(name, charge_scale, li_model))
    system, topology, _ = create_system([ffxml], [(name, name)])
    per_atom = nonbonded_per_atom(system)
    assert sum(q for q, _, _ in per_atom) == pytest.approx(ions.ION_CHARGES_E[name] * charge_scale, abs=1e-6)
    expected = {a.element: a for a in ions.ion_atoms(name, charge_scale, li_model)}
    filename = ions.ion_ffxml_filename(name, li_model)
    for atom, (charge, sigma, epsilon) in zip(topology.atoms(), per_atom):
        table = expected[atom.element.symbol]
        assert (charge, sigma, epsilon) == pytest.approx((table.charge_e, table.sigma_nm, table.epsilon_kj_per_mol),
                                                         rel=1e-12, abs=1e-12)
        published_charge, published_sigma, published_epsilon = PUBLISHED_NONBONDED[(filename, atom.element.symbol)]
        assert (charge, sigma, epsilon) == pytest.approx(
            (published_charge * charge_scale, published_sigma, published_epsilon), rel=1e-9)


@pytest.mark.parametrize("li_model", ions.LI_MODELS)
def test_shipped_files_load_together_with_a_gaff2_style_file(li_model):
    sources = [str(ions.ion_ffxml_path(n, li_model)) for n in ("LI", "PF6", "TFSI")] + [io.StringIO(NEON_FFXML)]
    system, topology, _ = create_system(sources, [("LI", "LI"), ("PF6", "PF6"), ("TFSI", "TFS"), ("LI", "LI")])
    per_atom = nonbonded_per_atom(system)
    for residue in topology.residues():
        total = sum(per_atom[atom.index][0] for atom in residue.atoms())
        assert total == pytest.approx({"LI": 1, "PF6": -1, "TFS": -1}[residue.name], abs=1e-6)
    assert all(t.startswith("qsse_") for n, m in ions.LIBRARY
               for t in {a.atom_type for a in ions.ion_atoms(n, 1.0, m)})


def test_stretched_pf6_bond_has_harmonic_energy():
    system, _, positions = create_system([io.StringIO(ions.ion_ffxml("PF6"))], [("PF6", "PF6")])
    stretch_nm = 0.01
    positions[1] += stretch_nm * OCTAHEDRON[0]
    energies = energies_by_force(system, positions)
    assert energies["HarmonicBondForce"] == pytest.approx(0.5 * PF6_BOND_K * stretch_nm**2, rel=1e-9)
    assert energies["CustomAngleForce"] == pytest.approx(0.0, abs=1e-9)


def test_bent_pf6_counts_cis_angles_only():
    system, _, positions = create_system([io.StringIO(ions.ion_ffxml("PF6"))], [("PF6", "PF6")])
    angle_force = next(f for f in system.getForces() if isinstance(f, openmm.CustomAngleForce))
    assert angle_force.getNumAngles() == 15  # 12 cis + 3 trans triples; the trans ones contribute 0
    bend_rad = 0.1
    positions[1] = PF6_BOND_NM * np.array([math.cos(bend_rad), math.sin(bend_rad), 0.0])
    energies = energies_by_force(system, positions)
    # F1 leans towards +y: angles to +y and -y change by -/+ bend, to +-z stay 90 deg
    assert energies["CustomAngleForce"] == pytest.approx(2 * 0.5 * PF6_ANGLE_K * bend_rad**2, rel=1e-9)


def dihedral_rad(p0, p1, p2, p3):
    b1, b2, b3 = p1 - p0, p2 - p1, p3 - p2
    n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
    return math.atan2(np.dot(np.cross(n1, b2 / np.linalg.norm(b2)), n2), np.dot(n1, n2))


def test_tfsi_torsions_match_the_opls_series():
    system, topology, positions = create_system([io.StringIO(ions.ion_ffxml("TFSI"))], [("TFSI", "TFSI")])
    symbols = [atom.element.symbol for atom in topology.atoms()]
    neighbours = {i: set() for i in range(len(symbols))}
    for bond in topology.bonds():
        neighbours[bond[0].index].add(bond[1].index)
        neighbours[bond[1].index].add(bond[0].index)
    expected, count = 0.0, 0
    for j, k in ((b[0].index, b[1].index) for b in topology.bonds()):
        for i in neighbours[j] - {k}:
            for m in neighbours[k] - {j}:
                quad = tuple(symbols[x] for x in (i, j, k, m))
                v = TFSI_OPLS_V.get(quad) or TFSI_OPLS_V[quad[::-1]]
                phi = dihedral_rad(*positions[[i, j, k, m]])
                expected += sum(vn / 2 * (1 + (-1) ** n * -math.cos(n * phi)) for n, vn in enumerate(v, start=1))
                count += 1
    assert count == 24
    assert energies_by_force(system, positions)["PeriodicTorsionForce"] == pytest.approx(expected, rel=1e-9)


def test_tfsi_14_pairs_use_the_gaff2_scale():
    system, topology, _ = create_system([io.StringIO(ions.ion_ffxml("TFSI"))], [("TFSI", "TFSI")])
    force = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    scaled = [force.getExceptionParameters(i) for i in range(force.getNumExceptions())]
    scaled = [(i, j, qq.value_in_unit(unit.elementary_charge**2)) for i, j, qq, _, eps in scaled
              if eps.value_in_unit(unit.kilojoule_per_mole) != 0.0]
    assert len(scaled) == 24
    charges = [q for q, _, _ in nonbonded_per_atom(system)]
    for i, j, charge_product in scaled:
        assert charge_product == pytest.approx(charges[i] * charges[j] * ions.GAFF2_COULOMB14_SCALE, rel=1e-12)


@pytest.mark.parametrize("charge_scale", [0.0, -0.1, 1.5, float("nan")])
def test_bad_charge_scale_raises(charge_scale):
    with pytest.raises(ValueError, match="charge_scale"):
        ions.ion_ffxml("PF6", charge_scale=charge_scale)


def test_unknown_ion_or_li_model_raises():
    with pytest.raises(ValueError, match="unknown ion"):
        ions.ion_ffxml("BF4")
    with pytest.raises(ValueError, match="unknown Li"):
        ions.ion_ffxml("LI", li_model="dang1992")


def test_opls_torsion_conversion_reproduces_the_fourier_series():
    v = (32.7730, -10.4200, -3.1950, 2.0)
    for phi in np.linspace(-math.pi, math.pi, 13):
        opls = sum(vn / 2 * (1 + (-1) ** (n + 1) * math.cos(n * phi)) for n, vn in enumerate(v, start=1))
        periodic = sum(k * (1 + math.cos(n * phi - phase)) for n, phase, k in ions.opls_torsion_to_periodic(v))
        assert periodic == pytest.approx(opls, abs=1e-12)


def test_salt_molar_masses_match_the_literature():
    li, pf6, tfsi = (ions.ion_molar_mass_g_per_mol(n) for n in ("LI", "PF6", "TFSI"))
    assert li + pf6 == pytest.approx(151.905, abs=0.01)  # LiPF6, g/mol
    assert li + tfsi == pytest.approx(287.09, abs=0.01)  # LiTFSI, g/mol


def test_write_ion_library_writes_loadable_files(tmp_path):
    written = ions.write_ion_library(tmp_path / "ions")
    assert [p.name for p in written] == ["LI.xml", "LI_aqvist1990.xml", "PF6.xml", "TFSI.xml", "PROVENANCE.md"]
    for path in written[:-1]:
        app.ForceField(str(path))
    assert not list((tmp_path / "ions").glob(".*.tmp"))
