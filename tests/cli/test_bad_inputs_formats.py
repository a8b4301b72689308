"""Other engines' topologies on the command line: roles, box, frame times, counting rule.

A PDB as RDKit writes it (every atom in residue ``UNL 1``, no box, formal charges in
columns 79-80) gets species from its bonded molecules, named by formula; wrong options
around it exit 2 with one line ``qsse-md: error: ...`` and leave nothing behind.
"""

import json
import warnings

import pytest

from qsse_md.cli.main import EXIT_USAGE, main

BOX = ["--box", "30", "30", "30"]


@pytest.fixture(scope="module")
def unl(tmp_path_factory):
    """RDKit PDBs of 4 Li+, 4 acetate and 10 EC in one residue UNL: with formal charges, and without."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    molecule = Chem.AddHs(Chem.MolFromSmiles(".".join(["[Li+]"] * 4 + ["CC(=O)[O-]"] * 4 + ["O=C1OCCO1"] * 10)))
    AllChem.EmbedMolecule(molecule, randomSeed=7, useRandomCoords=True, boxSizeMult=3.0)
    folder = tmp_path_factory.mktemp("unl")
    charged = folder / "charged.pdb"
    Chem.MolToPDBFile(molecule, str(charged))
    neutral = folder / "neutral.pdb"  # the same atoms without the formal-charge columns
    neutral.write_text("".join(line[:78] + "\n" if line.startswith("HETATM") else line
                               for line in charged.read_text().splitlines(keepends=True)))
    return {"charged": str(charged), "neutral": str(neutral)}


def _solvation(argv, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["analyze", "solvation", *argv])
    return code, capsys.readouterr()


def test_one_residue_pdb_gets_species_from_molecules_and_the_anion_from_formal_charges(unl, tmp_path, capsys):
    code, captured = _solvation([unl["charged"], unl["charged"], *BOX, "--out", str(tmp_path / "s")], capsys)
    assert code == 0, captured.err
    record = json.loads((tmp_path / "s" / "solvation.json").read_text())
    assert {name: entry["role"] for name, entry in record["species"].items()} == {
        "Li": "cation", "C2H3O2": "anion", "C3H4O3": "solvent"}
    assert record["ion_pairing"] is not None


def test_without_charges_a_note_names_anion_and_anion_marks_it(unl, tmp_path, caplog):
    code = main(["analyze", "solvation", unl["neutral"], unl["neutral"], *BOX, "--out", str(tmp_path / "a")])
    assert code == 0 and "note: the topology has no charges" in caplog.text
    assert "mark the anion with --anion NAME (species: Li, C2H3O2, C3H4O3)" in caplog.text
    assert json.loads((tmp_path / "a" / "solvation.json").read_text())["ion_pairing"] is None
    caplog.clear()
    code = main(["analyze", "solvation", unl["neutral"], unl["neutral"], *BOX, "--anion", "C2H3O2",
                 "--out", str(tmp_path / "b")])
    assert code == 0 and "--anion" not in caplog.text
    record = json.loads((tmp_path / "b" / "solvation.json").read_text())
    assert record["species"]["C2H3O2"]["role"] == "anion" and record["ion_pairing"] is not None


CASES = [
    (["{pdb}", "{pdb}"], "has no periodic box; give it with --box A B C"),
    (["{pdb}", "{pdb}", "--box", "30", "30"], "--box takes 3 edges"),
    (["{pdb}", "{pdb}", "--box", "30", "-30", "30"], "--box edges"),
    (["{pdb}", "{pdb}", "--box", "30", "30", "30", "90", "180", "90"], "--box angles"),
    (["{pdb}", "{pdb}", "--box", "30", "30", "abc"], "invalid float value: 'abc'"),
    (["{pdb}", "{pdb}", *BOX, "--dt", "0"], "--dt 0.0: give the time between frames in ps"),
    (["{pdb}", "{pdb}", *BOX, "--count", "all"], "argument --count: invalid choice: 'all'"),
    (["{pdb}", "{pdb}", *BOX, "--anion", "PF6"], "--anion PF6: no species of that name"),
    (["{pdb}", "{pdb}", *BOX, "--anion", "Li"], "--anion Li: that species holds the Li+ solute"),
    (["{pdb}", "{pdb}", *BOX, "--anion", "C2H3O2", "--cation", "C2H3O2"], "given as --anion and as --cation"),
    (["{pdb}", "{pdb}", *BOX, "--cation", "C3H4O3", "--cation", "C2H3O2"], "name the partners with --species"),
]


@pytest.mark.parametrize("argv, message", CASES)
def test_wrong_option_is_one_line_exit_2_and_leaves_nothing(unl, tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    code, captured = _solvation([arg.format(pdb=unl["neutral"]) for arg in argv] + ["--out", str(out)], capsys)
    errors = [line for line in captured.err.splitlines() if line.strip() and " note: " not in line]
    assert code == EXIT_USAGE and len(errors) == 1 and errors[0].startswith("qsse-md: error: "), captured.err
    assert message in errors[0] and "Traceback" not in captured.err
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--min-points", "1"], "a fit window needs a whole number >= 2"),
    (["--box", "1", "2"], "--box takes 3 edges"),
    (["--dt", "-1"], "--dt -1.0"),
])
def test_transport_options_are_checked(unl, tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["analyze", "transport", unl["charged"], unl["charged"], *BOX, *argv, "--out", str(out)])
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.strip() and " note: " not in line]
    assert code == EXIT_USAGE and len(errors) == 1 and message in errors[0], captured.err
    assert not out.exists()
