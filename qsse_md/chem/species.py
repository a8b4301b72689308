"""The species registry: every monomer, solvent, ion and salt of the reference study by name.

Names and SMILES follow the reference QSSE study (see ``shared/SCIENCE.md``). A user
SMILES is accepted wherever a name is (:func:`get_species`). Densities are experimental
liquid densities near 298 K (EC at 313 K, where it is liquid) from supplier data sheets
and the CRC Handbook; they seed packing and molarity arithmetic, never results.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors, rdMolDescriptors

SpeciesKind = Literal["monomer", "solvent", "ion", "salt"]


@dataclass(frozen=True)
class Species:
    """One chemical species.

    Attributes
    ----------
    name : str
        Registry name (e.g. ``"EC"``, ``"DOA"``, ``"LiPF6"``).
    smiles : str
        SMILES of the molecule; for a salt, the dot-separated ions.
    kind : {"monomer", "solvent", "ion", "salt"}
    residue_name : str
        Residue name in topologies, at most 3 characters (PDB limit).
    description : str
        Chemical name.
    density_g_per_cm3 : float or None
        Experimental liquid density in g/cm^3 (solvents), used to estimate volumes.
    ions : tuple of str
        For a salt, the registry names of its ions, cation first.
    """

    name: str
    smiles: str
    kind: SpeciesKind
    residue_name: str
    description: str
    density_g_per_cm3: float | None = None
    ions: tuple[str, ...] = ()

    @cached_property
    def mol(self) -> Chem.Mol:
        """RDKit molecule with explicit hydrogens."""
        return Chem.AddHs(parse_smiles(self.smiles))

    @property
    def formula(self) -> str:
        """Hill formula with charge, e.g. ``C3H4O3`` or ``F6P-``."""
        return rdMolDescriptors.CalcMolFormula(self.mol)

    @property
    def molar_mass_g_per_mol(self) -> float:
        """Average molar mass in g/mol."""
        return Descriptors.MolWt(self.mol)

    @property
    def charge_e(self) -> int:
        """Net formal charge in elementary charges."""
        return Chem.GetFormalCharge(self.mol)

    @property
    def atom_count(self) -> int:
        """Number of atoms including hydrogens."""
        return self.mol.GetNumAtoms()

    @property
    def canonical_smiles(self) -> str:
        """RDKit canonical SMILES (the cache key of force-field parameters)."""
        return Chem.MolToSmiles(parse_smiles(self.smiles))


def parse_smiles(smiles: str) -> Chem.Mol:
    """Parse ``smiles`` with RDKit, raising a one-line ValueError when it is not valid."""
    if not isinstance(smiles, str) or not smiles.strip():
        raise ValueError("empty SMILES: give a molecule such as 'O=C1OCCO1' (EC)")
    log_block = rdBase.BlockLogs()
    mol = Chem.MolFromSmiles(smiles, sanitize=True)
    del log_block
    if mol is None:
        raise ValueError(f"invalid SMILES '{smiles}': RDKit cannot parse it; check brackets, "
                         "ring closures and valences")
    return mol


def _registry() -> dict[str, Species]:
    monomers = [
        ("DOA", "C=CC(=O)OCC1COC(=O)O1", "DOA", "(2-oxo-1,3-dioxolan-4-yl)methyl acrylate"),
        ("PCEA", "C=CC(=O)OCCOC(=O)OCCC", "PCE", "2-((propoxycarbonyl)oxy)ethyl acrylate"),
        ("AEEO", "C=CC(=O)OCCOC(=O)C(=O)OCC", "AEE", "2-(acryloyloxy)ethyl ethyl oxalate"),
        ("AAPC", "C=CC(=O)NCCOC(=O)OCCC", "AAP", "2-acrylamidoethyl propyl carbonate"),
        ("AAEO", "C=CC(=O)NCCOC(=O)C(=O)OCC", "AAE", "2-acrylamidoethyl ethyl oxalate"),
        ("DOA-C4", "C=CC(=O)OCCCCC1COC(=O)O1", "DOB",
         "4-(2-oxo-1,3-dioxolan-4-yl)butyl acrylate (butylene-bridged DOA)"),
        ("PCEA-C4", "C=CC(=O)OCCCCOC(=O)OCCC", "PCB",
         "4-((propoxycarbonyl)oxy)butyl acrylate (butylene-bridged PCEA)"),
        ("AEEO-C4", "C=CC(=O)OCCCCOC(=O)C(=O)OCC", "AEB",
         "4-(acryloyloxy)butyl ethyl oxalate (butylene-bridged AEEO)"),
        ("VEC", "C=CC1COC(=O)O1", "VEC", "vinyl ethylene carbonate"),
        ("VC", "O=C1OC=CO1", "VC", "vinylene carbonate"),
        ("PEGMA", "C=C(C)C(=O)OCCOCCOCCOCCOC", "PEG",
         "poly(ethylene glycol) methyl ether methacrylate, n = 4 ethylene oxide units"),
    ]
    solvents = [
        ("EC", "O=C1OCCO1", "EC", "ethylene carbonate", 1.321),
        ("PC", "CC1COC(=O)O1", "PC", "propylene carbonate", 1.205),
        ("DMC", "COC(=O)OC", "DMC", "dimethyl carbonate", 1.069),
        ("DEC", "CCOC(=O)OCC", "DEC", "diethyl carbonate", 0.975),
        ("EMC", "CCOC(=O)OC", "EMC", "ethyl methyl carbonate", 1.006),
        ("FEC", "O=C1OCC(F)O1", "FEC", "fluoroethylene carbonate", 1.454),
        ("DOE", "CCOC(=O)C(=O)OCC", "DOE", "diethyl oxalate", 1.079),
        ("EP", "CCOC(=O)CC", "EP", "ethyl propionate", 0.888),
    ]
    ions = [
        ("Li+", "[Li+]", "LI", "lithium cation"),
        ("PF6-", "F[P-](F)(F)(F)(F)F", "PF6", "hexafluorophosphate anion"),
        ("TFSI-", "O=S(=O)([N-]S(=O)(=O)C(F)(F)F)C(F)(F)F", "TFS",
         "bis(trifluoromethanesulfonyl)imide anion"),
    ]
    salts = [
        ("LiPF6", ("Li+", "PF6-"), "lithium hexafluorophosphate"),
        ("LiTFSI", ("Li+", "TFSI-"), "lithium bis(trifluoromethanesulfonyl)imide"),
    ]
    table: dict[str, Species] = {}
    for name, smiles, resname, description in monomers:
        table[name] = Species(name, smiles, "monomer", resname, description)
    for name, smiles, resname, description, density in solvents:
        table[name] = Species(name, smiles, "solvent", resname, description, density)
    for name, smiles, resname, description in ions:
        table[name] = Species(name, smiles, "ion", resname, description)
    for name, ion_names, description in salts:
        smiles = ".".join(table[ion].smiles for ion in ion_names)
        table[name] = Species(name, smiles, "salt", "", description, ions=ion_names)
    return table


SPECIES: dict[str, Species] = _registry()


@lru_cache(maxsize=1)
def _registry_by_canonical_smiles() -> dict[str, Species]:
    """Registry species by their RDKit canonical SMILES."""
    return {species.canonical_smiles: species for species in SPECIES.values()}


def list_species(kind: SpeciesKind | None = None) -> list[Species]:
    """All registry species, optionally only those of one ``kind``."""
    return [s for s in SPECIES.values() if kind is None or s.kind == kind]


def get_species(name_or_smiles: str, kind: SpeciesKind | None = None) -> Species:
    """Look up a registry name (case-insensitive) or build a species from a SMILES.

    A SMILES of a registry molecule (same RDKit canonical SMILES, e.g. ``CCOC(=O)OCC``)
    gives that registry species (``DEC``).

    Parameters
    ----------
    name_or_smiles : str
        A registry name such as ``"EC"`` or a SMILES such as ``"C=CC(=O)OCCOC"``.
    kind : str, optional
        Kind given to a SMILES species (default: "monomer" if it has a C=C, else
        "solvent"); for a registry name it is checked.
    """
    by_upper = {key.upper(): value for key, value in SPECIES.items()}
    species = by_upper.get(str(name_or_smiles).upper())
    if species is None:
        try:
            mol = parse_smiles(name_or_smiles)
        except ValueError:
            raise ValueError(f"'{name_or_smiles}' is neither a known species "
                             f"({', '.join(SPECIES)}) nor a valid SMILES") from None
        species = _registry_by_canonical_smiles().get(Chem.MolToSmiles(mol))
    if species is None:
        has_vinyl = mol.HasSubstructMatch(Chem.MolFromSmarts("C=C"))
        species = Species(
            name=name_or_smiles,
            smiles=Chem.MolToSmiles(mol),
            kind=kind or ("monomer" if has_vinyl else "solvent"),
            residue_name="UNL",
            description="user SMILES",
        )
    if kind is not None and species.kind != kind:
        raise ValueError(f"species '{species.name}' is a {species.kind}, not a {kind}; "
                         f"choose one of: {', '.join(s.name for s in list_species(kind))}")
    return species

