"""Run one protocol stage with OpenMM: minimisation, or dynamics that checkpoint and resume.

A dynamics stage writes, in its :class:`~qsse_md.runfolder.StageFolder`, the trajectory,
the state log, a checkpoint (while running) and the final state. Checkpoints are taken at frame
boundaries only, at the first frame after ``checkpoint_interval_s`` wall seconds and at
the last frame; a restart cuts the trajectory and log back to the checkpoint.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import openmm
from openmm import app, unit

from qsse_md.assembly.system import minimise
from qsse_md.errors import UserFixableError
from qsse_md.fileio import atomic_write_bytes
from qsse_md.md.output import (StateLog, TrajectoryWriter, file_size, read_checkpoint,
                               truncate, write_checkpoint)
from qsse_md.md.progress import Progress
from qsse_md.md.protocol import Minimize, Protocol, Stage
from qsse_md.runfolder import StageFolder
from qsse_md.units import GAS_CONSTANT_KJ_PER_MOL_K, density_g_per_cm3

log = logging.getLogger(__name__)


class UnstableSimulationError(UserFixableError):
    """The dynamics blew up (NaN or runaway temperature) after every allowed retry."""


class _BlowUp(Exception):
    pass


@dataclass(frozen=True)
class RunContext:
    """What every stage needs: the system, where to run it, and run-wide options.

    Attributes
    ----------
    system : openmm.System
        The system (hydrogen masses already repartitioned).
    topology : openmm.app.Topology
        Its topology (for the trajectory writers).
    system_sha256 : str
        Fingerprint of ``system.xml``; checkpoints of another system are refused.
    platform : openmm.Platform
        Platform to run on.
    properties : dict
        Platform properties (e.g. precision).
    protocol : Protocol
        The protocol being run (seed, checkpoint interval, trajectory format, retries).
    """

    system: openmm.System
    topology: app.Topology
    system_sha256: str
    platform: openmm.Platform
    properties: dict
    protocol: Protocol


def derived_seed(*parts) -> int:
    """A reproducible random seed in [1, 2**31 - 1] from ``parts`` (0 means 'random' in OpenMM)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") % (2**31 - 2) + 1


def run_minimize(stage: Minimize, folder: StageFolder, run: RunContext, start: openmm.State) -> dict:
    """Minimise from ``start`` with :func:`qsse_md.assembly.system.minimise`; write the
    stage's final state; return energies in kJ/mol."""
    context = openmm.Context(run.system, openmm.VerletIntegrator(0.001), run.platform,
                             run.properties)
    _apply_state(context, start)
    before, after = minimise(context, stage)
    state = context.getState(getPositions=True, getVelocities=True, getEnergy=True)
    atomic_write_bytes(folder.final_state, openmm.XmlSerializer.serialize(state).encode())
    return {"potential_energy_kj_per_mol": {"start": before, "minimised": after}}


