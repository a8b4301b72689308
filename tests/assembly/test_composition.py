"""Tests for qsse_md.assembly.composition: exact answers for the reference study's boxes."""

import re

import pytest

from qsse_md.assembly import composition
from qsse_md.assembly.composition import (
    Anchor, Component, Counts, MolarRatio, SaltMolarity, WeightFractions, from_mapping,
    resolve)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

# DOA hexamer: 6 x C7H8O5 (172.14 g/mol, 20 atoms) + two CH3 caps (15.035 g/mol, 4 atoms)
M_HEX = 6 * 172.14 + 2 * 15.035
M_EC, M_DEC, M_FEC, M_LIPF6 = 88.06, 118.13, 106.05, 151.905
RHO_EC, RHO_DEC = 1.32, 0.975

HEX = Component("DOA_hexamer", "polymer", M_HEX, 6 * 20 + 2 * 4, repeat_units=6)
EC = Component("EC", "solvent", M_EC, 10, density_g_per_cm3=RHO_EC)
DEC = Component("DEC", "solvent", M_DEC, 18, density_g_per_cm3=RHO_DEC)
FEC = Component("FEC", "solvent", M_FEC, 10, density_g_per_cm3=1.454)
LIPF6 = Component("LiPF6", "salt", M_LIPF6, 8, cations=1)
ALL = [HEX, EC, DEC, FEC, LIPF6]
REF = dict(polymer="DOA_hexamer", solvent="EC", salt="LiPF6")


def row(resolved, quantity):
    (r,) = [r for r in resolved.report if r.quantity == quantity]
    return r


def test_hexamer_mass():
    assert M_HEX == pytest.approx(1062.91, abs=1e-9)


def test_counts_pass_through_with_totals():
    r = resolve(Counts({"DOA_hexamer": 20, "EC": 360, "LiPF6": 60}), ALL)
    assert r.counts == {"DOA_hexamer": 20, "EC": 360, "LiPF6": 60}
    assert r.total_atoms == 20 * 128 + 360 * 10 + 60 * 8 == 6640
    assert r.total_mass_g_per_mol == pytest.approx(20 * M_HEX + 360 * M_EC + 60 * M_LIPF6)
    assert all(x.abs_error == 0 for x in r.report)


@pytest.mark.parametrize("anchor", [Anchor("DOA_hexamer", 20), Anchor("segments", 20),
                                    Anchor("li", 60), Anchor("solvent_molecules", 360)])
def test_reference_molar_ratio_6_2_1(anchor):
    spec = MolarRatio(ratio={"solvent": 6, "repeat_units": 2, "li": 1}, anchor=anchor, **REF)
    r = resolve(spec, ALL)
    assert r.counts == {"DOA_hexamer": 20, "EC": 360, "LiPF6": 60}
    assert list(r.counts) == ["DOA_hexamer", "EC", "LiPF6"]  # role order
    for term, t in [("solvent", 6), ("repeat_units", 2), ("li", 1)]:
        assert row(r, f"ratio {term}").achieved == pytest.approx(t, rel=1e-12)
    assert r.total_atoms == 6640


def test_molar_ratio_with_mole_mixture_stays_exact():
    spec = MolarRatio(ratio={"solvent": 6, "repeat_units": 2, "li": 1}, polymer="DOA_hexamer",
                      solvent={"EC": 1, "DEC": 1}, mixture_basis="mole", salt="LiPF6",
                      anchor=Anchor("li", 60))
    assert resolve(spec, ALL).counts == {"DOA_hexamer": 20, "EC": 180, "DEC": 180, "LiPF6": 60}


def test_molar_ratio_with_weight_mixture():
    spec = MolarRatio(ratio={"solvent": 6, "repeat_units": 2, "li": 1}, polymer="DOA_hexamer",
                      solvent={"EC": 1, "DEC": 1}, mixture_basis="weight", salt="LiPF6",
                      anchor=Anchor("li", 60))
    r = resolve(spec, ALL)
    x_ec = (1 / M_EC) / (1 / M_EC + 1 / M_DEC)  # mole fraction of EC in a 1:1 w/w mixture
    assert 360 * x_ec == pytest.approx(206.25, abs=0.01)  # -> 206 EC, 153.75 -> 154 DEC
    assert r.counts == {"DOA_hexamer": 20, "EC": 206, "DEC": 154, "LiPF6": 60}
    w_ec = 206 * M_EC / (206 * M_EC + 154 * M_DEC)
    assert row(r, "solvent weight fraction EC").achieved == pytest.approx(w_ec)


