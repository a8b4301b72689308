'''Box compositions as users state them, resolved to integer molecule counts.

Pure Python: components are plain data (:class:`Component`), not chemistry objects.
A composition spec is one of :class:`Counts`, :class:`WeightFractions`,
:class:`SaltMolarity` or :class:`MolarRatio`; :func:`resolve` turns it into integer counts
and a report (target, achieved, error) of every quantity the user asked for.

Roles and mixtures. A component is a ``polymer`` segment, a ``solvent`` molecule or a
``salt`` formula unit. Every form except ``counts`` names the components of each role as
either one name (``solvent = "EC"``) or a table of parts (``solvent = { EC = 2, DEC = 1,
FEC = 1 }``); the parts of a multi-component role are read by ``mixture_basis``,
``"mole"`` (molecules, segments, formula units) or ``"weight"`` (mass). It is required
whenever a role lists more than one component and applies to every role.

Anchor. The forms fix only proportions; one anchor sets the size: a count of one named
component, or ``segments`` (all polymer segments), ``solvent_molecules``, ``li`` (all Li+,
``cations`` per salt formula unit) or ``total_atoms`` (a size hint, met to rounding).

Molarity convention. Solution volume = the neat solvent mixture's volume with ideal
mixing, ``sum(n_i * M_i / rho_i)``; the salt's (and any polymer's) volume is ignored. This
is the usual convention for setting up MD boxes, not the density the box will relax to.

Rounding. Real counts are rounded to nearest; components under a count-type anchor by the
largest-remainder method, so the anchor is met exactly. Counts whose real values stand in
an exact small-integer ratio (1:1 or 2:1:1 mole mixtures, a 6:2:1 molar ratio) are then
moved to the nearest integer point with exactly that ratio unless that would move the
anchor off its target. What error remains is reported.

Recipe TOML (``from_mapping(recipe["composition"])``; keys are the dataclass fields):

```toml
[composition]                     # explicit counts
form = "counts"
counts = { DOA_hexamer = 20, EC = 360, LiPF6 = 60 }
```

```toml
[composition]                     # wt % by role, one size anchor
form = "weight_fractions"
polymer = "DOA_hexamer"
solvent = "EC"
salt = "LiPF6"
wt_percent = { polymer = 30.0, solvent = 54.0, salt = 16.0 }
anchor = { DOA_hexamer = 20 }
```

```toml
[composition]                     # salt molarity in a solvent mixture (+ optional polymer)
form = "molarity"
solvent = { EC = 2, DEC = 1, FEC = 1 }
mixture_basis = "weight"
salt = "LiPF6"
molarity_mol_per_l = 1.1
anchor = { solvent_molecules = 300 }
```

```toml
[composition]                     # molar ratio solvent : repeat unit : Li
form = "molar_ratio"
polymer = "DOA_hexamer"
solvent = { EC = 1, DEC = 1 }
mixture_basis = "mole"
salt = "LiPF6"
ratio = { solvent = 6, repeat_units = 2, li = 1 }
anchor = { li = 60 }
```

In ``molarity`` a polymer is optional: ``polymer = "DOA_hexamer"`` with
``polymer_wt_percent = 30.0`` (percent of the total mass). In ``molar_ratio`` the terms are
solvent molecules, polymer repeat units and Li+; give exactly the terms of the roles present.
'''

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Mapping, Union

from qsse_md.assembly._composition_math import (
    AGGREGATE_ANCHORS, ROLES, anchor_weights, integer_counts, known, members_of,
    molar_ratio_targets, molarity_targets, weight_fraction_targets)
from qsse_md.spec import parse, require

RoleParts = Union[str, Mapping[str, float], None]


