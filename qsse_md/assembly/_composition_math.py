"""Arithmetic behind ``composition``: real counts per form, then principled rounding.

Real counts (``*_targets``) are relative amounts (any scale) per component plus the
report goals ``(quantity, unit, target, achieved(counts))``. Rounding has three steps:

1. ``apportion``: components that carry a count-type anchor (a named component, all
   segments, all solvent molecules, all Li) are rounded by the largest-remainder method so
   that the anchored total is met exactly; every other component is rounded to nearest
   (halves up).
2. ``snap_ratios``: components whose real counts stand in an exact small-integer ratio
   (a 1:1 or 2:1:1 mole mixture, a 6:2:1 molar ratio) are moved to the nearest integer
   point with exactly that ratio, unless that moves a count-type anchor off its target.
3. The caller reports whatever error remains.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, Mapping

MAX_DENOMINATOR = 100  # ratio terms up to 1:100 count as "requested exact ratios"
RATIO_RTOL = 1e-9


def round_half_up(x: float) -> int:
    """Nearest integer to ``x``, halves rounded up (not banker's rounding)."""
    return math.floor(x + 0.5)


def _clean(x: float) -> float:
    """``x`` with floating-point noise around an integer removed."""
    r = round(x)
    return float(r) if abs(x - r) <= RATIO_RTOL * max(1.0, abs(x)) else x


def apportion(target: Mapping[str, float], weights: Mapping[str, int] | None,
              value: int | None) -> dict[str, int]:
    """Round ``target`` (real counts) to integers.

    ``weights`` (component -> integer weight) and ``value`` describe a count-type anchor
    ``sum(weights[i] * n[i]) == value``; those components are floored and then raised one
    by one in order of largest remainder while the anchored total is below ``value``.
    With ``weights`` None every component is rounded to nearest.
    """
    counts = {name: round_half_up(_clean(t)) for name, t in target.items()}
    if not weights:
        return counts
    base = {name: math.floor(_clean(target[name])) for name in weights}
    deficit = value - sum(weights[n] * base[n] for n in base)
    order = sorted(base, key=lambda n: _clean(target[n]) - base[n], reverse=True)
    for name in order:
        if 0 < weights[name] <= deficit:
            base[name] += 1
            deficit -= weights[name]
    counts.update(base)
    return counts


def _ratio(a: float, b: float) -> Fraction | None:
    """``a / b`` as a fraction with denominator <= MAX_DENOMINATOR, or None."""
    r = a / b
    f = Fraction(r).limit_denominator(MAX_DENOMINATOR)
    return f if f > 0 and abs(float(f) - r) <= RATIO_RTOL * r else None


def rational_classes(target: Mapping[str, float]) -> list[list[str]]:
    """Groups (>= 2 members) of components whose real counts are in small-integer ratio."""
    classes: list[list[str]] = []
    for name in target:
        for cls in classes:
            if _ratio(target[name], target[cls[0]]) is not None:
                cls.append(name)
                break
        else:
            classes.append([name])
    return [c for c in classes if len(c) > 1]


def _lattice(target: Mapping[str, float], group: list[str]) -> dict[str, int]:
    """Integer point with the exact ratio of ``group`` nearest to its real counts."""
    fr = {n: Fraction(target[n] / target[group[0]]).limit_denominator(MAX_DENOMINATOR ** 2)
          for n in group}
    lcm = math.lcm(*(f.denominator for f in fr.values()))
    q = {n: int(f * lcm) for n, f in fr.items()}
    g = math.gcd(*q.values())
    q = {n: v // g for n, v in q.items()}
    k = round_half_up(target[group[0]] / q[group[0]])
    return {n: k * v for n, v in q.items()} if k >= 1 else {}


def snap_ratios(counts: dict[str, int], target: Mapping[str, float],
                subgroups: Callable[[list[str]], list[list[str]]],
                anchor_miss: Callable[[Mapping[str, int]], float] | None) -> dict[str, int]:
    """Keep exact small-integer ratios of ``target`` exact in the integer ``counts``.

    Each rational class is tried whole, then split by ``subgroups`` (per role). A snap is
    kept unless ``anchor_miss`` (|anchored total - value| for count-type anchors; None for
    a total-atom anchor, which is a size hint) gets worse.
    """
    counts = dict(counts)
    for cls in rational_classes(target):
        for group in [cls] + [g for g in subgroups(cls) if len(g) > 1 and g != cls]:
            point = _lattice(target, group)
            if not point or all(counts[n] * point[group[0]] == point[n] * counts[group[0]]
                                for n in group):
                continue
            trial = {**counts, **point}
            if anchor_miss is None or anchor_miss(trial) <= anchor_miss(counts) + 1e-9:
                counts = trial
                break
    return counts


def integer_counts(target: Mapping[str, float], members: Mapping[str, Mapping[str, float]],
                   weights: Mapping[str, int], value: int, exact_anchor: bool) -> dict[str, int]:
    """Scale relative ``target`` to the anchor ``sum(weights * n) = value``, round, snap.

    Returns counts in role order (polymer, solvent, salt); raises ValueError for a 0.
    """
    scale = value / sum(weights[n] * target[n] for n in weights)
    target = {n: t * scale for n, t in target.items()}
    counts = apportion(target, weights if exact_anchor else None, value)

    def miss(c):
        return abs(sum(weights[n] * c[n] for n in weights) - value)
    role_of = {n: r for r, m in members.items() for n in m}
    counts = snap_ratios(counts, target, lambda g: [[n for n in g if role_of[n] == r]
                                                     for r in members],
                         miss if exact_anchor else None)
    for name, n in counts.items():
        if n < 1:
            raise ValueError(f"the composition rounds {name!r} to 0 (target {target[name]:.3g} "
                             f"molecules); raise the anchor or the amount of {name!r}")
    return {n: counts[n] for m in members.values() for n in m}


# ---------------------------------------------------------------- validation of specs
ROLES = ("polymer", "solvent", "salt")
AGGREGATE_ANCHORS = {"segments": "polymer", "solvent_molecules": "solvent", "li": "salt",
                     "total_atoms": None}


def known(name: str, table: Mapping):
    """``table[name]``, or a ValueError that lists the known component names."""
    if name not in table:
        raise ValueError(f"unknown component {name!r}; known: {', '.join(sorted(table))}")
    return table[name]


def members_of(spec, table) -> dict[str, dict[str, float]]:
    """role -> {name: part}, parts normalised to sum 1, for the roles present."""
    members = {}
    for role in ROLES:
        parts = getattr(spec, role)
        if parts is None:
            continue
        parts = {parts: 1.0} if isinstance(parts, str) else dict(parts)
        if not parts:
            raise ValueError(f"{role} is empty; name at least one {role} component or leave it out")
        for name, p in parts.items():
            if known(name, table).role != role:
                raise ValueError(f"{name!r} is a {table[name].role}, not a {role}; "
                                 f"list it under {table[name].role}")
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not p > 0:
                raise ValueError(f"{role} part of {name!r} is {p!r}; give a positive number")
        total = sum(parts.values())
        members[role] = {n: p / total for n, p in parts.items()}
        if len(parts) > 1 and spec.mixture_basis is None:
            raise ValueError(f"{role} lists {len(parts)} components ({', '.join(parts)}); set "
                             "mixture_basis to \"mole\" or \"weight\" to say how parts are read")
    if spec.mixture_basis not in (None, "mole", "weight"):
        raise ValueError(f"mixture_basis is {spec.mixture_basis!r}; use \"mole\" or \"weight\"")
    if not members:
        raise ValueError("the composition names no components; give polymer, solvent and/or salt")
    return members


def anchor_weights(anchor, members, table) -> tuple[dict[str, int], int]:
    """Anchor as integer weights per component and its target value."""
    if anchor is None:
        raise ValueError("the composition has no anchor to set the box size; add e.g. "
                         "anchor = { DOA_hexamer = 20 }, { li = 60 } or { total_atoms = 20000 }")
    q, v = anchor.quantity, anchor.value
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"anchor {q!r} is {v!r}; give a positive integer")
    names = [n for m in members.values() for n in m]
    if q in AGGREGATE_ANCHORS:
        role = AGGREGATE_ANCHORS[q]
        if role is not None and role not in members:
            raise ValueError(f"anchor {q!r} needs a {role} in the composition; anchor on a "
                             "component that is present instead")
        per = {"segments": lambda c: 1, "solvent_molecules": lambda c: 1,
               "li": lambda c: c.cations, "total_atoms": lambda c: c.atoms}[q]
        return {n: per(table[n]) for n in names if role in (None, table[n].role)}, v
    if q not in names:
        raise ValueError(f"anchor {q!r} is not in the composition; anchor on one of "
                         f"{', '.join(names + list(AGGREGATE_ANCHORS))}")
    return {q: 1}, v


# ---------------------------------------------------------------- real counts per form
RATIO_TERMS = {"solvent": "solvent", "repeat_units": "polymer", "li": "salt"}


def _split(parts, basis, table) -> tuple[dict[str, float], dict[str, float]]:
    """(mole fractions, mass fractions) inside one role from its normalised parts."""
    mass = {n: table[n].molar_mass_g_per_mol for n in parts}
    if basis == "weight":
        moles = {n: p / mass[n] for n, p in parts.items()}
        weights = dict(parts)
    else:
        moles = dict(parts)
        weights = {n: p * mass[n] for n, p in parts.items()}
    return ({n: v / sum(moles.values()) for n, v in moles.items()},
            {n: v / sum(weights.values()) for n, v in weights.items()})


def _mass(counts, names, table) -> float:
    return sum(table[n].molar_mass_g_per_mol * counts[n] for n in names)


def _wt_goal(role, target, members, table):
    names, everything = tuple(members[role]), tuple(n for m in members.values() for n in m)
    return (f"wt% {role}", "%", target,
            lambda c: 100.0 * _mass(c, names, table) / _mass(c, everything, table))


def _mixture_goals(members, basis, table) -> list:
    goals = []
    for role, parts in members.items():
        names = tuple(parts)
        for name, p in parts.items() if len(parts) > 1 else ():
            if basis == "weight":
                def f(c, name=name, names=names):
                    return _mass(c, (name,), table) / _mass(c, names, table)
            else:
                def f(c, name=name, names=names):
                    return c[name] / sum(c[n] for n in names)
            goals.append((f"{role} {basis} fraction {name}", "1", p, f))
    return goals


def _positive(what: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{what} is {value!r}; give a positive number")
    return float(value)


def weight_fraction_targets(wt_percent, members, basis, table):
    """Relative counts and goals for wt % per role (must sum to 100 +- 1e-6)."""
    wt = {r: _positive(f"wt_percent of {r}", v) for r, v in dict(wt_percent).items()}
    if set(wt) != set(members):
        raise ValueError(f"wt_percent gives roles {sorted(wt)} but the composition names "
                         f"{sorted(members)}; give one wt % for each role present")
    if abs(sum(wt.values()) - 100.0) > 1e-6:
        raise ValueError(f"wt_percent sums to {sum(wt.values()):.9g}, not 100; fix the "
                         "fractions so that they add up to 100")
    x = {}
    for role, parts in members.items():
        for n, w in _split(parts, basis, table)[1].items():
            x[n] = wt[role] * w / table[n].molar_mass_g_per_mol
    goals = [_wt_goal(r, wt[r], members, table) for r in members]
    return x, goals + _mixture_goals(members, basis, table)


def molarity_targets(molarity, polymer_wt_percent, members, basis, table):
    """Relative counts and goals for salt mol/L of neat solvent volume (ideal mixing)."""
    c = _positive("molarity_mol_per_l", molarity)
    for role in ("solvent", "salt"):
        if role not in members:
            raise ValueError(f"the molarity form needs a {role}; add {role} = \"NAME\"")
    if ("polymer" in members) != (polymer_wt_percent is not None):
        raise ValueError("the molarity form takes a polymer only with polymer_wt_percent "
                         "(percent of total mass); give both or neither")
    for n in members["solvent"]:
        if table[n].density_g_per_cm3 is None:
            raise ValueError(f"solvent {n!r} has no density_g_per_cm3; molarity needs every "
                             "solvent's density to estimate the solution volume")
    solvent, salt = tuple(members["solvent"]), tuple(members["salt"])

    def vol(cnt):  # cm^3 per mol when cnt is in mol (ideal mixing of neat solvents)
        return sum(cnt[n] * table[n].molar_mass_g_per_mol / table[n].density_g_per_cm3
                   for n in solvent)
    x = dict(_split(members["solvent"], basis, table)[0])
    per_litre = c * vol(x) / 1000.0
    x.update({n: per_litre * z for n, z in _split(members["salt"], basis, table)[0].items()})
    goals = [("molarity salt", "mol/L", c, lambda k: 1000.0 * sum(k[n] for n in salt) / vol(k))]
    if "polymer" in members:
        p = _positive("polymer_wt_percent", polymer_wt_percent)
        if p >= 100:
            raise ValueError(f"polymer_wt_percent is {p}; give a value below 100")
        m_poly = p / (100.0 - p) * _mass(x, tuple(x), table)
        for n, w in _split(members["polymer"], basis, table)[1].items():
            x[n] = m_poly * w / table[n].molar_mass_g_per_mol
        goals.append(_wt_goal("polymer", p, members, table))
    return x, goals + _mixture_goals(members, basis, table)


def molar_ratio_targets(ratio, members, basis, table):
    """Relative counts and goals for solvent molecules : repeat units : Li+."""
    ratio = {k: _positive(f"ratio term {k!r}", v) for k, v in dict(ratio).items()}
    for k in ratio:
        if k not in RATIO_TERMS:
            raise ValueError(f"unknown ratio term {k!r}; use {', '.join(RATIO_TERMS)}")
    if {RATIO_TERMS[k] for k in ratio} != set(members):
        raise ValueError(f"ratio has terms {sorted(ratio)} but the composition names roles "
                         f"{sorted(members)}; give exactly one term per role present "
                         "(solvent, repeat_units for polymer, li for salt)")
    for n in members.get("polymer", ()):
        if table[n].repeat_units is None:
            raise ValueError(f"polymer {n!r} has no repeat_units; set it to use the "
                             "molar-ratio form")
    unit = {n: {"solvent": 1, "polymer": table[n].repeat_units, "salt": table[n].cations}
            [table[n].role] for m in members.values() for n in m}
    x = {}
    for term, t in ratio.items():
        f = _split(members[RATIO_TERMS[term]], basis, table)[0]
        per = sum(f[n] * unit[n] for n in f)
        x.update({n: t * fn / per for n, fn in f.items()})

    def amount(c, term):
        return sum(c[n] * unit[n] for n in members[RATIO_TERMS[term]])
    total = sum(ratio.values())
    goals = [(f"ratio {k}", "1", t,
              lambda c, k=k: amount(c, k) * total / sum(amount(c, j) for j in ratio))
             for k, t in ratio.items()]
    return x, goals + _mixture_goals(members, basis, table)
