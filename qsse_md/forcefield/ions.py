"""Published ion force fields (Li+, PF6-, TFSI-) as OpenMM ffxml, with explicit charge scaling.

The parameters are data, in the units of their sources, in
``forcefields/ions/ion_parameters.toml`` (each set names its paper, DOI and the public file
it was read from). This module converts them to OpenMM ffxml that loads into one
:class:`openmm.app.ForceField` together with the package's GAFF2 files:

- lengths Å -> nm, bond k in kJ/mol/Å² (E = k/2 (r - r0)², CL&P il.ff convention) -> kJ/mol/nm²,
  angles deg -> rad (k in kJ/mol/rad², same k/2 form), epsilon kcal/mol -> kJ/mol (x 4.184);
- OPLS torsions V1..V4 (kJ/mol) -> periodic terms k_n = V_n / 2, phase 0 (n odd) or pi (n even);
- the NonbondedForce uses GAFF2's 1-4 scales (Coulomb 5/6, LJ 1/2) and per-residue charges
  (``UseAttributeFromResidue``), because OpenMM allows one pair of 1-4 scales per system;
- OpenMM mixes LJ by Lorentz-Berthelot; the sources were fitted with geometric mixing.

Every atom type is prefixed ``qsse_`` so it cannot collide with a GAFF2 type. Residues: ``LI``
(atom ``LI``), ``PF6`` (``P1``, ``F1``..``F6``), ``TFSI`` (``N1``, ``S1``, ``S2``, ``O1``..``O4``,
``C1``, ``C2``, ``F1``..``F6``). The two Li+ models both define residue ``LI``: load one of
``LI.xml`` (Jensen & Jorgensen 2006, doi:10.1021/ct600252r, the default) or
``LI_aqvist1990.xml`` (Åqvist 1990, doi:10.1021/j100384a009, as in OPLS-AA).
"""

from __future__ import annotations

import math
import os
import tempfile
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from openmm import unit
from openmm.app import element as openmm_element

from qsse_md.fileio import read_toml
from qsse_md.resources import forcefields_dir
from qsse_md.units import KCAL_KJ, NM_PER_ANGSTROM

ION_CHARGES_E = {"LI": 1, "PF6": -1, "TFSI": -1}
LI_MODELS = ("jensen2006", "aqvist1990")
DEFAULT_LI_MODEL = "jensen2006"
# The ion model every recipe gets unless its [forcefield] table says otherwise: charges x 0.8
# (electronic continuum correction, doi:10.1039/c0cp01971b), chosen by
# benchmarks/reference_study.py (README "Validation", PROVENANCE.md "Default ion model").
DEFAULT_ION_CHARGE_SCALE = 0.8
GAFF2_COULOMB14_SCALE = 0.8333333333333334
GAFF2_LJ14_SCALE = 0.5
ION_PARAMETER_FILE = "ion_parameters.toml"
# (ion, li_model) of each shipped file; li_model matters for "LI" only.
LIBRARY = (("LI", "jensen2006"), ("LI", "aqvist1990"), ("PF6", DEFAULT_LI_MODEL), ("TFSI", DEFAULT_LI_MODEL))

_ANGSTROM2_PER_NM2 = 100.0
_TORSION_SIGNS = (1, -1, 1, -1)  # OPLS: V1 (1+cos), V2 (1-cos 2phi), V3 (1+cos 3phi), V4 (1-cos 4phi)


class IonAtom(NamedTuple):
    """One atom of an ion template in OpenMM units (charge e, sigma nm, epsilon kJ/mol)."""

    name: str
    atom_type: str
    element: str
    charge_e: float
    sigma_nm: float
    epsilon_kj_per_mol: float


@lru_cache(maxsize=1)
def _parameter_sets() -> dict:
    """All parameter sets of ``ion_parameters.toml``, keyed by set id (e.g. ``LI_jensen2006``)."""
    return read_toml(forcefields_dir() / "ions" / ION_PARAMETER_FILE, "ion parameter table")


def _parameter_set(name: str, li_model: str) -> dict:
    if name not in ION_CHARGES_E:
        raise ValueError(f"unknown ion '{name}'; choose one of {sorted(ION_CHARGES_E)}")
    if name != "LI":
        return _parameter_sets()[name]
    if li_model not in LI_MODELS:
        raise ValueError(f"unknown Li+ model '{li_model}'; choose one of {list(LI_MODELS)}")
    return _parameter_sets()[f"LI_{li_model}"]


