"""OpenMM System assembly from residue templates, with a zero-charge check, and the one
energy minimiser (used by the build and by a protocol's minimize stage)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import openmm
from openmm import app, unit

from qsse_md.spec import setting

CONSTRAINTS = {"none": None, "hbonds": app.HBonds, "allbonds": app.AllBonds,
               "hangles": app.HAngles}


def _constraints(name) -> str:
    """``name`` in lower case if it is a key of :data:`CONSTRAINTS` in any case."""
    if not isinstance(name, str) or name.lower() not in CONSTRAINTS:
        raise ValueError(f"constraints = {name!r} is not one of {', '.join(CONSTRAINTS)}")
    return name.lower()


@dataclass(frozen=True)
class SystemOptions:
    """Options for :func:`create_system` (the ``[system]`` table of a recipe).

    Hydrogen-mass repartitioning is not here: it is an integration setting, owned by the
    protocol (``hydrogen_mass_amu``, applied by :func:`qsse_md.md.runner.run`).

    Attributes
    ----------
    nonbonded_cutoff_nm : float
        Real-space cutoff for Lennard-Jones and PME, in nm.
    ewald_error_tolerance : float
        PME relative error tolerance (dimensionless).
    constraints : str
        "none", "hbonds", "allbonds" or "hangles".
    dispersion_correction : bool
        Long-range isotropic Lennard-Jones correction.
    """

    nonbonded_cutoff_nm: float = setting(1.0, above=0, hint="typical: 1.0")
    ewald_error_tolerance: float = setting(5e-4, above=0)
    constraints: str = setting("hbonds", convert=_constraints)
    dispersion_correction: bool = True


@dataclass(frozen=True, kw_only=True)
class Minimisation:
    """Settings of :func:`minimise` (a recipe's ``[minimize]`` table, a protocol's minimize stage).

    Attributes
    ----------
    tolerance_kj_per_mol_nm : float
        Convergence threshold on the root-mean-square force, in kJ/mol/nm.
    max_iterations : int
        Iteration cap; 0 means until converged.
    """

    tolerance_kj_per_mol_nm: float = setting(10.0, above=0, hint="typical 10")
    max_iterations: int = setting(0, at_least=0, hint="0 = until converged")


def create_system(topology: app.Topology, forcefield_files: Sequence[Path],
                  options: SystemOptions = SystemOptions()) -> openmm.System:
    """Parameterise ``topology`` with the ffxml files; fail unless the net charge is zero.

    Raises
    ------
    ValueError
        If the cutoff exceeds half the box edge, a residue matches no template, or the
        total charge is not zero within 1e-6 e.
    """
    edge_nm = topology.getUnitCellDimensions().value_in_unit(unit.nanometer)
    if options.nonbonded_cutoff_nm > min(edge_nm) / 2:
        raise ValueError(f"nonbonded cutoff {options.nonbonded_cutoff_nm} nm exceeds half the "
                         f"box edge ({min(edge_nm) / 2:.2f} nm); use more molecules or a "
                         "shorter cutoff")
    forcefield = app.ForceField(*[str(f) for f in forcefield_files])
    try:
        system = forcefield.createSystem(
            topology, nonbondedMethod=app.PME,
            nonbondedCutoff=options.nonbonded_cutoff_nm * unit.nanometer,
            constraints=CONSTRAINTS[options.constraints],
            rigidWater=False, ewaldErrorTolerance=options.ewald_error_tolerance)
    except ValueError as error:
        raise ValueError(f"force-field assignment failed: {str(error).splitlines()[0]}") from None
    for force in system.getForces():
        if isinstance(force, openmm.NonbondedForce):
            force.setUseDispersionCorrection(options.dispersion_correction)
    if options.constraints in ("none", "hbonds"):
        check_angle_coverage(topology, system)
    total = total_charge_e(system)
    if abs(total) > 1e-6:
        raise ValueError(f"the box has net charge {total:+.6f} e; it must be exactly zero: "
                         "balance the salt ions or fix the species charges")
    return system


def check_angle_coverage(topology: app.Topology, system: openmm.System) -> None:
    """Fail if some bonded angle of ``topology`` got no angle term from the force field.

    OpenMM's ForceField silently skips angles whose atom classes have no parameters; a
    missing term means the ffxml files do not cover this combination of species.
    """
    neighbours = {atom.index: 0 for atom in topology.atoms()}
    for a, b in topology.bonds():
        neighbours[a.index] += 1
        neighbours[b.index] += 1
    expected = sum(n * (n - 1) // 2 for n in neighbours.values())
    present = sum(f.getNumAngles() for f in system.getForces()
                  if isinstance(f, (openmm.HarmonicAngleForce, openmm.CustomAngleForce)))
    if present < expected:
        raise ValueError(f"{expected - present} of {expected} bond angles have no force-field "
                         "parameters; parameterise the missing species combination "
                         "(qsse_md.forcefield.library.parameterise) or report the molecule")


def total_charge_e(system: openmm.System) -> float:
    """Sum of NonbondedForce partial charges in e."""
    force = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    return float(sum(force.getParticleParameters(i)[0].value_in_unit(unit.elementary_charge)
                     for i in range(force.getNumParticles())))


def minimise(context: openmm.Context, settings: Minimisation = Minimisation()) -> tuple[float, float]:
    """Minimise the energy of ``context`` in place with L-BFGS (the one minimiser).

    Parameters
    ----------
    context : openmm.Context
        Context holding the positions (and box) to minimise.
    settings : Minimisation
        Force tolerance (kJ/mol/nm) and iteration cap.

    Returns
    -------
    before, after : float
        Potential energy before and after, kJ/mol.

    Raises
    ------
    ValueError
        If the minimised energy is not finite (overlapping atoms, a broken force field).
    """
    before = context.getState(getEnergy=True).getPotentialEnergy()
    openmm.LocalEnergyMinimizer.minimize(
        context, settings.tolerance_kj_per_mol_nm * unit.kilojoule_per_mole / unit.nanometer,
        settings.max_iterations)
    after = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(
        unit.kilojoule_per_mole)
    if not np.isfinite(after):
        raise ValueError("energy minimisation produced a non-finite energy; check the packing "
                         "density (overlapping atoms) and the force-field files")
    return before.value_in_unit(unit.kilojoule_per_mole), after


def minimise_positions(system: openmm.System, positions_angstrom: np.ndarray,
                       settings: Minimisation = Minimisation(),
                       platform: str = "CPU") -> tuple[np.ndarray, float, float]:
    """:func:`minimise` ``system`` from ``positions_angstrom``.

    Returns
    -------
    positions : numpy.ndarray, shape (n_atoms, 3)
        Minimised positions, Å.
    before, after : float
        Potential energy before and after, kJ/mol.
    """
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName(platform))
    context.setPositions(positions_angstrom * 0.1)
    before, after = minimise(context, settings)
    positions = context.getState(getPositions=True).getPositions(asNumpy=True)
    return positions.value_in_unit(unit.angstrom), before, after


def compress(system: openmm.System, positions_angstrom: np.ndarray, target_edge_angstrom: float,
             pressure_bar: float = 1000.0, temperature_K: float = 300.0, max_ps: float = 200.0,
             seed: int = 0, platform: str = "CPU") -> tuple[np.ndarray, float, float]:
    """Squeeze a loosely packed cubic box to ``target_edge_angstrom`` with a short NPT run.

    PACKMOL cannot reach liquid densities for some boxes of long segments; such a box is
    packed larger and compressed here at high pressure (Langevin middle integrator, Monte
    Carlo barostat; 2 fs with constraints, 1 fs without) until its edge is at most the target,
    checked after every barostat move so the squeeze stops within one move of it.

    Parameters
    ----------
    system : openmm.System
        The box's System; a copy gets the barostat, ``system`` is not changed.
    positions_angstrom : numpy.ndarray, shape (n_atoms, 3)
        Minimised packed positions, Å.
    target_edge_angstrom : float
        Cube edge to reach, Å.
    pressure_bar, temperature_K : float
        Squeeze pressure in bar and temperature in K.
    max_ps : float
        Longest squeeze in ps before giving up.

    Returns
    -------
    positions : numpy.ndarray, shape (n_atoms, 3)
        Å, wrapped molecules whole as integrated.
    edge_angstrom : float
        Cube edge reached, Å.
    simulated_ps : float
        Length of the squeeze, ps.
    """
    squeezed = copy.deepcopy(system)
    steps_per_barostat_move = 25
    squeezed.addForce(openmm.MonteCarloBarostat(pressure_bar * unit.bar, temperature_K, steps_per_barostat_move))
    timestep_ps = 0.002 if system.getNumConstraints() else 0.001
    integrator = openmm.LangevinMiddleIntegrator(temperature_K, 5.0, timestep_ps)
    integrator.setRandomNumberSeed(seed)
    context = openmm.Context(squeezed, integrator, openmm.Platform.getPlatformByName(platform))
    context.setPositions(positions_angstrom * 0.1)
    context.setVelocitiesToTemperature(temperature_K, seed)
    simulated_ps, edge = 0.0, _cube_edge_angstrom(context)
    while edge > target_edge_angstrom and simulated_ps < max_ps:
        integrator.step(steps_per_barostat_move)
        simulated_ps += steps_per_barostat_move * timestep_ps
        edge = _cube_edge_angstrom(context)
    if edge > target_edge_angstrom * 1.02:
        raise ValueError(f"the loosely packed box reached only a {edge:.1f} Å edge of "
                         f"{target_edge_angstrom:.1f} Å in a {max_ps:.0f} ps squeeze; lower "
                         "density_g_per_cm3 in the recipe and let the NPT stages compress it")
    state = context.getState(getPositions=True)
    return (state.getPositions(asNumpy=True).value_in_unit(unit.angstrom), edge, simulated_ps)


def _cube_edge_angstrom(context: openmm.Context) -> float:
    volume = context.getState().getPeriodicBoxVolume().value_in_unit(unit.angstrom ** 3)
    return float(volume ** (1.0 / 3.0))
