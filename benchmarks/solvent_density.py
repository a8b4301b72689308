"""NPT density of the neat carbonate solvents (EC, PC, DMC, DEC) with the shipped force field,
against experiment.

    python benchmarks/solvent_density.py [--production-ps 150] [--equilibration-ps 60]
        [--nvt-ps 10] [--molecules 150] [--jobs 2] [--solvents EC PC DMC DEC]
        [--workdir /tmp/qsse_md_solvent_density] [--analyse-only]

For each solvent the script writes a recipe (``counts = { X = N }``, packed at 0.9 of the
experimental density), builds it with ``qsse-md build``, writes a protocol into the run folder
(minimise; NVT; NPT equilibration, discarded; NPT production; 4 fs with hydrogen-mass
repartitioning to 3 Da, H-bond constraints, Langevin middle integrator 1/ps, Monte Carlo
barostat 1.01325 bar every 25 steps) and runs it with ``qsse-md run`` on the CPU platform.
``--jobs N`` runs N solvents at once with ``OPENMM_CPU_THREADS`` = cores / N each.

The mean density (g/cm^3) of the production stage's ``state.csv`` and its standard error by
block averaging (``--blocks`` equal blocks; SE = std(block means, ddof=1)/sqrt(blocks)) are
compared with the experimental value; the table of % errors is printed and written to
``benchmarks/results/solvent_density__{model}_carbonyl_o.json`` (with the exact lengths used)
and ``.png``, where ``{model}`` is the carbonyl-oxygen Lennard-Jones of every box
(``--carbonyl-oxygen-lj``, default the package's: GAFF1; ``gaff2`` for ``gaff2.xml`` as shipped,
which leaves EC 3.95 % low; see :mod:`qsse_md.forcefield.carbonyl_oxygen`).

Experimental densities (one review table for all four; not re-checked against the paper or
primary data when this script was written, which had no internet access -- EC 1.321 at 40 C
agrees with the commonly quoted 1.32 g/cm^3): K. Xu, "Nonaqueous liquid electrolytes for lithium-based rechargeable batteries",
Chem. Rev. 104 (2004) 4303-4417, Table 1 (EC at 40 C, the others at 25 C).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qsse_md.forcefield.carbonyl_oxygen import CARBONYL_OXYGEN_LJ_MODELS, DEFAULT_CARBONYL_OXYGEN_LJ
from qsse_md.runfolder import RunFolder

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
XU_2004 = ("K. Xu, Chem. Rev. 104 (2004) 4303, Table 1 "
           "(doi:10.1021/cr030203g)")

# name -> (temperature K, experimental density g/cm^3, source)
EXPERIMENT = {
    "EC": (313.15, 1.321, XU_2004 + "; EC is solid below 36.4 C, value at 40 C"),
    "PC": (298.15, 1.200, XU_2004 + "; value at 25 C"),
    "DMC": (298.15, 1.063, XU_2004 + "; value at 25 C"),
    "DEC": (298.15, 0.969, XU_2004 + "; value at 25 C"),
}

PROTOCOL_TEMPLATE = """\
# Written by benchmarks/solvent_density.py
name = "density_{name}"
seed = {seed}
platform = "CPU"
hydrogen_mass_amu = 3.0
checkpoint_interval_s = 0.0
trajectory_format = "xtc"

[[stage]]
kind = "minimize"
tolerance_kj_per_mol_nm = 10.0
max_iterations = 1000

[[stage]]
kind = "nvt"
name = "nvt"
temperature_K = {T}
duration_ps = {nvt_ps}
timestep_fs = {dt}
report_interval_ps = {report_ps}

[[stage]]
kind = "npt"
name = "npt_equilibrate"
temperature_K = {T}
duration_ps = {eq_ps}
timestep_fs = {dt}
report_interval_ps = {report_ps}
pressure_bar = 1.01325
barostat_interval_steps = 25

[[stage]]
kind = "npt"
name = "npt_produce"
temperature_K = {T}
duration_ps = {prod_ps}
timestep_fs = {dt}
report_interval_ps = {report_ps}
pressure_bar = 1.01325
barostat_interval_steps = 25
"""

RECIPE_TEMPLATE = """\
# Written by benchmarks/solvent_density.py
name = "neat_{name}"
description = "{n} {name} molecules (density benchmark)"
seed = {seed}

[composition]
form = "counts"
counts = {{ {name} = {n} }}

[box]
density_g_per_cm3 = {packing:.4f}

[system]
nonbonded_cutoff_nm = {cutoff}

