import pytest

from qsse_md.chem.species import SPECIES, get_species, list_species


def test_registry_has_every_species_of_the_reference_study():
    names = {"DOA", "PCEA", "AEEO", "AAPC", "AAEO", "DOA-C4", "PCEA-C4", "AEEO-C4", "VEC",
             "VC", "PEGMA", "EC", "PC", "DMC", "DEC", "EMC", "FEC", "DOE", "EP", "LiPF6",
             "LiTFSI"}
    assert names <= set(SPECIES)


@pytest.mark.parametrize("name,formula,mass,charge", [
    ("EC", "C3H4O3", 88.062, 0),
    ("DOA", "C7H8O5", 172.136, 0),
    ("LiPF6", "F6LiP", 151.90, 0),
    ("PF6-", "F6P-", 144.964, -1),
    ("Li+", "Li+", 6.941, 1),
])
def test_formula_mass_and_charge(name, formula, mass, charge):
    species = get_species(name)
    assert species.formula == formula
    assert species.molar_mass_g_per_mol == pytest.approx(mass, abs=6e-3)
    assert species.charge_e == charge


def test_residue_names_fit_the_pdb_limit_and_are_unique():
    names = [s.residue_name for s in list_species() if s.kind != "salt"]
    assert all(1 <= len(n) <= 3 for n in names)
    assert len(set(names)) == len(names)


def test_lookup_is_case_insensitive_and_accepts_smiles():
    assert get_species("dec") is SPECIES["DEC"]
    user = get_species("C=CC(=O)OCCOC")
    assert user.kind == "monomer" and user.residue_name == "UNL"


@pytest.mark.parametrize("bad", ["C1CC", "not-a-molecule", ""])
def test_invalid_names_and_smiles_fail_with_one_line(bad):
    with pytest.raises(ValueError) as error:
        get_species(bad)
    assert "\n" not in str(error.value)


def test_kind_mismatch_is_reported():
    with pytest.raises(ValueError, match="is a solvent, not a monomer"):
        get_species("EC", kind="monomer")
