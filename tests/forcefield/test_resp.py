"""RESP charges checked against the AmberTools ``resp`` program on the same ESP.

Both fits see the same HF/6-31G* potential on the same Merz–Singh–Kollman points; the
AmberTools inputs come from ``antechamber`` + ``respgen -f resp1 / -f resp2`` (Bayly et
al. 1993, DOI 10.1021/j100142a004). ``resp`` prints charges to 6 decimals.
"""

import subprocess

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import AllChem

from qsse_md.forcefield.esp import electrostatic_potential, esp_for_molecule, msk_grid_points
from qsse_md.forcefield.resp import resp_charges
from qsse_md.resources import executable
from qsse_md.units import BOHR_ANGSTROM

AMBERTOOLS_PROGRAMS = ("antechamber", "respgen", "resp")


def embedded(smiles):
    """Molecule with explicit hydrogens and an ETKDG (seed 7) + MMFF conformer."""
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    AllChem.EmbedMolecule(mol, randomSeed=7)
    AllChem.MMFFOptimizeMolecule(mol)
    return mol


@pytest.fixture(scope="module")
def ethylene_carbonate():
    pytest.importorskip("pyscf")
    mol = embedded("O=C1OCCO1")
    return (mol, *esp_for_molecule(mol, total_charge=0))


@pytest.fixture(scope="module")
def dimethoxyethane():
    """CH3-O-CH2-CH2-O-CH3 with its two methyl caps as neutral charge groups."""
    pytest.importorskip("pyscf")
    mol = embedded("COCCOC")
    caps = []
    for carbon in (0, 5):
        neighbours = mol.GetAtomWithIdx(carbon).GetNeighbors()
        hydrogens = [n.GetIdx() for n in neighbours if n.GetAtomicNum() == 1]
        caps.append(([carbon, *hydrogens], 0.0))
    return (mol, *esp_for_molecule(mol, total_charge=0), caps)


def write_espot(path, mol, points_angstrom, esp_hartree):
    """``resp``'s espot file: counts (2I5), atoms (17X,3E16.7), points (1X,4E16.7), bohr."""
    lines = [f"{mol.GetNumAtoms():5d}{len(points_angstrom):5d}"]
    for xyz in mol.GetConformer().GetPositions() / BOHR_ANGSTROM:
        lines.append(" " * 17 + "".join(f"{c:16.7E}" for c in xyz))
    for value, xyz in zip(esp_hartree, points_angstrom / BOHR_ANGSTROM):
        lines.append(" " + "".join(f"{c:16.7E}" for c in (value, *xyz)))
    path.write_text("\n".join(lines) + "\n")


def read_resp_charges(path):
    """Charges from a ``resp`` qout file (8F10.6)."""
    text = "".join(path.read_text().splitlines())
    return np.array([float(text[i : i + 10]) for i in range(0, len(text), 10)])


def amber_resp(mol, points_angstrom, esp_hartree, total_charge, workdir, charge_groups=()):
    """Stage-1 and stage-2 charges (e) from AmberTools respgen + resp on the given ESP."""
    missing = [name for name in AMBERTOOLS_PROGRAMS if executable(name) is None]
    if missing:
        pytest.skip(f"AmberTools programs not found: {', '.join(missing)}")

    def run(*args):
        subprocess.run([executable(args[0]), *args[1:]], cwd=workdir, check=True, capture_output=True)

    Chem.MolToMolFile(mol, str(workdir / "mol.mdl"))
    run("antechamber", "-i", "mol.mdl", "-fi", "mdl", "-o", "mol.ac", "-fo", "ac",
        "-nc", str(total_charge), "-pf", "y", "-dr", "no")
    write_espot(workdir / "espot", mol, points_angstrom, esp_hartree)
    group_args = []
    if charge_groups:
        records = []
        for atoms, target in charge_groups:
            records.append(f"GROUP {len(atoms)} {target}")
            records.extend(f"ATOM {atom + 1}" for atom in atoms)
        (workdir / "groups.dat").write_text("\n".join(records) + "\n")
        group_args = ["-a", "groups.dat"]
    for stage in (1, 2):
        run("respgen", "-i", "mol.ac", "-o", f"resp{stage}.in", "-f", f"resp{stage}", *group_args)
    run("resp", "-O", "-i", "resp1.in", "-o", "resp1.out", "-p", "punch1", "-t", "qout1",
        "-e", "espot", "-s", "esout1")
    run("resp", "-O", "-i", "resp2.in", "-o", "resp2.out", "-p", "punch2", "-q", "qout1",
        "-t", "qout2", "-e", "espot", "-s", "esout2")
    return read_resp_charges(workdir / "qout1"), read_resp_charges(workdir / "qout2")


