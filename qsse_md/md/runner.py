"""Run an MD protocol on a built box, resuming by itself after any interruption.

The build folder from ``qsse-md build`` is the run folder (:class:`~qsse_md.runfolder.RunFolder`
names its files). Its run record holds the protocol, the system fingerprint, each session
(host, platform, versions) and each stage's status; each stage writes into its own stage
folder. Calling :func:`run` again on the same folder continues where it stopped.
"""

from __future__ import annotations

import json
import logging
import os
import platform as host_platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import openmm
from openmm import app, unit

from qsse_md import __version__
from qsse_md.fileio import atomic_write_json
from qsse_md.md.output import read_checkpoint
from qsse_md.md.protocol import ENGINES, PLATFORMS, Minimize, Protocol, load_protocol, parse_protocol
from qsse_md.md.stages import RunContext, run_dynamics, run_minimize
from qsse_md.runfolder import RunFolder, StageFolder

log = logging.getLogger(__name__)
PLATFORM_PREFERENCE = ("CUDA", "OpenCL", "CPU", "Reference")
DEFAULT_PROTOCOL = "reference"


def run(run_dir: str | Path, protocol: Protocol | str | Path | None = None,
        platform: str | None = None, engine: str | None = None, gmx: str | None = None,
        threads: int | None = None, mpi_ranks: int | None = None, mpirun: str | None = None) -> dict:
    """Run (or resume) ``protocol`` in the build folder ``run_dir``; return ``run.json``.

    Parameters
    ----------
    run_dir : str or Path
        Folder written by ``qsse-md build`` (``topology.pdb``, ``system.xml``).
    protocol : Protocol, str, Path or None
        Protocol object, TOML file or shipped protocol name. ``None`` resumes the
        protocol recorded in ``run.json``, or starts ``"reference"`` in a fresh folder.
    platform : str or None
        "auto", "CUDA", "OpenCL", "CPU" or "Reference"; ``None`` uses the protocol's.
        OpenMM engine only.
    engine : str or None
        "openmm" or "gromacs" (:mod:`qsse_md.md.gromacs`); ``None`` uses the one the folder
        was started with, else the protocol's (default "openmm").
    gmx : str or None
        GROMACS program (default: ``gmx`` on PATH). GROMACS engine only.
    threads : int or None
        OpenMP threads of ``gmx mdrun`` per rank (default 1). GROMACS engine only.
    mpi_ranks : int or None
        Run ``gmx mdrun`` under ``mpirun -np mpi_ranks`` (an MPI build such as ``gmx_mpi``
        is needed); ``None``: one process. GROMACS engine only.
    mpirun : str or None
        MPI launcher (default: ``mpirun`` on PATH). GROMACS engine only.

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` is not a build folder, or ``gmx`` or ``mpirun`` is not found.
    ValueError
        Corrupt inputs, a protocol or engine other than the one the folder was started with,
        an option of the other engine, an unavailable platform, a checkpoint of another
        system, or unstable dynamics.
    """
    folder = RunFolder(run_dir)
    system, pdb, system_sha256 = folder.load_build()
    topology = pdb.topology
    record = _load_record(folder)
    protocol = _resolve_protocol(folder.path, protocol, record)
    engine = _resolve_engine(folder.path, engine or protocol.engine, record)
    if record and record["system_sha256"] != system_sha256:
        raise ValueError(f"{folder.system_xml} changed since this run started; rebuild into "
                         "a new folder instead of editing it")
    if engine == "gromacs":
        from qsse_md.md import gromacs

        if platform is not None:
            raise ValueError("--platform chooses an OpenMM platform; leave it out with "
                             "--engine gromacs (use --threads)")
        if protocol.trajectory_format != "xtc":
            raise ValueError(f"the GROMACS engine writes XTC trajectories, not "
                             f"{protocol.trajectory_format}; set trajectory_format = \"xtc\" "
                             "in the protocol, or run it with --engine openmm")
        gmx = gromacs.find_gmx(gmx)
        threads = threads or 1
        build = gromacs.gromacs_build(gmx)
        launch = gromacs.mpi_launch(build, gmx, mpi_ranks, mpirun)
        details = {"platform": f"GROMACS {build['version']}", "gmx": gmx, "threads": threads,
                   "mpi_ranks": mpi_ranks or 1}
    else:
        if any(option is not None for option in (gmx, threads, mpi_ranks, mpirun)):
            raise ValueError("--gmx, --threads, --mpi-ranks and --mpirun are options of the "
                             "GROMACS engine; add --engine gromacs, or leave them out")
        chosen, properties = select_platform(platform or protocol.platform, protocol.precision)
        _check_checkpoints(folder, protocol, system_sha256)
        details = {"platform": chosen.getName(), "properties": properties}
    if protocol.hydrogen_mass_amu is not None:
        repartition_hydrogen_mass(system, protocol.hydrogen_mass_amu)
    if record and engine == "openmm":
        _log_resume_point(folder, protocol, record)
    elif not record:
        record = {"protocol": protocol.to_dict(), "engine": engine, "system_sha256": system_sha256,
                  "atoms": system.getNumParticles(), "sessions": [], "stages": {}}
    session = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": host_platform.node(),
        "pid": os.getpid(), **details,
        "qsse_md_version": __version__, "openmm_version": openmm.__version__,
        "python_version": host_platform.python_version(), "wall_s": 0.0}
    record["sessions"].append(session)
    session_started_s = time.perf_counter()

    def save_record() -> None:
        session["wall_s"] = round(time.perf_counter() - session_started_s, 3)
        atomic_write_json(folder.run_record, record)

    save_record()
    if engine == "gromacs":
        return gromacs.run_gromacs(folder, protocol, system, pdb, record, save_record, gmx, threads,
                                   launch, build["mpi"])
    context = RunContext(system, topology, system_sha256, chosen, properties, protocol)
    state = None
    for index, (stage, name) in enumerate(zip(protocol.stages, protocol.stage_dirs())):
        stage_folder, entry = open_stage(folder, record, name)
        if entry["status"] == "running":
            log.info("stage %s on %s", name, chosen.getName())
            with timed_stage(entry, save_record) as save_stage:
                state = state or _initial_state(system, topology, folder.topology_pdb)
                if isinstance(stage, Minimize):
                    save_stage()
                    summary = run_minimize(stage, stage_folder, context, state)
                else:
                    summary = run_dynamics(stage, index, stage_folder, context, state, entry,
                                           save_stage)
                entry.update(summary, status="done")
        stage_folder.checkpoint.unlink(missing_ok=True)
        state = _read_state(stage_folder.final_state)
    return record