def test_molar_ratio_anchor_wins_over_exact_ratio():
    # 61 Li: 20.33 segments, 366 EC; the 6:2:1 lattice (k x (1, 18, 3)) cannot give 61 Li.
    spec = MolarRatio(ratio={"solvent": 6, "repeat_units": 2, "li": 1}, anchor=Anchor("li", 61),
                      **REF)
    r = resolve(spec, ALL)
    assert r.counts == {"DOA_hexamer": 20, "EC": 366, "LiPF6": 61}
    assert row(r, "anchor li").abs_error == 0
    assert row(r, "ratio repeat_units").achieved == pytest.approx(120 * 9 / 547)
    assert row(r, "ratio repeat_units").rel_error == pytest.approx(120 * 9 / 547 / 2 - 1)


def test_total_atom_anchor_keeps_ratios_exact():
    spec = MolarRatio(ratio={"solvent": 6, "repeat_units": 2, "li": 1}, polymer="DOA_hexamer",
                      solvent={"EC": 2, "DEC": 1}, mixture_basis="mole", salt="LiPF6",
                      anchor=Anchor("total_atoms", 20000))
    r = resolve(spec, ALL)
    # Exact-ratio points are k x (1 segment, 12 EC, 6 DEC, 3 LiPF6) = k x 380 atoms;
    # 20000 / 380 = 52.6 -> k = 53.
    assert r.counts == {"DOA_hexamer": 53, "EC": 636, "DEC": 318, "LiPF6": 159}
    assert r.total_atoms == 53 * 380
    assert row(r, "anchor total_atoms").achieved == 20140


def test_reference_weight_fractions():
    spec = WeightFractions(wt_percent={"polymer": 30, "solvent": 54, "salt": 16},
                           anchor=Anchor("DOA_hexamer", 20), **REF)
    r = resolve(spec, ALL)
    m_poly = 20 * M_HEX  # 21258.2 g/mol is 30 wt %
    assert m_poly * 54 / 30 / M_EC == pytest.approx(434.53, abs=0.01)
    assert m_poly * 16 / 30 / M_LIPF6 == pytest.approx(74.64, abs=0.01)
    assert r.counts == {"DOA_hexamer": 20, "EC": 435, "LiPF6": 75}
    total = m_poly + 435 * M_EC + 75 * M_LIPF6
    assert r.total_mass_g_per_mol == pytest.approx(total)
    for role, target, mass in [("polymer", 30, m_poly), ("solvent", 54, 435 * M_EC),
                               ("salt", 16, 75 * M_LIPF6)]:
        x = row(r, f"wt% {role}")
        assert (x.target, x.unit) == (target, "%")
        assert x.achieved == pytest.approx(100 * mass / total)
        assert x.abs_error == pytest.approx(100 * mass / total - target)
        assert x.rel_error == pytest.approx((100 * mass / total - target) / target)
    assert abs(row(r, "wt% salt").rel_error) < 0.005


def test_weight_fractions_tolerate_1e_6():
    spec = WeightFractions(wt_percent={"polymer": 30, "solvent": 54, "salt": 16 + 5e-7},
                           anchor=Anchor("DOA_hexamer", 20), **REF)
    assert resolve(spec, ALL).counts["EC"] == 435


