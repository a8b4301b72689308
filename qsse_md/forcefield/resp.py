"""Two-stage restrained electrostatic potential (RESP) charges.

Atom-centred charges that reproduce a quantum-mechanical electrostatic potential under
a hyperbolic restraint toward zero on the non-hydrogen atoms (Bayly, Cieplak, Cornell &
Kollman 1993, DOI 10.1021/j100142a004). The fit follows the AmberTools ``resp``
program with the inputs ``respgen -f resp1`` / ``-f resp2`` write:

* stage 1: restraint weight a = 0.0005, topologically equivalent atoms share one
  charge, except methyl and methylene carbons and their hydrogens, which are free;
* stage 2: restraint weight a = 0.001, only the methyl/methylene carbons and their
  hydrogens are refitted, with equivalent atoms sharing one charge; every other atom
  is frozen at its stage-1 charge.

Both stages use the hyperbola half-width b = 0.1 e, leave hydrogens unrestrained
(``resp``'s ``ihfree = 1``), and keep the total charge and any charge groups exact
through Lagrange multipliers. The nonlinear restraint is solved by the fixed-point
iteration of ``resp``: the restraint derivative a q / sqrt(q^2 + b^2) is linearised
with the previous charges until they stop changing.

Internally, as in ``resp``, lengths are in bohr and potentials in hartree/e, so the
restraint weights carry ``resp``'s atomic-unit meaning; charges are in e.
"""

import numpy as np
import scipy.linalg

from qsse_md.units import BOHR_ANGSTROM

# Hyperbolic restraint weights a, in the atomic units of resp's qwt.
STAGE1_RESTRAINT_WEIGHT = 0.0005
STAGE2_RESTRAINT_WEIGHT = 0.001
RESTRAINT_HALF_WIDTH_E = 0.1

_CONVERGENCE_E = 1e-10
_MAX_ITERATIONS = 200
_CONSTRAINT_TOLERANCE_E = 1e-8


def _validated_charge_groups(charge_groups, n_atoms):
    """(rows, targets): a 0/1 (G, n_atoms) membership matrix and the G target charges in e."""
    rows = np.zeros((len(charge_groups), n_atoms))
    targets = np.zeros(len(charge_groups))
    for group, entry in enumerate(charge_groups):
        try:
            atom_indices, target = entry
        except (TypeError, ValueError):
            raise ValueError(
                f"charge_groups[{group}] must be an (atom_indices, target_charge_e) pair"
            ) from None
        indices = np.asarray(atom_indices)
        if indices.ndim != 1 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(f"charge_groups[{group}] needs a non-empty sequence of atom indices")
        if indices.min() < 0 or indices.max() >= n_atoms:
            raise ValueError(f"charge_groups[{group}] has atom indices outside 0..{n_atoms - 1}")
        if len(set(indices.tolist())) != indices.size:
            raise ValueError(f"charge_groups[{group}] lists an atom more than once")
        overlap = np.flatnonzero(rows[:, indices].any(axis=1))
        if overlap.size:
            raise ValueError(f"charge_groups[{group}] overlaps charge_groups[{overlap[0]}]")
        rows[group, indices] = 1.0
        targets[group] = float(target)
    return rows, targets


def _first_equivalent_atom(mol):
    """Index of the lowest-numbered topologically equivalent atom, for every atom.

    Equivalence is symmetry of the element-labelled bond graph, blind to bond orders,
    formal charges and stereochemistry, as ``respgen``'s default atomic-path rule
    (``-e 1``) assigns it; so resonance partners such as the two carboxylate oxygens
    share a charge.
    """
    from rdkit import Chem

    skeleton = Chem.RWMol()
    for atom in mol.GetAtoms():
        bare = Chem.Atom(atom.GetAtomicNum())
        bare.SetNoImplicit(True)
        skeleton.AddAtom(bare)
    for bond in mol.GetBonds():
        skeleton.AddBond(bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), Chem.BondType.SINGLE)
    skeleton.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(skeleton)
    ranks = Chem.CanonicalRankAtoms(skeleton, breakTies=False, includeChirality=False)
    first_of_rank = {}
    return np.array([first_of_rank.setdefault(rank, atom) for atom, rank in enumerate(ranks)])


def _methyl_methylene_atoms(mol):
    """Boolean mask of carbons bearing at least two hydrogens and of those hydrogens."""
    mask = np.zeros(mol.GetNumAtoms(), dtype=bool)
    for atom in mol.GetAtoms():
        hydrogens = [n.GetIdx() for n in atom.GetNeighbors() if n.GetAtomicNum() == 1]
        if atom.GetAtomicNum() == 6 and len(hydrogens) >= 2:
            mask[[atom.GetIdx(), *hydrogens]] = True
    return mask