def run_dynamics(stage: Stage, index: int, folder: StageFolder, run: RunContext,
                 start: openmm.State, record: dict, save_record: Callable[[], None]) -> dict:
    """Run (or resume) a dynamics stage; return its summary for ``run.json``.

    ``record`` is the stage's entry in ``run.json``: resumes, retries and the trajectory's
    name (so that a stopped stage can be analysed) are added to it and ``save_record`` is
    called to persist it before integration starts and after every checkpoint.

    Raises
    ------
    ValueError
        If the checkpoint is corrupt.
    UnstableSimulationError
        If the dynamics blows up ``protocol.max_retries + 1`` times.
    """
    checkpoint = folder.checkpoint
    if checkpoint.exists():
        meta, state_xml = read_checkpoint(checkpoint)
        state = openmm.XmlSerializer.deserialize(state_xml)
        record.setdefault("resumes", []).append({"frame": meta["frames"],
                                                 "time_ps": round(meta["time_ps"], 9)})
    else:
        meta = {"system_sha256": run.system_sha256, "frames": 0, "step": 0, "time_ps": 0.0,
                "timestep_fs": stage.timestep_fs, "retries": 0, "trajectory_bytes": 0,
                "log_bytes": 0}
        state = start
    trajectory = folder.trajectory(run.protocol.trajectory_format).name
    while True:
        record.update(retries=meta["retries"], timestep_fs=meta["timestep_fs"], trajectory=trajectory)
        save_record()
        try:
            return _integrate(stage, index, folder, run, state, meta, save_record)
        except _BlowUp as blow_up:
            meta, state_xml = read_checkpoint(checkpoint)
            if meta["retries"] >= run.protocol.max_retries:
                raise UnstableSimulationError(
                    f"stage {folder.name} blew up ({blow_up}) at "
                    f"{meta['time_ps']:.3f} ps after {meta['retries']} retries down to "
                    f"{meta['timestep_fs']} fs; minimise longer, lower the time step or "
                    "check the force field") from None
            state = openmm.XmlSerializer.deserialize(state_xml)
            meta.update(retries=meta["retries"] + 1, timestep_fs=meta["timestep_fs"] / 2)
            log.warning("%s: %s; rolling back to %.3f ps and retrying with %.3g fs",
                        folder.name, blow_up, meta["time_ps"], meta["timestep_fs"])


def _integrate(stage: Stage, index: int, folder: StageFolder, run: RunContext,
               state: openmm.State, meta: dict, save_record: Callable[[], None]) -> dict:
    progress = Progress(folder.name, stage.duration_ps, meta["time_ps"])  # its clock starts here
    protocol = run.protocol
    trajectory = folder.trajectory(protocol.trajectory_format)
    truncate(trajectory, meta["trajectory_bytes"])
    truncate(folder.state_log, meta["log_bytes"])
    seed = derived_seed(protocol.seed, index, meta["frames"], meta["retries"])
    timestep_ps = meta["timestep_fs"] / 1000.0
    steps_per_frame = round(stage.report_interval_ps / timestep_ps)
    temperature_K = stage.temperature_at_K(meta["time_ps"])
    system = copy.deepcopy(run.system)
    if stage.ensemble == "npt":
        barostat = openmm.MonteCarloBarostat(stage.pressure_bar, temperature_K,
                                             stage.barostat_interval_steps)
        barostat.setRandomNumberSeed(seed)
        system.addForce(barostat)
    integrator = openmm.LangevinMiddleIntegrator(temperature_K, stage.friction_per_ps,
                                                 timestep_ps)
    integrator.setRandomNumberSeed(seed)
    context = openmm.Context(system, integrator, run.platform, run.properties)
    _apply_state(context, state, temperature_K, seed)
    context.setTime(meta["time_ps"])
    context.setStepCount(meta["step"])
    writer = TrajectoryWriter(trajectory, run.topology, stage.report_interval_ps, timestep_ps,
                              meta["frames"])
    state_log = StateLog(folder.state_log)
    meta["seed"] = seed
    _checkpoint(context, folder, meta, writer.path, state_log.path)
    dof = _degrees_of_freedom(system)
    mass_g_per_mol = sum(system.getParticleMass(i).value_in_unit(unit.dalton)
                         for i in range(system.getNumParticles()))
    last_checkpoint_s = time.monotonic()
    try:
        while meta["frames"] < stage.frames:
            temperature_K = stage.temperature_at_K(meta["time_ps"])
            integrator.setTemperature(temperature_K)
            if stage.ensemble == "npt":
                context.setParameter(openmm.MonteCarloBarostat.Temperature(), temperature_K)
            try:
                integrator.step(steps_per_frame)
            except openmm.OpenMMException as error:
                raise _BlowUp(str(error).splitlines()[0]) from None
            frame = context.getState(getPositions=True, getEnergy=True)
            row = _state_row(frame, dof, mass_g_per_mol, temperature_K)
            progress.advance(stage.report_interval_ps)
            row["speed_ns_per_day"] = progress.speed_ns_per_day
            box_nm = frame.getPeriodicBoxVectors(asNumpy=True).value_in_unit(unit.nanometer)
            writer.write(frame.getPositions(asNumpy=True).value_in_unit(unit.nanometer), box_nm)
            state_log.write(row)
            meta.update(frames=meta["frames"] + 1, step=row["step"], time_ps=row["time_ps"])
            now = time.monotonic()
            if (meta["frames"] == stage.frames
                    or now - last_checkpoint_s >= protocol.checkpoint_interval_s):
                _checkpoint(context, folder, meta, writer.path, state_log.path)
                save_record()
                last_checkpoint_s = now
    finally:
        writer.close()
        progress.close()
    final = context.getState(getPositions=True, getVelocities=True, getEnergy=True)
    atomic_write_bytes(folder.final_state, openmm.XmlSerializer.serialize(final).encode())
    return {"frames": meta["frames"], "time_ps": round(meta["time_ps"], 9), "steps": meta["step"],
            "timestep_fs": meta["timestep_fs"], "retries": meta["retries"], "seed": meta["seed"],
            "trajectory": trajectory.name, "state_log": folder.state_log.name}