[forcefield]
carbonyl_oxygen_lj = "{carbonyl_oxygen_lj}"
"""

PRODUCE_DIR = "04_npt_produce"


def block_average(values: list[float], blocks: int) -> tuple[float, float]:
    """Mean of ``values`` and its standard error from ``blocks`` equal, contiguous blocks."""
    n = len(values) // blocks * blocks
    if n < blocks or blocks < 2:
        raise ValueError("too few samples for block averaging")
    size = n // blocks
    trimmed = values[len(values) - n:]
    means = [sum(trimmed[i * size:(i + 1) * size]) / size for i in range(blocks)]
    grand = sum(means) / blocks
    var = sum((m - grand) ** 2 for m in means) / (blocks - 1)
    return sum(values) / len(values), math.sqrt(var / blocks)


def read_density(csv_path: Path) -> tuple[list[float], list[float]]:
    """(time_ps, density_g_per_cm3) columns of a stage's state.csv."""
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return ([float(r["time_ps"]) for r in rows], [float(r["density_g_per_cm3"]) for r in rows])


def run_one(name: str, args, threads: int) -> dict:
    """Build and run one solvent; returns timings. Reuses a finished run folder."""
    T, rho_exp, _ = EXPERIMENT[name]
    folder = _folder(name, args)
    build = folder / "box"
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OPENMM_CPU_THREADS=str(threads))
    timings = {}
    if not RunFolder(build).system_xml.exists():
        if build.exists():
            shutil.rmtree(build)
        recipe = folder / "recipe.toml"
        recipe.write_text(RECIPE_TEMPLATE.format(
            name=name, n=args.molecules, seed=args.seed, packing=0.9 * rho_exp,
            cutoff=args.cutoff_nm, carbonyl_oxygen_lj=args.carbonyl_oxygen_lj))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qsse_md.cli.main", "build", str(recipe),
                        "--out", str(build)], check=True, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        timings["build_s"] = round(time.perf_counter() - started, 1)
    protocol = build / "density_protocol.toml"
    protocol.write_text(PROTOCOL_TEMPLATE.format(
        name=name, seed=args.seed, T=T, nvt_ps=args.nvt_ps, eq_ps=args.equilibration_ps,
        prod_ps=args.production_ps, dt=args.timestep_fs, report_ps=args.report_ps))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qsse_md.cli.main", "run", str(build),
                           "--protocol", str(protocol)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"qsse-md run failed for {name}:\n{done.stdout[-2000:]}")
    timings["run_s"] = round(time.perf_counter() - started, 1)
    timings["threads"] = threads
    print(f"  {name}: done ({timings})", flush=True)
    return timings


def _variant(args) -> str:
    """Suffix of run folders and result files: the carbonyl-oxygen model, named even for the
    default so that a result keeps its meaning when the default changes."""
    return f"__{args.carbonyl_oxygen_lj}_carbonyl_o"


def _folder(name: str, args) -> Path:
    return args.workdir / f"{name}{_variant(args)}"


def _outputs(args) -> tuple[Path, Path]:
    """Results JSON and plot: ``solvent_density__{model}_carbonyl_o.json`` / ``.png``."""
    stem = RESULTS_DIR / f"solvent_density{_variant(args)}"
    return stem.with_suffix(".json"), stem.with_suffix(".png")


def analyse(name: str, args) -> dict:
    T, rho_exp, source = EXPERIMENT[name]
    build = RunFolder(_folder(name, args) / "box")
    times, dens = read_density(build.stage(PRODUCE_DIR).state_log)
    mean, se = block_average(dens, args.blocks)
    _, eq = read_density(build.stage("03_npt_equilibrate").state_log)
    info = build.read_build()
    run = build.read_run()
    stage_speed = run["stages"].get(PRODUCE_DIR, {})
    return {
        "solvent": name, "temperature_K": T, "molecules": info["species_counts"][name],
        "atoms": info["atoms"], "packing_density_g_per_cm3": round(info["density_g_per_cm3"], 4),
        "density_g_per_cm3": round(mean, 4), "standard_error_g_per_cm3": round(se, 4),
        "experiment_g_per_cm3": rho_exp, "experiment_source": source,
        "error_percent": round(100.0 * (mean - rho_exp) / rho_exp, 2),
        "equilibration_last_density_g_per_cm3": round(eq[-1], 4) if eq else None,
        "production_samples": len(dens), "production_time_ps": [times[0], times[-1]],
        "production_wall_s": stage_speed.get("wall_s"),
        "series_time_ps": times, "series_density_g_per_cm3": dens,
    }


