"""MD protocols: a list of stages (minimise, NVT/NPT holds, temperature ramps) in TOML.

A protocol file looks like::

    name = "reference"
    seed = 2024                    # integrator, barostat and velocity seeds derive from it
    engine = "openmm"              # openmm | gromacs (qsse_md.md.mdp maps the stages)
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

Every table is a frozen dataclass checked by :func:`qsse_md.spec.parse`; the minimize
stage shares its settings (:class:`qsse_md.assembly.system.Minimisation`) and its minimiser
with the build. The protocol owns hydrogen-mass repartitioning (``hydrogen_mass_amu``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Mapping, Union

from qsse_md.assembly.system import Minimisation
from qsse_md.resources import file_or_shipped, systems_dir
from qsse_md.spec import check_keys, parse, parse_file, require, setting


ENGINES = ("openmm", "gromacs")
PLATFORMS = ("auto", "CUDA", "OpenCL", "CPU", "Reference")
PRECISIONS = ("single", "mixed", "double")
TRAJECTORY_FORMATS = ("xtc", "dcd")
RAMP_PROFILES = ("linear", "stepped")


@dataclass(frozen=True, kw_only=True)
class Minimize(Minimisation):
    """Local energy minimisation (L-BFGS, :func:`qsse_md.assembly.system.minimise`), with the
    settings of :class:`~qsse_md.assembly.system.Minimisation` (``tolerance_kj_per_mol_nm`` in
    kJ/mol/nm, ``max_iterations``).

    Attributes
    ----------
    name : str
        Stage name used for its output folder; defaults to "minimize".
    """

    kind: str = "minimize"
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

    duration_ps: float = setting(above=0)
    timestep_fs: float = setting(2.0, above=0, at_most=10,
                                 hint="use 2 fs, or 4 fs with hydrogen_mass_amu = 3")
    report_interval_ps: float = setting(1.0, above=0)
    friction_per_ps: float = setting(1.0, above=0)
    pressure_bar: float = setting(1.01325, above=0)
    barostat_interval_steps: int = setting(25, at_least=1)
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
    temperature_K: float = setting(above=0)

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
    ensemble: str = setting("nvt", choices=("nvt", "npt"))
    start_temperature_K: float = setting(above=0)
    end_temperature_K: float = setting(above=0)
    profile: str = setting("linear", choices=RAMP_PROFILES)
    plateaus: int = setting(0, at_least=0)

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
    seed: int = setting(2024, at_least=0)
    engine: str | None = setting(None, choices=ENGINES)
    platform: str = setting("auto", choices=PLATFORMS)
    precision: str = setting("mixed", choices=PRECISIONS)
    hydrogen_mass_amu: float | None = setting(None, at_least=1.0, at_most=5.0, hint="use 3.0 "
                                              "for a 4 fs step, or leave it out")
    checkpoint_interval_s: float = setting(600.0, at_least=0, hint="0 = at every frame")
    trajectory_format: str = setting("xtc", choices=TRAJECTORY_FORMATS)
    max_retries: int = setting(3, at_least=0)

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
    InputError
        With one line naming the stage or key, saying what is wrong and how to fix it.
    """
    check_keys("", data, {f.name for f in fields(Protocol)} - {"stages"} | {"stage"})
    stages_data = data.get("stage", [])
    require(isinstance(stages_data, list) and bool(stages_data), "protocol has no stages; add "
            "[[stage]] tables (kind = \"minimize\", \"nvt\", \"npt\" or \"ramp\")")
    stages = tuple(_parse_stage(i + 1, s) for i, s in enumerate(stages_data))
    options = {"name": default_name, **{k: v for k, v in data.items() if k != "stage"}}
    return parse(Protocol, options, "", stages=stages)


def load_protocol(path_or_name: str | Path) -> Protocol:
    """Read a protocol TOML file, or a shipped one by name ("reference", "cooling", "test")."""
    return parse_file(protocol_path(path_or_name), "protocol", parse_protocol)


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


def _parse_stage(number: int, data: Any) -> Stage:
    where = f"stage {number}"
    kind = data.get("kind") if isinstance(data, Mapping) else None
    require(kind in STAGE_CLASSES, f"{where}: kind = {kind!r} is not one of minimize, nvt, "
            "npt, ramp")
    cls = STAGE_CLASSES[kind]
    allowed = {f.name for f in fields(cls)}
    if (data.get("ensemble", "nvt") if kind == "ramp" else kind) == "nvt":
        allowed -= NPT_ONLY_KEYS
    check_keys(where, data, allowed)
    stage = parse(cls, data, where)
    if not isinstance(stage, Minimize):
        _check_timing(where, stage)
    return stage


def _check_timing(where: str, stage: Stage) -> None:
    steps = stage.report_interval_ps * 1000.0 / stage.timestep_fs
    require(abs(steps - round(steps)) < 1e-6, f"{where}: report_interval_ps = "
            f"{stage.report_interval_ps} is not a whole number of {stage.timestep_fs} fs "
            "steps; change one of them")
    frames = stage.duration_ps / stage.report_interval_ps
    require(abs(frames - round(frames)) < 1e-6 and round(frames) >= 1,
            f"{where}: duration_ps = {stage.duration_ps} is not a whole number of "
            f"report intervals ({stage.report_interval_ps} ps); change one of them")
    require(not isinstance(stage, Ramp) or stage.profile == "linear"
            or 2 <= stage.plateaus <= stage.frames,
            f"{where}: a stepped ramp needs 2 <= plateaus <= {stage.frames} (frames)")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