@dataclass(frozen=True)
class Component:
    """One species as plain data.

    Parameters
    ----------
    name : str
        Unique name used in specs (e.g. ``"EC"``, ``"DOA_hexamer"``).
    role : {"polymer", "solvent", "salt"}
    molar_mass_g_per_mol : float
        Mass of one molecule, segment or formula unit, g/mol.
    atoms : int
        Atoms per molecule, segment or formula unit.
    density_g_per_cm3 : float, optional
        Neat liquid density, g/cm^3 (solvents; needed by the molarity form).
    repeat_units : int, optional
        Repeat units per polymer segment (needed by the molar-ratio form).
    cations : int
        Li+ per salt formula unit (1 for LiPF6); must be >= 1 for salts.
    """

    name: str
    role: Literal["polymer", "solvent", "salt"]
    molar_mass_g_per_mol: float
    atoms: int
    density_g_per_cm3: float | None = None
    repeat_units: int | None = None
    cations: int = 0

    def __post_init__(self):
        what = f"component {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a Component has an empty name; give every component a unique name")
        if self.role not in ROLES:
            raise ValueError(f"{what} has role {self.role!r}; use one of {', '.join(ROLES)}")
        if not self.molar_mass_g_per_mol > 0:
            raise ValueError(f"{what} has molar_mass_g_per_mol={self.molar_mass_g_per_mol}; "
                             "give its positive molar mass in g/mol")
        if not (isinstance(self.atoms, int) and self.atoms >= 1):
            raise ValueError(f"{what} has atoms={self.atoms!r}; give a positive integer")
        if self.density_g_per_cm3 is not None and not self.density_g_per_cm3 > 0:
            raise ValueError(f"{what} has density_g_per_cm3={self.density_g_per_cm3}; "
                             "give a positive density in g/cm^3 or None")
        if self.repeat_units is not None and not self.repeat_units >= 1:
            raise ValueError(f"{what} has repeat_units={self.repeat_units}; give >= 1 or None")
        if self.role == "salt" and not self.cations >= 1:
            raise ValueError(f"salt {self.name!r} has cations={self.cations}; set cations to "
                             "the number of Li+ per formula unit (1 for LiPF6)")


@dataclass(frozen=True)
class Anchor:
    """Size anchor of a proportional composition.

    Parameters
    ----------
    quantity : str
        A component name (count of it), ``"segments"`` (all polymer segments),
        ``"solvent_molecules"``, ``"li"`` (all Li+) or ``"total_atoms"``.
    value : int
        Positive target; met exactly except for ``total_atoms`` (a size hint).
    """

    quantity: str
    value: int


@dataclass(frozen=True)
class Counts:
    """Explicit counts. ``counts``: component name -> positive int (molecules, segments or
    salt formula units)."""

    counts: Mapping[str, int]


@dataclass(frozen=True, kw_only=True)
class _RoleSpec:
    """Fields shared by the proportional forms (keyword-only).

    Parameters
    ----------
    polymer, solvent, salt : str or mapping of str to float, optional
        One component name, or name -> positive parts of a mixture inside the role.
    mixture_basis : {"mole", "weight"}, optional
        How mixture parts are read; required when any role lists several components.
    anchor : Anchor
        Sets the size of the box (required by :func:`resolve`).
    """

    polymer: RoleParts = None
    solvent: RoleParts = None
    salt: RoleParts = None
    mixture_basis: Literal["mole", "weight"] | None = None
    anchor: Anchor | None = None


@dataclass(frozen=True, kw_only=True)
class WeightFractions(_RoleSpec):
    """Weight fractions. ``wt_percent``: role -> wt % (%, one per role present, sum 100),
    e.g. ``{"polymer": 30, "solvent": 54, "salt": 16}``; see :class:`_RoleSpec`."""

    wt_percent: Mapping[str, float]


@dataclass(frozen=True, kw_only=True)
class SaltMolarity(_RoleSpec):
    """Salt molarity. ``molarity_mol_per_l``: salt formula units per litre of the neat
    solvent mixture (mol/L, ideal mixing, salt volume ignored); ``polymer_wt_percent``:
    polymer as % of the total mass, required iff ``polymer`` is given."""

    molarity_mol_per_l: float
    polymer_wt_percent: float | None = None


@dataclass(frozen=True, kw_only=True)
class MolarRatio(_RoleSpec):
    """Molar ratio. ``ratio``: term -> positive number for the terms ``solvent``
    (molecules), ``repeat_units`` (polymer) and ``li`` (Li+ from salts), one per role
    present, e.g. ``{"solvent": 6, "repeat_units": 2, "li": 1}``."""

    ratio: Mapping[str, float]


FORMS = {"counts": Counts, "weight_fractions": WeightFractions, "molarity": SaltMolarity,
         "molar_ratio": MolarRatio}


@dataclass(frozen=True)
class ReportRow:
    """One targeted quantity: ``abs_error = achieved - target`` (in ``unit``) and
    ``rel_error = abs_error / target`` (dimensionless), both signed."""

    quantity: str
    unit: str
    target: float
    achieved: float
    abs_error: float
    rel_error: float


@dataclass(frozen=True)
class Resolved:
    """Result of :func:`resolve`.

    Attributes
    ----------
    counts : dict of str to int
        Molecules / segments / salt formula units per component (polymer, solvent, salt).
    report : tuple of ReportRow
        Every targeted quantity, then the anchor.
    total_atoms : int
    total_mass_g_per_mol : float
        Mass of the whole box, g/mol.
    """

    counts: dict[str, int]
    report: tuple[ReportRow, ...]
    total_atoms: int
    total_mass_g_per_mol: float

    def table(self) -> str:
        """The report as aligned text lines."""
        lines = [f"{'quantity':32s} {'unit':8s} {'target':>12s} {'achieved':>12s} {'rel.err':>10s}"]
        lines += [f"{r.quantity:32s} {r.unit:8s} {r.target:12.6g} {r.achieved:12.6g} "
                  f"{r.rel_error:10.2e}" for r in self.report]
        lines.append(f"counts {self.counts}; {self.total_atoms} atoms; "
                     f"{self.total_mass_g_per_mol:.2f} g/mol")
        return "\n".join(lines)


