"""Run a protocol with GROMACS (``gmx grompp`` + ``gmx mdrun``) into the same run folder.

Each stage becomes an ``.mdp`` (:mod:`qsse_md.md.mdp` holds the mapping); the system is
written once as ``system.top`` with the run's masses (hydrogen-mass repartitioning included)
and ``start.g96``. A stage starts from the previous stage's ``final.g96`` (positions and
velocities at full precision). The stage folder gets what the OpenMM engine writes there:
``trajectory.xtc`` (one frame per report interval), ``state.csv`` (same columns and units,
from ``gmx energy``) and ``final_state.xml`` (an OpenMM State with positions, velocities
and box, so a run can be continued by either engine), besides the GROMACS files.

Resume: ``mdrun`` writes ``state.cpt`` every ``checkpoint_interval_s`` (at its next
neighbour-search step; 0 = at every one); a run started again continues from it with
``-cpi -append``, and GROMACS cuts the trajectory and energy file back to the checkpoint,
so every frame appears once. A dynamics stage without a checkpoint starts over. ``mdrun``
dies with the Python process that started it (``PR_SET_PDEATHSIG``), and stops at its next
step (writing a checkpoint) when that process is interrupted.

Trajectories are written as by the OpenMM engine: unwrapped (molecules whole, positions
continuous across stages) and without ``mdrun``'s frame at time 0 (see
:func:`qsse_md.md.gromacs_files.write_trajectory`). Differences from the OpenMM engine:
``trajectory.xtc`` and ``state.csv`` appear when the stage ends (while it runs, ``mdrun``
writes ``mdrun.xtc`` and ``energy.edr``); no automatic retry with a smaller time step after a
blow-up (``max_retries`` is not used: GROMACS stops with a LINCS or domain error, reported in
one line); the protocol's ``platform`` and ``precision`` are OpenMM settings (GROMACS runs in
the precision it was built with); ``speed_ns_per_day`` in ``state.csv`` is that of the
``mdrun`` session that made the row (start-up included), NaN for rows of a session that was
killed.
"""

from __future__ import annotations

import ctypes
import logging
import math
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openmm
from openmm import app, unit

from qsse_md.errors import UserFixableError
from qsse_md.fileio import atomic_write_bytes, write_text_atomic
from qsse_md.md.gromacs_files import (EDR_TERMS, last_frame_nm, nearest_image, read_g96,
                                      read_xvg, write_g96, write_state_log, write_topology,
                                      write_trajectory)
from qsse_md.md.mdp import nonbonded_settings, stage_mdp
from qsse_md.md.protocol import Minimize, Protocol, Stage
from qsse_md.md.runner import open_stage, timed_stage
from qsse_md.md.stages import derived_seed
from qsse_md.resources import executable
from qsse_md.runfolder import RunFolder, StageFolder

log = logging.getLogger(__name__)
INSTALL_HINT = ("install GROMACS (Debian/Ubuntu: apt-get install gromacs; conda: conda "
                "install -c conda-forge gromacs; or load your cluster's GROMACS module), or "
                "give its path with --gmx PATH")
_PR_SET_PDEATHSIG = 1


class GromacsError(UserFixableError):
    """``gmx grompp`` rejected a stage, or ``gmx mdrun`` stopped with an error."""


def find_gmx(path: str | None = None) -> str:
    """Full path of the GROMACS ``gmx`` program: ``path`` if given, else ``gmx`` found by
    :func:`qsse_md.resources.executable`.

    Raises
    ------
    FileNotFoundError
        One line saying how to install GROMACS or where to point ``--gmx``.
    """
    found = executable(path or "gmx")
    if found is None:
        where = f"--gmx {path} is not an executable program" if path else \
            "GROMACS 'gmx' was not found on PATH"
        raise FileNotFoundError(f"{where}; {INSTALL_HINT}")
    return found


