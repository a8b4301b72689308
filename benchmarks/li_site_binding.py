"""How strongly the force field binds Li+ to each kind of carbonyl: a single-site energy scan.

Issue 13 finds Li+ holding a polymer cyclic-carbonate C=O 3.5 times as often per site as a
DEC C=O (``polymer_carbonyl_kinds.py``), and the DEC shell 1.0 molecule short of the reference
study. This script asks whether the pair potential alone ranks the sites so. For every
carbonyl O of a run folder's last production frame it takes the whole molecule (a solvent
molecule, or the polymer segment) frozen in that frame's conformation, places one Li+ 2.0 Å
from the O along the C=O bond, and minimises the Li+-molecule interaction energy over the Li+
position alone, within 1 Å of its start along each axis: Coulomb in vacuum plus Lennard-Jones with Lorentz-Berthelot combination, with
the charges and Lennard-Jones parameters of the folder's ``system.xml`` (the ion model and
carbonyl-O Lennard-Jones it was built with). The minimum is the site's binding energy
(kJ/mol; the molecule's conformation is not relaxed, and no other molecule competes). Sites
are grouped as the solvent's C=O by molecule (EC, DEC, ...) and the polymer's C=O by kind
(``polymer_carbonyl_kinds.carbonyl_kind``: carbonate, oxalate, ester); per group the mean,
standard deviation, median and quartiles over sites, and the mean Li-O distance (Å) at the
minimum. A polymer site feels the whole frozen segment: where the frame has packed several
carbonyls around a Li+ the site lies in that pocket, so polymer sites spread far more than
solvent sites and their median is the better summary. Results are
merged per run folder into ``benchmarks/results/li_site_binding.json``.

    python benchmarks/li_site_binding.py RUN_FOLDER [RUN_FOLDER ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
import openmm
import scipy.optimize
from polymer_carbonyl_kinds import POLYMER_CARBONYL, carbonyl_kind

from qsse_md.analysis.solvation.groups import coordinating_atoms
from qsse_md.analysis.species_guess import element_symbols, guess_species
from qsse_md.report.inputs import load_universe

RESULTS = Path(__file__).resolve().parent / "results" / "li_site_binding.json"
COULOMB_KJ_NM_PER_MOL_E2 = 138.935458
START_DISTANCE_NM = 0.20
# Li+ stays within a cube of this half-width around its start, so that on a polymer segment
# it probes the site it starts at instead of sliding to a chelating pocket elsewhere.
SITE_HALF_WIDTH_NM = 0.10


def nonbonded_parameters(system_xml: Path) -> np.ndarray:
    """Charge (e), sigma (nm) and epsilon (kJ/mol) of every particle, one row each."""
    system = openmm.XmlSerializer.deserialize(system_xml.read_text())
    force = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    units = (openmm.unit.elementary_charge, openmm.unit.nanometer, openmm.unit.kilojoule_per_mole)
    return np.array([[value.value_in_unit(unit) for value, unit in zip(force.getParticleParameters(i), units)]
                     for i in range(force.getNumParticles())])


def site_binding(li: np.ndarray, molecule: np.ndarray, positions_nm: np.ndarray,
                 start_nm: np.ndarray) -> tuple[float, np.ndarray]:
    """Minimum over the Li+ position of the Li+-molecule energy (kJ/mol) and that position.

    ``li`` is the Li+ row and ``molecule`` the rows of :func:`nonbonded_parameters`;
    ``positions_nm`` the molecule's atoms, held fixed; the Li+ stays within
    ``SITE_HALF_WIDTH_NM`` of ``start_nm`` along each axis."""
    charge_products = COULOMB_KJ_NM_PER_MOL_E2 * li[0] * molecule[:, 0]
    sigma = 0.5 * (li[1] + molecule[:, 1])
    epsilon = np.sqrt(li[2] * molecule[:, 2])

    def energy_and_gradient(position):
        separation = position - positions_nm
        distance = np.linalg.norm(separation, axis=1)
        power6 = (sigma / distance) ** 6
        energy = charge_products / distance + 4 * epsilon * (power6 ** 2 - power6)
        d_energy = -charge_products / distance ** 2 + 4 * epsilon * (-12 * power6 ** 2 + 6 * power6) / distance
        return energy.sum(), (d_energy / distance) @ separation

    bounds = [(x - SITE_HALF_WIDTH_NM, x + SITE_HALF_WIDTH_NM) for x in start_nm]
    result = scipy.optimize.minimize(energy_and_gradient, start_nm, jac=True, method="L-BFGS-B",
                                     bounds=bounds)
    return float(result.fun), result.x


def binding_by_site_kind(folder: Path) -> dict:
    """Binding energies of every carbonyl site of the last production frame of ``folder``,
    grouped by kind; see the module."""
    analysed = json.loads((folder / "solvation" / "solvation.json").read_text())
    universe = load_universe(Path(analysed["inputs"]["topology"]), Path(analysed["inputs"]["trajectory"]))
    universe.trajectory[-1]
    parameters = nonbonded_parameters(folder / "system.xml")
    guess = guess_species(universe)
    donors = coordinating_atoms(guess)
    li = parameters[guess.solute[0].ix]
    symbols = element_symbols(universe.atoms)
    energies: dict[str, list[tuple[float, float]]] = {}
    for label, atoms in donors.groups.items():
        if not label.endswith("C=O"):
            continue
        for oxygen in atoms:
            kind = (f"polymer {carbonyl_kind(oxygen, symbols)} C=O" if label == POLYMER_CARBONYL
                    else f"{oxygen.residue.resname} C=O")
            molecule = oxygen.fragment
            positions_nm = molecule.unwrap(compound="fragments") / 10
            o_nm = positions_nm[molecule.ix_array == oxygen.ix][0]
            c_nm = positions_nm[molecule.ix_array == oxygen.bonded_atoms[0].ix][0]
            bond = (o_nm - c_nm) / np.linalg.norm(o_nm - c_nm)
            energy, li_nm = site_binding(li, parameters[molecule.ix_array], positions_nm,
                                         o_nm + START_DISTANCE_NM * bond)
            energies.setdefault(kind, []).append((energy, 10 * float(np.linalg.norm(li_nm - o_nm))))
    return {"frame_time_ps": float(universe.trajectory.time),
            "li_parameters": {"charge_e": li[0], "sigma_nm": li[1], "epsilon_kj_per_mol": li[2]},
            "sites": {kind: site_statistics(values) for kind, values in energies.items()}}


def site_statistics(values: list[tuple[float, float]]) -> dict:
    """Mean, standard deviation, median and quartiles of the binding energies (kJ/mol) of
    ``values``, (energy, Li-O distance in Å) per site, and the mean Li-O distance."""
    energies = [energy for energy, _ in values]
    lower, median, upper = statistics.quantiles(energies, n=4)
    return {"sites": len(values), "binding_kj_per_mol_mean": statistics.mean(energies),
            "binding_kj_per_mol_sd": statistics.stdev(energies),
            "binding_kj_per_mol_median": median, "binding_kj_per_mol_quartiles": [lower, upper],
            "li_o_distance_angstrom_mean": statistics.mean(d for _, d in values)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="qsse-md run folders, analysed "
                        "with qsse-md analyze solvation into FOLDER/solvation")
    args = parser.parse_args(argv)
    data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    for folder in args.folders:
        record = binding_by_site_kind(folder.resolve())
        data[folder.resolve().name] = record
        print(f"{folder.name}: " + ", ".join(
            f"{kind} {site['binding_kj_per_mol_mean']:.1f} ± {site['binding_kj_per_mol_sd']:.1f} kJ/mol "
            "(median {:.1f}, quartiles {:.1f} to {:.1f}; ".format(
                site["binding_kj_per_mol_median"], *site["binding_kj_per_mol_quartiles"])
            + f"{site['sites']} sites, Li-O {site['li_o_distance_angstrom_mean']:.2f} Å)"
            for kind, site in sorted(record["sites"].items())), flush=True)
        RESULTS.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
