import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors

from qsse_md.chem.conformer import embed
from qsse_md.chem.polymer import build_segment, monomer_sequence, vinyl_site
from qsse_md.chem.species import get_species


def _beta_tags(segment):
    return [segment.mol.GetAtomWithIdx(int(i)).GetChiralTag()
            for i in np.flatnonzero(np.asarray(segment.atom_role) == "backbone")
            if segment.mol.GetAtomWithIdx(int(i)).GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED]


def test_doa_hexamer_formula_mass_and_bookkeeping():
    segment = build_segment("DOA", 6, caps=("methyl", "methyl"))
    # 6 x C7H8O5 plus two CH3 caps
    assert Chem.rdMolDescriptors.CalcMolFormula(segment.mol) == "C44H54O30"
    assert Descriptors.MolWt(segment.mol) == pytest.approx(6 * 172.136 + 2 * 15.035, abs=0.01)
    assert segment.mol.GetNumAtoms() == 6 * 20 + 8
    assert sorted(set(segment.atom_unit)) == list(range(6))
    assert segment.atom_role.count("cap") == 8
    # the backbone is CH2-CH per unit: 2 carbons + 3 H
    assert segment.atom_role.count("backbone") == 6 * 5
    assert [segment.unit_position(u) for u in range(6)] == ["head"] + ["middle"] * 4 + ["tail"]


def test_head_to_tail_connectivity():
    segment = build_segment("PCEA", 4, caps=("H", "H"))
    backbone_carbons = [a.GetIdx() for a in segment.mol.GetAtoms()
                        if segment.atom_role[a.GetIdx()] == "backbone" and a.GetSymbol() == "C"]
    chain = segment.mol.GetSubstructMatches(Chem.MolFromSmarts("[CH2][CH]([CX3]=O)[CH2][CH]"))
    assert len(backbone_carbons) == 8 and len(chain) == 3
    assert not segment.mol.HasSubstructMatch(Chem.MolFromSmarts("C=C"))


@pytest.mark.parametrize("tacticity,expected", [("isotactic", 1), ("syndiotactic", 2)])
def test_tacticity_sets_relative_configuration(tacticity, expected):
    segment = build_segment("DOA", 6, tacticity=tacticity)
    tags = _beta_tags(segment)
    assert len(tags) == 6
    if tacticity == "isotactic":
        assert len(set(tags)) == 1
    else:
        assert all(a != b for a, b in zip(tags, tags[1:]))


def test_atactic_is_reproducible_from_seed():
    a = Chem.MolToSmiles(build_segment("DOA", 8, seed=4).mol)
    b = Chem.MolToSmiles(build_segment("DOA", 8, seed=4).mol)
    assert a == b


def test_conformer_keeps_stereo_and_is_reproducible():
    segment = build_segment("AEEO", 3, tacticity="isotactic")
    first, second = embed(segment.mol, seed=11), embed(segment.mol, seed=11)
    np.testing.assert_allclose(first.GetConformer().GetPositions(),
                               second.GetConformer().GetPositions())
    check = Chem.Mol(first)
    Chem.AssignStereochemistryFrom3D(check)
    assert Chem.MolToSmiles(Chem.RemoveHs(check)) == Chem.MolToSmiles(Chem.RemoveHs(segment.mol))


def test_copolymer_sequences():
    assert monomer_sequence(["DOA", "PCEA"], 4, "alternating") == ["DOA", "PCEA"] * 2
    assert monomer_sequence(["DOA", "PCEA"], 6, "block", ratio=[1, 2]) == ["DOA"] * 2 + ["PCEA"] * 4
    random = monomer_sequence(["DOA", "AEEO"], 200, "random", ratio=[3, 1], seed=1)
    assert 0.65 < random.count("DOA") / 200 < 0.85
    segment = build_segment(["DOA", "AEEO"], 4, sequence=["DOA", "AEEO", "AEEO", "DOA"])
    assert [m.name for m in segment.monomers] == ["DOA", "AEEO", "AEEO", "DOA"]


def test_methacrylate_and_acrylamide_build():
    assert build_segment("PEGMA", 2).n_units == 2
    assert build_segment("AAEO", 2).mol.HasSubstructMatch(Chem.MolFromSmarts("[NH]C(=O)"))


@pytest.mark.parametrize("smiles,count", [("CCOC(=O)CC", 0), ("C=CC(=O)OCCOC(=O)C=C", 2)])
def test_monomer_needs_exactly_one_vinyl_group(smiles, count):
    with pytest.raises(ValueError, match=f"has {count} polymerisable C=C"):
        build_segment(smiles, 3)


def test_vinyl_site_picks_the_ch2_end():
    site = vinyl_site(get_species("DOA").mol)
    mol = get_species("DOA").mol
    assert mol.GetAtomWithIdx(site.alpha).GetTotalNumHs(includeNeighbors=True) == 2
    assert mol.GetAtomWithIdx(site.beta).GetTotalNumHs(includeNeighbors=True) == 1


@pytest.mark.parametrize("kwargs,message", [
    ({"caps": ("ethyl", "H")}, "unknown cap"),
    ({"tacticity": "heterotactic"}, "unknown tacticity"),
    ({"n_units": 0}, "at least 1"),
])
def test_bad_segment_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_segment("DOA", **{"n_units": 3, **kwargs})
