"""System recipes (TOML) and the build that turns one into a minimised OpenMM system.

A recipe names its polymer segments, its composition (any form of
:mod:`qsse_md.build.composition`; other component names are registry species), the
packing density and the force-field and system options::

    name = "PDOA_EC"
    seed = 2025
    [polymers.DOA_hexamer]        # one table per segment kind
    monomers = ["DOA"]            # registry names or SMILES
    n_units = 6
    tacticity = "atactic"         # atactic | isotactic | syndiotactic
    caps = ["methyl", "methyl"]   # H | methyl
    sequence = "alternating"      # copolymers: alternating | random | block | [list]
    [composition]
    form = "counts"
    counts = { DOA_hexamer = 20, EC = 360, LiPF6 = 60 }
    [box]
    density_g_per_cm3 = 1.0       # packing density; NPT relaxes it
    tolerance_angstrom = 2.0
    polymer_variants = 4          # distinct segments (tacticity/sequence, conformer) per kind
    [forcefield]
    ion_charge_scale = 1.0        # default: forcefield.ions.DEFAULT_ION_CHARGE_SCALE
    li_model = "jensen2006"       # or "aqvist1990"
    [system]                      # fields of qsse_md.build.system.SystemOptions
    nonbonded_cutoff_nm = 1.0
    constraints = "hbonds"
    [minimize]
    tolerance_kj_mol_nm = 10.0
    max_iterations = 0
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from qsse_md.build.composition import from_mapping
from qsse_md.build.system import SystemOptions
from qsse_md.fileio import read_toml
from qsse_md.forcefield.ions import DEFAULT_ION_CHARGE_SCALE, DEFAULT_LI_MODEL

TOP_LEVEL_KEYS = {"name", "description", "seed", "polymers", "composition", "box",
                  "forcefield", "system", "minimize"}
POLYMER_KEYS = {"monomers", "n_units", "tacticity", "caps", "sequence", "ratio"}


@dataclass(frozen=True)
class PolymerSpec:
    """One kind of polymer segment (see :func:`qsse_md.chem.polymer.build_segment`)."""

    monomers: tuple[str, ...]
    n_units: int = 6
    tacticity: str = "atactic"
    caps: tuple[str, str] = ("methyl", "methyl")
    sequence: Any = "alternating"
    ratio: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe; see the module docstring for the TOML form.

    Attributes
    ----------
    density_g_per_cm3 : float
        Packing density in g/cm^3.
    tolerance_angstrom : float
        PACKMOL minimum intermolecular distance in Å.
    polymer_variants : int
        Distinct segments per polymer kind, drawn from ``seed + variant`` (atactic
        configurations, random sequences, conformers); copies are shared out among them.
        More variants cost one embedding each and slow PACKMOL.
    ion_charge_scale : float
        Factor applied to all ion charges (1.0 = full charges; default
        :data:`qsse_md.forcefield.ions.DEFAULT_ION_CHARGE_SCALE`).
    """

    name: str
    composition: Any
    polymers: dict[str, PolymerSpec] = field(default_factory=dict)
    description: str = ""
    seed: int = 0
    density_g_per_cm3: float = 1.0
    tolerance_angstrom: float = 2.0
    polymer_variants: int = 4
    ion_charge_scale: float = DEFAULT_ION_CHARGE_SCALE
    li_model: str = DEFAULT_LI_MODEL
    system: SystemOptions = SystemOptions()
    minimize_tolerance_kj_mol_nm: float = 10.0
    minimize_max_iterations: int = 0
    source: dict = field(default_factory=dict)


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe TOML file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe {path} not found; list the shipped ones with "
                                "'qsse-md systems' or give a path to a .toml file")
    return parse_recipe(read_toml(path, "recipe"), default_name=path.stem)


def parse_recipe(data: Mapping, default_name: str = "system") -> Recipe:
    """Validate a recipe mapping (the parsed TOML) into a :class:`Recipe`."""
    _check_keys("recipe", data, TOP_LEVEL_KEYS)
    if "composition" not in data:
        raise ValueError("recipe has no [composition] table; add one (see qsse_md.build.recipe)")
    polymers = {}
    for name, spec in dict(data.get("polymers", {})).items():
        _check_keys(f"[polymers.{name}]", spec, POLYMER_KEYS)
        if "monomers" not in spec:
            raise ValueError(f"[polymers.{name}] needs monomers = [\"DOA\"] (names or SMILES)")
        values = dict(spec)
        values["monomers"] = tuple(values["monomers"])
        if "caps" in values:
            values["caps"] = tuple(values["caps"])
        if "ratio" in values:
            values["ratio"] = tuple(values["ratio"])
        polymers[name] = PolymerSpec(**values)
    box = dict(data.get("box", {}))
    _check_keys("[box]", box, {"density_g_per_cm3", "tolerance_angstrom", "polymer_variants"})
    ff = dict(data.get("forcefield", {}))
    _check_keys("[forcefield]", ff, {"ion_charge_scale", "li_model"})
    system = dict(data.get("system", {}))
    _check_keys("[system]", system, {f.name for f in fields(SystemOptions)})
    minimize = dict(data.get("minimize", {}))
    _check_keys("[minimize]", minimize, {"tolerance_kj_mol_nm", "max_iterations"})
    density = float(box.get("density_g_per_cm3", 1.0))
    if not 0.05 <= density <= 3.0:
        raise ValueError(f"packing density {density} g/cm^3 is impossible; use 0.8-1.3 g/cm^3")
    return Recipe(
        name=str(data.get("name", default_name)),
        description=str(data.get("description", "")),
        seed=int(data.get("seed", 0)),
        composition=from_mapping(data["composition"]),
        polymers=polymers,
        density_g_per_cm3=density,
        tolerance_angstrom=float(box.get("tolerance_angstrom", 2.0)),
        polymer_variants=_positive_int("[box] polymer_variants", box.get("polymer_variants", 4)),
        ion_charge_scale=float(ff.get("ion_charge_scale", DEFAULT_ION_CHARGE_SCALE)),
        li_model=str(ff.get("li_model", DEFAULT_LI_MODEL)),
        system=SystemOptions(**system),
        minimize_tolerance_kj_mol_nm=float(minimize.get("tolerance_kj_mol_nm", 10.0)),
        minimize_max_iterations=int(minimize.get("max_iterations", 0)),
        source=dict(data),
    )


def _positive_int(where: str, value) -> int:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{where} = {value!r}; give a whole number >= 1")
    return value


def _check_keys(where: str, table: Mapping, allowed: set) -> None:
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a TOML table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(f"{where} has unknown key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(sorted(allowed))}")
