"""MD protocols: a list of stages (minimise, NVT/NPT holds, temperature ramps) in TOML.

A protocol file looks like::

    name = "reference"
    seed = 2024                    # integrator, barostat and velocity seeds derive from it
    platform = "auto"              # auto | CUDA | OpenCL | CPU | Reference
    precision = "mixed"            # single | mixed | double (CUDA/OpenCL only)
    hydrogen_mass_amu = 3.0        # hydrogen-mass repartitioning (omit for none)
    checkpoint_interval_s = 600    # wall seconds between checkpoints (at frame boundaries)
    trajectory_format = "xtc"      # xtc | dcd
    max_retries = 3                # halvings of the time step after a blow-up

    [[stage]]
    kind = "minimize"
    tolerance_kj_per_mol_nm = 10.0

    [[stage]]
    kind = "npt"                   # nvt | npt
    name = "anneal_600K"
    temperature_K = 600.0
    duration_ps = 5000.0
    timestep_fs = 4.0
    report_interval_ps = 10.0
    pressure_bar = 1.01325
    barostat_interval_steps = 25
    friction_per_ps = 1.0

    [[stage]]
    kind = "ramp"                  # linear or stepped temperature change
    ensemble = "npt"
    start_temperature_K = 298.0
    end_temperature_K = 248.0
    profile = "stepped"            # linear | stepped
    plateaus = 3
    duration_ps = 3000.0
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Mapping, Union

from qsse_md.fileio import read_toml
from qsse_md.resources import file_or_shipped, systems_dir


PLATFORMS = ("auto", "CUDA", "OpenCL", "CPU", "Reference")
PRECISIONS = ("single", "mixed", "double")
TRAJECTORY_FORMATS = ("xtc", "dcd")
RAMP_PROFILES = ("linear", "stepped")


@dataclass(frozen=True, kw_only=True)
class Minimize:
    """Local energy minimisation (L-BFGS).

    Attributes
    ----------
    tolerance_kj_per_mol_nm : float
        Convergence threshold on the root-mean-square force, in kJ/mol/nm.
    max_iterations : int
        Iteration cap; 0 means until converged.
    name : str
        Stage name used for its output folder; defaults to "minimize".
    """

    kind: str = "minimize"
    tolerance_kj_per_mol_nm: float = 10.0
    max_iterations: int = 0
    name: str = ""


@dataclass(frozen=True, kw_only=True)
class _Dynamics:
    """Fields shared by every dynamics stage (Langevin middle integrator).

    Attributes
    ----------
    duration_ps : float
        Simulated time of the stage in ps; a whole number of report intervals.
    timestep_fs : float
        Integration time step in fs (4 fs needs ``hydrogen_mass_amu`` ~3 and H constraints).
    report_interval_ps : float
        Time between trajectory frames and state-log rows in ps; a whole number of steps.
    friction_per_ps : float
        Langevin collision rate in 1/ps.
    pressure_bar : float
        Barostat pressure in bar (NPT only).
    barostat_interval_steps : int
        Steps between Monte Carlo volume moves (NPT only).
    name : str
        Stage name used for its output folder; defaults to the kind.
    """

    duration_ps: float
    timestep_fs: float = 2.0
    report_interval_ps: float = 1.0
    friction_per_ps: float = 1.0
    pressure_bar: float = 1.01325
    barostat_interval_steps: int = 25
    name: str = ""

    @property
    def report_steps(self) -> int:
        """Integration steps per report interval at ``timestep_fs``."""
        return round(self.report_interval_ps * 1000.0 / self.timestep_fs)

    @property
    def frames(self) -> int:
        """Number of trajectory frames the stage writes."""
        return round(self.duration_ps / self.report_interval_ps)


@dataclass(frozen=True, kw_only=True)
class Hold(_Dynamics):
    """Constant-temperature dynamics; ``kind`` is "nvt" or "npt" (Monte Carlo barostat)."""

    kind: str
    temperature_K: float

    @property
    def ensemble(self) -> str:
        """"nvt" or "npt"."""
        return self.kind

    def temperature_at_K(self, time_ps: float) -> float:
        """Thermostat temperature in K at ``time_ps`` into the stage (constant)."""
        return self.temperature_K


@dataclass(frozen=True, kw_only=True)
class Ramp(_Dynamics):
    """Temperature ramp from ``start_temperature_K`` to ``end_temperature_K``.

    ``profile = "linear"`` changes the temperature at every report interval;
    ``"stepped"`` holds ``plateaus`` equally spaced temperatures (first = start,
    last = end) for equal times.
    """

    kind: str = "ramp"
    ensemble: str = "nvt"
    start_temperature_K: float
    end_temperature_K: float
    profile: str = "linear"
    plateaus: int = 0

    def temperature_at_K(self, time_ps: float) -> float:
        """Thermostat temperature in K for the report interval starting at ``time_ps``."""
        fraction = min(max(time_ps / self.duration_ps, 0.0), 1.0)
        if self.profile == "stepped":
            level = min(int(fraction * self.plateaus), self.plateaus - 1)
            fraction = level / (self.plateaus - 1)
        span = self.end_temperature_K - self.start_temperature_K
        return self.start_temperature_K + span * fraction


Stage = Union[Minimize, Hold, Ramp]
STAGE_CLASSES = {"minimize": Minimize, "nvt": Hold, "npt": Hold, "ramp": Ramp}
NPT_ONLY_KEYS = {"pressure_bar", "barostat_interval_steps"}


@dataclass(frozen=True)
class Protocol:
    """An MD protocol: stages run in order, plus run-wide options (see module docstring)."""

    stages: tuple[Stage, ...]
    name: str = "protocol"
    seed: int = 2024
    platform: str = "auto"
    precision: str = "mixed"
    hydrogen_mass_amu: float | None = None
    checkpoint_interval_s: float = 600.0
    trajectory_format: str = "xtc"
    max_retries: int = 3

    def stage_dirs(self) -> list[str]:
        """Output folder names of the stages: ``01_minimize``, ``02_anneal_600K``, ..."""
        return [f"{i + 1:02d}_{stage.name or stage.kind}" for i, stage in enumerate(self.stages)]

    def to_dict(self) -> dict:
        """Plain mapping of the protocol, as in the TOML file (``None`` options left out)."""
        top = {k: v for k, v in asdict(self).items() if k != "stages" and v is not None}
        top["stage"] = [_stage_dict(stage) for stage in self.stages]
        return top


def parse_protocol(data: Mapping[str, Any], default_name: str = "protocol") -> Protocol:
    """Validate a protocol mapping (parsed TOML) into a :class:`Protocol`.

    Raises
    ------
    ValueError
        With one line saying what is wrong and how to fix it.
    """
    top = {f.name for f in fields(Protocol)} - {"stages"}
    _check_keys("protocol", data, top | {"stage"})
    stages_data = data.get("stage", [])
    if not isinstance(stages_data, list) or not stages_data:
        raise ValueError("protocol has no stages; add [[stage]] tables (kind = \"minimize\", "
                         "\"nvt\", \"npt\" or \"ramp\")")
    stages = tuple(_parse_stage(i + 1, dict(s)) for i, s in enumerate(stages_data))
    options = {k: v for k, v in data.items() if k != "stage"}
    options.setdefault("name", default_name)
    protocol = Protocol(stages=stages, **options)
    _validate_options(protocol)
    return protocol


def load_protocol(path_or_name: str | Path) -> Protocol:
    """Read a protocol TOML file, or a shipped one by name ("reference", "cooling", "test")."""
    path = protocol_path(path_or_name)
    data = read_toml(path, "protocol")
    try:
        return parse_protocol(data, default_name=path.stem)
    except (TypeError, ValueError) as error:
        raise ValueError(f"protocol {path}: {error}") from None


def protocol_path(path_or_name: str | Path) -> Path:
    """Path of a protocol file, or of the shipped protocol with that name."""
    return file_or_shipped(path_or_name, systems_dir() / "protocols", "protocol")


def dump_protocol(protocol: Protocol, path: str | Path) -> None:
    """Write ``protocol`` as TOML that :func:`load_protocol` reads back unchanged."""
    data = protocol.to_dict()
    lines = [f"{key} = {_toml_value(value)}" for key, value in data.items() if key != "stage"]
    for stage in data["stage"]:
        lines += ["", "[[stage]]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in stage.items()]
    Path(path).write_text("\n".join(lines) + "\n")


def _stage_dict(stage: Stage) -> dict:
    record = asdict(stage)
    if getattr(stage, "ensemble", None) == "nvt":
        record = {k: v for k, v in record.items() if k not in NPT_ONLY_KEYS}
    return record


def _parse_stage(number: int, data: dict) -> Stage:
    where = f"stage {number}"
    kind = data.get("kind")
    if kind not in STAGE_CLASSES:
        raise ValueError(f"{where}: kind = {kind!r} is not one of minimize, nvt, npt, ramp")
    cls = STAGE_CLASSES[kind]
    allowed = {f.name for f in fields(cls)}
    ensemble = data.get("ensemble", "nvt") if kind == "ramp" else kind
    if ensemble == "nvt":
        allowed -= NPT_ONLY_KEYS
    _check_keys(where, data, allowed)
    try:
        stage = cls(**data)
    except TypeError as error:
        missing = str(error).split("argument", 1)[-1].strip(": s")
        raise ValueError(f"{where} ({kind}): missing {missing}") from None
    _validate_stage(where, stage)
    return stage


def _validate_stage(where: str, stage: Stage) -> None:
    if isinstance(stage, Minimize):
        _require(stage.tolerance_kj_per_mol_nm > 0, f"{where}: tolerance_kj_per_mol_nm must "
                 "be positive (typical 10)")
        _require(stage.max_iterations >= 0, f"{where}: max_iterations must be >= 0 (0 = "
                 "until converged)")
        return
    for key in ("duration_ps", "timestep_fs", "report_interval_ps", "friction_per_ps",
                "pressure_bar", "barostat_interval_steps"):
        value = getattr(stage, key)
        _require(isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
                 f"{where}: {key} = {value!r} must be a positive number")
    temperatures = ([stage.temperature_K] if isinstance(stage, Hold)
                    else [stage.start_temperature_K, stage.end_temperature_K])
    for value in temperatures:
        _require(isinstance(value, (int, float)) and value > 0,
                 f"{where}: temperature {value!r} K must be positive")
    _require(stage.timestep_fs <= 10, f"{where}: timestep_fs = {stage.timestep_fs} is too "
             "large; use 2 fs, or 4 fs with hydrogen_mass_amu = 3")
    steps = stage.report_interval_ps * 1000.0 / stage.timestep_fs
    _require(abs(steps - round(steps)) < 1e-6, f"{where}: report_interval_ps = "
             f"{stage.report_interval_ps} is not a whole number of {stage.timestep_fs} fs "
             "steps; change one of them")
    frames = stage.duration_ps / stage.report_interval_ps
    _require(abs(frames - round(frames)) < 1e-6 and round(frames) >= 1,
             f"{where}: duration_ps = {stage.duration_ps} is not a whole number of "
             f"report intervals ({stage.report_interval_ps} ps); change one of them")
    if isinstance(stage, Ramp):
        _require(stage.ensemble in ("nvt", "npt"), f"{where}: ensemble must be nvt or npt")
        _require(stage.profile in RAMP_PROFILES, f"{where}: profile must be linear or stepped")
        _require(stage.profile == "linear" or 2 <= stage.plateaus <= stage.frames,
                 f"{where}: a stepped ramp needs 2 <= plateaus <= {stage.frames} (frames)")


def _validate_options(protocol: Protocol) -> None:
    _require(protocol.platform in PLATFORMS, f"platform = {protocol.platform!r} is not one "
             f"of {', '.join(PLATFORMS)}")
    _require(protocol.precision in PRECISIONS, f"precision = {protocol.precision!r} is not "
             f"one of {', '.join(PRECISIONS)}")
    _require(protocol.trajectory_format in TRAJECTORY_FORMATS, "trajectory_format must be "
             "\"xtc\" or \"dcd\"")
    _require(isinstance(protocol.seed, int) and protocol.seed >= 0,
             "seed must be a non-negative integer")
    _require(isinstance(protocol.checkpoint_interval_s, (int, float))
             and protocol.checkpoint_interval_s >= 0, "checkpoint_interval_s must be a "
             "number >= 0 (0 = at every frame)")
    _require(isinstance(protocol.max_retries, int) and protocol.max_retries >= 0,
             "max_retries must be a non-negative integer")
    mass = protocol.hydrogen_mass_amu
    _require(mass is None or isinstance(mass, (int, float)) and 1.0 <= mass <= 5.0,
             f"hydrogen_mass_amu = {mass} is outside 1-5 Da; use 3.0 for a 4 fs step, or "
             "leave it out")


def _check_keys(where: str, data: Mapping, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(sorted(allowed))}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