def _check_charge_scale(charge_scale: float) -> float:
    scale = float(charge_scale)
    if not 0.0 < scale <= 1.0:
        raise ValueError(f"charge_scale must satisfy 0 < scale <= 1 (e.g. 0.8), got {charge_scale!r}")
    return scale


def _epsilon_kj_per_mol(type_entry: dict) -> float:
    if "epsilon_kcal_per_mol" in type_entry:
        return type_entry["epsilon_kcal_per_mol"] * KCAL_KJ
    return type_entry["epsilon_kj_per_mol"]


def _mass_dalton(symbol: str) -> float:
    return openmm_element.Element.getBySymbol(symbol).mass.value_in_unit(unit.dalton)


def _number(value: float) -> str:
    """Text of a float for the ffxml: 15 significant digits, so 2.87 * 0.1 prints as 0.287."""
    return f"{value:.15g}"


def opls_torsion_to_periodic(v_kj_per_mol) -> list[tuple[int, float, float]]:
    """Convert OPLS Fourier coefficients to OpenMM periodic torsion terms.

    Parameters
    ----------
    v_kj_per_mol : sequence of 4 float
        V1..V4 in kJ/mol of E = sum_n V_n/2 [1 + (-1)^(n+1) cos(n phi)].

    Returns
    -------
    list of (periodicity, phase_rad, k_kj_per_mol)
        Terms k (1 + cos(n phi - phase)) reproducing E exactly; zero V_n are left out.
    """
    return [(n, 0.0 if sign > 0 else math.pi, v / 2.0)
            for n, (v, sign) in enumerate(zip(v_kj_per_mol, _TORSION_SIGNS), start=1) if v != 0.0]


def ion_atoms(name: str, charge_scale: float = 1.0, li_model: str = DEFAULT_LI_MODEL) -> list[IonAtom]:
    """Template atoms of ion ``name`` ("LI", "PF6", "TFSI") in OpenMM units.

    Charges (e) are multiplied by ``charge_scale``; sigma is in nm and epsilon in kJ/mol.
    """
    scale = _check_charge_scale(charge_scale)
    pset = _parameter_set(name, li_model)
    atoms = []
    for atom in pset["atoms"]:
        type_entry = pset["types"][atom["type"]]
        atoms.append(IonAtom(atom["name"], atom["type"], type_entry["element"], atom["charge_e"] * scale,
                             type_entry["sigma_angstrom"] * NM_PER_ANGSTROM, _epsilon_kj_per_mol(type_entry)))
    return atoms


def ion_molar_mass_g_per_mol(name: str) -> float:
    """Molar mass of ion ``name`` in g/mol from OpenMM's standard atomic weights."""
    return sum(_mass_dalton(atom.element) for atom in ion_atoms(name))


def ion_ffxml_filename(name: str, li_model: str = DEFAULT_LI_MODEL) -> str:
    """File name of the shipped ffxml: ``LI.xml`` (jensen2006), ``LI_aqvist1990.xml``, ``PF6.xml``, ``TFSI.xml``."""
    _parameter_set(name, li_model)
    return f"LI_{li_model}.xml" if name == "LI" and li_model != DEFAULT_LI_MODEL else f"{name}.xml"


def ion_ffxml_path(name: str, li_model: str = DEFAULT_LI_MODEL) -> Path:
    """Path of the shipped, unscaled ffxml of ion ``name`` under ``forcefields/ions/``."""
    return forcefields_dir() / "ions" / ion_ffxml_filename(name, li_model)


