"""Campaign files (TOML): a grid or list of points over recipe and protocol fields.

::

    [campaign]
    name = "tiny_grid"
    base = "tiny"                 # recipe: shipped name or path (relative to this file);
                                  # or give the recipe inline as a [base] table
    protocol = "test"             # shipped protocol name or path
    platform = "CPU"              # optional: overrides the protocol's platform (OpenMM)
    engine = "gromacs"            # optional: openmm | gromacs, overrides the protocol's
    threads = 8                   # gmx mdrun threads of a GROMACS task (default 1); load
                                  # GROMACS with [resources] modules = ["gromacs/2023.3"]
    gmx = "gmx_mpi"               # optional: the GROMACS program (default gmx on PATH)
    mpi_ranks = 4                 # optional: mdrun under `mpirun -np 4` (needs an MPI build
                                  # such as gmx_mpi); launcher `mpirun` on PATH, or mpirun = "srun"
    analysis = ["report", "solvation", "transport"]   # the default
    polymer_segment = "P"         # which [polymers.*] segment `polymer` sets (default: the only one)

    [grid]                        # cartesian product of every list
    seed = [1, 2]
    temperature_K = [298.0, 333.0]

    [[point]]                     # and/or explicit points (added to the grid's)
    salt = "LiTFSI"

    [resources]                   # batch clusters (dask-jobqueue), see qsse_md.campaign.engine
    system = "slurm"
    cores = 8
    memory = "32GB"
    walltime = "24:00:00"
    gpus_per_job = 1
    modules = ["gromacs/2023.3"]  # `module load` lines at the top of every job script

Grid fields (:data:`GRID_FIELDS`): ``recipe`` (base recipe), ``polymer`` (monomer name, list
of monomers for a copolymer, or a table of ``[polymers.*]`` keys with an optional ``label``),
``solvent`` (one name or a table of parts), ``salt``, ``composition`` (a table merged into
``[composition]``, optional ``label``), ``density_g_per_cm3`` (packing), ``temperature_K``
(replaces the working temperature: every stage held at the protocol's final temperature),
``protocol``, ``seed`` (replica: recipe packing seed and protocol seed) and ``engine`` (the
same point on OpenMM and GROMACS).

Every table is a frozen dataclass checked by :func:`qsse_md.spec.parse` (:class:`CampaignFile`);
grid and point values are checked when the recipe and protocol of each point are parsed.

Each point becomes a task whose full specification (recipe mapping, protocol mapping,
platform, analyses) is hashed (SHA-256 of canonical JSON); the first 12 hex digits name
its folder.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from qsse_md.errors import InputError
from qsse_md.fileio import read_toml
from qsse_md.spec import check_keys, parse, parse_file, require, setting

GRID_FIELDS = ("recipe", "polymer", "solvent", "salt", "composition", "density_g_per_cm3",
               "temperature_K", "protocol", "seed", "engine")
ANALYSES = ("report", "solvation", "transport")
ID_DIGITS = 12


def _analyses(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not set(value) <= set(ANALYSES):
        raise ValueError(f"analysis = {value!r}: choose from {', '.join(ANALYSES)}")
    return tuple(value)


@dataclass(frozen=True)
class CampaignSettings:
    """The ``[campaign]`` table (see the module docstring); ``name`` defaults to the file's stem."""

    name: str = ""
    description: str = ""
    base: str | None = None
    protocol: str | None = None
    platform: str | None = None
    engine: str | None = None
    threads: int = setting(1, at_least=1)
    gmx: str | None = None
    mpi_ranks: int | None = setting(None, at_least=1)
    mpirun: str | None = None
    analysis: tuple[str, ...] = setting(ANALYSES, convert=_analyses)
    polymer_segment: str | None = None


@dataclass(frozen=True)
class CampaignFile:
    """A campaign file: settings, an optional inline base recipe, grid, points, resources."""

    campaign: CampaignSettings = CampaignSettings()
    base: dict | None = None
    grid: dict | None = None
    point: list | None = None
    resources: dict = field(default_factory=dict)


