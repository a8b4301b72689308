"""Species guessing, group labels and cluster cut-out on our own tiny build (no MD needed)."""

import re

import MDAnalysis as mda
import numpy as np
import pandas as pd
import pytest

from qsse_md.analysis.solvation.clusters import Cluster, cut_cluster, representative_shells
from qsse_md.report.dft_inputs import write_clusters
from qsse_md.analysis.solvation.groups import coordinating_atoms
from qsse_md.analysis.species_guess import guess_species, species_from_selections


@pytest.fixture(scope="module")
def tiny(tiny_run):
    return mda.Universe(str(tiny_run / "topology.pdb"))


def test_species_and_roles_of_the_tiny_box(tiny):
    guess = guess_species(tiny)
    roles = {name: species.role for name, species in guess.species.items()}
    assert roles == {"polymer": "polymer", "EC": "solvent", "LI": "cation", "PF6": "anion"}
    assert len(guess.solute) == 4 and set(guess.solute.elements) == {"Li"}
    assert len(guess.species["polymer"].atoms.residues) == 6
    assert len(guess.species["EC"].atoms) == 240
    assert set(guess.partners()) == {"polymer", "EC", "PF6"}


def test_no_lithium_and_bad_selections_are_clear_errors(tiny):
    with pytest.raises(ValueError, match="No Li atoms matched; pass --solute"):
        guess_species(mda.Merge(tiny.select_atoms("not resname LI")))
    with pytest.raises(ValueError, match="matched no atoms"):
        guess_species(tiny, solute="resname FOO")
    with pytest.raises(ValueError, match="overlaps"):
        species_from_selections(tiny, {"a": "resname EC", "b": "resname EC and name O1"})
    with pytest.raises(ValueError, match="matched no atoms"):
        species_from_selections(tiny, {"a": "resname FOO"})


def test_carbonyl_and_ether_oxygens_on_ec_and_doa(tiny):
    donors = coordinating_atoms(guess_species(tiny))
    label = {(tiny.atoms[ix].resname, tiny.atoms[ix].name): text for ix, text in donors.labels.items()}
    # EC O=C1OCCO1: O1 is the carbonyl, O2/O3 the ring (ether) oxygens
    assert label[("EC", "O1")] == "solvent C=O"
    assert label[("EC", "O2")] == label[("EC", "O3")] == "solvent ether O"
    # DOA C=CC(=O)OCC1COC(=O)O1: acrylate and carbonate carbonyls, ester and ring oxygens
    assert label[("DOA", "O1")] == label[("DOA", "O4")] == "polymer C=O"
    assert {label[("DOA", name)] for name in ("O2", "O3", "O5")} == {"polymer ether O"}
    assert label[("PF6", "F1")] == "anion F"
    assert {name: len(atoms) for name, atoms in donors.groups.items()} == {
        "polymer C=O": 12, "polymer ether O": 18, "solvent C=O": 24, "solvent ether O": 48, "anion F": 24}


def _shell_table(universe, frame=0):
    """Contact table of every Li within 3.5 Å of an O/F partner (numpy, one frame)."""
    donors = coordinating_atoms(guess_species(universe))
    rows = []
    for li in universe.select_atoms("element Li"):
        for name, atoms in donors.partners.items():
            d = np.linalg.norm(mda.lib.distances.minimize_vectors(atoms.positions - li.position,
                                                                  universe.dimensions), axis=1)
            for atom, distance in zip(atoms[d < 3.5], d[d < 3.5]):
                rows.append((frame, 0.0, li.ix, name, donors.labels[atom.ix], atom.ix, atom.resindex,
                             atom.fragindex, distance))
    return pd.DataFrame(rows, columns=["frame", "time_ps", "solute_ix", "species", "group", "partner_atom_ix",
                                       "partner_resix", "partner_molecule_ix", "distance_angstrom"])


def test_cluster_cut_out_charges_counts_and_orca_syntax(tiny, tmp_path):
    table = _shell_table(tiny)
    if table.empty:
        pytest.skip("no Li+ shell in the packed box")
    chosen = representative_shells(table, n_clusters=5)
    assert chosen["fraction"].sum() <= 1.0 + 1e-12
    manifest = write_clusters(tiny, table, tmp_path / "clusters", n_clusters=5, anions=["PF6"])
    for entry in manifest["clusters"]:
        shell = table[(table["frame"] == entry["frame"]) & (table["solute_ix"] == entry["solute_ix"])]
        n_pf6 = shell.loc[shell["species"] == "PF6", "partner_molecule_ix"].nunique()
        assert entry["complex"]["charge_e"] == 1 - n_pf6
        assert entry["without_li"]["charge_e"] == -n_pf6
        assert entry["complex"]["atoms"] == entry["without_li"]["atoms"] + 1
        text = (tmp_path / "clusters" / entry["complex"]["orca"]).read_text()
        lines = text.splitlines()
        assert lines[1] == "! B3LYP D3BJ def2-TZVP Opt"
        assert lines[3] == f"* xyz {entry['complex']['charge_e']} 1" and lines[-1] == "*"
        atoms = lines[4:-1]
        assert len(atoms) == entry["complex"]["atoms"] and atoms[0].split()[0] == "Li"
        assert all(re.fullmatch(r"\s+[A-Z][a-z]?(\s+-?\d+\.\d{6}){3}", line) for line in atoms)
    li = (tmp_path / "clusters" / "li.inp").read_text()
    assert "* xyz 1 1" in li and "Opt" not in li


def test_polymer_unit_is_cut_whole_and_capped(tiny):
    polymer_o = tiny.select_atoms("resname DOA and resid 2 and segid A and name O1")
    middle = polymer_o.residues[0].atoms
    cluster = cut_cluster(tiny, 0, int(tiny.select_atoms("element Li")[0].ix), [int(polymer_o[0].ix)])
    assert len(cluster.symbols) == 1 + len(middle) + 2  # two cut backbone bonds capped with H
    assert cluster.charge_e == 1 and cluster.multiplicity == 1
    heavy = cluster.positions[1:len(middle) + 1]
    caps = cluster.positions[len(middle) + 1:]
    gaps = np.linalg.norm(heavy[:, None] - heavy[None], axis=-1) + 9 * np.eye(len(heavy))
    assert gaps.min(axis=1).max() < 1.7  # every atom keeps a bonded neighbour: the unit is whole
    assert np.allclose(np.linalg.norm(caps[:, None] - heavy[None], axis=-1).min(axis=1), 1.09)


def test_cluster_text_formats():
    cluster = Cluster(["Li", "F"], np.array([[0.0, 0, 0], [1.8, 0, 0]]), 0, "LiF")
    assert cluster.to_xyz().splitlines()[0] == "2"
    assert cluster.without_solute().charge_e == -1
    assert "* xyz 0 1" in cluster.to_orca()