def ion_ffxml(name: str, charge_scale: float = 1.0, li_model: str = DEFAULT_LI_MODEL) -> str:
    """OpenMM ffxml text for one ion, every charge multiplied by ``charge_scale``.

    Parameters
    ----------
    name : {"LI", "PF6", "TFSI"}
    charge_scale : float
        Ionic charge scaling, 0 < scale <= 1 (e.g. 0.8 to mimic polarisation); recorded in
        the file's ``<Info>``.
    li_model : {"jensen2006", "aqvist1990"}
        Li+ Lennard-Jones model, used only for ``name="LI"``.

    Returns
    -------
    str
        ffxml with GAFF2-compatible NonbondedForce (1-4 scales 5/6 and 1/2, per-residue
        charges), types prefixed ``qsse_``; load it alone or with GAFF2 files, e.g.
        ``ForceField(io.StringIO(text))``.
    """
    atoms = ion_atoms(name, charge_scale, li_model)
    pset = _parameter_set(name, li_model)
    scale_text = _number(_check_charge_scale(charge_scale))
    root = ET.Element("ForceField")
    root.append(ET.Comment(f" qsse_md ion force field: {pset['title']}; charge scale "
                           f"{scale_text}; generated by qsse_md.forcefield.ions "
                           "from forcefields/ions/ion_parameters.toml; see PROVENANCE.md "))
    info = ET.SubElement(root, "Info")
    ET.SubElement(info, "Source").text = pset["read_from"]
    for reference in pset["references"]:
        ET.SubElement(info, "Reference").text = reference
    ET.SubElement(info, "ChargeScale").text = scale_text
    ET.SubElement(info, "MixingRule").text = (
        f"published: {pset['mixing_rule_published']}; applied by OpenMM: Lorentz-Berthelot")
    ET.SubElement(info, "Scaling14").text = (
        f"published: {pset['scale14_published']}; applied: coulomb {GAFF2_COULOMB14_SCALE}, "
        f"LJ {GAFF2_LJ14_SCALE} (GAFF2, one NonbondedForce per system)")

    atom_types = ET.SubElement(root, "AtomTypes")
    for type_name, entry in pset["types"].items():
        ET.SubElement(atom_types, "Type", name=type_name, attrib={"class": type_name},
                      element=entry["element"], mass=_number(_mass_dalton(entry["element"])))
    residue = ET.SubElement(ET.SubElement(root, "Residues"), "Residue", name=pset["residue"])
    for atom in atoms:
        ET.SubElement(residue, "Atom", name=atom.name, type=atom.atom_type, charge=_number(atom.charge_e))
    for atom_name1, atom_name2 in pset.get("bonds", []):
        ET.SubElement(residue, "Bond", atomName1=atom_name1, atomName2=atom_name2)

    if "bond_types" in pset:
        bond_force = ET.SubElement(root, "HarmonicBondForce")
        for bond in pset["bond_types"]:
            ET.SubElement(bond_force, "Bond", class1=bond["types"][0], class2=bond["types"][1],
                          length=_number(bond["r0_angstrom"] * NM_PER_ANGSTROM),
                          k=_number(bond["k_kj_per_mol_per_angstrom2"] * _ANGSTROM2_PER_NM2))
    _add_angles(root, pset.get("angle_types", []))
    if "dihedral_types" in pset:
        torsion_force = ET.SubElement(root, "PeriodicTorsionForce")
        for dihedral in pset["dihedral_types"]:
            attrib = {f"class{i}": t for i, t in enumerate(dihedral["types"], start=1)}
            for i, (n, phase, k) in enumerate(opls_torsion_to_periodic(dihedral["opls_v_kj_per_mol"]), start=1):
                attrib |= {f"periodicity{i}": str(n), f"phase{i}": _number(phase), f"k{i}": _number(k)}
            ET.SubElement(torsion_force, "Proper", attrib)

    nonbonded = ET.SubElement(root, "NonbondedForce", coulomb14scale=repr(GAFF2_COULOMB14_SCALE),
                              lj14scale=repr(GAFF2_LJ14_SCALE))
    ET.SubElement(nonbonded, "UseAttributeFromResidue", name="charge")
    for type_name, entry in pset["types"].items():
        ET.SubElement(nonbonded, "Atom", type=type_name,
                      sigma=_number(entry["sigma_angstrom"] * NM_PER_ANGSTROM),
                      epsilon=_number(_epsilon_kj_per_mol(entry)))
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"


