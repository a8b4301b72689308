"""Which polymer carbonyls hold Li+: the "polymer C=O" count of a run split by carbonyl kind.

P(DOA) carries two carbonyls per repeat unit, the backbone acrylate ester and the cyclic
carbonate of its side chain (the EC ring); P(AEEO) an acrylate ester and an oxalate. The
package counts them together as "polymer C=O" (``qsse_md.analysis.solvation.groups``), as the
reference study does. To see where a surplus of polymer C=O in the Li+ shell sits (issue 13:
P(DOA)/DEC), this script re-runs the package's ``Solvation`` on a run folder with the
trajectory and cutoffs of its ``qsse-md analyze solvation`` result and the polymer C=O group
split by the carbonyl carbon's neighbours: **carbonate** (C bonded to three O), **oxalate**
(C bonded to another carbonyl C), **ester** (the rest). Per kind it reports the partners per
Li+ (block sem), the number of such sites in the box, and the occupancy per site (partners
per Li+ / sites), which compares the Li+ affinity of sites across kinds and solvents.
Results are merged per run folder into ``benchmarks/results/polymer_carbonyl_kinds.json``.

    python benchmarks/polymer_carbonyl_kinds.py RUN_FOLDER [RUN_FOLDER ...] [--step 10]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qsse_md.analysis.solvation.groups import anion_partners, coordinating_atoms
from qsse_md.analysis.solvation.solvation import Solvation
from qsse_md.analysis.species_guess import element_symbols, guess_species
from qsse_md.report.inputs import load_universe

RESULTS = Path(__file__).resolve().parent / "results" / "polymer_carbonyl_kinds.json"
POLYMER_CARBONYL = "polymer C=O"


def carbonyl_kind(oxygen, symbols) -> str:
    """Kind of a carbonyl O, "carbonate", "oxalate" or "ester", from its carbon's neighbours."""
    carbon = oxygen.bonded_atoms[0]
    neighbours = carbon.bonded_atoms
    if sum(symbols[atom.ix] == "O" for atom in neighbours) == 3:
        return "carbonate"
    if any(symbols[atom.ix] == "C" and any(symbols[o.ix] == "O" and len(o.bonded_atoms) == 1
                                           for o in atom.bonded_atoms) for atom in neighbours):
        return "oxalate"
    return "ester"


def split_carbonyls(folder: Path, step: int) -> dict:
    """Partners per Li+ per coordinating group of one run folder, on the trajectory and with
    the cutoffs of its ``solvation/solvation.json``, the polymer C=O group split by
    :func:`carbonyl_kind`."""
    analysed = json.loads((folder / "solvation" / "solvation.json").read_text())
    universe = load_universe(Path(analysed["inputs"]["topology"]), Path(analysed["inputs"]["trajectory"]))
    guess = guess_species(universe)
    donors = coordinating_atoms(guess)
    if POLYMER_CARBONYL not in donors.groups:
        raise SystemExit(f"{folder}: no polymer C=O donors; give run folders of polymer boxes")
    symbols = element_symbols(universe.atoms)
    groups = {label: atoms for label, atoms in donors.groups.items() if label != POLYMER_CARBONYL}
    kinds = [carbonyl_kind(atom, symbols) for atom in donors.groups[POLYMER_CARBONYL]]
    for kind in dict.fromkeys(kinds):
        groups[f"polymer {kind} C=O"] = donors.groups[POLYMER_CARBONYL][[k == kind for k in kinds]]
    cutoffs = analysed["cutoffs_angstrom"]
    solvation = Solvation(guess.solute, donors.partners, cutoffs, groups=groups,
                          anions=anion_partners(guess, donors)).run(step=step)
    table = solvation.results.coordination
    per_li = {row.label: {"mean": float(row.mean), "sem": float(row.sem)}
              for row in table[table.counting == "group"].itertuples()}
    sites = {label: len(atoms) for label, atoms in groups.items()}
    return {"frames": solvation.n_frames, "frame_step": step, "cutoffs_angstrom": cutoffs,
            "partners_per_li": per_li, "sites": sites,
            "occupancy_per_site": {label: per_li[label]["mean"] / sites[label]
                                   for label in per_li if sites.get(label)}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="qsse-md run folders, analysed "
                        "with qsse-md analyze solvation into FOLDER/solvation")
    parser.add_argument("--step", type=int, default=10, help="analyse every STEP-th frame")
    args = parser.parse_args(argv)
    data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    for folder in args.folders:
        record = split_carbonyls(folder.resolve(), args.step)
        data[folder.resolve().name] = record
        print(f"{folder.name}: " + ", ".join(
            f"{label} {value['mean']:.2f} ± {value['sem']:.2f} ({record['sites'][label]} sites)"
            for label, value in record["partners_per_li"].items()), flush=True)
        RESULTS.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
