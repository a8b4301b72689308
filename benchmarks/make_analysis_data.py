"""Make the trajectory data for ``analysis_speed.py`` with our own MD (kept outside the repo).

    python benchmarks/make_analysis_data.py [--workdir /tmp/qsse_bench] [--frames 1000]
        [--threads 2]

Steps (all with the ``qsse-md`` CLI, CPU platform):

1. ``qsse-md build systems/PDOA_EC.toml --out WORKDIR/box`` -- the reference P(DOA)/EC/LiPF6
   box (20 hexamers, 360 EC, 60 LiPF6; 6,640 atoms).
2. ``qsse-md run WORKDIR/box --protocol WORKDIR/bench_protocol.toml`` with the protocol below:
   minimise; 4 ps NVT at 298 K (4 fs, HMR to 3 Da, H-bond constraints, Langevin 1/ps);
   NVT at 298 K for ``frames`` x 40 fs with a report interval of 40 fs (10 steps of 4 fs),
   i.e. 1,000 frames written as XTC.
3. The production XTC is converted to DCD with MDAnalysis (same frames, same box), so both
   formats hold exactly the same data: ``WORKDIR/box/stages/03_production/trajectory.{xtc,dcd}``.

The data is not physically equilibrated (a 4 ps NVT after a minimisation of a packed box); it
only needs to be a realistic-size, realistic-density electrolyte box for timing. Nothing is
written into the repository; ``analysis_speed.py`` calls :func:`ensure_data` and regenerates
the data if it is missing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from qsse_md.runfolder import RunFolder

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_WORKDIR = Path(os.environ.get("QSSE_BENCH_DIR", "/tmp/qsse_bench"))

PROTOCOL = """\
# Written by benchmarks/make_analysis_data.py
name = "analysis_bench"
seed = 11
platform = "CPU"
hydrogen_mass_amu = 3.0
checkpoint_interval_s = 0.0
trajectory_format = "xtc"

[[stage]]
kind = "minimize"
name = "minimize"
max_iterations = 500

[[stage]]
kind = "nvt"
name = "nvt_equil"
temperature_K = 298.0
duration_ps = 4.0
timestep_fs = 4.0
report_interval_ps = 0.4

[[stage]]
kind = "nvt"
name = "production"
temperature_K = 298.0
duration_ps = {duration}
timestep_fs = 4.0
report_interval_ps = 0.04
"""


def paths(workdir: Path) -> dict:
    box = RunFolder(workdir / "box")
    stage = box.stage("03_production")
    return {"box": box.path, "topology": box.topology_pdb,
            "xtc": stage.trajectory("xtc"), "dcd": stage.trajectory("dcd")}


def ensure_data(workdir: Path = DEFAULT_WORKDIR, frames: int = 1000, threads: int = 2) -> dict:
    """Build, run and convert as needed; return the paths (topology, xtc, dcd, box)."""
    p = paths(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OPENMM_CPU_THREADS=str(threads))
    cli = [sys.executable, "-m", "qsse_md.cli.main"]
    if not p["topology"].exists():
        subprocess.run(cli + ["build", str(ROOT / "systems" / "PDOA_EC.toml"),
                              "--out", str(p["box"])], check=True, env=env)
    if not p["xtc"].exists() or _n_frames(p["topology"], p["xtc"]) < frames:
        proto = workdir / "bench_protocol.toml"
        proto.write_text(PROTOCOL.format(duration=round(frames * 0.04, 6)))
        subprocess.run(cli + ["run", str(p["box"]), "--protocol", str(proto)],
                       check=True, env=env)
    if not p["dcd"].exists() or _n_frames(p["topology"], p["dcd"]) != _n_frames(p["topology"], p["xtc"]):
        import MDAnalysis as mda
        u = mda.Universe(str(p["topology"]), str(p["xtc"]))
        with mda.Writer(str(p["dcd"]), u.atoms.n_atoms, dt=u.trajectory.dt) as w:  # keep the 40 fs spacing
            for _ in u.trajectory:
                w.write(u.atoms)
    return p


def _n_frames(top: Path, traj: Path) -> int:
    import MDAnalysis as mda
    try:
        return len(mda.Universe(str(top), str(traj)).trajectory)
    except Exception:
        return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    p = ensure_data(a.workdir, a.frames, a.threads)
    for k, v in p.items():
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