def open_stage(folder: RunFolder, record: dict, name: str) -> tuple[StageFolder, dict]:
    """The folder and ``run.json`` entry of stage ``name``; a stage not done yet gets its
    folder and the status "running" (done stages keep "done")."""
    stage_folder = folder.stage(name)
    entry = record["stages"].setdefault(name, {"status": "pending"})
    if entry["status"] != "done":
        stage_folder.path.mkdir(parents=True, exist_ok=True)
        entry["status"] = "running"
    return stage_folder, entry


@contextmanager
def timed_stage(entry: dict, save_record: Callable[[], None]) -> Iterator[Callable[[], None]]:
    """Count the wall-clock seconds this session spends on a stage in its ``run.json`` entry
    (``wall_s``), so that a resumed stage's ``time_ps / wall_s`` is its speed.

    Yields the function that stores the seconds so far and saves the record: the engines call
    it at every checkpoint, and it is called when the stage ends or is interrupted, so a
    session killed outright (SIGKILL) loses only the time since its last checkpoint."""
    before_s, started = entry.get("wall_s", 0.0), time.perf_counter()

    def save() -> None:
        entry["wall_s"] = round(before_s + time.perf_counter() - started, 3)
        save_record()

    try:
        yield save
    finally:
        save()


def _log_resume_point(folder: RunFolder, protocol: Protocol, record: dict) -> None:
    """Log one line: the stage, simulated time (ps) and state a resumed run continues from."""
    names = protocol.stage_dirs()
    pending = [k for k, name in enumerate(names) if record["stages"].get(name, {}).get("status") != "done"]
    if not pending:
        log.info("%s: every stage of protocol '%s' is done", folder.path, protocol.name)
        return
    index = pending[0]
    checkpoint = folder.stage(names[index]).checkpoint
    if checkpoint.exists():
        time_ps, source = read_checkpoint(checkpoint)[0]["time_ps"], checkpoint
    else:
        time_ps = 0.0
        source = folder.stage(names[index - 1]).final_state if index else folder.topology_pdb
    log.info("resuming %s at stage %s, %.3f ps, from %s", folder.path, names[index], time_ps, source)


def select_platform(name: str, precision: str = "mixed") -> tuple[openmm.Platform, dict]:
    """The OpenMM platform called ``name`` ("auto": fastest that works) and its properties.

    Raises
    ------
    ValueError
        If the named platform is not available on this machine.
    """
    if name not in PLATFORMS:
        raise ValueError(f"unknown platform '{name}'; use one of {', '.join(PLATFORMS)}")
    candidates = PLATFORM_PREFERENCE if name == "auto" else (name,)
    for candidate in candidates:
        properties = {"Precision": precision} if candidate in ("CUDA", "OpenCL") else {}
        try:
            chosen = openmm.Platform.getPlatformByName(candidate)
            probe = openmm.System()
            probe.addParticle(1.0)
            openmm.Context(probe, openmm.VerletIntegrator(0.001), chosen, properties)
        except openmm.OpenMMException:
            continue
        return chosen, properties
    available = [openmm.Platform.getPlatform(i).getName()
                 for i in range(openmm.Platform.getNumPlatforms())]
    raise ValueError(f"OpenMM platform '{name}' is not available here (available: "
                     f"{', '.join(available)}); use --platform auto")


