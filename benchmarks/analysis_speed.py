"""Speed of the trajectory analyses against the bare trajectory read and against peer codes.

    python benchmarks/analysis_speed.py [--workdir /tmp/qsse_bench] [--repeats 3] [--skip-peers]
        [--skip-cli] [--kernel-frames 100000]

Data: the 6,640-atom PDOA_EC box with 1,000 frames (40 fs apart) made by our own MD with
``benchmarks/make_analysis_data.py`` (regenerated when missing; kept outside the repo), read
as XTC and as DCD (the same frames).

Timed in one run (wall clock, ``time.perf_counter``; the best of ``--repeats`` for the cheap
items, one run for the slow peers), after one warm-up call that compiles the Numba kernels:

* bare read: iterate every frame touching the positions (``ts.positions.sum()``), XTC and DCD;
* ``RDF`` (Li-O, all O atoms, 200 bins over 0-10 A, no exclusion) with running coordination
  number, and MDAnalysis ``InterRDF`` with the same pairs and bins; a plain Numba histogram
  of the same pairs is the floor of a separate RDF pass;
* the full qsse_md ``Solvation`` as the CLI builds it (guessed species, donor groups, anions
  for ion pairing and clusters; cutoffs from the g(r) first minima; coordination, shells,
  compositions, pairing, residence) and solvation_analysis ``Solute`` with the same donor atoms
  and the same cutoffs (``radii``), default analysis classes plus residence and networking
  (PF6), with and without its own RDF step (``skip_rdf``);
* ``Transport`` (Li and PF6 centres, MSD + Einstein-Helfand conductivity with all cross
  terms, block errors) and MDAnalysis ``EinsteinMSD`` (fft) and kinisi ``DiffusionAnalyzer`` /
  ``ConductivityAnalyzer`` on the same species (PF6 as its P atom in the peers; kinisi 2.1 takes
  one species per conductivity analyser, so it gets no Li-PF6 cross term);
* the correlation kernels (``msd`` per particle and component, the particle-averaged
  ``mean_msd`` that ``compute_transport`` uses, ``cross_msd`` of two species sums, the
  windowed ``windowed_mean_msd`` of the block errors) on synthetic random walks of
  ``--kernel-frames`` x 120 centres x 3, one thread;
* whole-process times of ``qsse-md analyze solvation`` called twice with a fresh Numba
  cache directory: the first call compiles and caches the kernels, the second must load them
  (counted from ``NUMBA_DEBUG_CACHE`` output).

Prints a table of seconds and ratios and writes ``benchmarks/results/analysis_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results" / "analysis_speed.json"

from make_analysis_data import DEFAULT_WORKDIR, ensure_data  # noqa: E402

warnings.filterwarnings("ignore")


def best_of(function, repeats):
    times = []
    value = None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value


def universe(paths, fmt):
    import MDAnalysis as mda

    return mda.Universe(str(paths["topology"]), str(paths[fmt]))


def bare_read(paths, fmt):
    u = universe(paths, fmt)

    def run():
        total = 0.0
        for ts in u.trajectory:
            total += float(ts.positions.sum())
        return len(u.trajectory)
    return run


def rdf_items(paths, fmt, repeats):
    from MDAnalysis.analysis.rdf import InterRDF

    from qsse_md.analysis.solvation.rdf import RDF
    from qsse_md.lib.distances import pair_distance_histogram

    u = universe(paths, fmt)
    li, oxygen = u.select_atoms("element Li"), u.select_atoms("element O")
    edges = np.linspace(0.0, 10.0, 201)
    out = {}
    RDF(li, oxygen, nbins=200, range_angstrom=(0, 10), exclude_same=None).run(stop=2)  # compile/warm
    out["rdf_cn"], ours = best_of(lambda: RDF(li, oxygen, nbins=200, range_angstrom=(0, 10),
                                              exclude_same=None).run(), repeats)

    def plain():
        count = np.zeros(200)
        for ts in u.trajectory:
            count += pair_distance_histogram(li.positions, oxygen.positions, edges, ts.dimensions)
        return count
    out["numba_histogram_loop"], _ = best_of(plain, repeats)
    out["mda_interrdf"], theirs = best_of(lambda: InterRDF(li, oxygen, nbins=200, range=(0, 10)).run(),
                                          max(1, repeats - 1))
    out["rdf_max_abs_diff_vs_interrdf"] = float(np.max(np.abs(ours.results.rdf - theirs.results.rdf)))
    return out


def solvation_items(paths, fmt, repeats, peers):
    from qsse_md.analysis.solvation.groups import coordinating_atoms, default_solvation
    from qsse_md.analysis.species_guess import guess_species

    u = universe(paths, fmt)
    guess = guess_species(u)
    donors = coordinating_atoms(guess)
    default_solvation(guess, donors, 2.5).run(stop=3)  # compile/warm
    out = {}
    out["solvation_full"], ours = best_of(lambda: default_solvation(guess, donors, None).run(), repeats)
    cutoffs = dict(ours.results.cutoffs_angstrom)
    out["cutoffs_angstrom"] = cutoffs
    out["solvation_given_cutoffs"], _ = best_of(lambda: default_solvation(guess, donors, cutoffs).run(), repeats)
    out["coordination_numbers"] = {k: float(v) for k, v in ours.results.coordination_numbers.items()}
    if peers:
        from solvation_analysis.solute import Solute

        anions = [name for name in guess.names("anion") if name in donors.partners]

        def theirs(skip_rdf):
            solute = Solute.from_atoms(guess.solute, dict(donors.partners), radii=cutoffs, skip_rdf=skip_rdf,
                                       analysis_classes=["pairing", "coordination", "speciation", "residence",
                                                         "networking"],
                                       networking_solvents=anions[0] if anions else None)
            solute.run()
            return solute
        out["solvation_analysis_with_rdf"], sa = best_of(lambda: theirs(False), 1)
        out["solvation_analysis_skip_rdf"], _ = best_of(lambda: theirs(True), 1)
        out["solvation_analysis_coordination"] = {k: float(v) for k, v in sa.coordination.coordination_numbers.items()}
    return out


def transport_items(paths, fmt, repeats, peers):
    from qsse_md.analysis.transport.transport import Transport

    u = universe(paths, fmt)
    species = {"Li": "element Li", "PF6": "resname PF6"}
    charges = {"Li": 1.0, "PF6": -1.0}
    out = {}

    def ours():
        # slope_tolerance=0.9: 40 ps is too short for a diffusive regime (log-log slopes ~0.5-0.7);
        # the loose window makes the conductivity and cross terms run (timing only, not physics)
        return Transport(u, species, temperature_K=298.0, charges=charges, slope_tolerance=0.9).run()
    out["transport"], result = best_of(ours, repeats)
    out["transport_sigma_S_per_cm"] = result.results.conductivity["sigma_S_per_cm"]
    if peers:
        from MDAnalysis.analysis.msd import EinsteinMSD

        def einstein():
            for selection in ("element Li", "resname PF6 and element P"):
                EinsteinMSD(u, select=selection, msd_type="xyz", fft=True).run()
        out["mda_einstein_msd"], _ = best_of(einstein, max(1, repeats - 1))
        try:
            import scipp as sc
            from kinisi.analyze import ConductivityAnalyzer, DiffusionAnalyzer

            common = dict(time_step=sc.scalar(4.0, unit="fs"), step_skip=sc.scalar(10, unit=sc.units.dimensionless),
                          progress=False)

            def kinisi():
                for specie in ("Li", "P"):
                    DiffusionAnalyzer.from_universe(u, specie=specie, **common)
                # kinisi 2.1 takes one species per ConductivityAnalyzer (a list of species or
                # species_indices with per-particle charges fail), so no Li-PF6 cross term here
                for specie, charge in (("Li", 1.0), ("P", -1.0)):
                    ConductivityAnalyzer.from_universe(u, specie=specie, ionic_charge=sc.scalar(charge), **common)
            out["kinisi"], _ = best_of(kinisi, 1)
        except Exception as error:  # pragma: no cover - peer API differences
            out["kinisi_error"] = f"{type(error).__name__}: {error}"
    return out


def kernel_items(n_frames, n_centres=120):
    from qsse_md.analysis.transport.transport_core import compute_transport
    from qsse_md.lib.correlation import cross_msd, mean_msd, msd, windowed_mean_msd

    rng = np.random.default_rng(1)
    walks = np.cumsum(rng.normal(scale=0.3, size=(n_frames, n_centres, 3)), axis=0)
    half = n_centres // 2
    out = {"kernel_frames": n_frames, "kernel_centres": n_centres}
    t = time.perf_counter()
    msd(walks)
    out["kernel_msd"] = time.perf_counter() - t
    t = time.perf_counter()
    mean_msd(walks)
    out["kernel_mean_msd"] = time.perf_counter() - t
    t = time.perf_counter()
    cross_msd(walks[:, :half].sum(axis=1), walks[:, half:].sum(axis=1))
    out["kernel_cross_msd"] = time.perf_counter() - t
    t = time.perf_counter()
    windowed_mean_msd(walks, 5, max_lag=n_frames // 10)
    out["kernel_windowed_mean_msd"] = time.perf_counter() - t
    species = np.repeat([0, 1], [half, n_centres - half])
    t = time.perf_counter()
    compute_transport(walks, species, ["A", "B"], 0.04, 1.0e5, 298.0, [1.0, -1.0])
    out["kernel_compute_transport"] = time.perf_counter() - t
    return out


def cli_items(paths, fmt, workdir):
    cache = workdir / "numba_cache_cli"
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), NUMBA_DEBUG_CACHE="1")
    out = {}
    for call in ("first", "second"):
        target = workdir / f"cli_solvation_{call}"
        shutil.rmtree(target, ignore_errors=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "qsse_md.cli.main", "analyze", "solvation",
                               str(paths["topology"]), str(paths[fmt]), "--out", str(target)],
                              env=env, capture_output=True, text=True)
        out[f"cli_{call}"] = time.perf_counter() - start
        text = done.stdout + done.stderr
        out[f"cli_{call}_returncode"] = done.returncode
        out[f"cli_{call}_numba_saved"] = text.count("data saved to")
        out[f"cli_{call}_numba_loaded"] = text.count("data loaded from")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kernel-frames", type=int, default=100_000)
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--only", nargs="*", default=None, help="subset: read rdf solvation transport kernels cli")
    ap.add_argument("--label", default="", help="free text stored with the figures")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    a = ap.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    paths = ensure_data(a.workdir)
    only = set(a.only or ["read", "rdf", "solvation", "transport", "kernels", "cli"])
    peers = not a.skip_peers
    rec = {"date": time.strftime("%Y-%m-%d %H:%M"), "label": a.label, "machine": platform.platform(),
           "cpus": os.cpu_count(), "python": sys.version.split()[0], "repeats": a.repeats,
           "data": {k: str(v) for k, v in paths.items()}, "seconds": {}}
    import MDAnalysis as mda
    u = universe(paths, "xtc")
    rec["n_atoms"], rec["n_frames"] = u.atoms.n_atoms, len(u.trajectory)
    rec["mdanalysis"] = mda.__version__
    s = rec["seconds"]
    for fmt in ("xtc", "dcd"):
        if "read" in only:
            s[f"read_{fmt}"] = best_of(bare_read(paths, fmt), a.repeats)[0]
        if "rdf" in only:
            s.update({f"{k}_{fmt}": v for k, v in rdf_items(paths, fmt, a.repeats).items()})
        if "solvation" in only:
            s.update({f"{k}_{fmt}": v for k, v in solvation_items(paths, fmt, a.repeats,
                                                                   peers and fmt == "xtc").items()})
        if "transport" in only:
            s.update({f"{k}_{fmt}": v for k, v in transport_items(paths, fmt, a.repeats,
                                                                   peers and fmt == "xtc").items()})
    if "kernels" in only:
        s.update(kernel_items(a.kernel_frames))
    if "cli" in only:
        s.update(cli_items(paths, "xtc", a.workdir))
    rec["ratios"] = ratios(s)
    print_table(s, rec["ratios"])
    a.out.parent.mkdir(exist_ok=True, parents=True)
    a.out.write_text(json.dumps(rec, indent=1, default=float))
    print(f"wrote {a.out}")


def ratios(s):
    r = {}
    for fmt in ("xtc", "dcd"):
        read = s.get(f"read_{fmt}")
        for key in ("rdf_cn", "numba_histogram_loop", "mda_interrdf", "solvation_full", "solvation_given_cutoffs",
                    "solvation_analysis_with_rdf", "solvation_analysis_skip_rdf", "transport", "mda_einstein_msd",
                    "kinisi"):
            value = s.get(f"{key}_{fmt}")
            if read and isinstance(value, float):
                r[f"{key}_{fmt}_vs_read"] = value / read
        pairs = [("mda_interrdf", "rdf_cn"), ("solvation_analysis_with_rdf", "solvation_full"),
                 ("solvation_analysis_skip_rdf", "solvation_given_cutoffs"), ("mda_einstein_msd", "transport"),
                 ("kinisi", "transport")]
        for peer, ours in pairs:
            if isinstance(s.get(f"{peer}_{fmt}"), float) and isinstance(s.get(f"{ours}_{fmt}"), float):
                r[f"{peer}_over_{ours}_{fmt}"] = s[f"{peer}_{fmt}"] / s[f"{ours}_{fmt}"]
    return r


def print_table(s, r):
    print(f"{'item':42s} {'seconds':>10s}")
    for key, value in s.items():
        if isinstance(value, float):
            print(f"{key:42s} {value:10.3f}")
        else:
            print(f"{key:42s} {value}")
    print(f"\n{'ratio':52s} {'value':>8s}")
    for key, value in r.items():
        print(f"{key:52s} {value:8.2f}")


if __name__ == "__main__":
    main()