def test_ethylene_carbonate_matches_amber_resp(ethylene_carbonate, tmp_path):
    mol, points, esp = ethylene_carbonate
    stage1 = resp_charges(mol, points, esp, 0, stage2=False)
    stage2 = resp_charges(mol, points, esp, 0)
    assert abs(stage1.sum()) < 1e-6 and abs(stage2.sum()) < 1e-6

    amber_stage1, amber_stage2 = amber_resp(mol, points, esp, 0, tmp_path)
    assert np.abs(stage1 - amber_stage1).max() < 1e-4
    assert np.abs(stage2 - amber_stage2).max() < 1e-4
    # The two methylene groups are equivalent only in stage 2, as respgen has it.
    assert stage2[3] == pytest.approx(stage2[4], abs=1e-12)
    assert stage1[3] != pytest.approx(stage1[4], abs=1e-6)


def test_charge_groups_hold(dimethoxyethane):
    mol, points, esp, caps = dimethoxyethane
    free_caps = resp_charges(mol, points, esp, 0)
    assert abs(free_caps[caps[0][0]].sum()) > 1e-3  # so the constraint has work to do

    for stage2 in (False, True):
        charges = resp_charges(mol, points, esp, 0, charge_groups=caps, stage2=stage2)
        for atoms, target in caps:
            assert charges[atoms].sum() == pytest.approx(target, abs=1e-6)
        assert charges.sum() == pytest.approx(0.0, abs=1e-6)

    # Groups that tile the molecule repeat the total-charge constraint; still solvable.
    middle = sorted(set(range(mol.GetNumAtoms())) - set(caps[0][0]) - set(caps[1][0]))
    tiled = resp_charges(mol, points, esp, 0, charge_groups=[*caps, (middle, 0.0)])
    capped = resp_charges(mol, points, esp, 0, charge_groups=caps)
    np.testing.assert_allclose(tiled, capped, atol=1e-10)


def test_charge_groups_match_amber_resp(dimethoxyethane, tmp_path):
    mol, points, esp, caps = dimethoxyethane
    amber_stage1, amber_stage2 = amber_resp(mol, points, esp, 0, tmp_path, charge_groups=caps)
    stage1 = resp_charges(mol, points, esp, 0, charge_groups=caps, stage2=False)
    stage2 = resp_charges(mol, points, esp, 0, charge_groups=caps)
    assert np.abs(stage1 - amber_stage1).max() < 1e-4
    assert np.abs(stage2 - amber_stage2).max() < 1e-4


def test_msk_points_lie_outside_every_scaled_sphere():
    mol = embedded("O=C1OCCO1")
    coords = mol.GetConformer().GetPositions()
    elements = [atom.GetAtomicNum() for atom in mol.GetAtoms()]
    points = msk_grid_points(coords, elements)
    radii = np.array([{1: 1.2, 6: 1.5, 8: 1.4}[z] for z in elements])
    distances = np.linalg.norm(points[:, None, :] - coords[None, :, :], axis=2)
    assert (distances >= 1.4 * radii - 1e-9).all()
    np.testing.assert_array_equal(points, msk_grid_points(coords, elements))


def test_bad_input_raises():
    mol = embedded("O=C1OCCO1")
    coords = mol.GetConformer().GetPositions()
    points = msk_grid_points(coords, [atom.GetAtomicNum() for atom in mol.GetAtoms()])
    esp = np.zeros(len(points))
    n_atoms = mol.GetNumAtoms()
    bad_calls = {
        "shape": lambda: resp_charges(mol, points, esp[:-1], 0),
        "non-empty": lambda: resp_charges(mol, points[:0], esp[:0], 0),
        "finite": lambda: resp_charges(mol, points, np.full(len(points), np.nan), 0),
        "outside": lambda: resp_charges(mol, points, esp, 0, charge_groups=[([0, n_atoms], 0.0)]),
        "overlaps": lambda: resp_charges(
            mol, points, esp, 0, charge_groups=[([0, 1], 0.0), ([1, 2], 0.0)]
        ),
        "more than once": lambda: resp_charges(mol, points, esp, 0, charge_groups=[([0, 0], 0.0)]),
        "pair": lambda: resp_charges(mol, points, esp, 0, charge_groups=[[0, 1, 2]]),
        "inconsistent": lambda: resp_charges(
            mol, points, esp, 0, charge_groups=[(list(range(n_atoms)), 1.0)]
        ),
        "conformer": lambda: resp_charges(Chem.AddHs(Chem.MolFromSmiles("C")), points, esp, 0),
        "implicit hydrogens": lambda: resp_charges(Chem.RemoveHs(mol), points, esp, 0),
        "radius": lambda: msk_grid_points([[0.0, 0.0, 0.0]], [3]),
        "odd electron": lambda: electrostatic_potential([[0.0, 0.0, 0.0]], [1], 0, points),
    }
    for message, call in bad_calls.items():
        with pytest.raises(ValueError, match=message):
            call()
