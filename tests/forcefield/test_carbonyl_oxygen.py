import openmm
import pytest

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.recipe import load_recipe, parse_recipe
from qsse_md.forcefield import carbonyl_oxygen
from qsse_md.resources import forcefields_dir, systems_dir

GAFF2_O = (0.3048120874245357, 0.6121192000000001)
GAFF1_O = tuple(carbonyl_oxygen.GAFF1_CARBONYL_O.values())


def test_gaff2_is_the_shipped_file_and_gaff1_changes_one_line():
    shipped = (forcefields_dir() / "gaff2.xml").read_text()
    assert carbonyl_oxygen.gaff2_ffxml_text("gaff2") == shipped
    changed = [(a, b) for a, b in zip(shipped.splitlines(),
                                       carbonyl_oxygen.gaff2_ffxml_text("gaff1").splitlines()) if a != b]
    assert len(changed) == 1 and 'class="o"' in changed[0][1]


def test_gaff1_values_are_the_published_r_star_and_epsilon():
    sigma_nm = carbonyl_oxygen.GAFF1_CARBONYL_O["sigma_nm"]
    assert sigma_nm * 2 ** (1 / 6) / 2 * 10 == pytest.approx(1.6612)
    assert carbonyl_oxygen.GAFF1_CARBONYL_O["epsilon_kj_per_mol"] == pytest.approx(0.21 * 4.184)


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="choose one of"):
        carbonyl_oxygen.gaff2_ffxml_text("opls")


@pytest.mark.parametrize("model", ["gaff1", "gaff2"])
def test_recipe_option_reaches_every_carbonyl_oxygen_of_the_built_system(tmp_path, model):
    source = (systems_dir() / "tiny.toml").read_text() + f'\n[forcefield]\ncarbonyl_oxygen_lj = "{model}"\n'
    assert "[forcefield]" not in (systems_dir() / "tiny.toml").read_text()
    recipe_file = tmp_path / f"tiny_{model}.toml"
    recipe_file.write_text(source)
    record = build_system(load_recipe(recipe_file), tmp_path / "box")
    assert record["carbonyl_oxygen_lj"] == model
    system = openmm.XmlSerializer.deserialize((tmp_path / "box" / "system.xml").read_text())
    nonbonded = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    parameters = [(s.value_in_unit(openmm.unit.nanometer), e.value_in_unit(openmm.unit.kilojoule_per_mole))
                  for _, s, e in map(nonbonded.getParticleParameters, range(system.getNumParticles()))]
    chosen, other = ((GAFF1_O, GAFF2_O) if model == "gaff1" else (GAFF2_O, GAFF1_O))
    # tiny.toml: 24 EC (one C=O each) and 2 DOA trimers (an ester and a carbonate C=O per unit)
    assert sum(p == pytest.approx(chosen) for p in parameters) == 24 + 2 * 3 * 2
    assert not any(p == pytest.approx(other) for p in parameters)


def test_default_recipe_uses_gaff1_and_gaff2_stays_selectable():
    recipe = parse_recipe({"composition": {"form": "counts", "counts": {"EC": 1}}})
    assert recipe.forcefield.carbonyl_oxygen_lj == carbonyl_oxygen.DEFAULT_CARBONYL_OXYGEN_LJ == "gaff1"
    recipe = parse_recipe({"composition": {"form": "counts", "counts": {"EC": 1}},
                           "forcefield": {"carbonyl_oxygen_lj": "gaff2"}})
    assert recipe.forcefield.carbonyl_oxygen_lj == "gaff2"
