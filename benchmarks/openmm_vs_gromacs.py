"""ns/day of OpenMM against GROMACS on the same exported electrolyte box, on the CPU, plus a
step-0 potential-energy check of the GROMACS export against OpenMM.

    python benchmarks/openmm_vs_gromacs.py [--recipe benchmarks/electrolyte_4k.toml]
        [--build DIR] [--steps 10000] [--threads N] [--workdir DIR]

Needs ``gmx`` on PATH (GROMACS; Debian/Ubuntu: ``sudo apt-get install gromacs``; conda:
``conda install -c conda-forge gromacs``). Nothing is installed by this script.

Steps: build the recipe with ``qsse-md build`` (or reuse ``--build``), export it with
``qsse-md export --format gromacs``, then run both engines for the same number of 2 fs steps
with the same settings: NVT at 298.15 K, Langevin (OpenMM ``LangevinMiddleIntegrator``,
1/ps) vs stochastic dynamics (GROMACS ``sd``, tau-t = 1 ps), H-bond constraints, PME with the
same real-space cutoff, Ewald splitting parameter, grid and interpolation order (read from
the OpenMM context), plain LJ cutoff with the long-range dispersion correction, no output
except the final state. Both get ``--threads`` CPU threads (OpenMM CPU platform ``Threads``;
``gmx mdrun -ntmpi 1 -ntomp N``). OpenMM is timed after a warm-up of 10 % of the steps;
GROMACS' own ns/day is taken with ``-resethway``. Results go to
``benchmarks/results/openmm_vs_gromacs.json``.

The energy check evaluates, at the exported ``system.gro`` coordinates, the OpenMM energy of
the build's ``system.xml`` and the GROMACS step-0 energy (``integrator = md``, ``nsteps = 0``,
``continuation = yes`` so the coordinates are not re-constrained), term by term.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qsse_md.runfolder import RunFolder

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "openmm_vs_gromacs.json"
TEMPERATURE_K = 298.15
TIMESTEP_PS = 0.002

INSTALL_HINT = ("GROMACS 'gmx' not found on PATH. Install it, e.g. Debian/Ubuntu: "
                "'sudo apt-get install gromacs'; conda: 'conda install -c conda-forge gromacs'; "
                "or pass --gmx /path/to/gmx")


def find_gmx(explicit: str | None) -> str:
    for name in ([explicit] if explicit else ["gmx", "gmx_mpi", "gmx_d"]):
        path = shutil.which(name) if name else None
        if path:
            return path
    sys.exit(INSTALL_HINT)


def qsse(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "qsse_md.cli.main", *args], check=True)


def openmm_pme(build: Path, threads: int) -> dict:
    """Cutoff, PME alpha, grid and dispersion-correction settings of the built system."""
    import openmm
    from openmm import app
    system = openmm.XmlSerializer.deserialize(RunFolder(build).system_xml.read_text())
    pdb = app.PDBFile(str(RunFolder(build).topology_pdb))
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    ctx = openmm.Context(system, openmm.VerletIntegrator(0.001),
                         openmm.Platform.getPlatformByName("CPU"), {"Threads": str(threads)})
    ctx.setPositions(pdb.positions)
    alpha, nx, ny, nz = nb.getPMEParametersInContext(ctx)
    cutoff = nb.getCutoffDistance().value_in_unit(openmm.unit.nanometer)
    return {"cutoff_nm": cutoff, "alpha_per_nm": alpha, "grid": [nx, ny, nz],
            "ewald_error_tolerance": nb.getEwaldErrorTolerance(),
            "dispersion_correction": nb.getUseDispersionCorrection(),
            "switching": nb.getUseSwitchingFunction(),
            "constraints": system.getNumConstraints(), "atoms": system.getNumParticles()}


def mdp_text(pme: dict, steps: int, energy_check: bool, seed: int) -> str:
    rtol = math.erfc(pme["alpha_per_nm"] * pme["cutoff_nm"])
    nx, ny, nz = pme["grid"]
    lines = [
        "; written by benchmarks/openmm_vs_gromacs.py, matched to the OpenMM system",
        "cutoff-scheme = Verlet",
        f"rlist = {pme['cutoff_nm']}",
        "coulombtype = PME",
        "coulomb-modifier = None",
        f"rcoulomb = {pme['cutoff_nm']}",
        f"ewald-rtol = {rtol:.6e}     ; erfc(alpha*rc), alpha = {pme['alpha_per_nm']:.5f}/nm",
        "pme-order = 5",
        f"fourier-nx = {nx}",
        f"fourier-ny = {ny}",
        f"fourier-nz = {nz}",
        "vdwtype = Cut-off",
        "vdw-modifier = None",
        f"rvdw = {pme['cutoff_nm']}",
        f"DispCorr = {'EnerPres' if pme['dispersion_correction'] else 'no'}",
        "constraints = h-bonds",
        "constraint-algorithm = lincs",
        "lincs-order = 4",
        f"dt = {TIMESTEP_PS}",
        "nstxout = 0", "nstvout = 0", "nstfout = 0", "nstxout-compressed = 0",
        "pbc = xyz",
    ]
    if energy_check:
        lines += ["integrator = md", "nsteps = 0", "continuation = yes", "nstcalcenergy = 1",
                  "nstenergy = 1", "nstlog = 1", "tcoupl = no", "pcoupl = no"]
    else:
        lines += ["integrator = sd", f"nsteps = {steps}", "tc-grps = System", "tau-t = 1.0",
                  f"ref-t = {TEMPERATURE_K}", "gen-vel = yes", f"gen-temp = {TEMPERATURE_K}",
                  f"gen-seed = {seed}", f"ld-seed = {seed}", "pcoupl = no",
                  "nstcalcenergy = 100", f"nstenergy = {steps}", f"nstlog = {steps}"]
    return "\n".join(lines) + "\n"


def gmx_run(gmx: str, folder: Path, mdp: str, gro: Path, top: Path, threads: int,
            extra: list[str]) -> tuple[float, str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.mdp").write_text(mdp)
    grompp = subprocess.run([gmx, "-quiet", "grompp", "-f", "run.mdp", "-c", str(gro), "-p",
                             str(top), "-o", "run.tpr", "-maxwarn", "0"], cwd=folder,
                            capture_output=True, text=True)
    (folder / "grompp.log").write_text(grompp.stdout + grompp.stderr)
    if grompp.returncode != 0:
        errors = re.findall(r"(ERROR.*?)(?=\n\n|\Z)", grompp.stderr, re.S)
        raise RuntimeError("gmx grompp rejected the exported files:\n"
                           + ("\n".join(errors) or grompp.stderr[-3000:]))
    started = time.perf_counter()
    mdrun = subprocess.run([gmx, "-quiet", "mdrun", "-deffnm", "run", "-ntmpi", "1", "-ntomp",
                            str(threads), "-nb", "cpu", "-pme", "cpu", *extra], cwd=folder,
                           capture_output=True, text=True)
    wall = time.perf_counter() - started
    (folder / "mdrun.out").write_text(mdrun.stdout + mdrun.stderr)
    if mdrun.returncode != 0:
        raise RuntimeError(f"gmx mdrun failed:\n{mdrun.stderr[-3000:]}")
    return wall, (folder / "run.log").read_text()


def parse_energies(log: str) -> dict:
    """The first 'Energies (kJ/mol)' block of a GROMACS md.log as {term: value}."""
    block = log.split("Energies (kJ/mol)", 1)[1].split("\n\n", 1)[0].strip("\n").splitlines()
    terms = {}
    for header, values in zip(block[0::2], block[1::2]):
        names = [header[i:i + 15].strip() for i in range(0, len(header), 15)]
        numbers = [float(values[i:i + 15]) for i in range(0, len(values), 15)
                   if values[i:i + 15].strip()]
        terms.update(zip([n for n in names if n], numbers))
    return terms


def openmm_energy(build: Path, gro: Path, threads: int) -> dict:
    """Potential energy of the build's system.xml at the .gro coordinates, by force class."""
    import openmm
    from openmm import app, unit
    system = openmm.XmlSerializer.deserialize(RunFolder(build).system_xml.read_text())
    coords = app.GromacsGroFile(str(gro))
    for i, force in enumerate(system.getForces()):
        force.setForceGroup(min(i, 31))
    ctx = openmm.Context(system, openmm.VerletIntegrator(0.001),
                         openmm.Platform.getPlatformByName("CPU"), {"Threads": str(threads)})
    ctx.setPeriodicBoxVectors(*coords.getPeriodicBoxVectors())
    ctx.setPositions(coords.getPositions())
    terms = {}
    for i, force in enumerate(system.getForces()):
        e = ctx.getState(getEnergy=True, groups={min(i, 31)}).getPotentialEnergy()
        name = type(force).__name__
        terms[name] = terms.get(name, 0.0) + e.value_in_unit(unit.kilojoule_per_mole)
    total = ctx.getState(getEnergy=True).getPotentialEnergy().value_in_unit(
        unit.kilojoule_per_mole)
    return {"terms": terms, "total": total}


