"""S(q) speed against the bare trajectory read and freud's Debye structure factor.

On the analysis benchmark data (``make_analysis_data.py``: the PDOA_EC box, 6,640 atoms,
1,000 frames; regenerated when missing) this times, in one run:

* the bare XTC read of all frames;
* our X-ray :class:`~qsse_md.analysis.crystallization.scattering.StructureFactor` of all atoms over
  0.3-5 Å⁻¹ (Lorch-windowed transform of the partial g(r) up to half the box) on every
  ``--step``-th frame, scaled to all frames;
* freud ``StaticStructureFactorDebye`` (unweighted Debye sum over minimum-image pairs)
  on the first ``--freud-frames`` of those frames, scaled the same way.

Prints seconds per frame and the ratios, and writes ``benchmarks/results/scattering_speed.json``.
Run ``python benchmarks/scattering_speed.py [--step 50] [--freud-frames 2]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_analysis_data import DEFAULT_WORKDIR, ensure_data  # noqa: E402

warnings.filterwarnings("ignore")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    ap.add_argument("--step", type=int, default=50, help="analyse every STEP-th frame with our S(q)")
    ap.add_argument("--freud-frames", type=int, default=2, help="frames given to freud (its cost is O(N^2))")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "scattering_speed.json")
    args = ap.parse_args()
    if args.step < 1 or args.freud_frames < 1:
        ap.error("--step and --freud-frames must be at least 1")

    import freud
    import MDAnalysis as mda

    from qsse_md.analysis.crystallization.scattering import StructureFactor

    paths = ensure_data(args.workdir)
    universe = mda.Universe(str(paths["topology"]), str(paths["xtc"]))
    n_frames = len(universe.trajectory)
    start = time.perf_counter()
    for ts in universe.trajectory:
        ts.positions.sum()
    read_per_frame = (time.perf_counter() - start) / n_frames

    StructureFactor(universe.atoms).run(stop=1)  # compile
    start = time.perf_counter()
    ours = StructureFactor(universe.atoms, q_range=(0.3, 5.0)).run(step=args.step)
    ours_per_frame = (time.perf_counter() - start) / ours.n_frames

    debye = freud.diffraction.StaticStructureFactorDebye(num_k_values=200, k_max=5.0, k_min=0.3)
    start = time.perf_counter()
    for ts in universe.trajectory[::args.step][:args.freud_frames]:
        debye.compute((freud.box.Box.from_box(ts.dimensions[:3]), universe.atoms.positions), reset=False)
    freud_per_frame = (time.perf_counter() - start) / args.freud_frames

    record = {
        "date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.platform(), "n_atoms": len(universe.atoms),
        "n_frames": n_frames, "step": args.step, "freud_frames": args.freud_frames, "freud": freud.__version__,
        "seconds_per_frame": {"read_xtc": read_per_frame, "ours_sq": ours_per_frame, "freud_debye": freud_per_frame},
        "ratios": {"ours_sq_vs_read": ours_per_frame / read_per_frame,
                   "freud_debye_over_ours_sq": freud_per_frame / ours_per_frame},
        "seconds_for_all_frames": {"read_xtc": read_per_frame * n_frames, "ours_sq": ours_per_frame * n_frames},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    for key, value in record["seconds_per_frame"].items():
        print(f"{key:<20} {value:10.4f} s/frame")
    for key, value in record["ratios"].items():
        print(f"{key:<28} {value:10.1f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