def gromacs_build(gmx: str) -> dict:
    """Version and MPI library of ``gmx`` from ``gmx --version``.

    Returns
    -------
    dict
        ``version`` (e.g. "2022.5-Debian_2022.5_2") and ``mpi`` (True for a build with a
        real MPI library, such as ``gmx_mpi``; False for thread-MPI builds).
    """
    text = subprocess.run([gmx, "-quiet", "--version"], capture_output=True, text=True).stdout
    version = re.search(r"GROMACS version:\s*(\S+)", text)
    library = re.search(r"MPI library:\s*(\S+)", text)
    return {"version": version.group(1) if version else "unknown",
            "mpi": bool(library) and library.group(1) == "MPI"}


def mpi_launch(build: dict, gmx: str, mpi_ranks: int | None, mpirun: str | None) -> list[str]:
    """The launcher of ``mdrun`` for ``mpi_ranks`` MPI ranks: ``[mpirun, "-np", N]``, or
    ``[]`` for one process (no ranks asked for); ``build`` is :func:`gromacs_build` of ``gmx``.

    Raises
    ------
    ValueError
        If ranks are asked of a thread-MPI build.
    FileNotFoundError
        If ``mpirun`` is not found.
    """
    if mpi_ranks is None:
        return []
    if not build["mpi"]:
        raise ValueError(f"--mpi-ranks needs an MPI build of GROMACS, and {gmx} uses "
                         "thread-MPI; give --gmx gmx_mpi (or your cluster's MPI build)")
    found = executable(mpirun or "mpirun")
    if found is None:
        raise FileNotFoundError(f"{mpirun or 'mpirun'} was not found; install an MPI (Debian/"
                                "Ubuntu: apt-get install openmpi-bin), load your cluster's MPI "
                                "module, or give its path with --mpirun PATH")
    return [found, "-np", str(mpi_ranks)]


