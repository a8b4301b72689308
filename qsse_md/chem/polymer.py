"""Head-to-tail polymer segments of vinyl monomers (acrylates, acrylamides, methacrylates).

A segment ``cap-[CH2-C(R)(X)]n-cap`` is assembled atom by atom from the monomers' RDKit
graphs: the polymerisable C=C of each monomer becomes a single bond, the beta carbon of
unit ``i`` bonds to the alpha (CH2) carbon of unit ``i+1``, and the chain ends get H or
methyl caps. Every atom keeps its repeat-unit index, its role (``backbone``,
``side_chain`` or ``cap``) and its index inside the monomer, so each repeat unit becomes
one residue in the topology and residue templates can be matched atom by atom.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
from rdkit import Chem

from qsse_md.chem.species import Species, get_species

Tacticity = Literal["atactic", "isotactic", "syndiotactic"]
Cap = Literal["H", "methyl"]
CAPS: tuple[str, ...] = ("H", "methyl")


@dataclass(frozen=True)
class VinylSite:
    """The polymerisable C=C of a monomer: ``alpha`` (head, CH2=) and ``beta`` atom indices."""

    alpha: int
    beta: int


def monomer_graph(species: Species) -> Chem.Mol:
    """Explicit-H, kekulized molecule of a monomer.

    Kekulized because RDKit calls some monomer rings aromatic (vinylene carbonate), which
    would hide their C=C.
    """
    mol = Chem.Mol(species.mol)
    Chem.Kekulize(mol, clearAromaticFlags=True)
    return mol


def vinyl_site(monomer: Chem.Mol, name: str = "monomer") -> VinylSite:
    """Find the single polymerisable C=C of ``monomer`` (explicit-H, kekulized RDKit molecule).

    Raises
    ------
    ValueError
        If the monomer has no or more than one non-aromatic C=C double bond.
    """
    double_bonds = [
        bond for bond in monomer.GetBonds()
        if bond.GetBondType() == Chem.BondType.DOUBLE and not bond.GetIsAromatic()
        and bond.GetBeginAtom().GetSymbol() == "C" and bond.GetEndAtom().GetSymbol() == "C"
    ]
    if len(double_bonds) != 1:
        raise ValueError(
            f"monomer '{name}' has {len(double_bonds)} polymerisable C=C bonds; a vinyl "
            "monomer for a linear segment needs exactly one (use a mono-functional acrylate)")
    first, second = double_bonds[0].GetBeginAtom(), double_bonds[0].GetEndAtom()
    if second.GetTotalNumHs(includeNeighbors=True) > first.GetTotalNumHs(includeNeighbors=True):
        first, second = second, first
    return VinylSite(alpha=first.GetIdx(), beta=second.GetIdx())


@dataclass(frozen=True)
class Segment:
    """A polymer segment with per-atom repeat-unit bookkeeping.

    Attributes
    ----------
    mol : rdkit.Chem.Mol
        Explicit-H molecule (no conformer until :func:`qsse_md.chem.conformer.embed`).
    monomers : tuple of Species
        Monomer of each repeat unit, head to tail.
    atom_unit : numpy.ndarray of int, shape (n_atoms,)
        Repeat-unit index of each atom; cap atoms carry the index of the unit they cap.
    atom_role : tuple of str
        ``"backbone"``, ``"side_chain"`` or ``"cap"`` for each atom.
    atom_monomer_index : numpy.ndarray of int, shape (n_atoms,)
        Index of the atom in its monomer's explicit-H graph; head-cap atoms count on
        from the monomer's atom count ``m`` (``m, m+1, ...``), tail-cap atoms from ``m+4``.
    caps : tuple of str
        Head and tail cap ("H" or "methyl").
    """

    mol: Chem.Mol
    monomers: tuple[Species, ...]
    atom_unit: np.ndarray
    atom_role: tuple[str, ...]
    atom_monomer_index: np.ndarray
    caps: tuple[str, str]

    @property
    def n_units(self) -> int:
        """Number of repeat units."""
        return len(self.monomers)

    def unit_position(self, unit: int) -> str:
        """Template position of ``unit``: ``"head"``, ``"middle"``, ``"tail"`` or ``"single"``."""
        if self.n_units == 1:
            return "single"
        return "head" if unit == 0 else "tail" if unit == self.n_units - 1 else "middle"


def monomer_sequence(
    monomers: Sequence[str],
    n_units: int,
    sequence: str | Sequence[str] = "alternating",
    ratio: Sequence[float] | None = None,
    seed: int = 0,
) -> list[str]:
    """The monomer name of each repeat unit.

    Parameters
    ----------
    monomers : sequence of str
        Registry names or SMILES of the distinct monomers.
    n_units : int
        Number of repeat units.
    sequence : {"alternating", "random", "block"} or sequence of str
        Arrangement for copolymers, or the explicit monomer of every unit.
    ratio : sequence of float, optional
        Molar ratio of the monomers for "random" and "block" (default equal).
    seed : int
        Random seed for "random".
    """
    if n_units < 1:
        raise ValueError(f"n_units must be at least 1, got {n_units}")
    if not monomers:
        raise ValueError("no monomer given: name at least one, e.g. ['DOA']")
    if not isinstance(sequence, str):
        explicit = list(sequence)
        if len(explicit) != n_units or not set(explicit) <= set(monomers):
            raise ValueError(f"explicit sequence must list {n_units} units drawn from "
                             f"{list(monomers)}, got {explicit}")
        return explicit
    weights = np.asarray(ratio if ratio is not None else [1.0] * len(monomers), float)
    if weights.shape != (len(monomers),) or np.any(weights <= 0):
        raise ValueError(f"ratio needs one positive number per monomer {list(monomers)}")
    weights = weights / weights.sum()
    if sequence == "alternating":
        return [monomers[i % len(monomers)] for i in range(n_units)]
    if sequence == "random":
        picks = np.random.default_rng(seed).choice(len(monomers), size=n_units, p=weights)
        return [monomers[i] for i in picks]
    if sequence == "block":
        bounds = np.rint(np.cumsum(weights) * n_units).astype(int)
        return [monomers[int(np.searchsorted(bounds, i, side="right"))] for i in range(n_units)]
    raise ValueError(f"unknown sequence '{sequence}': use alternating, random, block "
                     "or an explicit list of monomer names")


def build_segment(
    monomers: Sequence[str] | str,
    n_units: int = 6,
    sequence: str | Sequence[str] = "alternating",
    ratio: Sequence[float] | None = None,
    tacticity: Tacticity = "atactic",
    caps: tuple[Cap, Cap] = ("methyl", "methyl"),
    seed: int = 0,
) -> Segment:
    """Build a head-to-tail segment of ``n_units`` repeat units.

    Parameters
    ----------
    monomers : str or sequence of str
        Registry names or SMILES of the monomers (one for a homopolymer).
    n_units : int
        Degree of polymerisation (the reference study uses hexamers, 6).
    sequence, ratio :
        Copolymer arrangement, see :func:`monomer_sequence`.
    tacticity : {"atactic", "isotactic", "syndiotactic"}
        Relative configuration of the side-chain-bearing backbone carbons; atactic
        draws each at random from ``seed``.
    caps : (str, str)
        Head and tail end groups, "H" or "methyl".
    seed : int
        Seed for the random sequence and the atactic configurations.
    """
    names = [monomers] if isinstance(monomers, str) else list(monomers)
    for cap in caps:
        if cap not in CAPS:
            raise ValueError(f"unknown cap '{cap}': use one of {CAPS}")
    if tacticity not in ("atactic", "isotactic", "syndiotactic"):
        raise ValueError(f"unknown tacticity '{tacticity}': use atactic, isotactic or "
                         "syndiotactic")
    species = {name: get_species(name) for name in names}
    graphs = {name: monomer_graph(sp) for name, sp in species.items()}
    sites = {name: vinyl_site(graphs[name], sp.name) for name, sp in species.items()}
    order = monomer_sequence(names, n_units, sequence, ratio, seed)

    rw = Chem.RWMol()
    atom_unit: list[int] = []
    atom_role: list[str] = []
    atom_monomer_index: list[int] = []
    alphas, betas = [], []
    for unit, name in enumerate(order):
        monomer, site = graphs[name], sites[name]
        offset = rw.GetNumAtoms()
        for atom in monomer.GetAtoms():
            new = Chem.Atom(atom.GetAtomicNum())
            new.SetFormalCharge(atom.GetFormalCharge())
            new.SetNoImplicit(True)
            rw.AddAtom(new)
            atom_unit.append(unit)
            atom_monomer_index.append(atom.GetIdx())
            on_backbone = atom.GetIdx() in (site.alpha, site.beta) or (
                atom.GetAtomicNum() == 1
                and atom.GetNeighbors()[0].GetIdx() in (site.alpha, site.beta))
            atom_role.append("backbone" if on_backbone else "side_chain")
        for bond in monomer.GetBonds():
            bond_type = bond.GetBondType()
            if {bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()} == {site.alpha, site.beta}:
                bond_type = Chem.BondType.SINGLE
            rw.AddBond(offset + bond.GetBeginAtomIdx(), offset + bond.GetEndAtomIdx(), bond_type)
        if betas:
            rw.AddBond(betas[-1], offset + site.alpha, Chem.BondType.SINGLE)
        alphas.append(offset + site.alpha)
        betas.append(offset + site.beta)

    for end, (cap, anchor) in enumerate(zip(caps, (alphas[0], betas[-1]))):
        unit = 0 if end == 0 else n_units - 1
        first_cap_index = species[order[unit]].mol.GetNumAtoms() + 4 * end
        for offset, atomic_number in enumerate([1] if cap == "H" else [6, 1, 1, 1]):
            idx = rw.AddAtom(_explicit_atom(atomic_number))
            rw.AddBond(anchor if offset == 0 else idx - offset, idx, Chem.BondType.SINGLE)
            atom_unit.append(unit)
            atom_role.append("cap")
            atom_monomer_index.append(first_cap_index + offset)

    mol = rw.GetMol()
    Chem.SanitizeMol(mol)
    _assign_tacticity(mol, betas, tacticity, seed)
    return Segment(mol, tuple(species[n] for n in order), np.asarray(atom_unit),
                   tuple(atom_role), np.asarray(atom_monomer_index), tuple(caps))


def _explicit_atom(atomic_number: int) -> Chem.Atom:
    atom = Chem.Atom(atomic_number)
    atom.SetNoImplicit(True)
    return atom


def _assign_tacticity(mol: Chem.Mol, betas: list[int], tacticity: str, seed: int) -> None:
    """Set chiral tags on the beta carbons.

    Every unit is assembled in the same atom and bond order, so one tag means one
    configuration relative to the chain direction: equal tags give an isotactic chain,
    alternating tags a syndiotactic one.
    """
    tags = (Chem.ChiralType.CHI_TETRAHEDRAL_CW, Chem.ChiralType.CHI_TETRAHEDRAL_CCW)
    rng = np.random.default_rng(seed)
    for position, beta in enumerate(betas):
        if tacticity == "isotactic":
            choice = 0
        elif tacticity == "syndiotactic":
            choice = position % 2
        else:
            choice = int(rng.integers(2))
        mol.GetAtomWithIdx(beta).SetChiralTag(tags[choice])
    Chem.AssignStereochemistry(mol, cleanIt=True, force=True)