def _add_angles(root: ET.Element, angle_types: list[dict]) -> None:
    """Harmonic angles; angles with a cis/trans boundary (PF6-) go to a CustomAngleForce."""
    harmonic = [a for a in angle_types if "cis_trans_boundary_deg" not in a]
    cis_only = [a for a in angle_types if "cis_trans_boundary_deg" in a]
    if harmonic:
        force = ET.SubElement(root, "HarmonicAngleForce")
        for angle in harmonic:
            ET.SubElement(force, "Angle", class1=angle["types"][0], class2=angle["types"][1],
                          class3=angle["types"][2], angle=_number(math.radians(angle["theta0_deg"])),
                          k=_number(angle["k_kj_per_mol_per_rad2"]))
    if cis_only:
        force = ET.SubElement(root, "CustomAngleForce",
                              energy="step(theta_cis_max - theta)*0.5*k*(theta - theta0)^2")
        for parameter in ("k", "theta0", "theta_cis_max"):
            ET.SubElement(force, "PerAngleParameter", name=parameter)
        for angle in cis_only:
            ET.SubElement(force, "Angle", class1=angle["types"][0], class2=angle["types"][1],
                          class3=angle["types"][2], k=_number(angle["k_kj_per_mol_per_rad2"]),
                          theta0=_number(math.radians(angle["theta0_deg"])),
                          theta_cis_max=_number(math.radians(angle["cis_trans_boundary_deg"])))


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def ion_provenance_markdown() -> str:
    """Text of ``forcefields/ions/PROVENANCE.md``: per ion source, DOI, values, conversions."""
    lines = ["# Ion force fields: provenance", "",
             "Generated by `qsse_md.forcefield.ions.write_ion_library` from `ion_parameters.toml`;",
             "regenerate rather than edit. Files: " + ", ".join(
                 f"`{ion_ffxml_filename(n, m)}`" for n, m in LIBRARY)
             + " (both Li+ files define residue `LI`: load exactly one).", "",
             _parameter_sets()["library"]["conventions_markdown"],
             f"## Default ion model: charges x {_number(DEFAULT_ION_CHARGE_SCALE)}, Li+ `{DEFAULT_LI_MODEL}`", "",
             _parameter_sets()["library"]["default_model_markdown"]]
    for name, li_model in LIBRARY:
        pset = _parameter_set(name, li_model)
        lines += [f"## `{ion_ffxml_filename(name, li_model)}`: {pset['title']}", ""]
        lines += [f"- Reference: {ref}" for ref in pset["references"]]
        lines += [f"- Read from: {pset['read_from']}"]
        lines += [f"- Why this model: {pset['why_chosen']}"] if "why_chosen" in pset else []
        lines += [f"- Published mixing rule: {pset['mixing_rule_published']}; published 1-4 "
                  f"scaling: {pset['scale14_published']}.", ""]
        lines += _table(["type", "sigma / Å", "epsilon (source)", "sigma / nm", "epsilon / kJ mol-1"],
                        [[t, e["sigma_angstrom"], f"{e['epsilon_kcal_per_mol']} kcal/mol" if
                          "epsilon_kcal_per_mol" in e else f"{e['epsilon_kj_per_mol']} kJ/mol",
                          _number(e["sigma_angstrom"] * NM_PER_ANGSTROM), _number(_epsilon_kj_per_mol(e))]
                         for t, e in pset["types"].items()]) + [""]
        lines += _table(["atom", "type", "charge / e"], [[a["name"], a["type"], a["charge_e"]]
                                                          for a in pset["atoms"]]) + [""]
        if "bond_types" in pset:
            lines += _table(["bond", "r0 / Å", "k / kJ mol-1 Å-2", "r0 / nm", "k / kJ mol-1 nm-2"],
                            [["-".join(b["types"]), b["r0_angstrom"], b["k_kj_per_mol_per_angstrom2"],
                              _number(b["r0_angstrom"] * NM_PER_ANGSTROM),
                              _number(b["k_kj_per_mol_per_angstrom2"] * _ANGSTROM2_PER_NM2)]
                             for b in pset["bond_types"]]) + [""]
        if "angle_types" in pset:
            lines += _table(["angle", "theta0 / deg", "k / kJ mol-1 rad-2", "theta0 / rad"],
                            [["-".join(a["types"]), a["theta0_deg"], a["k_kj_per_mol_per_rad2"],
                              _number(math.radians(a["theta0_deg"]))] for a in pset["angle_types"]]) + [""]
        if "dihedral_types" in pset:
            lines += _table(["torsion", "OPLS V1..V4 / kJ mol-1", "OpenMM terms (n, phase / rad, k / kJ mol-1)"],
                            [["-".join(d["types"]), d["opls_v_kj_per_mol"],
                              "; ".join(f"({n}, {_number(p)}, {_number(k)})"
                                        for n, p, k in opls_torsion_to_periodic(d["opls_v_kj_per_mol"]))]
                             for d in pset["dihedral_types"]]) + [""]
    return "\n".join(lines)


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def write_ion_library(folder: str | os.PathLike) -> list[Path]:
    """Write the unscaled ion ffxml files and ``PROVENANCE.md`` into ``folder``.

    Files: ``LI.xml`` (Jensen & Jorgensen 2006), ``LI_aqvist1990.xml``, ``PF6.xml``,
    ``TFSI.xml`` and ``PROVENANCE.md``; each is written to a temporary name and renamed.

    Returns
    -------
    list of Path
        The written files, in that order.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, li_model in LIBRARY:
        path = folder / ion_ffxml_filename(name, li_model)
        _write_atomically(path, ion_ffxml(name, 1.0, li_model))
        written.append(path)
    written.append(folder / "PROVENANCE.md")
    _write_atomically(written[-1], ion_provenance_markdown())
    return written