def run_gromacs(folder: RunFolder, protocol: Protocol, system: openmm.System,
                pdb: app.PDBFile, record: dict, save_record, gmx: str, threads: int,
                launch: list[str] | None = None, mpi: bool = False) -> dict:
    """Run (or resume) every stage of ``protocol`` with GROMACS; return ``record``.

    Parameters
    ----------
    folder : RunFolder
        The build folder being run.
    protocol : Protocol
        The protocol.
    system : openmm.System
        The built system, hydrogen masses already repartitioned.
    pdb : openmm.app.PDBFile
        Topology and built coordinates.
    record : dict
        ``run.json`` being written; each stage's entry is updated in it.
    save_record : callable
        Writes ``record`` (called before and after each stage).
    gmx : str
        Path of ``gmx``.
    threads : int
        OpenMP threads of ``mdrun`` (per MPI rank).
    launch : list of str, optional
        Launcher of ``mdrun`` (:func:`mpi_launch`); ``[]`` or None runs one process.
    mpi : bool
        ``gmx`` is an MPI build (``gmx_mpi``): ``mdrun`` gets no ``-ntmpi``.

    Raises
    ------
    GromacsError
        If ``grompp`` rejects a stage or ``mdrun`` fails.
    """
    topology = pdb.topology
    reference = positions_nm = np.asarray(pdb.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
    if not folder.gromacs_topology.is_file():
        box_nm = np.asarray([v.value_in_unit(unit.nanometer) for v in topology.getPeriodicBoxVectors()])
        write_g96(folder.gromacs_start, topology, positions_nm, box_nm)
        write_topology(folder.gromacs_topology, system, topology, positions_nm, folder.forcefield_dir)
    runner = _Gmx(gmx, threads, launch or [], mpi)
    settings = {"nonbonded": nonbonded_settings(system),
                "constraints": folder.read_build().get("system_options", {}).get(
                    "constraints", "hbonds" if system.getNumConstraints() else "none")}
    mass_g_per_mol = sum(system.getParticleMass(i).value_in_unit(unit.dalton)
                         for i in range(system.getNumParticles()))
    start = folder.gromacs_start
    for index, (stage, name) in enumerate(zip(protocol.stages, protocol.stage_dirs())):
        stage_folder, entry = open_stage(folder, record, name)
        if entry["status"] == "running":
            log.info("stage %s on GROMACS (%d thread%s)", name, threads, "s"[:threads > 1])
            save_record()
            seed = derived_seed(protocol.seed, index, 0, 0)
            mdp = stage_mdp(stage, settings["nonbonded"], settings["constraints"], seed,
                            generate_velocities=read_g96(start)[1] is None)
            with timed_stage(entry, save_record) as save_stage:
                if isinstance(stage, Minimize):
                    summary = _minimize(runner, stage_folder, mdp, start, folder.gromacs_topology)
                else:
                    summary = _dynamics(runner, stage, stage_folder, mdp, start, folder, entry,
                                        protocol, mass_g_per_mol, save_stage, reference)
                    summary["seed"] = seed
                _write_final_state(stage_folder, system, _reference(stage, stage_folder, reference))
                entry.update(summary, status="done")
        for path in (stage_folder.gromacs_checkpoint, stage_folder.previous_gromacs_checkpoint,
                     stage_folder.mdrun_trajectory):
            path.unlink(missing_ok=True)
        start = stage_folder.final_coordinates
        reference = _reference(stage, stage_folder, reference)
    return record


def _reference(stage: Stage, folder: StageFolder, before: np.ndarray) -> np.ndarray:
    """Unwrapped positions (nm) a stage ends at: its last frame, or ``before`` for a minimisation."""
    return before if isinstance(stage, Minimize) else last_frame_nm(folder.trajectory("xtc"))


def _minimize(runner: _Gmx, folder: StageFolder, mdp: str, start: Path, top: Path) -> dict:
    """Steepest descent from ``start``; energies (kJ/mol) before and after.

    The energies are the sums of the energy terms: GROMACS 2022.5 ``steep`` was seen to count
    the dispersion correction twice in its "Potential" (dynamics stages do not).
    """
    _clear(folder)
    runner.grompp(folder, mdp, start, top)
    runner.mdrun(folder, resume=False)
    for path in folder.path.glob("*.trr"):  # the last minimisation step; final.g96 has it
        path.unlink()
    legends, data = runner.energy(folder, [str(term) for term in range(1, 100)])
    potential = data[:, 1:legends.index("Potential")].sum(axis=1)
    return {"potential_energy_kj_per_mol": {"start": float(potential[0]),
                                            "minimised": float(potential[-1])}}


def _dynamics(runner: _Gmx, stage: Stage, folder: StageFolder, mdp: str, start: Path,
              run_folder: RunFolder, entry: dict, protocol: Protocol, mass_g_per_mol: float,
              save_record, reference_nm: np.ndarray) -> dict:
    """Run or resume a dynamics stage; write ``trajectory.xtc`` (unwrapped from
    ``reference_nm``, nm) and ``state.csv``; return the stage summary. ``save_record`` is
    called before ``mdrun`` starts and at every checkpoint interval while it runs."""
    resume = folder.gromacs_checkpoint.is_file()
    if resume:
        from_ps = runner.checkpoint_time_ps(folder.gromacs_checkpoint)
        frames_done = math.floor(from_ps / stage.report_interval_ps + 1e-6)  # checkpoints fall
        entry.setdefault("resumes", []).append({"frame": frames_done,  # on mdrun's own steps
                                                "time_ps": round(from_ps, 9)})
        log.info("resuming %s at stage %s, %.3f ps, from %s", run_folder.path, folder.name,
                 from_ps, folder.gromacs_checkpoint)
    else:
        from_ps = 0.0
        _clear(folder)
        runner.grompp(folder, mdp, start, run_folder.gromacs_topology)
    save_record()
    started = time.perf_counter()
    volume_nm3 = float(np.linalg.det(read_g96(start)[2]))  # used at constant volume only

    def write_outputs() -> int:
        return _write_outputs(runner, stage, folder, entry, reference_nm, mass_g_per_mol,
                              volume_nm3, from_ps, time.perf_counter() - started)

    try:
        runner.mdrun(folder, resume, (protocol.checkpoint_interval_s, save_record))
    except KeyboardInterrupt:
        if write_outputs():
            entry["trajectory"] = folder.trajectory("xtc").name
            save_record()
        raise
    frames = write_outputs()
    return {"frames": frames, "time_ps": round(stage.duration_ps, 9),
            "steps": stage.frames * stage.report_steps, "timestep_fs": stage.timestep_fs,
            "retries": 0, "trajectory": folder.trajectory("xtc").name,
            "state_log": folder.state_log.name}


def _write_outputs(runner: _Gmx, stage: Stage, folder: StageFolder, entry: dict,
                   reference_nm: np.ndarray, mass_g_per_mol: float, volume_nm3: float,
                   from_ps: float, wall_s: float) -> int:
    """``trajectory.xtc`` (unwrapped from ``reference_nm``, nm) and ``state.csv`` of the frames
    ``mdrun`` has written, at the end of a stage or after an interruption (so that a stopped
    stage can be analysed, as the OpenMM engine's can; its resumption rewrites both whole).
    ``from_ps``: where this session started; ``wall_s``: how long it ran. Returns the number
    of frames (0, and nothing written, when ``mdrun`` wrote none)."""
    if not all(path.is_file() and path.stat().st_size
               for path in (folder.mdrun_trajectory, folder.energy_file)):
        return 0
    legends, data = runner.energy(folder, EDR_TERMS)
    reached_ps = float(data[-1, 0])
    if reached_ps <= 1e-9:
        return 0
    write_trajectory(folder.mdrun_trajectory, folder.trajectory("xtc"), reference_nm)
    times_ps = stage.report_interval_ps * np.arange(1, stage.frames + 1)
    last_resume_ps = max([r["time_ps"] for r in entry.get("resumes", [])] + [0.0])
    session_speed = (reached_ps - from_ps) * 1e-3 / (wall_s / 86400.0)
    speeds = np.where(times_ps > last_resume_ps + 1e-9, session_speed, np.nan)
    return write_state_log(folder.state_log, legends, data, stage.timestep_fs, mass_g_per_mol,
                           volume_nm3, speeds)


def _clear(folder: StageFolder) -> None:
    """Remove what an unfinished attempt at a stage left, so it starts over cleanly."""
    for path in folder.path.iterdir():
        if path.is_file():
            path.unlink()


def _write_final_state(folder: StageFolder, system: openmm.System, reference_nm: np.ndarray) -> None:
    """``final_state.xml``: the OpenMM State of ``final.g96`` (velocities, box, and positions
    at their images nearest to ``reference_nm``, the unwrapped last frame, in nm)."""
    positions, velocities, box = read_g96(folder.final_coordinates)
    positions = nearest_image(positions, reference_nm, box)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))
    context.setPeriodicBoxVectors(*box)
    context.setPositions(positions)
    if velocities is not None:
        context.setVelocities(velocities)
    state = context.getState(getPositions=True, getVelocities=True)
    atomic_write_bytes(folder.final_state, openmm.XmlSerializer.serialize(state).encode())