def _restrained_fit(design, projection, representative, fixed_charges, weights, rows, targets):
    """Solve one RESP stage.

    ``design`` (n, n) and ``projection`` (n,) are the ESP normal equations in atomic
    units. ``representative[i]`` is the atom whose charge atom ``i`` shares, or -1 if
    atom ``i`` stays at ``fixed_charges[i]`` (e). ``weights`` (n,) are the restraint
    weights a; ``rows`` (G, n) and ``targets`` (G,) the exact charge constraints.
    Returns the (n,) charges in e.
    """
    n_atoms = len(representative)
    free = representative >= 0
    unique_representatives, variable = np.unique(representative[free], return_inverse=True)
    expand = np.zeros((n_atoms, unique_representatives.size))
    expand[np.flatnonzero(free), variable] = 1.0
    frozen_charges = np.where(free, 0.0, fixed_charges)

    reduced_design = expand.T @ design @ expand
    reduced_projection = expand.T @ (projection - design @ frozen_charges)
    reduced_rows = rows @ expand
    reduced_targets = targets - rows @ frozen_charges
    variable_weights = expand.T @ weights

    # Groups that tile the molecule, or that stage 2 froze whole, give dependent rows.
    _, triangular, pivots = scipy.linalg.qr(reduced_rows.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(triangular))
    rank = int((diagonal > 1e-10 * max(diagonal.max(initial=0.0), 1.0)).sum())
    independent = np.sort(pivots[:rank])
    n_variables, n_constraints = expand.shape[1], independent.size

    kkt = np.zeros((n_variables + n_constraints, n_variables + n_constraints))
    kkt[:n_variables, n_variables:] = reduced_rows[independent].T
    kkt[n_variables:, :n_variables] = reduced_rows[independent]
    right_hand_side = np.concatenate([reduced_projection, reduced_targets[independent]])
    charges = np.zeros(n_variables)
    for _ in range(_MAX_ITERATIONS):
        restraint = variable_weights / np.sqrt(charges**2 + RESTRAINT_HALF_WIDTH_E**2)
        kkt[:n_variables, :n_variables] = reduced_design + np.diag(restraint)
        previous, charges = charges, np.linalg.solve(kkt, right_hand_side)[:n_variables]
        if np.abs(charges - previous).max(initial=0.0) < _CONVERGENCE_E:
            break
    else:
        raise RuntimeError(f"RESP restraint iteration did not converge in {_MAX_ITERATIONS} steps")

    atom_charges = expand @ charges + frozen_charges
    if np.abs(rows @ atom_charges - targets).max() > _CONSTRAINT_TOLERANCE_E:
        raise ValueError("charge_groups targets are inconsistent with each other and total_charge")
    return atom_charges


def resp_charges(mol, points_angstrom, esp_hartree, total_charge, charge_groups=(), stage2=True):
    """Two-stage RESP charges fitted to an electrostatic potential.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Molecule with explicit hydrogens and a conformer in Å (the first is used); the
        same geometry the ESP was computed on.
    points_angstrom : array_like, shape (M, 3)
        ESP sampling points in Å (e.g. :func:`qsse_md.forcefield.esp.msk_grid_points`).
    esp_hartree : array_like, shape (M,)
        Quantum-mechanical electrostatic potential at the points, hartree/e.
    total_charge : int or float
        Net charge in e, kept exactly.
    charge_groups : sequence of (sequence of int, float)
        Disjoint groups of 0-based atom indices whose summed charge is fixed to the
        given value in e, e.g. the neutral caps of a polymer repeat unit.
    stage2 : bool
        Refit methyl/methylene groups in a second stage; False returns stage 1.

    Returns
    -------
    numpy.ndarray, shape (n_atoms,)
        Charges in e, in atom order, summing to ``total_charge``.

    Notes
    -----
    Bayly et al. 1993, DOI 10.1021/j100142a004: a = 0.0005 (stage 1) and 0.001
    (stage 2) in atomic units, b = 0.1 e, hydrogens unrestrained; equivalencing and
    freezing as AmberTools ``respgen -f resp1`` and ``-f resp2`` write them.
    """
    n_atoms = mol.GetNumAtoms()
    if mol.GetNumConformers() == 0:
        raise ValueError("mol has no conformer; embed 3D coordinates first")
    if any(atom.GetTotalNumHs() for atom in mol.GetAtoms()):
        raise ValueError("mol has implicit hydrogens; call Chem.AddHs(mol, addCoords=True) first")
    points = np.asarray(points_angstrom, dtype=float)
    esp = np.asarray(esp_hartree, dtype=float)
    if points.ndim != 2 or points.shape[1] != 3 or points.shape[0] == 0:
        raise ValueError(f"points_angstrom must be a non-empty (M, 3) array; got {points.shape}")
    if esp.shape != (points.shape[0],):
        raise ValueError(f"esp_hartree has shape {esp.shape}; expected ({points.shape[0]},)")
    if not (np.isfinite(points).all() and np.isfinite(esp).all()):
        raise ValueError("points_angstrom and esp_hartree must be finite")
    group_rows, group_targets = _validated_charge_groups(charge_groups, n_atoms)

    atoms_bohr = mol.GetConformer().GetPositions() / BOHR_ANGSTROM
    points_bohr = points / BOHR_ANGSTROM
    inverse_distance = 1.0 / np.linalg.norm(
        points_bohr[:, None, :] - atoms_bohr[None, :, :], axis=2
    )
    design = inverse_distance.T @ inverse_distance
    projection = inverse_distance.T @ esp

    rows = np.vstack([group_rows, np.ones(n_atoms)])
    targets = np.append(group_targets, float(total_charge))
    heavy = np.array([atom.GetAtomicNum() != 1 for atom in mol.GetAtoms()])
    first_equivalent = _first_equivalent_atom(mol)
    refit = _methyl_methylene_atoms(mol)

    stage1_representative = np.where(refit, np.arange(n_atoms), first_equivalent)
    charges = _restrained_fit(
        design,
        projection,
        stage1_representative,
        np.zeros(n_atoms),
        STAGE1_RESTRAINT_WEIGHT * heavy,
        rows,
        targets,
    )
    if not stage2 or not refit.any():
        return charges
    stage2_representative = np.where(refit, first_equivalent, -1)
    return _restrained_fit(
        design,
        projection,
        stage2_representative,
        charges,
        STAGE2_RESTRAINT_WEIGHT * heavy,
        rows,
        targets,
    )
