"""Run an MD protocol on a built box, resuming by itself after any interruption.

The build folder (``topology.pdb`` + ``system.xml`` from ``qsse-md build``) is the run
folder. ``run.json`` records the protocol, the system fingerprint, each session (host,
platform, versions) and each stage's status; stage outputs go to ``stages/NN_name/``.
Calling :func:`run` again on the same folder continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform as host_platform
import time
from pathlib import Path

import numpy as np
import openmm
from openmm import app, unit

from qsse_md import __version__
from qsse_md.fileio import atomic_write_json
from qsse_md.md.output import read_checkpoint
from qsse_md.md.protocol import PLATFORMS, Minimize, Protocol, load_protocol, parse_protocol
from qsse_md.md.stages import CHECKPOINT, FINAL_STATE, RunContext, run_dynamics, run_minimize

log = logging.getLogger(__name__)
PLATFORM_PREFERENCE = ("CUDA", "OpenCL", "CPU", "Reference")
DEFAULT_PROTOCOL = "reference"


def run(run_dir: str | Path, protocol: Protocol | str | Path | None = None,
        platform: str | None = None) -> dict:
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

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` is not a build folder.
    ValueError
        Corrupt inputs, a protocol other than the one the folder was started with, an
        unavailable platform, a checkpoint of another system, or unstable dynamics.
    """
    run_dir = Path(run_dir)
    system, pdb, system_sha256 = load_build(run_dir)
    topology = pdb.topology
    record = _load_record(run_dir)
    protocol = _resolve_protocol(run_dir, protocol, record)
    if record and record["system_sha256"] != system_sha256:
        raise ValueError(f"{run_dir}/system.xml changed since this run started; rebuild into "
                         "a new folder instead of editing it")
    chosen, properties = select_platform(platform or protocol.platform, protocol.precision)
    _check_checkpoints(run_dir, protocol, system_sha256)
    if protocol.hydrogen_mass_amu is not None:
        repartition_hydrogen_mass(system, protocol.hydrogen_mass_amu)
    if record:
        _log_resume_point(run_dir, protocol, record)
    else:
        record = {"protocol": protocol.to_dict(), "system_sha256": system_sha256,
                  "atoms": system.getNumParticles(), "sessions": [], "stages": {}}
    session = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": host_platform.node(),
        "pid": os.getpid(), "platform": chosen.getName(), "properties": properties,
        "qsse_md_version": __version__, "openmm_version": openmm.__version__,
        "python_version": host_platform.python_version(), "wall_s": 0.0}
    record["sessions"].append(session)
    session_started_s = time.perf_counter()

    def save_record() -> None:
        session["wall_s"] = round(time.perf_counter() - session_started_s, 3)
        atomic_write_json(run_dir / "run.json", record)

    save_record()
    context = RunContext(system, topology, system_sha256, chosen, properties, protocol)
    state = None
    for index, (stage, name) in enumerate(zip(protocol.stages, protocol.stage_dirs())):
        folder = run_dir / "stages" / name
        entry = record["stages"].setdefault(name, {"status": "pending"})
        if entry["status"] != "done":
            folder.mkdir(parents=True, exist_ok=True)
            entry["status"] = "running"
            log.info("stage %s on %s", name, chosen.getName())
            started = time.perf_counter()
            state = state or _initial_state(system, topology, run_dir / "topology.pdb")
            if isinstance(stage, Minimize):
                save_record()
                summary = run_minimize(stage, folder, context, state)
            else:
                summary = run_dynamics(stage, index, folder, context, state, entry, save_record)
            entry.update(summary, status="done")
            entry["wall_s"] = round(entry.get("wall_s", 0.0) + time.perf_counter() - started, 3)
            save_record()
        (folder / CHECKPOINT).unlink(missing_ok=True)
        state = _read_state(folder / FINAL_STATE)
    return record


def _log_resume_point(run_dir: Path, protocol: Protocol, record: dict) -> None:
    """Log one line: the stage, simulated time (ps) and state a resumed run continues from."""
    names = protocol.stage_dirs()
    pending = [k for k, name in enumerate(names) if record["stages"].get(name, {}).get("status") != "done"]
    if not pending:
        log.info("%s: every stage of protocol '%s' is done", run_dir, protocol.name)
        return
    index = pending[0]
    stages = run_dir / "stages"
    checkpoint = stages / names[index] / CHECKPOINT
    if checkpoint.exists():
        time_ps, source = read_checkpoint(checkpoint)[0]["time_ps"], checkpoint
    else:
        time_ps = 0.0
        source = stages / names[index - 1] / FINAL_STATE if index else run_dir / "topology.pdb"
    log.info("resuming %s at stage %s, %.3f ps, from %s", run_dir, names[index], time_ps, source)


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


def load_build(build_dir: str | Path) -> tuple[openmm.System, app.PDBFile, str]:
    """The OpenMM System, the PDB file and the SHA-256 of ``system.xml`` of a build folder.

    Raises
    ------
    FileNotFoundError
        If the folder, its ``topology.pdb`` or its ``system.xml`` is missing.
    ValueError
        If either file is corrupt or they disagree on the number of atoms.
    """
    build_dir = Path(build_dir)
    if not build_dir.is_dir():
        raise FileNotFoundError(f"build folder {build_dir} does not exist; create it with "
                                f"qsse-md build RECIPE --out {build_dir}")
    for name in ("topology.pdb", "system.xml"):
        if not (build_dir / name).is_file():
            raise FileNotFoundError(f"{build_dir} is not a build folder (no {name}); create it "
                                    "with qsse-md build RECIPE --out DIR")
    text = (build_dir / "system.xml").read_bytes()
    try:
        system = openmm.XmlSerializer.deserialize(text.decode())
        pdb = app.PDBFile(str(build_dir / "topology.pdb"))
    except Exception as error:  # OpenMM raises bare Exception subclasses for bad XML/PDB
        raise ValueError(f"{build_dir} holds a corrupt system.xml or topology.pdb "
                         f"({str(error).splitlines()[0] if str(error) else type(error).__name__})"
                         "; rebuild it with qsse-md build") from None
    if system.getNumParticles() != pdb.topology.getNumAtoms():
        raise ValueError(f"{build_dir}: system.xml has {system.getNumParticles()} particles but "
                         f"topology.pdb {pdb.topology.getNumAtoms()} atoms; rebuild the folder")
    return system, pdb, hashlib.sha256(text).hexdigest()


def _load_record(run_dir: Path) -> dict:
    path = run_dir / "run.json"
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


def _check_checkpoints(run_dir: Path, protocol: Protocol, system_sha256: str) -> None:
    """Refuse, before anything is written, checkpoints that belong to another system."""
    for name in protocol.stage_dirs():
        path = run_dir / "stages" / name / CHECKPOINT
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
