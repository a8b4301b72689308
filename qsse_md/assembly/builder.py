"""Recipe -> composition -> molecules -> PACKMOL box -> OpenMM System -> minimised, on disk.

The output folder is written under a temporary name and renamed at the end, so a failed
build leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import openmm
from openmm import app, unit

from qsse_md import __version__
from qsse_md.assembly.composition import Component, resolve
from qsse_md.assembly.molecules import (MoleculeType, build_topology, polymer_molecule,
                                     small_molecule)
from qsse_md.assembly.packing import pack_growing_box
from qsse_md.assembly.recipe import Recipe
from qsse_md.assembly.system import compress, create_system, minimise_positions, total_charge_e
from qsse_md.chem.polymer import build_segment
from qsse_md.chem.species import get_species
from qsse_md.fileio import check_new_output_dir, staged_output_dir
from qsse_md.forcefield.carbonyl_oxygen import gaff2_ffxml_text
from qsse_md.forcefield.ions import ion_ffxml
from qsse_md.forcefield.library import species_ffxml
from qsse_md.runfolder import RunFolder
from qsse_md.units import density_g_per_cm3, volume_angstrom3_for_density

log = logging.getLogger(__name__)
ION_FFXML_NAMES = {"Li+": "LI", "PF6-": "PF6", "TFSI-": "TFSI"}


def components_and_molecules(recipe: Recipe) -> tuple[dict[str, Component], dict]:
    """Composition components and molecule-type factories for every recipe name.

    A factory takes a variant index: polymer variants are distinct segments (atactic
    configurations and random sequences drawn from ``seed + variant``), each with its own
    conformer; small molecules ignore the index (PACKMOL orients their copies).
    """
    components, makers = {}, {}
    for name, spec in recipe.polymers.items():
        def segment(copy, spec=spec):
            return build_segment(spec.monomers, spec.n_units, spec.sequence, spec.ratio,
                                 spec.tacticity, spec.caps, recipe.seed + copy)
        first = segment(0)
        components[name] = Component(name, "polymer", _mass(first.mol),
                                     first.mol.GetNumAtoms(), repeat_units=spec.n_units)
        makers[name] = [lambda variant, n=name, make=segment:
                        polymer_molecule(n, make(variant), recipe.seed + variant)]
    for name in _composition_names(recipe):
        if name in components:
            continue
        species = get_species(name)
        if species.kind == "salt":
            ions = [get_species(ion) for ion in species.ions]
            cations = sum(1 for ion in ions if ion.charge_e > 0)
            components[name] = Component(name, "salt", species.molar_mass_g_per_mol,
                                         species.atom_count, cations=cations)
            makers[name] = [lambda variant, i=ion: small_molecule(i.name, i, recipe.seed)
                            for ion in ions]
        elif species.kind in ("solvent", "monomer"):
            components[name] = Component(name, "solvent", species.molar_mass_g_per_mol,
                                         species.atom_count, species.density_g_per_cm3)
            makers[name] = [lambda variant, s=species: small_molecule(s.name, s, recipe.seed)]
        else:
            raise ValueError(f"composition names the ion '{name}'; name its salt instead "
                             "(LiPF6 or LiTFSI) so the box stays neutral")
    return components, makers


def build_system(recipe: Recipe, out_dir: Path) -> dict:
    """Build ``recipe`` into ``out_dir``; return the build record (also ``build.json``).

    Writes the files of a :class:`~qsse_md.runfolder.RunFolder`: topology (PDB and
    PDBx, minimised coordinates), the serialized OpenMM System, the exact force-field
    files used, the recipe as read and the build record.
    """
    out_dir = check_new_output_dir(out_dir)
    started = time.perf_counter()
    components, makers = components_and_molecules(recipe)
    resolved = resolve(recipe.composition, components)
    log.info("composition resolved: %s", resolved.counts)
    molecules: list[MoleculeType] = []
    counts: list[int] = []
    for name, count in _packing_order(resolved.counts, components):
        if components[name].role == "polymer":
            variants = min(count, recipe.box.polymer_variants)
            molecules += [makers[name][0](variant) for variant in range(variants)]
            counts += [count // variants + (variant < count % variants)
                       for variant in range(variants)]
            continue
        for make in makers[name]:
            molecules.append(make(0))
            counts.append(count)
    mass = resolved.total_mass_g_per_mol
    target_edge = volume_angstrom3_for_density(mass, recipe.box.density_g_per_cm3) ** (1.0 / 3.0)
    log.info("packing %d atoms into a %.2f Å cube", resolved.total_atoms, target_edge)
    positions, packed_edge = pack_growing_box(molecules, counts, target_edge,
                                              recipe.box.tolerance_angstrom, recipe.seed)
    packed_s = time.perf_counter() - started
    topology = build_topology(molecules, counts, packed_edge)

    with staged_output_dir(out_dir) as staging:
        ff_files = _collect_forcefields(molecules, recipe, RunFolder(staging).forcefield_dir)
        system = create_system(topology, ff_files, recipe.system)
        log.info("minimising %d atoms", system.getNumParticles())
        minimised, e_before, e_after = minimise_positions(system, positions, recipe.minimize)
        packing = {"packed_edge_nm": packed_edge / 10.0, "packed_density_g_per_cm3":
                   density_g_per_cm3(mass, packed_edge ** 3), "compression_ps": 0.0}
        edge = packed_edge
        if packed_edge > target_edge:
            log.info("compressing the %.1f Å box to %.1f Å at 1000 bar", packed_edge, target_edge)
            squeezed, edge, packing["compression_ps"] = compress(
                system, minimised, target_edge, seed=recipe.seed)
            topology.setUnitCellDimensions(openmm.Vec3(edge, edge, edge) * unit.angstrom)
            system.setDefaultPeriodicBoxVectors(*topology.getPeriodicBoxVectors())
            minimised, _, e_after = minimise_positions(system, squeezed, recipe.minimize)
        return _write_outputs(RunFolder(staging), recipe, resolved, topology, system, minimised,
                              ff_files, edge, e_before, e_after, packing,
                              packed_s, time.perf_counter() - started)


def _composition_names(recipe: Recipe) -> list[str]:
    spec = recipe.composition
    if hasattr(spec, "counts"):
        return list(spec.counts)
    names = []
    for role in ("polymer", "solvent", "salt"):
        parts = getattr(spec, role, None)
        names += [parts] if isinstance(parts, str) else list(parts or [])
    anchor = getattr(spec, "anchor", None)
    return names + ([anchor.quantity] if anchor and anchor.quantity in recipe.polymers else [])


def _packing_order(counts: dict[str, int], components: dict[str, Component]):
    rank = {"polymer": 0, "solvent": 1, "salt": 2}
    return sorted(((n, c) for n, c in counts.items() if c > 0),
                  key=lambda item: rank[components[item[0]].role])


def _collect_forcefields(molecules, recipe: Recipe, folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    (folder / "gaff2.xml").write_text(gaff2_ffxml_text(recipe.forcefield.carbonyl_oxygen_lj))
    sources = {}
    for molecule in molecules:
        for species in molecule.species:
            if species.kind == "ion":
                target = folder / f"{ION_FFXML_NAMES[species.name]}.xml"
                target.write_text(ion_ffxml(ION_FFXML_NAMES[species.name],
                                            recipe.forcefield.ion_charge_scale,
                                            recipe.forcefield.li_model))
            else:
                source = species_ffxml(species)
                sources[f"{species.name.replace('/', '_')}.xml"] = source
    for name, source in sources.items():
        shutil.copyfile(source, folder / name)
    return sorted(folder.glob("*.xml"))


def _write_outputs(folder: RunFolder, recipe, resolved, topology, system, positions_angstrom, ff_files,
                   edge_angstrom, e_before, e_after, packing, packed_s, total_s) -> dict:
    positions = positions_angstrom * unit.angstrom
    with open(folder.topology_pdb, "w") as handle:
        app.PDBFile.writeFile(topology, positions, handle, keepIds=False)
    with open(folder.topology_cif, "w") as handle:
        app.PDBxFile.writeFile(topology, positions, handle)
    folder.system_xml.write_text(openmm.XmlSerializer.serialize(system))
    mass = resolved.total_mass_g_per_mol
    record = {
        "name": recipe.name,
        "description": recipe.description,
        "species_counts": resolved.counts,
        "composition_report": [asdict(row) for row in resolved.report],
        "residue_counts": _residue_counts(topology),
        "atoms": topology.getNumAtoms(),
        "box_edge_nm": edge_angstrom / 10.0,
        "density_g_per_cm3": density_g_per_cm3(mass, edge_angstrom ** 3),
        "packing": packing,
        "total_mass_g_per_mol": mass,
        "total_charge_e": round(total_charge_e(system), 9) + 0.0,
        "ion_charge_scale": recipe.forcefield.ion_charge_scale,
        "li_model": recipe.forcefield.li_model,
        "carbonyl_oxygen_lj": recipe.forcefield.carbonyl_oxygen_lj,
        "system_options": asdict(recipe.system),
        "potential_energy_kj_per_mol": {"packed": e_before, "minimised": e_after},
        "seeds": {"recipe": recipe.seed, "packmol": recipe.seed, "conformers": recipe.seed},
        "forcefield_files": {f.name: hashlib.sha256(f.read_bytes()).hexdigest()
                             for f in ff_files},
        "timings_s": {"until_packed": round(packed_s, 2), "total": round(total_s, 2)},
        "qsse_md_version": __version__,
        "openmm_version": openmm.__version__,
    }
    folder.recipe_record.write_text(json.dumps(recipe.source, indent=2, default=str) + "\n")
    folder.build_record.write_text(json.dumps(record, indent=2) + "\n")
    return record


def _residue_counts(topology) -> dict[str, int]:
    counts: dict[str, int] = {}
    for residue in topology.residues():
        counts[residue.name] = counts.get(residue.name, 0) + 1
    return counts


def _mass(mol) -> float:
    from rdkit.Chem import Descriptors

    return Descriptors.MolWt(mol)