def test_molarity_1p1_M_in_ec_dec_1_1_by_weight():
    spec = SaltMolarity(molarity_mol_per_l=1.1, solvent={"EC": 1, "DEC": 1},
                        mixture_basis="weight", salt="LiPF6",
                        anchor=Anchor("solvent_molecules", 300))
    r = resolve(spec, ALL)
    # Equal masses: n_EC / n_DEC = M_DEC / M_EC; 300 molecules -> 171.875 EC, 128.125 DEC.
    n_ec = 300 * M_DEC / (M_EC + M_DEC)
    n_dec = 300 * M_EC / (M_EC + M_DEC)
    assert (n_ec, n_dec) == pytest.approx((171.875, 128.125), abs=1e-3)
    # Neat-solvent volume (cm^3 per mol of "box") and salt = 1.1 mol/L * V / (1000 cm^3/L).
    vol = n_ec * M_EC / RHO_EC + n_dec * M_DEC / RHO_DEC
    assert vol == pytest.approx(26989.7, abs=0.5)
    assert 1.1 * vol / 1000 == pytest.approx(29.69, abs=0.01)
    assert r.counts == {"EC": 172, "DEC": 128, "LiPF6": 30}
    achieved = 30 / (172 * M_EC / RHO_EC + 128 * M_DEC / RHO_DEC) * 1000
    m = row(r, "molarity salt")
    assert (m.unit, m.target) == ("mol/L", 1.1)
    assert m.achieved == pytest.approx(achieved) and achieved == pytest.approx(1.1118, abs=1e-4)
    w = row(r, "solvent weight fraction EC")
    assert w.achieved == pytest.approx(172 * M_EC / (172 * M_EC + 128 * M_DEC))


@pytest.mark.parametrize("n, expected", [(300, (150, 75, 75)), (301, (151, 75, 75)),
                                         (302, (151, 76, 75))])
def test_mole_mixture_2_1_1_rounding(n, expected):
    spec = SaltMolarity(molarity_mol_per_l=1.1, solvent={"EC": 2, "DEC": 1, "FEC": 1},
                        mixture_basis="mole", salt="LiPF6", anchor=Anchor("solvent_molecules", n))
    c = resolve(spec, ALL).counts
    assert (c["EC"], c["DEC"], c["FEC"]) == expected  # anchor exact, largest remainder


def test_molarity_with_polymer_wt_percent():
    spec = SaltMolarity(molarity_mol_per_l=1.1, solvent="EC", salt="LiPF6",
                        polymer="DOA_hexamer", polymer_wt_percent=30.0,
                        anchor=Anchor("DOA_hexamer", 20))
    r = resolve(spec, ALL)
    # Per EC molecule: 1.1e-3 * M_EC / RHO_EC LiPF6; polymer is 30 % of all mass.
    s = 1.1e-3 * M_EC / RHO_EC
    n_ec = 20 * M_HEX * 70 / 30 / (M_EC + s * M_LIPF6)
    assert r.counts == {"DOA_hexamer": 20, "EC": round(n_ec), "LiPF6": round(s * n_ec)}
    assert abs(row(r, "wt% polymer").abs_error) < 0.05


def _toml_examples():
    return re.findall(r"```toml\n(.*?)```", composition.__doc__, re.S)


@pytest.mark.parametrize("text", _toml_examples())
def test_docstring_toml_examples_resolve(text):
    spec = from_mapping(tomllib.loads(text)["composition"])
    r = resolve(spec, ALL)
    assert all(n >= 1 for n in r.counts.values())
    assert all(x.rel_error == x.rel_error for x in r.report)  # no NaN


def test_from_mapping_builds_the_dataclasses():
    spec = from_mapping({"form": "molar_ratio", "polymer": "DOA_hexamer", "solvent": "EC",
                         "salt": "LiPF6", "ratio": {"solvent": 6, "repeat_units": 2, "li": 1},
                         "anchor": {"li": 60}})
    assert spec == MolarRatio(ratio={"solvent": 6, "repeat_units": 2, "li": 1},
                              anchor=Anchor("li", 60), **REF)
    assert len(_toml_examples()) == 4


WF = dict(wt_percent={"polymer": 30, "solvent": 54, "salt": 16}, **REF)


