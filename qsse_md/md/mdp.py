"""GROMACS ``.mdp`` parameters of a protocol stage, matched to what the OpenMM engine runs.

The mapping, stage by stage (OpenMM engine -> GROMACS):

- ``minimize``: L-BFGS to an RMS-force tolerance -> ``integrator = steep`` with
  ``emtol = tolerance_kj_per_mol_nm`` (GROMACS stops on the *largest* force, a stricter test)
  and ``nsteps = max_iterations`` (0 -> -1, until converged).
- ``nvt``/``npt`` holds: ``LangevinMiddleIntegrator`` (friction ``friction_per_ps``) ->
  ``integrator = sd`` with one coupling group and ``tau-t = 1 / friction_per_ps``; the same
  leap-frog-like splitting with the friction applied in the middle of the step.
- ``npt``: ``MonteCarloBarostat`` (a volume move every ``barostat_interval_steps``) ->
  ``pcoupl = c-rescale`` (isotropic, ``nstpcouple = barostat_interval_steps``,
  ``tau-p`` = :data:`TAU_P_PS`, compressibility :data:`COMPRESSIBILITY_PER_BAR`); both sample the
  isothermal-isobaric ensemble, C-rescale by a stochastic cell rescaling instead of accepted or
  rejected moves.
- ``ramp``: the thermostat temperature set at each report interval -> simulated annealing
  (``annealing = single``): ``linear`` is a straight line from start to end temperature,
  ``stepped`` is ``plateaus`` flat levels joined by jumps, at the times the OpenMM engine uses.
- ``timestep_fs``, ``report_interval_ps``: ``dt`` and ``nstxout-compressed`` =
  ``nstenergy`` = the report steps (one trajectory frame and one energy frame per report).
- Hydrogen-mass repartitioning (``hydrogen_mass_amu``) is in the masses of the exported
  topology; constraints of the build (``hbonds``, ``allbonds``, ``hangles``) -> ``h-bonds``,
  ``all-bonds``, ``h-angles`` with LINCS.
- Nonbonded settings are read from the system's ``NonbondedForce``: the same cutoff for
  Coulomb and LJ (plain cut or the same switch), PME with the same splitting parameter
  (``ewald-rtol = erfc(alpha * cutoff)``, alpha from OpenMM's ``ewaldErrorTolerance``
  formula), 5th-order interpolation and the grid spacing OpenMM's grid size formula gives,
  the long-range dispersion correction (``DispCorr = EnerPres``) when OpenMM has it, and
  centre-of-mass motion removal when the system has a ``CMMotionRemover``.

Velocities are drawn at the stage temperature when the stage starts from coordinates without
velocities (after minimisation), with a seed derived from the protocol's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import openmm
from openmm import unit

from qsse_md.md.protocol import Minimize, Ramp, Stage

TAU_P_PS = 2.0
"""C-rescale barostat time constant in ps (the Monte Carlo barostat has none)."""
COMPRESSIBILITY_PER_BAR = 4.5e-5
"""Isothermal compressibility in 1/bar given to the barostat (that of water; it only sets
how fast the box responds, not the equilibrium density)."""
CONSTRAINTS = {"none": "none", "hbonds": "h-bonds", "allbonds": "all-bonds", "hangles": "h-angles"}
"""The build's ``[system] constraints`` -> the GROMACS ``constraints`` setting."""


@dataclass(frozen=True)
class Nonbonded:
    """Nonbonded settings of an OpenMM system, in GROMACS terms.

    Attributes
    ----------
    cutoff_nm : float
        Real-space cutoff of Coulomb and LJ in nm.
    switch_nm : float or None
        Distance in nm where the LJ switch starts; None for a plain cutoff.
    ewald_rtol : float
        ``erfc(alpha * cutoff)`` with OpenMM's Ewald splitting parameter alpha (1/nm).
    fourier_spacing_nm : float
        PME grid spacing in nm that reproduces OpenMM's grid size.
    dispersion_correction : bool
        Whether the long-range LJ dispersion correction is applied.
    remove_com_motion : bool
        Whether the centre-of-mass motion is removed.
    """

    cutoff_nm: float
    switch_nm: float | None
    ewald_rtol: float
    fourier_spacing_nm: float
    dispersion_correction: bool
    remove_com_motion: bool


def nonbonded_settings(system: openmm.System) -> Nonbonded:
    """The :class:`Nonbonded` settings of ``system`` (its ``NonbondedForce`` must use PME).

    Raises
    ------
    ValueError
        If the system has no PME ``NonbondedForce``.
    """
    force = next((f for f in system.getForces() if isinstance(f, openmm.NonbondedForce)), None)
    if force is None or force.getNonbondedMethod() != openmm.NonbondedForce.PME:
        raise ValueError("the GROMACS engine needs a system with PME electrostatics; rebuild "
                         "the box with qsse-md build, or run it with --engine openmm")
    cutoff = force.getCutoffDistance().value_in_unit(unit.nanometer)
    tolerance = force.getEwaldErrorTolerance()
    alpha, *_ = force.getPMEParameters()
    alpha = alpha.value_in_unit(unit.nanometer**-1) if unit.is_quantity(alpha) else alpha
    alpha = alpha or math.sqrt(-math.log(2.0 * tolerance)) / cutoff
    switch = (force.getSwitchingDistance().value_in_unit(unit.nanometer)
              if force.getUseSwitchingFunction() else None)
    return Nonbonded(cutoff_nm=cutoff, switch_nm=switch,
                     ewald_rtol=math.erfc(alpha * cutoff),
                     fourier_spacing_nm=3.0 * tolerance**0.2 / (2.0 * alpha),
                     dispersion_correction=force.getUseDispersionCorrection(),
                     remove_com_motion=any(isinstance(f, openmm.CMMotionRemover)
                                           for f in system.getForces()))