def spec_hash(spec: Mapping) -> str:
    """SHA-256 hex digest of the canonical JSON of ``spec``."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def expand(data: Mapping, origin: Path | None = None) -> tuple[dict, list[dict]]:
    """Validate a parsed campaign file; return (settings, tasks).

    Each task is ``{"id", "sha256", "variables": {field: label}, "spec": {...}}``.
    Raises InputError with one line for unknown keys or grid fields, empty grids, bad
    values, recipes or protocols that do not validate, and duplicate points.
    """
    origin = Path(origin) if origin else Path.cwd()
    campaign = parse(CampaignFile, data, "")
    settings = {**asdict(campaign.campaign), "analysis": list(campaign.campaign.analysis)}
    settings["name"] = settings["name"] or (origin.stem if origin.suffix else "campaign")
    points = _points(campaign)
    tasks, seen = [], {}
    for variables in points:
        spec = _task_spec(variables, campaign, settings, origin)
        digest = spec_hash(spec)
        labels = {name: label(name, value) for name, value in variables.items()}
        if digest in seen:
            raise InputError(f"points {seen[digest]} and {labels} give the same task; remove one")
        seen[digest] = labels
        tasks.append({"id": digest[:ID_DIGITS], "sha256": digest, "variables": labels, "spec": spec})
    return {**settings, "resources": campaign.resources}, tasks


def load(path: str | Path) -> tuple[dict, list[dict]]:
    """Read and expand a campaign file (see :func:`expand`)."""
    path = Path(path)
    return parse_file(path, "campaign file", lambda data, default_name: expand(data, path))


def _points(campaign: CampaignFile) -> list[dict]:
    grid, listed = campaign.grid, campaign.point
    require(grid is not None or listed is not None, "campaign file has neither [grid] nor "
            "[[point]]; add one (fields: " + ", ".join(GRID_FIELDS) + ")")
    points = []
    if grid is not None:
        check_keys("[grid]", grid, set(GRID_FIELDS))
        require(bool(grid), "[grid] is empty; give at least one field with a list of values")
        for name, values in grid.items():
            require(isinstance(values, list), f"[grid]: {name} must be a list of values, e.g. "
                    f"{name} = [...]")
            require(bool(values), f"[grid]: {name} is an empty list; give at least one value")
        points += [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    if listed is not None:
        require(bool(listed), "[[point]] is empty; give at least one point")
        for index, point in enumerate(listed):
            check_keys(f"[[point]] {index + 1}", point, set(GRID_FIELDS))
            points.append(dict(point))
    return points


def _task_spec(variables: Mapping, campaign: CampaignFile, settings: Mapping, origin: Path) -> dict:
    from qsse_md.assembly.recipe import parse_recipe
    from qsse_md.md.protocol import load_protocol, parse_protocol

    recipe = _base_recipe(variables.get("recipe"), campaign.base, settings, origin)
    protocol_ref = variables.get("protocol", settings.get("protocol"))
    if protocol_ref is None:
        raise InputError("no protocol: set [campaign] protocol = \"reference\" (or a grid field)")
    protocol = load_protocol(_relative(protocol_ref, origin)).to_dict()
    if settings.get("engine") is not None:
        protocol["engine"] = settings["engine"]
    where = ", ".join(f"{k}={label(k, v)}" for k, v in variables.items())
    for name, value in variables.items():
        _apply(name, value, recipe, protocol, settings, where)
    try:
        parse_recipe(copy.deepcopy(recipe))
        protocol = parse_protocol(protocol).to_dict()
    except InputError as error:
        raise InputError(f"point ({where}): {error}") from None
    spec = {"kind": "md", "recipe": recipe, "protocol": protocol,
            "platform": settings.get("platform"), "analysis": list(settings["analysis"])}
    if protocol.get("engine") == "gromacs":
        spec.update(platform=None, threads=settings["threads"], gmx=settings.get("gmx"),
                    mpi_ranks=settings.get("mpi_ranks"), mpirun=settings.get("mpirun"))
    return spec


def _base_recipe(ref, base: dict | None, settings, origin) -> dict:
    from qsse_md.resources import systems_dir

    if ref is None and base is not None:
        return copy.deepcopy(base)
    ref = ref if ref is not None else settings.get("base")
    if ref is None:
        raise InputError("no base recipe: set [campaign] base = \"tiny\" or give a [base] table")
    path = _relative(ref, origin)
    if not path.is_file():
        shipped = systems_dir() / f"{ref}.toml"
        if not shipped.is_file():
            raise FileNotFoundError(f"base recipe '{ref}' is neither a file nor a shipped recipe; "
                                    "list them with 'qsse-md systems'")
        path = shipped
    recipe = read_toml(path, "recipe")
    recipe.setdefault("name", path.stem)
    return recipe


def _relative(ref, origin: Path) -> Path:
    path = Path(str(ref))
    if not path.is_absolute():
        candidate = (origin.parent if origin.suffix else origin) / path
        if candidate.is_file():
            return candidate
    return path


def _apply(name: str, value: Any, recipe: dict, protocol: dict, settings: Mapping, where: str) -> None:
    composition = recipe.setdefault("composition", {})
    if name in ("recipe", "protocol"):
        return
    if name == "seed":
        if not isinstance(value, int) or value < 0:
            raise InputError(f"seed {value!r} must be a non-negative integer")
        recipe["seed"] = value
        protocol["seed"] = value
    elif name == "engine":
        protocol["engine"] = value
    elif name == "density_g_per_cm3":
        recipe.setdefault("box", {})["density_g_per_cm3"] = float(value)
    elif name == "temperature_K":
        _set_temperature(protocol, float(value))
    elif name == "salt":
        _require_form(composition, name, where)
        composition["salt"] = str(value)
    elif name == "solvent":
        _require_form(composition, name, where)
        composition["solvent"] = dict(value) if isinstance(value, Mapping) else str(value)
    elif name == "composition":
        if not isinstance(value, Mapping):
            raise InputError(f"composition value {value!r} must be a table")
        composition.update({k: v for k, v in value.items() if k != "label"})
    elif name == "polymer":
        _set_polymer(recipe, value, settings.get("polymer_segment"))


def _require_form(composition: Mapping, name: str, where: str) -> None:
    if composition.get("form", "counts") == "counts":
        raise InputError(f"point ({where}): grid field '{name}' needs a base composition by role "
                         "(weight_fractions, molarity or molar_ratio), not counts")


def _set_temperature(protocol: dict, temperature: float) -> None:
    if temperature <= 0:
        raise InputError(f"temperature_K {temperature} must be positive")
    holds = [s for s in protocol["stage"] if "temperature_K" in s]
    if not holds:
        raise InputError(f"protocol {protocol.get('name')} has no constant-temperature stage to set")
    working = holds[-1]["temperature_K"]
    for stage in holds:
        if stage["temperature_K"] == working:
            stage["temperature_K"] = temperature


def _set_polymer(recipe: dict, value: Any, segment: str | None) -> None:
    polymers = recipe.get("polymers", {})
    if segment is None:
        if len(polymers) != 1:
            raise InputError("grid field 'polymer' needs [campaign] polymer_segment = NAME when "
                             f"the base recipe has {len(polymers)} polymer segments")
        segment = next(iter(polymers))
    if segment not in polymers:
        raise InputError(f"polymer_segment '{segment}' is not a [polymers.*] table of the base recipe")
    spec = polymers[segment]
    if isinstance(value, Mapping):
        spec.update({k: v for k, v in value.items() if k != "label"})
    else:
        spec["monomers"] = [value] if isinstance(value, str) else list(value)


def label(name: str, value: Any) -> str:
    """Short text label of a grid value (used in tables and plots)."""
    if isinstance(value, Mapping):
        if "label" in value:
            return str(value["label"])
        if name == "polymer" and "monomers" in value:
            return "-".join(value["monomers"])
        if name == "solvent":
            parts = list(value.items())
            return "-".join(k for k, _ in parts) + " " + ":".join(f"{v:g}" for _, v in parts)
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, list):
        return "-".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