def openmm_speed(build: Path, gro: Path, steps: int, threads: int, seed: int) -> dict:
    import openmm
    from openmm import app, unit
    system = openmm.XmlSerializer.deserialize(RunFolder(build).system_xml.read_text())
    coords = app.GromacsGroFile(str(gro))
    integrator = openmm.LangevinMiddleIntegrator(TEMPERATURE_K * unit.kelvin, 1.0 / unit.picosecond,
                                                 TIMESTEP_PS * unit.picoseconds)
    integrator.setRandomNumberSeed(seed)
    ctx = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("CPU"),
                         {"Threads": str(threads)})
    ctx.setPeriodicBoxVectors(*coords.getPeriodicBoxVectors())
    ctx.setPositions(coords.getPositions())
    ctx.applyConstraints(1e-6)
    ctx.setVelocitiesToTemperature(TEMPERATURE_K * unit.kelvin, seed)
    warm = max(1, steps // 10)
    started = time.perf_counter()
    integrator.step(warm)
    ctx.getState(getEnergy=True)
    t0 = time.perf_counter()
    integrator.step(steps - warm)
    state = ctx.getState(getEnergy=True)
    timed = time.perf_counter() - t0
    total = time.perf_counter() - started
    ns = (steps - warm) * TIMESTEP_PS / 1000.0
    dof = 3 * system.getNumParticles() - system.getNumConstraints() - 3
    temp = 2 * state.getKineticEnergy().value_in_unit(unit.kilojoule_per_mole) / (
        dof * 0.0083144626)
    return {"ns_per_day": ns / timed * 86400.0, "timed_steps": steps - warm,
            "timed_wall_s": round(timed, 2), "wall_s_incl_warmup": round(total, 2),
            "final_temperature_K": round(temp, 1),
            "platform": "CPU", "openmm_version": openmm.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=str(HERE / "electrolyte_4k.toml"))
    parser.add_argument("--build", type=Path, help="reuse this build folder")
    parser.add_argument("--steps", type=int, default=10000, help="2 fs steps per engine")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--gmx", help="GROMACS executable (default: gmx on PATH)")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "qsse_md_openmm_vs_gromacs")
    args = parser.parse_args()
    gmx = find_gmx(args.gmx)
    gmx_version = subprocess.run([gmx, "-quiet", "--version"], capture_output=True,
                                 text=True).stdout
    version = re.search(r"GROMACS version:\s*(\S+)", gmx_version)
    precision = re.search(r"Precision:\s*(\S+)", gmx_version)
    simd = re.search(r"SIMD instructions:\s*(\S+)", gmx_version)

    args.workdir.mkdir(parents=True, exist_ok=True)
    build = args.build or args.workdir / "box"
    if not RunFolder(build).system_xml.exists():
        print(f"building {args.recipe} into {build}", flush=True)
        qsse("build", args.recipe, "--out", str(build))
    export = args.workdir / "gromacs"
    if not (export / "system.top").exists():
        if export.exists():
            shutil.rmtree(export)
        qsse("export", str(build), "--out", str(export), "--format", "gromacs")
    gro, top = export / "system.gro", export / "system.top"
    pme = openmm_pme(build, args.threads)
    print(f"box: {pme['atoms']} atoms; PME alpha {pme['alpha_per_nm']:.4f}/nm, grid "
          f"{pme['grid']}, cutoff {pme['cutoff_nm']} nm; {args.threads} thread(s)", flush=True)

    result = {"benchmark": "openmm_vs_gromacs", "build": str(build), "recipe": args.recipe,
              "atoms": pme["atoms"], "steps": args.steps, "timestep_fs": TIMESTEP_PS * 1000,
              "temperature_K": TEMPERATURE_K, "threads": args.threads, "pme": pme,
              "gromacs_version": version.group(1) if version else None,
              "gromacs_precision": precision.group(1) if precision else None,
              "gromacs_simd": simd.group(1) if simd else None,
              "cpu_count": os.cpu_count(), "machine": platform.machine(),
              "cpu_model": _cpu_model(), "load_average_at_start": os.getloadavg(),
              "recorded": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    # step-0 energy check
    ref = openmm_energy(build, gro, args.threads)
    try:
        _, log = gmx_run(gmx, args.workdir / "energy", mdp_text(pme, 0, True, args.seed), gro,
                         top, args.threads, [])
        gterms = parse_energies(log)
        diff = gterms["Potential"] - ref["total"]
        result["energy_check"] = {
            "openmm_kj_per_mol": round(ref["total"], 3),
            "gromacs_kj_per_mol": round(gterms["Potential"], 3),
            "difference_kj_per_mol": round(diff, 3),
            "relative_difference": diff / abs(ref["total"]),
            "openmm_terms": {k: round(v, 3) for k, v in ref["terms"].items()},
            "gromacs_terms": gterms,
            "note": "OpenMM CPU platform (mixed precision) vs GROMACS "
                    f"{result['gromacs_precision']} precision, same PME alpha/grid/order",
        }
        print(f"step-0 potential: OpenMM {ref['total']:.2f}, GROMACS {gterms['Potential']:.2f} "
              f"kJ/mol, difference {diff:+.2f} kJ/mol ({diff / abs(ref['total']):+.2e})")
        print("  OpenMM terms: " + ", ".join(f"{k} {v:.1f}" for k, v in ref["terms"].items()))
        print("  GROMACS terms: " + ", ".join(f"{k} {v:.1f}" for k, v in gterms.items()))
    except RuntimeError as error:
        result["energy_check"] = {"error": str(error)}
        print(f"energy check failed: {error}")

    # speed
    om = openmm_speed(build, gro, args.steps, args.threads, args.seed)
    result["openmm"] = om
    print(f"OpenMM : {om['ns_per_day']:.2f} ns/day", flush=True)
    try:
        wall, log = gmx_run(gmx, args.workdir / "speed", mdp_text(pme, args.steps, False,
                                                                  args.seed),
                            gro, top, args.threads, ["-resethway"])
        perf = re.search(r"Performance:\s+([\d.]+)\s+([\d.]+)", log)
        gns = float(perf.group(1))
        result["gromacs"] = {"ns_per_day": gns, "wall_s_incl_setup": round(wall, 2),
                             "ns_per_day_from_wall": args.steps * TIMESTEP_PS / 1000 / wall
                             * 86400, "counters_reset_halfway": True}
        result["ratio_openmm_over_gromacs"] = om["ns_per_day"] / gns
        print(f"GROMACS: {gns:.2f} ns/day")
        print(f"ratio OpenMM/GROMACS: {om['ns_per_day'] / gns:.3f}")
    except RuntimeError as error:
        result["gromacs"] = {"error": str(error)}
        print(f"GROMACS run failed: {error}")
    result["load_average_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


if __name__ == "__main__":
    main()
