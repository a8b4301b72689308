"""Lennard-Jones of the carbonyl oxygen (GAFF type ``o``): GAFF1's (the default) or GAFF2's.

The shipped ``gaff2.xml`` has GAFF2's ``o`` (sigma 3.0481 Å, epsilon 0.6121 kJ/mol), which
leaves neat EC 3.95 % below its density at 313 K (``benchmarks/solvent_density.py``).
GAFF1's ``o`` (``gaff.dat`` 1.81: R* 1.6612 Å, epsilon 0.2100 kcal/mol; Wang et al. 2004,
DOI 10.1002/jcc.20035) is smaller and deeper: EC -2.10 %, PC, DMC and DEC within 1.5 %, and
a P(DOA)/EC Li+ shell inside the reference study's EC range (README, "Validation"). It is a
force-field option, ``[forcefield] carbonyl_oxygen_lj`` in a recipe, applied to every ``o``
atom of the box (solvent and polymer carbonyls alike), because the Li+-O=C contact that sets
the solvation shell is the same interaction in both.
"""

from __future__ import annotations

from qsse_md.resources import forcefields_dir
from qsse_md.units import KCAL_KJ, NM_PER_ANGSTROM

CARBONYL_OXYGEN_LJ_MODELS = ("gaff2", "gaff1")
DEFAULT_CARBONYL_OXYGEN_LJ = "gaff1"
# sigma = 2 R* / 2^(1/6) for R* in Å; epsilon kcal/mol -> kJ/mol.
GAFF1_CARBONYL_O = {"sigma_nm": 2 * 1.6612 / 2 ** (1 / 6) * NM_PER_ANGSTROM,
                    "epsilon_kj_per_mol": 0.2100 * KCAL_KJ}
_GAFF2_CARBONYL_O_LINE = '<Atom class="o" sigma="0.3048120874245357" epsilon="0.6121192000000001"/>'


def gaff2_ffxml_text(carbonyl_oxygen_lj: str = DEFAULT_CARBONYL_OXYGEN_LJ) -> str:
    """The shipped ``gaff2.xml``, with the carbonyl-oxygen Lennard-Jones of the chosen model.

    Parameters
    ----------
    carbonyl_oxygen_lj : {"gaff2", "gaff1"}
        ``"gaff2"``: the file as shipped; ``"gaff1"``: type ``o`` gets GAFF1's sigma (nm) and
        epsilon (kJ/mol), :data:`GAFF1_CARBONYL_O`; every other parameter is unchanged.
    """
    if carbonyl_oxygen_lj not in CARBONYL_OXYGEN_LJ_MODELS:
        raise ValueError(f"unknown carbonyl-oxygen LJ '{carbonyl_oxygen_lj}'; choose one of "
                         f"{list(CARBONYL_OXYGEN_LJ_MODELS)}")
    text = (forcefields_dir() / "gaff2.xml").read_text()
    if carbonyl_oxygen_lj == "gaff2":
        return text
    if text.count(_GAFF2_CARBONYL_O_LINE) != 1:
        raise RuntimeError("forcefields/gaff2.xml has no single GAFF2 'o' Lennard-Jones line; "
                           "regenerate it with python -m qsse_md.forcefield.build_library")
    replacement = (f'<Atom class="o" sigma="{GAFF1_CARBONYL_O["sigma_nm"]!r}" '
                   f'epsilon="{GAFF1_CARBONYL_O["epsilon_kj_per_mol"]!r}"/>')
    return text.replace(_GAFF2_CARBONYL_O_LINE, replacement)
