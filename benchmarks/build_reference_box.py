"""Time the reference-study box (20 P(DOA) hexamers + 360 EC + 60 LiPF6) from recipe to
minimised OpenMM System with the shipped force fields, stage by stage.

    python benchmarks/build_reference_box.py [--recipe PDOA_EC] [--repeats 1]

Prints the stage times in seconds and writes benchmarks/results/build_reference_box.json.
Target (issue 2): under 120 s on 2 cores.
"""

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.recipe import load_recipe
from qsse_md.resources import systems_dir

RESULTS = Path(__file__).parent / "results" / "build_reference_box.json"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="PDOA_EC")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    recipe = load_recipe(systems_dir() / f"{args.recipe}.toml")
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            record = build_system(recipe, Path(tmp) / "box")
            wall = time.perf_counter() - started
        runs.append({"wall_s": round(wall, 1), "until_packed_s": record["timings_s"]["until_packed"],
                     "atoms": record["atoms"], "density_g_per_cm3": record["density_g_per_cm3"],
                     "total_charge_e": record["total_charge_e"]})
        print(f"{args.recipe}: {record['atoms']} atoms, packed in "
              f"{record['timings_s']['until_packed']:.1f} s, minimised System in {wall:.1f} s "
              f"(target 120 s; ratio {wall / 120:.2f})")
    result = {"recipe": args.recipe, "runs": runs, "cpu_count": os.cpu_count(),
              "machine": platform.machine(), "python": platform.python_version()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