@pytest.mark.parametrize("make, message", [
    (lambda: resolve(WeightFractions(**{**WF, "wt_percent": {"polymer": 30, "solvent": 54,
                                                             "salt": -16}},
                                     anchor=Anchor("DOA_hexamer", 20)), ALL),
     "wt_percent of salt is -16"),
    (lambda: resolve(WeightFractions(**{**WF, "wt_percent": {"polymer": 30, "solvent": 54,
                                                             "salt": 0}},
                                     anchor=Anchor("DOA_hexamer", 20)), ALL),
     "wt_percent of salt is 0"),
    (lambda: resolve(WeightFractions(**{**WF, "wt_percent": {"polymer": 30, "solvent": 54,
                                                             "salt": 15}},
                                     anchor=Anchor("DOA_hexamer", 20)), ALL),
     "sums to 99, not 100"),
    (lambda: resolve(WeightFractions(**{**WF, "solvent": "PC"},
                                     anchor=Anchor("DOA_hexamer", 20)), ALL),
     "unknown component 'PC'; known: DEC, DOA_hexamer, EC, FEC, LiPF6"),
    (lambda: resolve(Counts({"XX": 3}), ALL), "unknown component 'XX'; known: DEC"),
    (lambda: resolve(WeightFractions(**WF), ALL), "no anchor"),
    (lambda: resolve(WeightFractions(**WF, anchor=Anchor("PC", 20)), ALL),
     "anchor 'PC' is not in the composition"),
    (lambda: resolve(WeightFractions(**WF, anchor=Anchor("DOA_hexamer", 0)), ALL),
     "anchor 'DOA_hexamer' is 0; give a positive integer"),
    (lambda: resolve(WeightFractions(**{**WF, "wt_percent": {"polymer": 99.9998,
                                                             "solvent": 1e-4, "salt": 1e-4}},
                                     anchor=Anchor("DOA_hexamer", 20)), ALL),
     "rounds 'EC' to 0"),
    (lambda: resolve(SaltMolarity(molarity_mol_per_l=1.1, solvent="EC", salt="LiPF6",
                                  anchor=Anchor("solvent_molecules", 300)),
                     [Component("EC", "solvent", M_EC, 10), LIPF6]),
     "solvent 'EC' has no density_g_per_cm3"),
    (lambda: Component("LiPF6", "salt", M_LIPF6, 8), "salt 'LiPF6' has cations=0"),
    (lambda: resolve(MolarRatio(ratio={"solvent": 6, "repeat_units": 2, "li": 1},
                                anchor=Anchor("li", 60), **REF),
                     [Component("DOA_hexamer", "polymer", M_HEX, 128), EC, LIPF6]),
     "polymer 'DOA_hexamer' has no repeat_units"),
    (lambda: resolve(MolarRatio(ratio={"solvent": 6, "li": 1}, anchor=Anchor("li", 60), **REF),
                     ALL), "give exactly one term per role"),
    (lambda: resolve(SaltMolarity(molarity_mol_per_l=1.1, solvent={"EC": 1, "DEC": 1},
                                  salt="LiPF6", anchor=Anchor("solvent_molecules", 300)), ALL),
     "set mixture_basis"),
    (lambda: resolve(SaltMolarity(molarity_mol_per_l=1.1, solvent={"EC": 1, "DEC": -1},
                                  mixture_basis="mole", salt="LiPF6",
                                  anchor=Anchor("solvent_molecules", 300)), ALL),
     "solvent part of 'DEC' is -1"),
    (lambda: resolve(WeightFractions(**{**WF, "polymer": "EC", "solvent": "DEC"},
                                     anchor=Anchor("EC", 20)), ALL),
     "'EC' is a solvent, not a polymer"),
    (lambda: resolve(Counts({"EC": 0}), ALL), "count of 'EC' is 0"),
    (lambda: resolve(Counts({"EC": 1}), [EC, Component("li", "solvent", 7.0, 1)]),
     "'li' is reserved"),
    (lambda: resolve(Counts({"EC": 1}), [EC, EC]), "'EC' appears twice"),
    (lambda: from_mapping({"form": "mass"}), "set form to one of counts, weight_fractions"),
    (lambda: from_mapping({"form": "counts", "counts": {"EC": 1}, "anchor": {"EC": 1}}),
     "unknown key(s) anchor"),
    (lambda: from_mapping({"form": "weight_fractions", "anchor": {"EC": 1}}),
     "(form 'weight_fractions'): missing wt_percent"),
    (lambda: from_mapping({"form": "molarity", "solvent": "EC", "salt": "LiPF6",
                           "molarity_mol_per_l": "1 M", "anchor": {"EC": 1}}),
     "molarity_mol_per_l = '1 M' must be a number"),
    (lambda: from_mapping({"form": "weight_fractions", "wt_percent": {"solvent": 100},
                           "solvent": "EC", "anchor": {"EC": 1, "DEC": 2}}),
     "give one entry"),
])
def test_bad_input_raises_one_line_value_error(make, message):
    with pytest.raises(ValueError) as err:
        make()
    assert message in str(err.value)
    assert "\n" not in str(err.value)
