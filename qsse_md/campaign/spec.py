"""Campaign files (TOML): a grid or list of points over recipe and protocol fields.

::

    [campaign]
    name = "tiny_grid"
    base = "tiny"                 # recipe: shipped name or path (relative to this file);
                                  # or give the recipe inline as a [base] table
    protocol = "test"             # shipped protocol name or path
    platform = "CPU"              # optional: overrides the protocol's platform
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

Grid fields (:data:`GRID_FIELDS`): ``recipe`` (base recipe), ``polymer`` (monomer name, list
of monomers for a copolymer, or a table of ``[polymers.*]`` keys with an optional ``label``),
``solvent`` (one name or a table of parts), ``salt``, ``composition`` (a table merged into
``[composition]``, optional ``label``), ``density_g_per_cm3`` (packing), ``temperature_K``
(replaces the working temperature: every stage held at the protocol's final temperature),
``protocol`` and ``seed`` (replica: recipe packing seed and protocol seed).

Each point becomes a task whose full specification (recipe mapping, protocol mapping,
platform, analyses) is hashed (SHA-256 of canonical JSON); the first 12 hex digits name
its folder.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any, Mapping

from qsse_md.fileio import read_toml

GRID_FIELDS = ("recipe", "polymer", "solvent", "salt", "composition", "density_g_per_cm3",
               "temperature_K", "protocol", "seed")
CAMPAIGN_KEYS = {"name", "description", "base", "protocol", "platform", "analysis",
                 "polymer_segment"}
TOP_KEYS = {"campaign", "base", "grid", "point", "resources"}
ANALYSES = ("report", "solvation", "transport")
ID_DIGITS = 12


def spec_hash(spec: Mapping) -> str:
    """SHA-256 hex digest of the canonical JSON of ``spec``."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def expand(data: Mapping, origin: Path | None = None) -> tuple[dict, list[dict]]:
    """Validate a parsed campaign file; return (settings, tasks).

    Each task is ``{"id", "sha256", "variables": {field: label}, "spec": {...}}``.
    Raises ValueError with one line for unknown keys or grid fields, empty grids, bad
    values, recipes or protocols that do not validate, and duplicate points.
    """
    origin = Path(origin) if origin else Path.cwd()
    _check_keys("campaign file", data, TOP_KEYS)
    settings = dict(data.get("campaign", {}))
    _check_keys("[campaign]", settings, CAMPAIGN_KEYS)
    analysis = list(settings.get("analysis", ANALYSES))
    unknown = sorted(set(analysis) - set(ANALYSES))
    if unknown or not analysis:
        raise ValueError(f"[campaign] analysis {analysis!r}: choose from {', '.join(ANALYSES)}")
    settings["analysis"] = analysis
    settings.setdefault("name", origin.stem if origin.suffix else "campaign")
    resources = dict(data.get("resources", {}))
    points = _points(data)
    tasks, seen = [], {}
    for variables in points:
        spec = _task_spec(variables, data, settings, origin)
        digest = spec_hash(spec)
        labels = {name: label(name, value) for name, value in variables.items()}
        if digest in seen:
            raise ValueError(f"points {seen[digest]} and {labels} give the same task; remove one")
        seen[digest] = labels
        tasks.append({"id": digest[:ID_DIGITS], "sha256": digest, "variables": labels, "spec": spec})
    return {**settings, "resources": resources}, tasks


def load(path: str | Path) -> tuple[dict, list[dict]]:
    """Read and expand a campaign file (see :func:`expand`)."""
    path = Path(path)
    return expand(read_toml(path, "campaign file"), origin=path)


