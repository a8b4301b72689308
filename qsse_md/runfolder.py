"""The one owner of the file names of a qsse-md build and run folder.

``qsse-md build`` writes a build folder; ``qsse-md run`` turns it into a run folder in
place::

    build.json          the build record (species, box, energies, versions)
    recipe.json         the recipe as read
    system.xml          the serialized OpenMM System (charges in e, lengths in nm)
    topology.pdb/.cif   topology and minimised coordinates
    forcefield/         the ffxml files the system was made from
    continued_from.json where a continued folder came from (``md.continuation``)
    run.json            protocol, engine, system fingerprint, sessions, status of each stage
    system.top          GROMACS engine: the topology run (with the protocol's hydrogen masses)
    start.g96           GROMACS engine: the built coordinates its first stage starts from
    stages/NN_name/     trajectory.xtc (or .dcd), state.csv, checkpoint.chk, final_state.xml;
                        GROMACS engine: stage.mdp, stage.tpr, state.cpt, mdrun.xtc (while it
                        runs), energy.edr, md.log, mdrun.out, final.g96 besides the trajectory, state log and final state

:class:`RunFolder` names these paths and reads the records (last trajectory, stage
logs, charges, stage temperatures). It imports neither OpenMM nor MDAnalysis, so the
analysis side and the command line use it too; only :meth:`RunFolder.load_build`
imports OpenMM, when called.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class StageFolder:
    """The folder ``stages/NN_name`` of one protocol stage and its files.

    Attributes
    ----------
    path : Path
        The stage folder.
    """

    path: Path

    @property
    def name(self) -> str:
        """Folder name, ``NN_name`` (the stage's key in ``run.json``)."""
        return self.path.name

    @property
    def state_log(self) -> Path:
        """``state.csv``: one row per frame (time in ps, temperature in K, density in g/cm3)."""
        return self.path / "state.csv"

    @property
    def checkpoint(self) -> Path:
        """``checkpoint.chk``: the resume point of a dynamics stage while it runs."""
        return self.path / "checkpoint.chk"

    @property
    def final_state(self) -> Path:
        """``final_state.xml``: the serialized OpenMM State the stage ended in."""
        return self.path / "final_state.xml"

    @property
    def mdp(self) -> Path:
        """``stage.mdp``: GROMACS run parameters of the stage."""
        return self.path / "stage.mdp"

    @property
    def tpr(self) -> Path:
        """``stage.tpr``: the GROMACS run input ``gmx grompp`` made of the stage."""
        return self.path / "stage.tpr"

    @property
    def gromacs_checkpoint(self) -> Path:
        """``state.cpt``: the GROMACS checkpoint of a dynamics stage while it runs (GROMACS
        keeps the one before as :attr:`previous_gromacs_checkpoint`)."""
        return self.path / "state.cpt"

    @property
    def previous_gromacs_checkpoint(self) -> Path:
        """``state_prev.cpt``: the GROMACS checkpoint before :attr:`gromacs_checkpoint`."""
        return self.path / "state_prev.cpt"

    @property
    def mdrun_trajectory(self) -> Path:
        """``mdrun.xtc``: the trajectory as ``gmx mdrun`` writes it (with the frame at time 0),
        while a GROMACS stage runs; ``trajectory.xtc`` is made of it at the end."""
        return self.path / "mdrun.xtc"

    @property
    def energy_file(self) -> Path:
        """``energy.edr``: GROMACS energies, one frame per report interval."""
        return self.path / "energy.edr"

    @property
    def gromacs_log(self) -> Path:
        """``md.log``: the GROMACS mdrun log."""
        return self.path / "md.log"

    @property
    def gromacs_output(self) -> Path:
        """``mdrun.out``: what ``gmx grompp`` and ``gmx mdrun`` printed (for diagnosis)."""
        return self.path / "mdrun.out"

    @property
    def final_coordinates(self) -> Path:
        """``final.g96``: GROMACS final positions (nm), velocities (nm/ps) and box."""
        return self.path / "final.g96"

    def trajectory(self, trajectory_format: str) -> Path:
        """``trajectory.FORMAT`` (``xtc`` or ``dcd``) of a dynamics stage."""
        return self.path / f"trajectory.{trajectory_format}"


class RunFolder:
    """A build folder of ``qsse-md build``, and the run folder ``qsse-md run`` makes of it.

    Parameters
    ----------
    path : str or Path
        The folder (it need not exist yet).
    """

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @property
    def build_record(self) -> Path:
        """``build.json``; its presence marks a finished build."""
        return self.path / "build.json"

    @property
    def recipe_record(self) -> Path:
        """``recipe.json``: the recipe the box was built from."""
        return self.path / "recipe.json"

    @property
    def system_xml(self) -> Path:
        """``system.xml``: the serialized OpenMM System."""
        return self.path / "system.xml"

    @property
    def topology_pdb(self) -> Path:
        """``topology.pdb``: topology and built coordinates (Å in the file)."""
        return self.path / "topology.pdb"

    @property
    def topology_cif(self) -> Path:
        """``topology.cif``: the same as PDBx/mmCIF."""
        return self.path / "topology.cif"

    @property
    def forcefield_dir(self) -> Path:
        """``forcefield/``: the ffxml files of the system."""
        return self.path / "forcefield"

    @property
    def continued_from(self) -> Path:
        """``continued_from.json``: source folder and state of a continued folder."""
        return self.path / "continued_from.json"

    @property
    def run_record(self) -> Path:
        """``run.json``: protocol, system fingerprint, sessions and stage status."""
        return self.path / "run.json"

    @property
    def gromacs_topology(self) -> Path:
        """``system.top``: the GROMACS topology the GROMACS engine runs (run's masses)."""
        return self.path / "system.top"

    @property
    def gromacs_start(self) -> Path:
        """``start.g96``: the built coordinates (nm) and box the GROMACS engine starts from."""
        return self.path / "start.g96"

    def stage(self, name: str) -> StageFolder:
        """The folder ``stages/NAME`` of the stage ``name`` (``NN_name``)."""
        return StageFolder(self.path / "stages" / name)

    def is_built(self) -> bool:
        """True when the build finished (``build.json`` exists)."""
        return self.build_record.is_file()

    def is_run(self) -> bool:
        """True when a run started here (``run.json`` exists)."""
        return self.run_record.is_file()

    def read_build(self) -> dict:
        """The build record ``build.json``."""
        return json.loads(self.build_record.read_text())

    def read_recipe(self) -> dict:
        """The recipe ``recipe.json`` the box was built from."""
        return json.loads(self.recipe_record.read_text())

    def read_run(self) -> dict:
        """The run record ``run.json``.

        Raises
        ------
        FileNotFoundError
            When the folder has not been run.
        """
        if not self.is_run():
            raise FileNotFoundError(f"{self.path} has no run.json; run it first with "
                                    f"'qsse-md run {self.path}'")
        return json.loads(self.run_record.read_text())

    def require_build(self) -> None:
        """Check that ``topology.pdb`` and ``system.xml`` are here.

        Raises
        ------
        FileNotFoundError
            Naming the missing folder or file and the command that makes it.
        """
        if not self.path.is_dir():
            raise FileNotFoundError(f"build folder {self.path} does not exist; create it with "
                                    f"qsse-md build RECIPE --out {self.path}")
        for path in (self.topology_pdb, self.system_xml):
            if not path.is_file():
                raise FileNotFoundError(f"{self.path} is not a build folder (no {path.name}); create it "
                                        "with qsse-md build RECIPE --out DIR")

    def load_build(self):
        """The OpenMM System, the PDB file and the SHA-256 of ``system.xml``.

        Returns
        -------
        (openmm.System, openmm.app.PDBFile, str)

        Raises
        ------
        FileNotFoundError
            If the folder, its ``topology.pdb`` or its ``system.xml`` is missing.
        ValueError
            If either file is corrupt or they disagree on the number of atoms.
        """
        import openmm
        from openmm import app

        self.require_build()
        text = self.system_xml.read_bytes()
        try:
            system = openmm.XmlSerializer.deserialize(text.decode())
            pdb = app.PDBFile(str(self.topology_pdb))
        except Exception as error:  # OpenMM raises bare Exception subclasses for bad XML/PDB
            raise ValueError(f"{self.path} holds a corrupt system.xml or topology.pdb "
                             f"({str(error).splitlines()[0] if str(error) else type(error).__name__})"
                             "; rebuild it with qsse-md build") from None
        if system.getNumParticles() != pdb.topology.getNumAtoms():
            raise ValueError(f"{self.path}: system.xml has {system.getNumParticles()} particles but "
                             f"topology.pdb {pdb.topology.getNumAtoms()} atoms; rebuild the folder")
        return system, pdb, hashlib.sha256(text).hexdigest()

    def copy_system_to(self, target: RunFolder) -> None:
        """Copy ``system.xml``, ``build.json`` and ``forcefield/`` (if any) into ``target``."""
        for name in ("system_xml", "build_record"):
            shutil.copyfile(getattr(self, name), getattr(target, name))
        if self.forcefield_dir.is_dir():
            shutil.copytree(self.forcefield_dir, target.forcefield_dir)

    def charges_e(self) -> np.ndarray:
        """Partial charge of every atom, in e, from the ``NonbondedForce`` of ``system.xml``.

        ``system.xml`` is parsed as plain XML (no OpenMM import).

        Returns
        -------
        numpy.ndarray, shape (n_atoms,)
            Charges in e, in the atom order of ``topology.pdb``.

        Raises
        ------
        FileNotFoundError
            When the folder has no ``system.xml``.
        ValueError
            When ``system.xml`` is not XML or has no ``NonbondedForce``.
        """
        path = self.system_xml
        if not path.is_file():
            raise FileNotFoundError(f"{self.path} has no system.xml; give a folder written by 'qsse-md build'")
        try:
            root = ElementTree.parse(path).getroot()
        except ElementTree.ParseError as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise ValueError(f"{path} is corrupt ({reason}); rebuild the box with 'qsse-md build'") from None
        for force in root.iter("Force"):
            if force.get("type") == "NonbondedForce":
                return np.array([float(particle.get("q")) for particle in force.find("Particles")])
        raise ValueError(f"{path} has no NonbondedForce, so no charges; give them with --charge NAME=Q")

    def stage_trajectories(self) -> list[tuple[str, Path]]:
        """``(stage name, trajectory path)`` of every stage with a trajectory, in protocol order.

        Raises
        ------
        FileNotFoundError
            When the folder has not been run.
        """
        return [(name, self.stage(name).path / info["trajectory"])
                for name, info in self.read_run()["stages"].items() if info.get("trajectory")]

    def last_trajectory(self) -> Path:
        """Trajectory file of the last dynamics stage."""
        name, info, _ = self._last_dynamics_stage()
        return self.stage(name).path / info["trajectory"]

    def last_stage_temperature_K(self) -> float | None:
        """Thermostat temperature (K) of the stage :meth:`last_trajectory` reads, from the
        protocol recorded in ``run.json``; None for a temperature ramp."""
        _, _, spec = self._last_dynamics_stage()
        return float(spec["temperature_K"]) if "temperature_K" in spec else None

    def last_final_state(self) -> Path | None:
        """``final_state.xml`` of the last finished stage, or None (not run, or none finished)."""
        if not self.is_run():
            return None
        stages = self.read_run()["stages"]
        finished = [name for name, info in stages.items() if info.get("status") == "done"]
        for name in reversed(finished):
            if self.stage(name).final_state.is_file():
                return self.stage(name).final_state
        return None

    def stage_logs(self):
        """All stage state logs in protocol order, with a cumulative time.

        Returns
        -------
        pandas.DataFrame
            The columns of ``state.csv`` plus ``stage``, ``ensemble`` ("nvt" or "npt") and
            ``run_time_ps`` (ps since the start of the first dynamics stage).

        Raises
        ------
        FileNotFoundError
            When the folder has not been run.
        ValueError
            When no dynamics stage has finished.
        """
        import pandas as pd

        record = self.read_run()
        frames, offset_ps = [], 0.0
        for (name, info), spec in zip(record["stages"].items(), record["protocol"]["stage"]):
            log_name = info.get("state_log")
            if not log_name:
                continue
            table = pd.read_csv(self.stage(name).path / log_name)
            table["stage"] = name
            table["ensemble"] = spec.get("ensemble", spec["kind"])
            table["run_time_ps"] = table["time_ps"] + offset_ps
            offset_ps += info["time_ps"]
            frames.append(table)
        if not frames:
            raise ValueError(f"{self.path} has no finished dynamics stage; run it with 'qsse-md run'")
        return pd.concat(frames, ignore_index=True)

    def _last_dynamics_stage(self) -> tuple[str, dict, dict]:
        """Folder name, ``run.json`` entry and protocol stage of the last stage with a trajectory."""
        record = self.read_run()
        stages = [(name, info, spec) for (name, info), spec in zip(record["stages"].items(),
                                                                   record["protocol"]["stage"])
                  if info.get("trajectory")]
        if not stages:
            raise ValueError(f"{self.path} has no trajectory; run it with 'qsse-md run'")
        return stages[-1]