def stage_mdp(stage: Stage, nonbonded: Nonbonded, constraints: str, seed: int,
              generate_velocities: bool) -> str:
    """The ``.mdp`` text of ``stage`` (see the module docstring for the mapping).

    Parameters
    ----------
    stage : Minimize, Hold or Ramp
        The protocol stage.
    nonbonded : Nonbonded
        Cutoffs, PME and dispersion settings of the system.
    constraints : str
        The build's constraints, a key of :data:`CONSTRAINTS`.
    seed : int
        Seed of the stochastic dynamics and of the velocities, in [1, 2**31 - 1].
    generate_velocities : bool
        Draw velocities at the stage's start temperature (the start has none).
    """
    lines = _nonbonded_lines(nonbonded) + [f"constraints = {CONSTRAINTS[constraints]}",
                                           "constraint-algorithm = lincs",
                                           "nstxout = 0", "nstvout = 0", "nstfout = 0"]
    if isinstance(stage, Minimize):
        steps = stage.max_iterations or -1
        return _text(lines + ["integrator = steep", f"nsteps = {steps}",
                              f"emtol = {stage.tolerance_kj_per_mol_nm}", "nstenergy = 1",
                              "nstcalcenergy = 1", "nstlog = 0", "nstxout-compressed = 0"])
    report = stage.report_steps
    start_K = stage.temperature_at_K(0.0)
    lines += ["integrator = sd", f"dt = {stage.timestep_fs / 1000.0}",
              f"nsteps = {stage.frames * report}", "tinit = 0", "tc-grps = System",
              f"tau-t = {1.0 / stage.friction_per_ps}", f"ref-t = {start_K}", f"ld-seed = {seed}",
              f"nstxout-compressed = {report}", "compressed-x-precision = 1000",
              f"nstenergy = {report}", f"nstcalcenergy = {math.gcd(report, 100)}", "nstlog = 0"]
    if generate_velocities:
        lines += ["gen-vel = yes", f"gen-temp = {start_K}", f"gen-seed = {seed}",
                  "continuation = no"]
    else:
        lines += ["gen-vel = no", "continuation = yes"]
    if stage.ensemble == "npt":
        lines += ["pcoupl = c-rescale", "pcoupltype = isotropic", f"tau-p = {TAU_P_PS}",
                  f"ref-p = {stage.pressure_bar}", f"compressibility = {COMPRESSIBILITY_PER_BAR}",
                  f"nstpcouple = {stage.barostat_interval_steps}"]
    if isinstance(stage, Ramp):
        times, temperatures = annealing_points(stage)
        lines += ["annealing = single", f"annealing-npoints = {len(times)}",
                  "annealing-time = " + " ".join(f"{t:.6g}" for t in times),
                  "annealing-temp = " + " ".join(f"{t:.6g}" for t in temperatures)]
    return _text(lines)


def annealing_points(stage: Ramp) -> tuple[list[float], list[float]]:
    """Simulated-annealing times (ps) and temperatures (K) that follow ``stage``'s profile."""
    if stage.profile == "linear":
        return [0.0, stage.duration_ps], [stage.start_temperature_K, stage.end_temperature_K]
    times, temperatures = [], []
    length_ps = stage.duration_ps / stage.plateaus
    for level in range(stage.plateaus):
        temperature = stage.temperature_at_K(level * length_ps)
        times += [level * length_ps, (level + 1) * length_ps]
        temperatures += [temperature, temperature]
    return times, temperatures


def _nonbonded_lines(nonbonded: Nonbonded) -> list[str]:
    cutoff = f"{nonbonded.cutoff_nm:.6g}"
    lines = ["cutoff-scheme = Verlet", "pbc = xyz", "coulombtype = PME", "coulomb-modifier = None",
             f"rcoulomb = {cutoff}", f"ewald-rtol = {nonbonded.ewald_rtol:.6e}", "pme-order = 5",
             f"fourier-spacing = {nonbonded.fourier_spacing_nm:.6g}", "vdwtype = Cut-off",
             f"rvdw = {cutoff}",
             f"DispCorr = {'EnerPres' if nonbonded.dispersion_correction else 'no'}",
             f"comm-mode = {'Linear' if nonbonded.remove_com_motion else 'None'}"]
    if nonbonded.switch_nm is None:
        return lines + ["vdw-modifier = None"]
    return lines + ["vdw-modifier = Potential-switch", f"rvdw-switch = {nonbonded.switch_nm:.6g}"]


def _text(lines: list[str]) -> str:
    return "; written by qsse_md.md.mdp\n" + "\n".join(lines) + "\n"
