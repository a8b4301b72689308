"""The one TOML validator (qsse_md.spec) and the recipe tables it checks."""

from dataclasses import FrozenInstanceError, dataclass

import pytest

from qsse_md.assembly.recipe import load_recipe, parse_recipe
from qsse_md.errors import InputError
from qsse_md.spec import parse, setting

COUNTS = {"form": "counts", "counts": {"EC": 10}}


@dataclass(frozen=True)
class Inner:
    size: int = setting(1, at_least=1)


@dataclass(frozen=True)
class Outer:
    label: str = setting(hint="give label = \"x\"")
    weight: float = setting(1.0, above=0, at_most=2.0, hint="typical 1")
    mode: str = setting("a", choices=("a", "b"))
    pair: tuple[float, float] = (0.0, 1.0)
    items: tuple[str, ...] = ()
    inner: Inner = Inner()
    flag: bool = False
    optional: float | None = None


@pytest.mark.parametrize("table, message", [
    ({}, "missing label; give label = \"x\""),
    ({"label": "x", "colour": 1}, "unknown key(s) colour; allowed: flag, inner, items"),
    ({"label": 3}, "label = 3 must be text"),
    ({"label": "x", "weight": "1"}, "weight = '1' must be a number; typical 1"),
    ({"label": "x", "weight": True}, "weight = True must be a number"),
    ({"label": "x", "weight": float("nan")}, "weight = nan must be a number"),
    ({"label": "x", "weight": 0}, "weight = 0 must be positive; typical 1"),
    ({"label": "x", "weight": 3.0}, "weight = 3.0 must be <= 2.0"),
    ({"label": "x", "mode": "c"}, "mode = 'c' is not one of a, b"),
    ({"label": "x", "pair": [1.0]}, "pair = [1.0] must be a list of 2"),
    ({"label": "x", "items": "abc"}, "items = 'abc' must be a list"),
    ({"label": "x", "items": ["a", 2]}, "items = 2 must be text"),
    ({"label": "x", "inner": {"size": 0}}, "[outer.inner]: size = 0 must be >= 1"),
    ({"label": "x", "inner": 5}, "[outer.inner] must be a TOML table"),
    ({"label": "x", "flag": 1}, "flag = 1 must be true or false"),
    ({"label": "x", "optional": "no"}, "optional = 'no' must be a number"),
])
def test_bad_tables_give_one_input_error_naming_table_and_key(table, message):
    with pytest.raises(InputError) as error:
        parse(Outer, table, "[outer]")
    assert message in str(error.value) and str(error.value).startswith("[outer")
    assert "\n" not in str(error.value)


def test_good_table_becomes_a_frozen_dataclass():
    value = parse(Outer, {"label": "x", "weight": 2, "pair": [1, 2], "items": ["a"],
                          "inner": {"size": 3}}, "")
    assert value == Outer("x", 2, "a", (1, 2), ("a",), Inner(3))
    with pytest.raises(FrozenInstanceError):
        value.label = "y"


def test_recipe_tables_are_dataclasses():
    recipe = parse_recipe({"composition": COUNTS, "box": {"density_g_per_cm3": 1.1},
                           "system": {"constraints": "HBonds"},
                           "minimize": {"tolerance_kj_per_mol_nm": 5.0, "max_iterations": 9}},
                          default_name="r")
    assert (recipe.name, recipe.box.density_g_per_cm3, recipe.box.polymer_variants) == ("r", 1.1, 4)
    assert recipe.system.constraints == "hbonds"
    assert (recipe.minimize.tolerance_kj_per_mol_nm, recipe.minimize.max_iterations) == (5.0, 9)
    assert recipe.source == {"composition": COUNTS, "box": {"density_g_per_cm3": 1.1},
                             "system": {"constraints": "HBonds"},
                             "minimize": {"tolerance_kj_per_mol_nm": 5.0, "max_iterations": 9}}


def test_recipe_old_tolerance_spelling_is_read_with_a_note(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text('[composition]\nform = "counts"\ncounts = { EC = 10 }\n'
                    '[minimize]\ntolerance_kj_mol_nm = 3.0\n')
    with pytest.warns(FutureWarning, match=r"\[minimize\]: tolerance_kj_mol_nm is now spelled "
                      "tolerance_kj_per_mol_nm; rename it"):
        recipe = load_recipe(path)
    assert recipe.minimize.tolerance_kj_per_mol_nm == 3.0


@pytest.mark.parametrize("data, message", [
    ({"composition": COUNTS, "system": {"hydrogen_mass_amu": 3.0}},
     "[system]: hydrogen_mass_amu belongs to the protocol"),
    ({"composition": COUNTS, "polymers": {"P": {"monomers": "DOA"}}},
     "[polymers.P]: monomers = 'DOA' must be a list"),
    ({"composition": COUNTS, "polymers": {"P": {"monomers": ["DOA"], "caps": ["H"]}}},
     "[polymers.P]: caps = ['H'] must be a list of 2"),
    ({"composition": COUNTS, "polymers": ["P"]}, "[polymers] must be a TOML table"),
    ({"composition": COUNTS, "seed": 1.5}, "seed = 1.5 must be a whole number"),
    ({"composition": COUNTS, "forcefield": {"ion_charge_scale": 1.5}},
     "[forcefield]: ion_charge_scale = 1.5 must be <= 1"),
    ({"composition": COUNTS, "forcefield": {"carbonyl_oxygen_lj": "opls"}},
     "[forcefield]: carbonyl_oxygen_lj = 'opls' is not one of gaff2, gaff1"),
    ({"composition": COUNTS, "system": {"nonbonded_cutoff_nm": -1.0}},
     "[system]: nonbonded_cutoff_nm = -1.0 must be positive"),
    ({"composition": COUNTS, "minimize": {"tolerance_kj_per_mol_nm": 0}},
     "[minimize]: tolerance_kj_per_mol_nm = 0 must be positive"),
    ({"composition": "counts"}, "[composition]: form = None"),
])
def test_bad_recipes_name_table_and_key(data, message):
    with pytest.raises(InputError) as error:
        parse_recipe(data)
    assert message in str(error.value)