def _points(data: Mapping) -> list[dict]:
    grid = data.get("grid")
    listed = data.get("point")
    if grid is None and listed is None:
        raise ValueError("campaign file has neither [grid] nor [[point]]; add one "
                         "(fields: " + ", ".join(GRID_FIELDS) + ")")
    points = []
    if grid is not None:
        _check_keys("[grid]", grid, set(GRID_FIELDS), what="field")
        if not grid:
            raise ValueError("[grid] is empty; give at least one field with a list of values")
        names = list(grid)
        for name in names:
            values = grid[name]
            if not isinstance(values, list):
                raise ValueError(f"[grid] {name} must be a list of values, e.g. {name} = [...]")
            if not values:
                raise ValueError(f"[grid] {name} is an empty list; give at least one value")
        points += [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]
    if listed is not None:
        if not isinstance(listed, list) or not listed:
            raise ValueError("[[point]] is empty; give at least one point")
        for index, point in enumerate(listed):
            _check_keys(f"[[point]] {index + 1}", point, set(GRID_FIELDS), what="field")
            points.append(dict(point))
    return points


def _task_spec(variables: Mapping, data: Mapping, settings: Mapping, origin: Path) -> dict:
    from qsse_md.build.recipe import parse_recipe
    from qsse_md.md.protocol import load_protocol, parse_protocol

    recipe = _base_recipe(variables.get("recipe"), data, settings, origin)
    protocol_ref = variables.get("protocol", settings.get("protocol"))
    if protocol_ref is None:
        raise ValueError("no protocol: set [campaign] protocol = \"reference\" (or a grid field)")
    protocol = load_protocol(_relative(protocol_ref, origin)).to_dict()
    where = ", ".join(f"{k}={label(k, v)}" for k, v in variables.items())
    for name, value in variables.items():
        _apply(name, value, recipe, protocol, settings, where)
    try:
        parse_recipe(copy.deepcopy(recipe))
        protocol = parse_protocol(protocol).to_dict()
    except (TypeError, ValueError) as error:
        raise ValueError(f"point ({where}): {error}") from None
    return {"kind": "md", "recipe": recipe, "protocol": protocol,
            "platform": settings.get("platform"), "analysis": list(settings["analysis"])}


def _base_recipe(ref, data, settings, origin) -> dict:
    from qsse_md.resources import systems_dir

    if ref is None and "base" in data:
        return copy.deepcopy(dict(data["base"]))
    ref = ref if ref is not None else settings.get("base")
    if ref is None:
        raise ValueError("no base recipe: set [campaign] base = \"tiny\" or give a [base] table")
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
            raise ValueError(f"seed {value!r} must be a non-negative integer")
        recipe["seed"] = value
        protocol["seed"] = value
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
            raise ValueError(f"composition value {value!r} must be a table")
        composition.update({k: v for k, v in value.items() if k != "label"})
    elif name == "polymer":
        _set_polymer(recipe, value, settings.get("polymer_segment"))


def _require_form(composition: Mapping, name: str, where: str) -> None:
    if composition.get("form", "counts") == "counts":
        raise ValueError(f"point ({where}): grid field '{name}' needs a base composition by role "
                         "(weight_fractions, molarity or molar_ratio), not counts")


def _set_temperature(protocol: dict, temperature: float) -> None:
    if temperature <= 0:
        raise ValueError(f"temperature_K {temperature} must be positive")
    holds = [s for s in protocol["stage"] if "temperature_K" in s]
    if not holds:
        raise ValueError(f"protocol {protocol.get('name')} has no constant-temperature stage to set")
    working = holds[-1]["temperature_K"]
    for stage in holds:
        if stage["temperature_K"] == working:
            stage["temperature_K"] = temperature


def _set_polymer(recipe: dict, value: Any, segment: str | None) -> None:
    polymers = recipe.get("polymers", {})
    if segment is None:
        if len(polymers) != 1:
            raise ValueError("grid field 'polymer' needs [campaign] polymer_segment = NAME when "
                             f"the base recipe has {len(polymers)} polymer segments")
        segment = next(iter(polymers))
    if segment not in polymers:
        raise ValueError(f"polymer_segment '{segment}' is not a [polymers.*] table of the base recipe")
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


def _check_keys(where: str, table: Any, allowed: set, what: str = "key") -> None:
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a TOML table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(f"{where} has unknown {what}(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(sorted(allowed))}")