def repartition_hydrogen_mass(system: openmm.System, hydrogen_mass_amu: float) -> None:
    """Move mass from heavy atoms to their bonded hydrogens so each weighs ``hydrogen_mass_amu`` Da.

    Bonds are taken from the constraints and the ``HarmonicBondForce``; the total mass is
    unchanged. Hydrogens are particles lighter than 1.5 Da.
    """
    pairs = [system.getConstraintParameters(i)[:2] for i in range(system.getNumConstraints())]
    for force in system.getForces():
        if isinstance(force, openmm.HarmonicBondForce):
            pairs += [force.getBondParameters(i)[:2] for i in range(force.getNumBonds())]
    masses = np.array([system.getParticleMass(i).value_in_unit(unit.dalton)
                       for i in range(system.getNumParticles())])
    original = masses.copy()
    for a, b in set(tuple(sorted(pair)) for pair in pairs):
        hydrogen, heavy = (a, b) if original[a] < 1.5 else (b, a)
        if original[hydrogen] < 1.5 <= original[heavy]:
            transfer = hydrogen_mass_amu - original[hydrogen]
            masses[hydrogen] += transfer
            masses[heavy] -= transfer
    if np.any(masses[original > 0] <= 0):
        raise ValueError(f"hydrogen_mass_amu = {hydrogen_mass_amu} leaves a heavy atom with no "
                         "mass; use a smaller value (3.0 is usual)")
    for i, mass in enumerate(masses):
        system.setParticleMass(i, mass)


def _load_record(folder: RunFolder) -> dict:
    path = folder.run_record
    if not path.exists():
        return {}
    try:
        record = json.loads(path.read_text())
        if not {"protocol", "stages", "sessions", "system_sha256"} <= set(record):
            raise ValueError("incomplete")
        parse_protocol(record["protocol"])
    except (ValueError, TypeError):
        raise ValueError(f"{path} is corrupt; restore it, or rebuild the box into a new "
                         "folder to start again") from None
    return record


def _resolve_protocol(run_dir: Path, protocol, record: dict) -> Protocol:
    if protocol is None:
        return parse_protocol(record["protocol"]) if record else load_protocol(DEFAULT_PROTOCOL)
    if not isinstance(protocol, Protocol):
        protocol = load_protocol(protocol)
    if record and protocol.to_dict() != record["protocol"]:
        raise ValueError(f"{run_dir} was started with protocol '{record['protocol']['name']}',"
                         f" not this '{protocol.name}'; omit --protocol to resume, or build "
                         "into a new folder")
    return protocol


def _resolve_engine(run_dir: Path, engine: str | None, record: dict) -> str:
    """The engine to run: ``engine``, else the folder's (``run.json``), else "openmm"."""
    recorded = record.get("engine", "openmm") if record else None
    engine = engine or recorded or "openmm"
    if engine not in ENGINES:
        raise ValueError(f"unknown engine '{engine}'; use one of {', '.join(ENGINES)}")
    if recorded and engine != recorded:
        raise ValueError(f"{run_dir} was started with the {recorded} engine, not {engine}; "
                         "omit --engine to resume it, or build into a new folder")
    return engine


def _check_checkpoints(folder: RunFolder, protocol: Protocol, system_sha256: str) -> None:
    """Refuse, before anything is written, checkpoints that belong to another system."""
    for name in protocol.stage_dirs():
        path = folder.stage(name).checkpoint
        if path.exists() and read_checkpoint(path)[0].get("system_sha256") != system_sha256:
            raise ValueError(f"checkpoint {path} was written for a different system; run the "
                             "build it came from, or delete that stage folder")


def _initial_state(system: openmm.System, topology: app.Topology, pdb: Path) -> openmm.State:
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))
    context.setPeriodicBoxVectors(*topology.getPeriodicBoxVectors())
    context.setPositions(app.PDBFile(str(pdb)).positions)
    return context.getState(getPositions=True, getVelocities=True)


def _read_state(path: Path) -> openmm.State:
    try:
        return openmm.XmlSerializer.deserialize(path.read_text())
    except Exception:  # OpenMM raises bare Exception subclasses for bad XML
        raise ValueError(f"{path} is missing or corrupt; delete its stage from run.json "
                         "to run it again") from None