def plot(rows: list[dict], path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for row in rows:
        axes[0].plot(row["series_time_ps"], row["series_density_g_per_cm3"], lw=0.8,
                     label=row["solvent"])
        axes[0].axhline(row["experiment_g_per_cm3"], ls="--", lw=0.6, color="k")
    axes[0].set_xlabel("time in production (ps)")
    axes[0].set_ylabel("density (g/cm$^3$)")
    axes[0].legend(fontsize=8)
    names = [r["solvent"] for r in rows]
    axes[1].bar(names, [r["error_percent"] for r in rows],
                yerr=[100 * r["standard_error_g_per_cm3"] / r["experiment_g_per_cm3"]
                      for r in rows], color="tab:blue")
    axes[1].axhline(0, color="k", lw=0.6)
    axes[1].set_ylabel("error vs experiment (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solvents", nargs="+", default=list(EXPERIMENT),
                        choices=list(EXPERIMENT))
    parser.add_argument("--molecules", type=int, default=150)
    parser.add_argument("--nvt-ps", type=float, default=10.0)
    parser.add_argument("--equilibration-ps", type=float, default=60.0,
                        help="NPT equilibration, discarded (ps)")
    parser.add_argument("--production-ps", type=float, default=150.0,
                        help="NPT production averaged (ps)")
    parser.add_argument("--timestep-fs", type=float, default=4.0)
    parser.add_argument("--report-ps", type=float, default=1.0)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--cutoff-nm", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--jobs", type=int, default=1, help="solvents run at once")
    parser.add_argument("--threads", type=int, default=0,
                        help="OpenMM CPU threads per job (0: cores // jobs)")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "qsse_md_solvent_density",
                        help="run folders (a finished folder with the same protocol is reused)")
    parser.add_argument("--carbonyl-oxygen-lj", choices=CARBONYL_OXYGEN_LJ_MODELS,
                        default=DEFAULT_CARBONYL_OXYGEN_LJ,
                        help="recipe [forcefield] carbonyl_oxygen_lj of every box")
    parser.add_argument("--analyse-only", action="store_true",
                        help="only read the existing run folders")
    args = parser.parse_args()
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    timings = {}
    if not args.analyse_only:
        print(f"running {args.solvents}: {args.jobs} job(s) x {threads} thread(s)", flush=True)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {name: pool.submit(run_one, name, args, threads) for name in args.solvents}
            timings = {name: f.result() for name, f in futures.items()}
    rows = [analyse(name, args) for name in args.solvents]
    for row in rows:
        row.update(timings.get(row["solvent"], {}))

    print(f"\n{'solvent':8s}{'T/K':>8s}{'atoms':>7s}{'MD g/cm3':>16s}{'exp g/cm3':>11s}"
          f"{'error %':>9s}")
    for r in rows:
        md = f"{r['density_g_per_cm3']:.4f}±{r['standard_error_g_per_cm3']:.4f}"
        print(f"{r['solvent']:8s}{r['temperature_K']:8.2f}{r['atoms']:7d}{md:>16s}"
              f"{r['experiment_g_per_cm3']:11.3f}{r['error_percent']:+9.2f}")
    result = {
        "benchmark": "solvent_density",
        "force_field": "shipped qsse_md library (GAFF2 + RESP, forcefields/solvents)",
        "carbonyl_oxygen_lj": args.carbonyl_oxygen_lj,
        "lengths": {"nvt_ps": args.nvt_ps, "npt_equilibration_ps_discarded": args.equilibration_ps,
                    "npt_production_ps": args.production_ps, "timestep_fs": args.timestep_fs,
                    "hydrogen_mass_amu": 3.0, "report_interval_ps": args.report_ps,
                    "blocks": args.blocks},
        "settings": {"molecules": args.molecules, "cutoff_nm": args.cutoff_nm,
                     "pme": True, "dispersion_correction": True, "constraints": "hbonds",
                     "pressure_bar": 1.01325, "barostat": "MonteCarlo every 25 steps",
                     "thermostat": "Langevin middle, 1/ps", "packing": "0.9 x experiment",
                     "seed": args.seed},
        "solvents": [{k: v for k, v in r.items() if not k.startswith("series_")} for r in rows],
        "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "python": platform.python_version(),
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    results, plot_path = _outputs(args)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=2) + "\n")
    plot(rows, plot_path)
    print(f"\nwrote {results}")


if __name__ == "__main__":
    main()
