"""Reproduce the reference QSSE study's Li+ first shells at demo scale, for several ion models.

Six compositions (P(DOA), P(AEEO) x EC, DEC, EC-DEC 1:1; ``systems/validation/``: 4 hexamers
+ 72 solvent + 12 LiPF6, the study's 6 : 2 : 1 molar ratio, 1,300-2,100 atoms) are built,
run and analysed with the package's own CLI (``qsse-md build``, ``qsse-md run``, ``qsse-md
analyze solvation``), one OpenMM CPU thread per box and ``--jobs`` boxes at once. Every
step resumes: run the same command again after an interruption. Each finished box is merged
into ``benchmarks/results/reference_study.json`` at once (coordination numbers with block
standard errors, densities, lengths actually run, the ion model); ``--figure`` redraws
``benchmarks/results/reference_study.png`` from that file.

    python benchmarks/reference_study.py --systems PDOA_EC PDOA_DEC --models full scaled_0.8 \\
        --protocol screening --replicas 1 --jobs 2
    python benchmarks/reference_study.py --figure

Reference values (the study: OPLS-AA/RESP, GROMACS, 20 + 360 + 60 molecules, 25 ns per box,
structure from the last 5 ns) are in ``STUDY`` of ``reference_study_results.py``, which
also makes the summaries, tables and figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from reference_study_results import (DEFAULT_MODEL, MODELS, RESULTS, ROOT, draw_figure,
                                     markdown_table, merge, paired_table, transport_table,
                                     write_marked_tables)

from qsse_md.runfolder import RunFolder
from qsse_md.units import BOLTZMANN_J_PER_K, ELEMENTARY_CHARGE_C

SYSTEMS = ("PDOA_EC", "PDOA_DEC", "PDOA_ECDEC", "PAEEO_EC", "PAEEO_DEC", "PAEEO_ECDEC")

# Time blocks of ``qsse-md analyze transport`` (its default, 5, elsewhere): the MSD is fitted to
# lags of half a block. In the 12 ns P(DOA) boxes at 450 K Li+ is still sub-diffusive at 1.2 ns
# (5 blocks; log-log slope 0.75-0.83 in EC-DEC r2), and 3 blocks of 4 ns reach 2 ns lags.
DEFAULT_TRANSPORT_BLOCKS = 5
TRANSPORT_BLOCKS = {"transport_450K_long": 3}


@dataclass(frozen=True)
class Box:
    """One box of the study: composition, ion model, replica, protocol, box scale and engine."""

    system: str
    model: str
    replica: int
    protocol: str
    scale: str = "demo"
    engine: str = "openmm"

    def folder(self, work: Path) -> Path:
        """``{system}__{model}__{protocol}__r{replica}`` (+ ``__full``, + ``__gromacs``) in ``work``."""
        return work / (f"{self.system}__{self.model}__{self.protocol}__r{self.replica}"
                       + ("__full" if self.scale == "full" else "")
                       + ("__gromacs" if self.engine == "gromacs" else ""))


def build_box(box: Box, folder: Path, log: Path) -> None:
    """Build one box with ``qsse-md build`` unless it is built: the ``systems/validation/``
    recipe (demo scale) or the shipped study-scale recipe, with the model's ion settings and
    packing seed ``1000 + replica``."""
    if RunFolder(folder).is_built():
        return
    source = ROOT / "systems" / ("validation" if box.scale == "demo" else "") / f"{box.system}.toml"
    text = "\n".join(line for line in source.read_text().splitlines()
                     if not line.startswith("seed ="))
    parameters = MODELS[box.model]
    recipe = folder.parent / f"{folder.name}.toml"
    recipe.write_text(f"seed = {1000 + box.replica}\n{text}\n"
                      f"\n[forcefield]\nion_charge_scale = {parameters['ion_charge_scale']}\n"
                      f"li_model = \"{parameters['li_model']}\"\n"
                      f"carbonyl_oxygen_lj = \"{parameters['carbonyl_oxygen_lj']}\"\n")
    _cli(["build", str(recipe), "--out", str(folder)], log)


def run_box(box: Box, work: Path, deadline: float | None = None, threads: int = 1) -> dict:
    """Build, run and analyse one box through the CLI; return its result record.

    ``deadline`` (``time.time()`` seconds) stops ``qsse-md run`` as an interruption would
    (SIGTERM, checkpoint kept); the record then says how far each stage got, and the box is
    analysed only when its production stage has begun. ``threads``: OpenMP threads of
    ``gmx mdrun`` for the GROMACS engine (OpenMM's CPU platform uses one).
    """
    folder = box.folder(work)
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{folder.name}.log"
    build_box(box, folder, log)
    protocol_file = work / f"{box.protocol}__r{box.replica}.toml"
    if not protocol_file.is_file():
        text = (ROOT / "systems" / "protocols" / f"{box.protocol}.toml").read_text()
        protocol_file.write_text(text.replace("seed = 2024", f"seed = {2024 + box.replica}", 1))
    engine = ["--engine", "gromacs", "--threads", str(threads)] if box.engine == "gromacs" else []
    finished = _cli(["run", str(folder), "--protocol", str(protocol_file), *engine], log, deadline)
    trajectory = _production_trajectory(folder)
    if trajectory is None:
        raise RuntimeError(f"stopped before the production stage; run again to continue ({log})")
    blocks = TRANSPORT_BLOCKS.get(box.protocol, DEFAULT_TRANSPORT_BLOCKS)
    for kind, options in (("solvation", []), ("transport", ["--blocks", str(blocks)])):
        output = folder / kind
        result = output / f"{kind}.json"
        # A stopped run's analysis is redone once the resumed run has written more frames.
        if (not result.is_file() or result.stat().st_mtime < trajectory.stat().st_mtime
                or json.loads(result.read_text()).get("n_blocks", blocks) != blocks):
            shutil.rmtree(output, ignore_errors=True)
            _cli(["analyze", kind, str(folder), "--out", str(output), *options], log)
    return summarise(box, folder, finished)


def _production_trajectory(path: Path) -> Path | None:
    """The trajectory of the protocol's last stage (the production) once it has written
    frames, else None."""
    folder = RunFolder(path)
    if not folder.is_run():
        return None
    record = folder.read_run()
    if len(record["stages"]) < len(record["protocol"]["stage"]):
        return None
    name = list(record["stages"])[-1]
    trajectory = record["stages"][name].get("trajectory")
    path = folder.stage(name).path / (trajectory or "")
    return path if trajectory and path.is_file() and path.stat().st_size > 0 else None


def summarise(box: Box, path: Path, finished: bool = True) -> dict:
    """One box's record: first shell per partner kind, densities, lengths run, the ion model,
    the engine, the platform and the speed (ns/day) of every stage."""
    folder = RunFolder(path)
    build, run = folder.read_build(), folder.read_run()
    solvation = json.loads((path / "solvation" / "solvation.json").read_text())
    transport = json.loads((path / "transport" / "transport.json").read_text())
    conductivity = transport.get("conductivity") or {}
    msd_at_window_end = _msd_at_lag(path / "transport" / "msd.csv", transport["max_fit_lag_ps"])
    stages = {name: entry for name, entry in run["stages"].items()}
    npt = [name for name in stages if "equilibrate" in name][-1]
    production = run["protocol"]["stage"][-1]
    return {
        **asdict(box), "protocol_complete": finished,
        "platform": run["sessions"][-1]["platform"],
        "speed_ns_per_day": {name: round(entry["time_ps"] / 1000 / (entry["wall_s"] / 86400), 1)
                             for name, entry in stages.items()
                             if entry.get("time_ps") and entry.get("wall_s")},
        "ion_charge_scale": build["ion_charge_scale"], "li_model": build["li_model"],
        "carbonyl_oxygen_lj": build["carbonyl_oxygen_lj"],
        "species_counts": build["species_counts"], "atoms": build["atoms"],
        "stage_lengths_ps": {name: _simulated_ps(folder.stage(name).state_log) for name in stages
                             if folder.stage(name).state_log.is_file()},
        "temperature_K": production["temperature_K"],
        "density_g_per_cm3": _late_mean(folder.stage(npt).state_log, "density_g_per_cm3"),
        "production_frames": solvation["frames"]["n_frames"],
        "cutoffs_angstrom": solvation["cutoffs_angstrom"],
        "coordination": solvation["coordination"],
        "first_shell": first_shell(solvation),
        "first_shell_by_sixth": first_shell_by_part(path / "solvation", solvation, parts=6),
        "pairing_fractions": solvation["pairing_fractions"],
        "residence_times_ps": solvation["residence_times_ps"],
        "conductivity_S_per_cm": {
            "nernst_einstein": conductivity.get("sigma_NE_S_per_cm"),
            "nernst_einstein_sem": conductivity.get("sigma_NE_sem_S_per_cm"),
            "collective": conductivity.get("sigma_S_per_cm"),
            "collective_sem": conductivity.get("sigma_sem_S_per_cm"),
            "nernst_einstein_upper_bound": nernst_einstein_upper_bound(
                transport, msd_at_window_end),
            "nernst_einstein_reason": conductivity.get("reason") or conductivity.get("sigma_NE_reason"),
            "collective_reason": conductivity.get("reason") or conductivity.get("sigma_reason")},
        "transport_blocks": transport["n_blocks"],
        "msd_fit_window_max_ps": transport["max_fit_lag_ps"],
        "msd_at_fit_window_max_angstrom2": msd_at_window_end,
        "diffusion_1e-10_m2_per_s": {name: entry.get("D_1e-10_m2_per_s")
                                     for name, entry in transport["diffusion"].items()},
    }


def nernst_einstein_upper_bound(transport: dict, msd_angstrom2: dict) -> float | None:
    """Upper bound of the Nernst-Einstein conductivity (S/cm) where the ions are not yet
    diffusive: sigma_NE = e^2 / (V k_B T) * sum_i N_i q_i^2 D_i with each D_i replaced by
    MSD_i(t) / (6 t) at the longest fitted lag t. While the MSD grows slower than linearly
    (log-log slope below 1), MSD(t) / 6t falls with t towards D, so it bounds D from above.
    None without a temperature or a charged species' MSD."""
    lag_ps, temperature_K = transport["max_fit_lag_ps"], transport.get("temperature_K")
    ions = {name: charge for name, charge in transport["charges_e"].items() if charge}
    if not temperature_K or not lag_ps or any(name not in msd_angstrom2 for name in ions):
        return None
    count = {name: entry["n_centres"] for name, entry in transport["diffusion"].items()}
    apparent_d_m2_per_s = {name: msd_angstrom2[name] * 1e-20 / (6 * lag_ps * 1e-12) for name in ions}
    volume_m3 = transport["volume_angstrom3"] * 1e-30
    sigma_S_per_m = (ELEMENTARY_CHARGE_C ** 2 / (volume_m3 * BOLTZMANN_J_PER_K * temperature_K)
                     * sum(count[name] * q ** 2 * apparent_d_m2_per_s[name] for name, q in ions.items()))
    return sigma_S_per_m / 100


def first_shell(solvation: dict) -> dict:
    """Partners per Li+ by kind (solvent molecules, polymer C=O groups, anions), mean and sem."""
    coordination = solvation["coordination"]
    kinds = _partner_columns(solvation)

    def total(columns):
        entries = [coordination[level][name] for level, name in columns
                   if name in coordination.get(level, {})]
        return {"mean": sum(e["mean"] for e in entries),
                "sem": sum(e["sem"] ** 2 for e in entries) ** 0.5}

    shell = {kind: total(kinds[kind]) for kind in ("solvent", "anion", "polymer")}
    for _, name in kinds["solvent"]:
        shell[f"solvent:{name}"] = coordination["species"][name]
    shell["polymer_carbonyl"] = coordination.get("group", {}).get("polymer C=O")
    return shell


def _partner_columns(solvation: dict) -> dict[str, list[tuple[str, str]]]:
    """The (level, name) coordination entries that make up each partner kind: solvent, anion
    and polymer species by their role, and the polymer C=O group."""
    roles = {name: entry["role"] for name, entry in solvation["species"].items()}
    kinds = {kind: [("species", name) for name, role in roles.items() if role == kind]
             for kind in ("solvent", "anion", "polymer")}
    return {**kinds, "polymer_carbonyl": [("group", "polymer C=O")]}


def first_shell_by_part(analysis: Path, solvation: dict, parts: int) -> dict:
    """Partners per Li+ by kind (as :func:`first_shell`) averaged over ``parts`` consecutive,
    equal parts of the production, from ``coordination_by_frame.csv``: a drift from the first
    to the last part says the shell is still changing over the run."""
    with open(analysis / "coordination_by_frame.csv") as handle:
        rows = list(csv.reader(handle))
    columns = list(zip(rows[0], rows[1]))
    values = [[float(x) if x else 0.0 for x in row] for row in rows[3:]]
    size = len(values) / parts
    result = {}
    for kind in ("solvent", "polymer_carbonyl", "anion"):
        keys = _partner_columns(solvation)[kind]
        indices = [columns.index(key) for key in keys if key in columns]
        if indices:
            result[kind] = [round(sum(sum(row[i] for i in indices) for row in part) / len(part), 3)
                            for part in (values[round(k * size):round((k + 1) * size)]
                                         for k in range(parts))]
    return result


def _simulated_ps(state_log: Path) -> float:
    """Length of one stage in ps: each stage's clock starts at 0, so its last report time."""
    with open(state_log) as handle:
        rows = list(csv.DictReader(handle))
    return float(rows[-1]["time_ps"]) if rows else 0.0


def _msd_at_lag(path: Path, lag_ps: float) -> dict:
    """MSD (Angstrom^2) of every species at the lag nearest ``lag_ps`` in ``msd.csv``: a
    short-time mobility to compare boxes of one protocol where no D can be fitted."""
    nearest: dict = {}
    with open(path) as handle:
        for row in csv.DictReader(handle):
            distance = abs(float(row["lag_ps"]) - lag_ps)
            if distance < nearest.get(row["species"], (float("inf"), None))[0]:
                nearest[row["species"]] = (distance, float(row["msd_angstrom2"]))
    return {species: msd for species, (_, msd) in nearest.items()}


def _late_mean(path: Path, column: str) -> float | None:
    if not path.is_file():
        return None
    with open(path) as handle:
        values = [float(row[column]) for row in csv.DictReader(handle) if row.get(column)]
    late = values[len(values) // 2:]
    return sum(late) / len(late) if late else None


def _cli(arguments: list[str], log: Path, deadline: float | None = None) -> bool:
    """Run one ``qsse-md`` command, its output appended to ``log``; True when it finished,
    False when ``deadline`` stopped it (SIGTERM: the run keeps its checkpoint and frames)."""
    env = {**os.environ, "OPENMM_CPU_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    with open(log, "a") as handle:
        handle.write(f"$ qsse-md {' '.join(arguments)}\n")
        handle.flush()
        process = subprocess.Popen([sys.executable, "-m", "qsse_md.cli.main", *arguments], env=env,
                                   stdout=handle, stderr=subprocess.STDOUT)
        try:
            process.wait(None if deadline is None else max(deadline - time.time(), 0.0))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
            process.wait()
            return False
    if process.returncode != 0:
        raise RuntimeError(f"qsse-md {arguments[0]} failed (exit {process.returncode}); see {log}")
    return True



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--models", nargs="+", default=["full", DEFAULT_MODEL], choices=list(MODELS),
                        help=f"ion models (MODELS); default: full charges and the shipped {DEFAULT_MODEL}")
    parser.add_argument("--protocol", default="validation",
                        help="shipped protocol name: " + ", ".join(
                            sorted(path.stem for path in (ROOT / "systems" / "protocols").glob("*.toml"))))
    parser.add_argument("--scale", choices=("demo", "full"), default="demo",
                        help="demo: systems/validation/ recipes (about 1,300-2,100 atoms); full: "
                        "the shipped study-scale recipes (20 + 360 + 60 molecules, 6,640-10,360 atoms)")
    parser.add_argument("--replicas", type=int, default=1, help="independent boxes per system "
                        "and model (packing and velocity seeds differ)")
    parser.add_argument("--first-replica", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="boxes at once, one thread each "
                        "(on a GPU all of them share it)")
    parser.add_argument("--work", default="reference_study_runs", help="folder for the run folders")
    parser.add_argument("--engine", choices=("openmm", "gromacs"), default="openmm",
                        help="MD engine of qsse-md run (gromacs: run folders end in __gromacs)")
    parser.add_argument("--threads", type=int, default=1, help="gmx mdrun threads per box "
                        "(--engine gromacs)")
    parser.add_argument("--build-only", action="store_true", help="build the boxes, run nothing")
    parser.add_argument("--stop-after-min", type=float, default=None, help="stop every run after "
                        "this many minutes (checkpoint kept; run again to continue) and analyse "
                        "the production frames written so far")
    parser.add_argument("--figure", action="store_true", help="only redraw the figure, print the "
                        "tables and write them into README.md and benchmarks/README.md")
    args = parser.parse_args(argv)
    if not args.figure:
        work = Path(args.work).resolve()
        (work / "logs").mkdir(parents=True, exist_ok=True)
        deadline = None if args.stop_after_min is None else time.time() + 60 * args.stop_after_min
        boxes = [Box(s, m, r, args.protocol, args.scale, args.engine)
                 for r in range(args.first_replica, args.first_replica + args.replicas)
                 for m in args.models for s in args.systems]
        with ThreadPoolExecutor(args.jobs) as pool:
            if args.build_only:
                futures = {pool.submit(_build_only, box, work): box for box in boxes}
            else:
                futures = {pool.submit(run_box, box, work, deadline, args.threads): box
                           for box in boxes}
            for future in as_completed(futures):
                started = time.strftime("%H:%M:%S")
                try:
                    record = future.result()
                except RuntimeError as error:
                    print(f"{started} {futures[future]}: {error}", flush=True)
                    continue
                if record is None:
                    print(f"{started} {futures[future]}: built", flush=True)
                    continue
                merge(record)
                shell = record["first_shell"]
                print(f"{started} {futures[future]}: " + ", ".join(
                    f"{k} {v['mean']:.2f} ± {v['sem']:.2f}" for k, v in shell.items() if v), flush=True)
    if RESULTS.is_file():
        print(f"figure: {draw_figure()}")
        runs = json.loads(RESULTS.read_text())["runs"]
        print(markdown_table(runs, protocol="validation"), markdown_table(runs), sep="\n\n")
        print(transport_table(runs))
        print(paired_table(runs))
        if args.figure:
            print("tables written into " + ", ".join(str(path.relative_to(ROOT))
                                                      for path in write_marked_tables(runs)))
    return 0


def _build_only(box: Box, work: Path) -> None:
    folder = box.folder(work)
    build_box(box, folder, work / "logs" / f"{folder.name}.log")


if __name__ == "__main__":
    sys.exit(main())
