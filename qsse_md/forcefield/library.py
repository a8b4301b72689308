"""Force-field files for species: the shipped library first, else parameterise and cache.

The shipped library (``forcefields/``) has RESP charges (HF/6-31G*, Bayly et al. 1993,
DOI 10.1021/j100142a004) on GAFF2 types for every registry solvent and monomer, and
published ion parameters. A molecule or monomer not in it is parameterised on demand with
AM1-BCC charges (the fast path) and cached on disk under
``$QSSE_MD_CACHE`` (default ``~/.cache/qsse_md``), keyed by canonical SMILES, charge
method and :data:`FORCEFIELD_VERSION`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from datetime import date
from pathlib import Path

import numpy as np

from qsse_md import __version__
from qsse_md.chem.conformer import embed
from qsse_md.chem.species import Species
from qsse_md.chem.polymer import build_segment
from qsse_md.forcefield.amber import gaff2_typing, merge_frcmod
from qsse_md.forcefield.ffxml import (COULOMB14_SCALE, LJ14_SCALE, MIXING_RULE,
                                      write_species_ffxml)
from qsse_md.forcefield.templates import (fitting_segment, molecule_residue, unit_atoms,
                                          unit_parameters)
from qsse_md.resources import forcefields_dir

FORCEFIELD_VERSION = "qsse-gaff2-1"
CHARGE_METHODS = ("am1bcc", "resp")
# Repeat units in the methyl-capped fitting oligomer: RESP pays an HF/6-31G* calculation
# that grows as N^3-N^4, so it fits one capped unit; AM1-BCC fits a capped trimer.
FIT_UNITS = {"resp": 1, "am1bcc": 3}


def cache_dir() -> Path:
    """Root of the on-disk parameter cache."""
    return Path(os.environ.get("QSSE_MD_CACHE", Path.home() / ".cache" / "qsse_md"))


def library_index() -> dict:
    """The shipped library index: canonical SMILES -> record with the file path."""
    path = forcefields_dir() / "index.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def template_prefix(species: Species) -> str:
    """Residue-template name prefix: the residue name, or a SMILES hash for user species."""
    if species.residue_name != "UNL":
        return species.residue_name
    return "U" + hashlib.sha1(species.canonical_smiles.encode()).hexdigest()[:5].upper()


def species_ffxml(species: Species) -> Path:
    """The ffxml file holding ``species``' residue templates (shipped, cached or new)."""
    record = library_index().get(f"{species.kind}:{species.canonical_smiles}")
    if record is not None:
        return forcefields_dir() / record["file"]
    key = hashlib.sha1(f"{FORCEFIELD_VERSION}|{species.kind}|am1bcc|"
                       f"{species.canonical_smiles}".encode()).hexdigest()[:16]
    path = cache_dir() / "forcefields" / FORCEFIELD_VERSION / key / "species.xml"
    if not path.is_file():
        parameterise(species, "am1bcc", path)
    return path


