"""Every shipped recipe builds: tiny and demo in the default suite, the rest with ``-m slow``.

The reference-study boxes (20 hexamers + 360 solvent + 60 LiPF6, 6,600-8,900 atoms) take
3-30 minutes each on 2 cores, mostly in PACKMOL; their demo-scale versions about a minute.
"""

import pytest

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.recipe import load_recipe
from qsse_md.resources import systems_dir

QUICK = {"tiny", "demo"}
RECIPES = sorted(systems_dir().glob("*.toml")) + sorted((systems_dir() / "validation").glob("*.toml"))


@pytest.mark.parametrize("path", [pytest.param(p, id=f"{p.parent.name}/{p.stem}",
                                               marks=() if p.stem in QUICK else pytest.mark.slow)
                                  for p in RECIPES])
def test_shipped_recipe_builds_at_its_density(path, tmp_path):
    recipe = load_recipe(path)
    record = build_system(recipe, tmp_path / "box")
    assert record["total_charge_e"] == 0.0
    assert record["density_g_per_cm3"] >= recipe.box.density_g_per_cm3 * 0.999
    assert record["density_g_per_cm3"] < recipe.box.density_g_per_cm3 * 1.08
    energies = record["potential_energy_kj_per_mol"]
    assert energies["minimised"] < 0
