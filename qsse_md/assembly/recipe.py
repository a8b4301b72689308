"""System recipes (TOML) and the build that turns one into a minimised OpenMM system.

A recipe names its polymer segments, its composition (any form of
:mod:`qsse_md.assembly.composition`; other component names are registry species), the
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
    ion_charge_scale = 0.8        # default: forcefield.ions.DEFAULT_ION_CHARGE_SCALE
    li_model = "jensen2006"       # or "aqvist1990"
    carbonyl_oxygen_lj = "gaff1"  # or "gaff2" (forcefield.carbonyl_oxygen)
    [system]                      # fields of qsse_md.assembly.system.SystemOptions
    nonbonded_cutoff_nm = 1.0
    constraints = "hbonds"
    [minimize]                    # fields of qsse_md.assembly.system.Minimisation
    tolerance_kj_per_mol_nm = 10.0
    max_iterations = 0

Every table is a frozen dataclass checked by :func:`qsse_md.spec.parse`. Hydrogen-mass
repartitioning is not a recipe setting: the protocol owns it (``hydrogen_mass_amu``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from qsse_md.assembly.composition import from_mapping
from qsse_md.assembly.system import Minimisation, SystemOptions
from qsse_md.forcefield.carbonyl_oxygen import CARBONYL_OXYGEN_LJ_MODELS, DEFAULT_CARBONYL_OXYGEN_LJ
from qsse_md.forcefield.ions import DEFAULT_ION_CHARGE_SCALE, DEFAULT_LI_MODEL, LI_MODELS
from qsse_md.spec import parse, parse_file, setting


@dataclass(frozen=True)
class PolymerSpec:
    """One kind of polymer segment, a ``[polymers.NAME]`` table (see
    :func:`qsse_md.chem.polymer.build_segment`)."""

    monomers: tuple[str, ...] = setting(hint='give monomers = ["DOA"] (names or SMILES)')
    n_units: int = setting(6, at_least=1)
    tacticity: str = "atactic"
    caps: tuple[str, str] = ("methyl", "methyl")
    sequence: Any = "alternating"
    ratio: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Box:
    """Packing, the ``[box]`` table.

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
    """

    density_g_per_cm3: float = setting(1.0, at_least=0.05, at_most=3.0,
                                       hint="use 0.8-1.3 g/cm^3 (NPT relaxes it)")
    tolerance_angstrom: float = setting(2.0, above=0)
    polymer_variants: int = setting(4, at_least=1)


@dataclass(frozen=True)
class ForceFieldOptions:
    """Ion model, the ``[forcefield]`` table.

    Attributes
    ----------
    ion_charge_scale : float
        Factor applied to all ion charges (1.0 = full charges; default
        :data:`qsse_md.forcefield.ions.DEFAULT_ION_CHARGE_SCALE`).
    li_model : str
        Li+ Lennard-Jones parameters (see :func:`qsse_md.forcefield.ions.ion_ffxml`).
    carbonyl_oxygen_lj : str
        Lennard-Jones of every carbonyl O (GAFF type ``o``): ``"gaff1"`` (default) or
        ``"gaff2"`` (``gaff2.xml`` as shipped; see :mod:`qsse_md.forcefield.carbonyl_oxygen`).
    """

    ion_charge_scale: float = setting(DEFAULT_ION_CHARGE_SCALE, above=0, at_most=1,
                                      hint="e.g. 0.8 for scaled ionic charges")
    li_model: str = setting(DEFAULT_LI_MODEL, choices=LI_MODELS)
    carbonyl_oxygen_lj: str = setting(DEFAULT_CARBONYL_OXYGEN_LJ, choices=CARBONYL_OXYGEN_LJ_MODELS)


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe; see the module docstring for the TOML form.

    ``source`` is the recipe mapping as read (written to ``recipe.json`` by the build).
    """

    composition: Any = setting(convert=from_mapping, hint="add a [composition] table (see "
                               "qsse_md.assembly.composition)")
    name: str = "system"
    description: str = ""
    seed: int = 0
    polymers: dict[str, PolymerSpec] = field(default_factory=dict)
    box: Box = Box()
    forcefield: ForceFieldOptions = ForceFieldOptions()
    system: SystemOptions = SystemOptions()
    minimize: Minimisation = Minimisation()
    source: dict = field(default_factory=dict)


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe TOML file.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    InputError
        One line naming the file, table and key, if the recipe does not validate.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe {path} not found; list the shipped ones with "
                                "'qsse-md systems' or give a path to a .toml file")
    return parse_file(path, "recipe", parse_recipe)


def parse_recipe(data: Mapping, default_name: str = "system") -> Recipe:
    """Validate a recipe mapping (the parsed TOML) into a :class:`Recipe`."""
    table = {"name": default_name, **data} if isinstance(data, Mapping) else data
    return parse(Recipe, table, "", source=dict(data))