def parameterise(species: Species, charge_method: str, path: Path, seed: int = 0) -> dict:
    """Type ``species`` with GAFF2, fit charges, write its ffxml to ``path``; return provenance.

    Parameters
    ----------
    species : Species
        A solvent (or other small molecule) or a monomer (its repeat-unit templates).
    charge_method : {"am1bcc", "resp"}
        AM1-BCC through sqm, or two-stage RESP on a pyscf HF/6-31G* potential.
    path : Path
        Output ffxml; the parmchk2 ``.frcmod`` it includes and a ``.json`` provenance
        record are written beside it.
    seed : int
        Conformer seed.
    """
    if charge_method not in CHARGE_METHODS:
        raise ValueError(f"unknown charge method '{charge_method}': use one of {CHARGE_METHODS}")
    if species.kind in ("ion", "salt"):
        raise ValueError(f"{species.name} is an ion/salt: its parameters are the shipped "
                         "published ion force fields, not GAFF2")
    if species.kind == "monomer":
        segment = fitting_segment(species.name if species.residue_name != "UNL"
                                  else species.smiles, FIT_UNITS[charge_method])
        mol = embed(segment.mol, seed)
        groups = [unit_atoms(segment, u) for u in range(segment.n_units)]
        groups = [g[[segment.atom_role[a] != "cap" for a in g]] for g in groups]
        caps = np.flatnonzero(np.asarray(segment.atom_role) == "cap")
        head_cap = caps[segment.atom_unit[caps] == 0][:4]
        # The tail cap's neutrality follows from the total charge; constraining it too
        # would make the RESP constraint system singular.
        groups.append(head_cap)
    else:
        mol = embed(species.mol, seed)
        groups = []
    typing = gaff2_typing(mol, species.name, am1bcc=charge_method == "am1bcc")
    if charge_method == "resp":
        charges = _resp(mol, groups)
    else:
        charges = typing.charges_e
    prefix = template_prefix(species)
    frcmod = typing.frcmod
    if species.kind == "monomer":
        monomer = species.name if species.residue_name != "UNL" else species.smiles
        h_cap_types, junction_frcmods = _junction_typing(monomer, species.name, seed)
        frcmod = merge_frcmod([typing.frcmod, *junction_frcmods])
        residues = unit_parameters(segment, prefix, typing.atom_types, charges,
                                   h_cap_types).all_residues(monomer)
    else:
        residues = [molecule_residue(mol, prefix, typing.atom_types, charges)]
    provenance = {
        "species": species.name,
        "input_smiles": species.smiles,
        "canonical_smiles": species.canonical_smiles,
        "kind": species.kind,
        "atom_types": "GAFF2 (antechamber -at gaff2; parmchk2 -s 2)",
        "charges": ("two-stage RESP, HF/6-31G* ESP (pyscf, 6D d shells, RI-JK "
                    "def2-universal-JKFIT SCF), MSK grid"
                    if charge_method == "resp" else "AM1-BCC (sqm, no geometry optimisation)"),
        "fit_molecule": (f"methyl-capped {FIT_UNITS[charge_method]}-mer, each unit and cap "
                         "neutral" if species.kind == "monomer" else "the molecule"),
        "conformer": f"RDKit ETKDGv3 + MMFF94, seed {seed}",
        "mixing_rule": MIXING_RULE,
        "coulomb14scale": COULOMB14_SCALE,
        "lj14scale": LJ14_SCALE,
        "forcefield_version": FORCEFIELD_VERSION,
        "tool_versions": {**typing.versions, "qsse_md": __version__,
                          "python": platform.python_version(), **_versions()},
        "date": date.today().isoformat(),
    }
    write_species_ffxml(path, residues, frcmod, provenance)
    path.with_suffix(".frcmod").write_text(frcmod)
    path.with_suffix(".json").write_text(json.dumps(provenance, indent=2) + "\n")
    return provenance


def _junction_typing(monomer: str, name: str, seed: int) -> tuple[dict, list[str]]:
    """GAFF2 types of H caps and the parmchk2 terms of unit-unit and unit-cap junctions.

    Typed on an H-capped and a methyl-capped trimer, so that every bonded term a segment
    of any length can contain (head-middle-tail junctions, either cap) has parameters.
    """
    frcmods, h_cap_types = [], {}
    for caps in (("H", "H"), ("methyl", "methyl")):
        trimer = build_segment(monomer, 3, tacticity="isotactic", caps=caps)
        typing = gaff2_typing(embed(trimer.mol, seed), name, am1bcc=False)
        frcmods.append(typing.frcmod)
        if caps == ("H", "H"):
            cap_atoms = np.flatnonzero(np.asarray(trimer.atom_role) == "cap")
            for atom in cap_atoms:
                side = "head" if trimer.atom_unit[atom] == 0 else "tail"
                h_cap_types[side] = typing.atom_types[atom]
    return h_cap_types, frcmods


def _resp(mol, groups) -> np.ndarray:
    from qsse_md.forcefield.esp import esp_for_molecule
    from qsse_md.forcefield.resp import resp_charges

    from rdkit import Chem

    total = Chem.GetFormalCharge(mol)
    points, esp = esp_for_molecule(mol, total, density_fitting=True)
    return resp_charges(mol, points, esp, total,
                        charge_groups=[(tuple(int(i) for i in g), 0.0) for g in groups])


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("rdkit", "parmed", "openmm", "pyscf"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found