def from_mapping(d: Mapping) -> Counts | WeightFractions | SaltMolarity | MolarRatio:
    """Spec from the ``[composition]`` table of a recipe (see the module docstring).

    Raises
    ------
    InputError
        One line naming the key, for an unknown form, unknown or missing keys, a bad anchor.
    """
    form = d.get("form") if isinstance(d, Mapping) else None
    require(form in FORMS, f"[composition]: form = {form!r}; set form to one of "
            f"{', '.join(FORMS)}")
    table = {key: value for key, value in d.items() if key != "form"}
    if "anchor" in table:
        a = table["anchor"]
        require(isinstance(a, Mapping) and len(a) == 1, f"[composition]: anchor = {a!r}; give "
                "one entry, e.g. anchor = { DOA_hexamer = 20 } or { total_atoms = 20000 }")
        (quantity, value), = a.items()
        table["anchor"] = Anchor(quantity, value)
    return parse(FORMS[form], table, f"[composition] (form {form!r})")


def resolve(spec, components: Iterable[Component] | Mapping[str, Component]) -> Resolved:
    """Resolve ``spec`` to integer counts per component, with a report of the errors.

    Parameters
    ----------
    spec : Counts | WeightFractions | SaltMolarity | MolarRatio
    components : iterable of Component, or mapping name -> Component
        May hold more species than the spec uses.

    Returns
    -------
    Resolved

    Raises
    ------
    ValueError
        Invalid or inconsistent input, or a component that rounds to 0 molecules.
    """
    table = _table(components)
    if isinstance(spec, Counts):
        for name, n in spec.counts.items():
            known(name, table)
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"count of {name!r} is {n!r}; give a positive integer "
                                 "(leave out components that are absent)")
        counts = dict(spec.counts)
        if not counts:
            raise ValueError("counts is empty; give at least one component count")
        rows = [_row(f"count {n}", "1", c, c) for n, c in counts.items()]
        return _finish(counts, rows, table)
    if not isinstance(spec, (WeightFractions, SaltMolarity, MolarRatio)):
        raise ValueError(f"spec is {type(spec).__name__}; use Counts, WeightFractions, "
                         "SaltMolarity or MolarRatio (or from_mapping)")
    members, basis = members_of(spec, table), spec.mixture_basis
    if isinstance(spec, WeightFractions):
        target, goals = weight_fraction_targets(spec.wt_percent, members, basis, table)
    elif isinstance(spec, SaltMolarity):
        target, goals = molarity_targets(spec.molarity_mol_per_l, spec.polymer_wt_percent,
                                         members, basis, table)
    else:
        target, goals = molar_ratio_targets(spec.ratio, members, basis, table)
    weights, value = anchor_weights(spec.anchor, members, table)
    counts = integer_counts(target, members, weights, value,
                            exact_anchor=spec.anchor.quantity != "total_atoms")
    rows = [_row(q, u, t, f(counts)) for q, u, t, f in goals]
    rows.append(_row(f"anchor {spec.anchor.quantity}", "1", value,
                     sum(weights[n] * counts[n] for n in weights)))
    return _finish(counts, rows, table)


def _table(components) -> dict[str, Component]:
    items = list(components.values() if isinstance(components, Mapping) else components)
    table: dict[str, Component] = {}
    for c in items:
        if not isinstance(c, Component):
            raise ValueError(f"components holds {c!r}; pass Component objects")
        if c.name in table:
            raise ValueError(f"component name {c.name!r} appears twice; make names unique")
        if c.name in AGGREGATE_ANCHORS:
            raise ValueError(f"component name {c.name!r} is reserved for anchors; rename it")
        table[c.name] = c
    return table


def _row(quantity, unit, target, achieved) -> ReportRow:
    err = achieved - target
    return ReportRow(quantity, unit, float(target), float(achieved), float(err),
                     float(err / target) if target else float("nan"))


def _finish(counts, rows, table) -> Resolved:
    atoms = sum(table[n].atoms * c for n, c in counts.items())
    mass = sum(table[n].molar_mass_g_per_mol * c for n, c in counts.items())
    return Resolved(counts, tuple(rows), atoms, mass)
