"""``qsse-md analyze solvation`` end to end on a tiny run folder, and its bad-input errors."""

import argparse
import json
import shutil

import MDAnalysis as mda
import pytest

from qsse_md.cli.analyze_solvation import add_solvation_parser
from qsse_md.cli.main import EXIT_USAGE


def _cli(argv):
    """Parse and run like ``qsse-md analyze`` (same error mapping as qsse_md.cli.main.main)."""
    parser = argparse.ArgumentParser(prog="qsse-md analyze")
    add_solvation_parser(parser.add_subparsers(dest="analysis", required=True))
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        return EXIT_USAGE, str(error)
    return 0, ""


@pytest.mark.filterwarnings("ignore")
def test_run_folder_with_no_selections(tiny_run, tmp_path):
    out = tmp_path / "solvation"
    assert _cli(["solvation", str(tiny_run), "--out", str(out), "--clusters", "2"]) == (0, "")
    record = json.loads((out / "solvation.json").read_text())
    assert record["frames"]["n_frames"] == 20
    assert set(record["coordination"]["species"]) == {"polymer", "EC", "PF6"}
    assert "solvent C=O" in record["coordination"]["group"]
    assert set(record["cutoffs_angstrom"]) == {"polymer", "EC", "PF6"}
    assert set(record["ion_pairing"]) == {"SSIP", "CIP", "AGG"}
    assert record["units"]["distance"] == "angstrom"
    assert 0.0 <= record["polymer_solvent_affinity"]["by_species"]["EC"]["free_fraction"]["mean"] <= 1.0
    assert len(record["clusters"]["clusters"]) >= 1
    for name in ("contacts.csv", "coordination.csv", "compositions.csv", "plots/coordination_species.png",
                 "clusters/manifest.json", "clusters/li.inp"):
        assert (out / name).is_file(), name


@pytest.fixture(scope="module")
def bad_files(tiny_run, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    topology = tiny_run / "topology.pdb"
    trajectory = tiny_run / "stages" / "03_npt" / "trajectory.xtc"
    universe = mda.Universe(str(topology), str(trajectory))
    universe.atoms[:-1].write(str(folder / "short.pdb"))
    universe.atoms.write(str(folder / "nobox.xyz"))
    data = trajectory.read_bytes()
    offsets = universe.trajectory._xdr.offsets  # cut inside frame 6, past its header
    (folder / "truncated.xtc").write_bytes(data[: (offsets[5] + offsets[6]) // 2])
    (folder / "garbage.xtc").write_bytes(b"not a trajectory" * 64)
    return {"top": str(topology), "traj": str(trajectory), **{p.stem: str(p) for p in folder.iterdir()}}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("case, message", [
    (["{top}", "{traj}", "--solute", "resname FOO"], "matched no atoms"),
    (["{top}", "{traj}", "--species", "a=resname EC", "--species", "b=resname EC and name O1"], "overlaps"),
    (["{top}", "{traj}", "--species", "a=resname FOO"], "matched no atoms"),
    (["{top}", "{nobox}"], "no periodic box"),
    (["{top}", "{traj}", "--cutoff", "20"], "half the smallest box width"),
    (["{short}", "{traj}"], "same system"),
    (["{top}", "{truncated}"], "complete"),
    (["{top}", "{garbage}"], "complete"),
    (["{top}", "missing.xtc"], "does not exist"),
    (["{top}"], "TRAJECTORY"),
])
def test_bad_input_is_one_line_and_leaves_nothing(bad_files, tmp_path, case, message):
    out = tmp_path / "out"
    code, text = _cli(["solvation", *[arg.format(**bad_files) for arg in case], "--out", str(out)])
    assert code == EXIT_USAGE
    assert message in text and "\n" not in text
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_existing_output_is_refused(tiny_run, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    code, text = _cli(["solvation", str(tiny_run), "--out", str(tmp_path / "out")])
    assert code == EXIT_USAGE and "exists" in text
    shutil.rmtree(tmp_path / "out")


@pytest.mark.filterwarnings("ignore")
def test_workers_gives_the_serial_record(tiny_run, tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert _cli(["solvation", str(tiny_run), "--out", str(serial)]) == (0, "")
    assert _cli(["solvation", str(tiny_run), "--out", str(parallel), "--workers", "2"]) == (0, "")
    first = json.loads((serial / "solvation.json").read_text())
    second = json.loads((parallel / "solvation.json").read_text())
    for record in (first, second):
        record.pop("inputs", None)
    assert first == second
    code, message = _cli(["solvation", str(tiny_run), "--out", str(tmp_path / "bad"), "--workers", "0"])
    assert code == EXIT_USAGE and "--workers" in message
