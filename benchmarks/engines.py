"""The same box and protocol through both MD engines of ``qsse-md run``: ns/day of each, and
whether the density and the Li+ first shell after the same protocol agree.

    python benchmarks/engines.py [--recipe tiny] [--threads 2] [--equilibration-ps 50]
        [--production-ps 200] [--workdir DIR]

Steps: build the recipe once (``qsse-md build``), then run one protocol, written here (minimise;
NPT equilibration, discarded; NPT production; 4 fs with 3 Da hydrogens and H-bond
constraints; Langevin 1/ps and Monte Carlo barostat on OpenMM, ``sd`` and C-rescale on
GROMACS), with ``qsse-md run --engine openmm`` (CPU platform, ``OPENMM_CPU_THREADS``) and
``--engine gromacs --threads N`` into two copies of the build. The speed is the production
stage's simulated time over its wall time in ``run.json`` (set-up and output included, as a
user sees it). Density: mean of the production ``state.csv`` and its standard error from 5
blocks. Li+ first shell: ``qsse-md analyze solvation`` on each run folder (the last stage),
coordination number per species with its standard error. Two values agree when they differ
by less than twice their combined standard error. Needs ``gmx`` (``apt-get install
gromacs``). Results go to ``benchmarks/results/engines.json``.

``--from-reference-study`` compares instead the nanosecond runs of ``reference_study.py``
that differ only in the engine (``--engine gromacs`` there): density and Li+ first shell as
replica means with replica standard errors, the same two-standard-error rule.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from qsse_md.lib.statistics import block_average
from qsse_md.runfolder import RunFolder

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "engines.json"
ENGINES = ("openmm", "gromacs")


def protocol_text(temperature_K: float, equilibration_ps: float, production_ps: float) -> str:
    stage = ('\n[[stage]]\nkind = "npt"\nname = "{name}"\ntemperature_K = {t}\nduration_ps = {d}\n'
             'timestep_fs = 4.0\nreport_interval_ps = 1.0\n')
    return ('name = "engines"\nseed = 11\nplatform = "CPU"\nhydrogen_mass_amu = 3.0\n'
            'checkpoint_interval_s = 600.0\n\n[[stage]]\nkind = "minimize"\n'
            + stage.format(name="equilibration", t=temperature_K, d=equilibration_ps)
            + stage.format(name="production", t=temperature_K, d=production_ps))


def qsse(*args: str, threads: int) -> None:
    env = {**os.environ, "OPENMM_CPU_THREADS": str(threads)}
    subprocess.run([sys.executable, "-m", "qsse_md.cli.main", *args], check=True, env=env)


def measure(folder: Path) -> dict:
    """ns/day, density and Li+ first-shell coordination of a finished run folder."""
    run = RunFolder(folder)
    record = run.read_run()
    name, entry = list(record["stages"].items())[-1]
    table = np.genfromtxt(run.stage(name).state_log, delimiter=",", names=True)
    density, density_se = block_average(table["density_g_per_cm3"], 5)
    solvation = folder / "solvation"
    if not (solvation / "solvation.json").exists():
        qsse("analyze", "solvation", str(folder), "--out", str(solvation), threads=1)
    shell = json.loads((solvation / "solvation.json").read_text())["coordination"]["species"]
    return {"atoms": record["atoms"], "platform": record["sessions"][-1]["platform"],
            "production_ps": entry["time_ps"], "production_wall_s": entry["wall_s"],
            "ns_per_day": entry["time_ps"] * 1e-3 / (entry["wall_s"] / 86400.0),
            "density_g_per_cm3": [density, density_se],
            "li_first_shell": {k: [v["mean"], v["sem"]] for k, v in shell.items()}}


def agreement(a: list[float], b: list[float]) -> dict:
    difference, combined = a[0] - b[0], math.hypot(a[1], b[1])
    return {"difference": difference, "combined_se": combined,
            "agree": abs(difference) <= 2.0 * combined if combined > 0 else difference == 0}


UNDETERMINED = {"agree": None, "reason": "not determined: one replica on an engine gives no "
                "replica standard error, and block errors ignore the slow shell exchange"}


def reference_study_agreement() -> list[dict]:
    """Groups of ``reference_study.json`` that differ only in the engine, compared."""
    import reference_study_results

    rows = reference_study_results.summary_table(
        json.loads(reference_study_results.RESULTS.read_text())["runs"])
    by_key = {(r["system"], r["scale"], r["model"], r["protocol"], r["engine"]): r for r in rows}
    pairs = []
    for (system, scale, model, protocol, engine), openmm in by_key.items():
        gromacs = by_key.get((system, scale, model, protocol, "gromacs"))
        if engine != "openmm" or gromacs is None:
            continue
        quantities = {"density_g_per_cm3": [[row["density_g_per_cm3"],
                                         row["density_sem_g_per_cm3"] or 0.0]
                                        for row in (openmm, gromacs)]}
        quantities.update({f"li_{kind}": [[row[kind]["mean"], row[kind]["sem"]] for row in (openmm, gromacs)]
                           for kind in ("solvent", "polymer_carbonyl", "anion") if openmm.get(kind)})
        pairs.append({"system": system, "scale": scale, "model": model, "protocol": protocol,
                      "replicas": {"openmm": openmm["replicas"], "gromacs": gromacs["replicas"]},
                      "values": quantities,
                      "agreement": {name: agreement(*values) if min(openmm["replicas"],
                                                                     gromacs["replicas"]) > 1
                                    else UNDETERMINED for name, values in quantities.items()}})
    return pairs


def agreement_markdown(pairs: list[dict]) -> str:
    lines = ["| system | model, protocol | replicas (OpenMM / GROMACS) | quantity | OpenMM | GROMACS | "
             "difference | agree (within 2 combined se) |", "|---|---|---|---|---|---|---|---|"]
    for pair in pairs:
        for name, (openmm, gromacs) in pair["values"].items():
            check = pair["agreement"][name]
            verdict = ("not determined (1 replica)" if check["agree"] is None
                       else "yes" if check["agree"] else "no")
            lines.append(f"| {pair['system']} | {pair['model']}, {pair['protocol']} | "
                         f"{pair['replicas']['openmm']} / {pair['replicas']['gromacs']} | {name} | "
                         f"{openmm[0]:.3f} ± {openmm[1]:.3f} | {gromacs[0]:.3f} ± {gromacs[1]:.3f} | "
                         f"{openmm[0] - gromacs[0]:+.3f} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="tiny", help="recipe file or shipped name")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--temperature", type=float, default=298.15, help="K")
    parser.add_argument("--equilibration-ps", type=float, default=50.0)
    parser.add_argument("--production-ps", type=float, default=200.0)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "qsse_md_engines")
    parser.add_argument("--from-reference-study", action="store_true",
                        help="compare the engines' runs in results/reference_study.json instead")
    args = parser.parse_args()
    if args.from_reference_study:
        pairs = reference_study_agreement()
        existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        existing["reference_study_agreement"] = pairs
        RESULTS.write_text(json.dumps(existing, indent=2) + "\n")
        print(agreement_markdown(pairs))
        return
    work = args.workdir / Path(args.recipe).stem
    box = work / "box"
    if not RunFolder(box).is_built():
        shutil.rmtree(box, ignore_errors=True)
        qsse("build", args.recipe, "--out", str(box), threads=args.threads)
    protocol = work / "engines.toml"
    protocol.write_text(protocol_text(args.temperature, args.equilibration_ps, args.production_ps))
    results = {}
    for engine in ENGINES:
        folder = work / engine
        if not folder.exists():
            shutil.copytree(box, folder)
        options = ["--engine", "gromacs", "--threads", str(args.threads)] if engine == "gromacs" else []
        qsse("run", str(folder), "--protocol", str(protocol), *options, threads=args.threads)
        results[engine] = measure(folder)
        print(f"{engine}: {results[engine]['ns_per_day']:.1f} ns/day", flush=True)
    openmm, gromacs = results["openmm"], results["gromacs"]
    record = {"benchmark": "engines", "recipe": args.recipe, "threads": args.threads,
              "temperature_K": args.temperature, "equilibration_ps": args.equilibration_ps,
              "production_ps": args.production_ps, "cpu_count": os.cpu_count(), **results,
              "speed_ratio_gromacs_over_openmm": gromacs["ns_per_day"] / openmm["ns_per_day"],
              "agreement": {"density_g_per_cm3": agreement(openmm["density_g_per_cm3"],
                                                           gromacs["density_g_per_cm3"]),
                            **{f"li_{k}": agreement(v, gromacs["li_first_shell"][k])
                               for k, v in openmm["li_first_shell"].items()}}}
    RESULTS.parent.mkdir(exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing[f"{Path(args.recipe).stem}__{args.threads}_threads"] = record
    RESULTS.write_text(json.dumps(existing, indent=2) + "\n")
    print(json.dumps(record["agreement"], indent=2))


if __name__ == "__main__":
    main()