def _checkpoint(context, folder: StageFolder, meta: dict, trajectory: Path, state_log: Path) -> None:
    state = context.getState(getPositions=True, getVelocities=True)
    meta.update(trajectory_bytes=file_size(trajectory), log_bytes=file_size(state_log))
    write_checkpoint(folder.checkpoint, meta, openmm.XmlSerializer.serialize(state))


def _state_row(frame: openmm.State, dof: int, mass_g_per_mol: float,
               target_K: float) -> dict:
    potential = _potential_kj(frame)
    kinetic = frame.getKineticEnergy().value_in_unit(unit.kilojoule_per_mole)
    temperature = 2.0 * kinetic / (dof * GAS_CONSTANT_KJ_PER_MOL_K)
    positions = frame.getPositions(asNumpy=True).value_in_unit(unit.nanometer)
    if not (np.isfinite(potential) and np.isfinite(temperature) and np.isfinite(positions).all()):
        raise _BlowUp("non-finite energy or coordinates")
    if temperature > 3.0 * target_K + 500.0:
        raise _BlowUp(f"temperature ran away to {temperature:.0f} K")
    volume_nm3 = frame.getPeriodicBoxVolume().value_in_unit(unit.nanometer**3)
    return {"step": frame.getStepCount(), "time_ps": frame.getTime().value_in_unit(unit.picosecond),
            "temperature_K": temperature, "potential_energy_kJ_per_mol": potential,
            "volume_nm3": volume_nm3,
            "density_g_per_cm3": density_g_per_cm3(mass_g_per_mol, volume_nm3 * 1000.0)}


def _apply_state(context: openmm.Context, state: openmm.State,
                 temperature_K: float | None = None, seed: int = 1) -> None:
    """Set box, positions and velocities (drawn at ``temperature_K`` if all zero)."""
    context.setPeriodicBoxVectors(*state.getPeriodicBoxVectors())
    context.setPositions(state.getPositions())
    velocities = state.getVelocities(asNumpy=True)
    if temperature_K is not None and not np.any(velocities.value_in_unit(unit.nanometer
                                                                         / unit.picosecond)):
        context.setVelocitiesToTemperature(temperature_K, seed)
    else:
        context.setVelocities(velocities)


def _degrees_of_freedom(system: openmm.System) -> int:
    massive = sum(1 for i in range(system.getNumParticles())
                  if system.getParticleMass(i).value_in_unit(unit.dalton) > 0)
    removes_com = any(isinstance(f, openmm.CMMotionRemover) for f in system.getForces())
    return 3 * massive - system.getNumConstraints() - (3 if removes_com else 0)


def _potential_kj(state: openmm.State) -> float:
    return state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