def _die_with_parent() -> None:
    """In the child before ``exec``: get SIGKILL when the parent process dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class _Gmx:
    """Calls of one ``gmx`` program with ``threads`` OpenMP threads (per rank), ``mdrun``
    under ``launch`` (``mpirun -np N`` or nothing), output in the stage folder."""

    def __init__(self, gmx: str, threads: int, launch: list[str], mpi: bool):
        self.gmx, self.threads, self.launch, self.mpi = gmx, threads, launch, mpi

    def grompp(self, folder: StageFolder, mdp: str, coordinates: Path, top: Path) -> None:
        """Write ``stage.mdp`` and make ``stage.tpr`` of it."""
        write_text_atomic(folder.mdp, mdp)
        self._call(folder, "grompp", "-f", folder.mdp.name, "-c", str(coordinates.resolve()),
                   "-p", str(top.resolve()), "-o", folder.tpr.name, "-po", "/dev/null",
                   "-maxwarn", "0")

    def mdrun(self, folder: StageFolder, resume: bool,
              checkpoints: tuple[float, Callable[[], None]] | None = None) -> None:
        """Run ``stage.tpr`` (continuing from ``state.cpt`` when ``resume``). With
        ``checkpoints = (interval_s, call)``, ``mdrun`` writes ``state.cpt`` and ``call()`` runs
        every ``interval_s`` (at most once a second); without, no checkpoint is written."""
        files = ["-s", folder.tpr.name, "-x", folder.mdrun_trajectory.name, "-e",
                 folder.energy_file.name, "-g", folder.gromacs_log.name, "-c",
                 folder.final_coordinates.name, "-cpo", folder.gromacs_checkpoint.name]
        restart = ["-cpi", folder.gromacs_checkpoint.name, "-append"] if resume else []
        ranks = [] if self.mpi else ["-ntmpi", "1"]
        every_s = None if checkpoints is None else (max(checkpoints[0], 1.0), checkpoints[1])
        minutes = -1.0 if checkpoints is None else checkpoints[0] / 60.0
        self._call(folder, "mdrun", *files, *restart, "-cpt", f"{minutes:g}", *ranks,
                   "-ntomp", str(self.threads), launch=self.launch, every_s=every_s)

    def energy(self, folder: StageFolder, terms) -> tuple[list[str], np.ndarray]:
        """Legends and columns (time in ps first) of ``terms`` in ``energy.edr`` (those present)."""
        output = folder.path / ".energy.xvg"
        self._call(folder, "energy", "-f", folder.energy_file.name, "-o", output.name,
                   stdin="\n".join(terms) + "\n\n")
        legends, data = read_xvg(output.read_text())
        output.unlink()
        return legends, data

    def checkpoint_time_ps(self, checkpoint: Path) -> float:
        """Simulated time in ps stored in a GROMACS checkpoint."""
        text = subprocess.run([self.gmx, "-quiet", "dump", "-cp", str(checkpoint)],
                              capture_output=True, text=True).stdout
        match = re.search(r"^\s*t = (\S+)", text, re.M)
        if match is None:
            raise GromacsError(f"checkpoint {checkpoint} is unreadable; delete it to restart "
                               "that stage from its beginning")
        return float(match.group(1))

    def _call(self, folder: StageFolder, tool: str, *args: str, stdin: str | None = None,
              launch: tuple | list = (),
              every_s: tuple[float, Callable[[], None]] | None = None) -> None:
        with open(folder.gromacs_output, "a") as out:
            out.write(f"\n$ {' '.join(launch)}{' ' if launch else ''}gmx {tool} {' '.join(args)}\n")
            out.flush()
            process = subprocess.Popen([*launch, self.gmx, "-quiet", "-nobackup", tool, *args],
                                       cwd=folder.path, stdin=subprocess.PIPE, stdout=out,
                                       stderr=subprocess.STDOUT, text=True,
                                       preexec_fn=_die_with_parent if sys.platform == "linux" else None)
            try:
                _wait(process, stdin, every_s)
            except BaseException:
                process.send_signal(signal.SIGINT)  # mdrun writes a checkpoint and stops
                process.wait()
                raise
        if process.returncode != 0:
            raise GromacsError(f"gmx {tool} failed in stage {folder.name}: "
                               f"{_gmx_error(folder.gromacs_output.read_text())}; see "
                               f"{folder.gromacs_output}")


def _wait(process: subprocess.Popen, stdin: str | None,
          every_s: tuple[float, Callable[[], None]] | None) -> None:
    """Send ``stdin`` and wait for ``process``; with ``every_s = (seconds, call)``, ``call()``
    every ``seconds`` while it runs."""
    if every_s is None:
        process.communicate(stdin)
        return
    seconds, call = every_s
    while True:
        try:
            process.communicate(stdin, timeout=seconds)
            return
        except subprocess.TimeoutExpired:
            stdin = None
            call()


def _gmx_error(text: str) -> str:
    """The first error message of GROMACS output, in one line."""
    match = re.search(r"(?:ERROR \d+ \[file [^\]]*\]:|Fatal error:)\s*(.*?)(?:\n\s*\n|\Z)",
                      text.split("\n$ ")[-1], re.S)
    message = match.group(1) if match else text.strip().splitlines()[-1:] or ["no output"]
    return " ".join((message if isinstance(message, str) else message[0]).split())[:400]
