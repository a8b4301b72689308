"""Wrong inputs to every ``qsse-md`` sub-command: exit code 2, one line ``qsse-md: error: ...``.

Each case runs :func:`qsse_md.cli.main.main` in-process on tiny inputs written once per
module; every case must fail in validation, before any work, and leave nothing behind
(neither in the inputs nor in the working folder).
"""

import json
import sys
import warnings

import MDAnalysis as mda
import numpy as np
import openmm
import pytest

from qsse_md.campaign import plan
from qsse_md.cli.main import EXIT_USAGE, main
from qsse_md.resources import systems_dir

NOT_WRITABLE = "/proc/qsse-md-bad-inputs"
RECIPE_HEAD = '[composition]\nform = "counts"\n'
ONE_LI_PDB = ("CRYST1   20.000   20.000   20.000  90.00  90.00  90.00 P 1           1\n"
              "HETATM    1 LI    LI A   1      10.000  10.000  10.000  1.00  0.00          LI\nEND\n")


def _write_box(folder):
    """A 20 Å box: one chain of 4 residues (PA: C-C backbone, C=O side), 6 two-atom EC, one Li; 5 frames.

    The trajectory is read once, so that MDAnalysis' offset cache exists before the cases run.
    """
    resnames = ["PA"] * 4 + ["EC"] * 6 + ["LI"]
    names = ["C", "C", "O"] * 4 + ["C", "O"] * 6 + ["Li"]
    atom_resindex = [k // 3 for k in range(12)] + [4 + k // 2 for k in range(12)] + [10]
    backbone = [3 * k + j for k in range(4) for j in range(2)]
    bonds = list(zip(backbone[:-1], backbone[1:])) + [(3 * k + 1, 3 * k + 2) for k in range(4)]
    bonds += [(12 + 2 * k, 13 + 2 * k) for k in range(6)]
    universe = mda.Universe.empty(len(names), n_residues=len(resnames), atom_resindex=atom_resindex, trajectory=True)
    universe.add_TopologyAttr("names", names)
    universe.add_TopologyAttr("elements", names)
    universe.add_TopologyAttr("resnames", resnames)
    universe.add_TopologyAttr("resids", np.arange(1, len(resnames) + 1))
    universe.add_TopologyAttr("bonds", bonds)
    universe.dimensions = [20.0, 20.0, 20.0, 90.0, 90.0, 90.0]
    positions = np.random.default_rng(1).random((len(names), 3)) * 18.0 + 1.0
    positions[:12:3] = [[2.0 + 2.6 * k, 10.0, 10.0] for k in range(4)]
    positions[1:12:3] = [[3.3 + 2.6 * k, 10.6, 10.0] for k in range(4)]
    positions[2:12:3] = [[3.3 + 2.6 * k, 11.8, 10.0] for k in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        universe.atoms.positions = positions
        universe.atoms.write(str(folder / "box.pdb"), bonds="conect")
        with mda.Writer(str(folder / "box.xtc"), universe.atoms.n_atoms) as writer:
            for frame in range(5):
                universe.atoms.positions = positions + 0.1 * frame
                writer.write(universe.atoms)
        mda.Universe(str(folder / "box.pdb"), str(folder / "box.xtc")).trajectory[-1]


def _write_build(folder, particles=1, system_xml=None):
    """A build folder of one Li atom, for checks that come before any dynamics; its system.xml
    has ``particles`` particles, or is the text ``system_xml``."""
    folder.mkdir()
    system = openmm.System()
    for _ in range(particles):
        system.addParticle(6.94)
    (folder / "system.xml").write_text(system_xml or openmm.XmlSerializer.serialize(system))
    (folder / "topology.pdb").write_text(ONE_LI_PDB)
    (folder / "build.json").write_text(json.dumps({"name": "one_li"}))


def _write_transport(folder, temperature, d_li=1.0):
    folder.mkdir()
    record = {"temperature_K": temperature, "conductivity": None,
              "diffusion": {"LI": {"D_1e-10_m2_per_s": d_li, "sem_1e-10_m2_per_s": None}}}
    (folder / "transport.json").write_text(json.dumps(record))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Paths of the tiny inputs, by the names the cases use in ``{...}``."""
    folder = tmp_path_factory.mktemp("bad_inputs")
    _write_box(folder)
    _write_build(folder / "build")
    _write_build(folder / "corrupt_build", system_xml="<System><broken")
    _write_build(folder / "mismatched_build", particles=2)
    (folder / "text.xtc").write_text("this is not a trajectory\n")
    (folder / "empty.xtc").write_bytes(b"")
    (folder / "empty.toml").write_text("")
    (folder / "bad.toml").write_text("[composition\nform = counts\n")
    (folder / "plain.txt").write_text("a regular file\n")
    (folder / "empty_dir").mkdir()
    (folder / "nonempty").mkdir()
    (folder / "nonempty" / "keep.txt").write_text("keep\n")
    (folder / "tiny").mkdir()  # a folder named like a shipped recipe
    recipes = {"nacl": 'counts = { EC = 10, NaCl = 2 }\n', "dense": 'counts = { EC = 10 }\n[box]\n'
               'density_g_per_cm3 = 5.0\n', "unknown_key": 'counts = { EC = 10 }\ncolour = "blue"\n',
               "variants": 'counts = { EC = 10 }\n[box]\npolymer_variants = "four"\n',
               "hmr": 'counts = { EC = 10 }\n[system]\nhydrogen_mass_amu = 3.0\n',
               "constraints": 'counts = { EC = 10 }\n[system]\nconstraints = "water"\n',
               "no_monomers": 'counts = { P = 2 }\n[polymers.P]\nn_units = 3\n',
               "li_model": 'counts = { EC = 10 }\n[forcefield]\nli_model = "dang"\n',
               "bad_minimize": 'counts = { EC = 10 }\n[minimize]\nmax_iterations = -5\n'}
    for name, body in recipes.items():
        (folder / f"{name}.toml").write_text(RECIPE_HEAD + body)
    (folder / "bad_stage.toml").write_text('[[stage]]\nkind = "boil"\n')
    (folder / "no_stages.toml").write_text('name = "nothing"\n')
    stage = '[[stage]]\nkind = "minimize"\n'
    (folder / "heavy_h.toml").write_text('hydrogen_mass_amu = 9.0\n' + stage)
    (folder / "bad_seed.toml").write_text('seed = "seven"\n' + stage)
    (folder / "stage_type.toml").write_text(stage + 'max_iterations = 1.5\n')
    (folder / "engine.toml").write_text('engine = "lammps"\n' + stage)
    (folder / "bad_analysis.toml").write_text('[campaign]\nbase = "tiny"\nprotocol = "test"\n'
                                              'analysis = ["rdf"]\n[grid]\nseed = [1]\n')
    (folder / "campaign_key.toml").write_text('[campaign]\nbase = "tiny"\nprotocol = "test"\n'
                                              'colour = "red"\n[grid]\nseed = [1]\n')
    (folder / "point_recipe.toml").write_text('[campaign]\nbase = "tiny"\nprotocol = "test"\n'
                                              '[grid]\ndensity_g_per_cm3 = [9.0]\n')
    (folder / "empty_grid.toml").write_text('[campaign]\nname = "g"\nbase = "tiny"\nprotocol = "test"\n'
                                            '[grid]\nseed = []\n')
    plan(systems_dir() / "campaigns" / "tiny_grid.toml", folder / "campaign")
    (folder / "corrupt_campaign").mkdir()
    (folder / "corrupt_campaign" / "manifest.json").write_text("{not json")
    (folder / "other_build").mkdir()
    (folder / "other_build" / "build.json").write_text(json.dumps({"name": "PDOA_EC"}))
    for name, temperature in (("t250", 250.0), ("t300", 300.0)):
        _write_transport(folder / name, temperature)
    for name, temperature in (("n250", 250.0), ("n300", 300.0), ("n350", 350.0)):
        _write_transport(folder / name, temperature, d_li=None)
    _write_transport(folder / "no_temperature", None)
    (folder / "bad_json").mkdir()
    (folder / "bad_json" / "transport.json").write_text("{")
    paths = {p.name.replace(".", "_"): str(p) for p in folder.iterdir()}
    return folder, {**paths, "top": paths["box_pdb"], "xtc": paths["box_xtc"], "under_file": f"{paths['plain_txt']}/sub",
                    "proc": NOT_WRITABLE, "missing": str(folder / "missing"), "campaigns": str(systems_dir() / "campaigns")}


def case(*argv, message, without=None):
    """One wrong invocation: ``argv`` (with ``{name}`` placeholders), the expected message
    fragment and, optionally, a module made unimportable for the call."""
    return pytest.param(list(argv), message, without, id=" ".join(argv)[:80] or "no arguments")


SOLVATION = ("analyze", "solvation", "{top}", "{xtc}", "--out", "{out}")
TRANSPORT = ("analyze", "transport", "{top}", "{xtc}", "--out", "{out}")
CRYSTALLIZATION = ("analyze", "crystallization", "{top}", "{xtc}", "--out", "{out}")
GRID = "{campaigns}/tiny_grid.toml"

CASES = [
    # the command line itself
    case(message="the following arguments are required: command"),
    case("nosuch", message="invalid choice: 'nosuch'"),
    case("--bogus", "systems", message="unrecognized arguments: --bogus"),
    case("systems", "extra", message="unrecognized arguments: extra"),
    # species
    case("species", message="required: species_command"),
    case("species", "list", "--kind", "polymer", message="invalid choice: 'polymer'"),
    case("species", "list", "extra", message="unrecognized arguments"),
    case("species", "show", message="required: name"),
    case("species", "show", "XYZ123", message="neither a known species"),
    case("species", "show", "C1CC", message="neither a known species"),
    case("species", "show", "", message="neither a known species"),
    case("species", "show", "EC", "DEC", message="unrecognized arguments: DEC"),
    # build
    case("build", message="required: recipe, --out"),
    case("build", "tiny", message="required: --out"),
    case("build", "nosuch_recipe", "--out", "{out}", message="neither a file nor a shipped recipe"),
    case("build", "{empty_dir}", "--out", "{out}", message="a folder (not a file)"),
    case("build", "{bad_toml}", "--out", "{out}", message="is not valid TOML"),
    case("build", "{empty_toml}", "--out", "{out}", message="empty.toml: missing composition; add a [composition]"),
    case("build", "{nacl_toml}", "--out", "{out}", message="NaCl"),
    case("build", "{dense_toml}", "--out", "{out}", message="[box]: density_g_per_cm3 = 5.0 must be between"),
    case("build", "{unknown_key_toml}", "--out", "{out}", message="unknown key(s) colour"),
    case("build", "{variants_toml}", "--out", "{out}", message="polymer_variants = 'four' must be a whole number"),
    case("build", "{hmr_toml}", "--out", "{out}", message="hmr.toml: [system]: hydrogen_mass_amu belongs to the protocol"),
    case("build", "{constraints_toml}", "--out", "{out}", message="[system]: constraints = 'water' is not one of"),
    case("build", "{no_monomers_toml}", "--out", "{out}", message="[polymers.P]: missing monomers"),
    case("build", "{li_model_toml}", "--out", "{out}", message="li_model = 'dang' is not one of"),
    case("build", "{bad_minimize_toml}", "--out", "{out}", message="[minimize]: max_iterations = -5 must be >= 0"),
    case("build", "tiny", "--out", "{plain_txt}", message="is a file"),
    case("build", "tiny", "--out", "{under_file}", message="which is a file"),
    case("build", "tiny", "--out", "{proc}", message="cannot be created"),
    case("build", "tiny", "--out", "{nonempty}", message="exists and is not empty"),
    case("build", "tiny", "--out", "{out}", "--seed", "3", message="unrecognized arguments: --seed"),
    # run
    case("run", message="required: dir"),
    case("run", "{missing}", message="does not exist"),
    case("run", "{empty_dir}", message="not a build folder"),
    case("run", "{nonempty}", message="not a build folder"),
    case("run", "{corrupt_build}", message="corrupt system.xml"),
    case("run", "{mismatched_build}", message="system.xml has 2 particles but topology.pdb 1 atoms"),
    case("run", "{build}", "--platform", "TPU", message="invalid choice: 'TPU'"),
    case("run", "{build}", "--protocol", "nosuch", message="neither a file nor a shipped protocol"),
    case("run", "{build}", "--protocol", "{empty_dir}", message="a folder (not a file)"),
    case("run", "{build}", "--protocol", "{bad_toml}", message="is not valid TOML"),
    case("run", "{build}", "--protocol", "{bad_stage_toml}", message="'boil'"),
    case("run", "{build}", "--protocol", "{no_stages_toml}", message="no stages"),
    case("run", "{build}", "--protocol", "{heavy_h_toml}", message="heavy_h.toml: hydrogen_mass_amu = 9.0"),
    case("run", "{build}", "--protocol", "{bad_seed_toml}", message="seed = 'seven' must be a whole number"),
    case("run", "{build}", "--protocol", "{stage_type_toml}", message="stage 1: max_iterations = 1.5"),
    case("run", "{build}", "--engine", "lammps", message="invalid choice: 'lammps'"),
    case("run", "{build}", "--engine", "gromacs", "--gmx", "{missing}", message="is not an executable program"),
    case("run", "{build}", "--engine", "gromacs", "--platform", "CPU", message="--platform chooses an OpenMM"),
    case("run", "{build}", "--gmx", "gmx", message="options of the GROMACS engine"),
    case("run", "{build}", "--threads", "0", message="--threads 0 must be a whole number >= 1"),
    case("run", "{build}", "--threads", "2", message="options of the GROMACS engine"),
    case("run", "{build}", "--protocol", "{engine_toml}", message="engine = 'lammps'"),
    # export
    case("export", message="required: build_dir, --out"),
    case("export", "{build}", message="required: --out"),
    case("export", "{missing}", "--out", "{out}", message="build folder"),
    case("export", "{empty_dir}", "--out", "{out}", message="not a build folder"),
    case("export", "{corrupt_build}", "--out", "{out}", message="corrupt system.xml"),
    case("export", "{mismatched_build}", "--out", "{out}", message="2 particles"),
    case("export", "{build}", "--out", "{out}", "--format", "lammps", message="invalid choice: 'lammps'"),
    case("export", "{build}", "--out", "{nonempty}", message="exists and is not empty"),
    case("export", "{build}", "--out", "{under_file}", message="which is a file"),
    case("export", "{build}", "--out", "{proc}", message="cannot be created"),
    # analyze
    case("analyze", message="required: analysis"),
    case("analyze", "diffusion", message="invalid choice: 'diffusion'"),
    # analyze solvation
    case("analyze", "solvation", "{top}", message="required: --out"),
    case("analyze", "solvation", "{top}", "--out", "{out}", message="give a TRAJECTORY"),
    case("analyze", "solvation", "{top}", "{missing}", "--out", "{out}", message="does not exist"),
    case("analyze", "solvation", "{missing}", "{xtc}", "--out", "{out}", message="does not exist"),
    case("analyze", "solvation", "{top}", "{text_xtc}", "--out", "{out}", message="cannot read"),
    case("analyze", "solvation", "{top}", "{empty_xtc}", "--out", "{out}", message="cannot read"),
    case("analyze", "solvation", "{top}", "{plain_txt}", "--out", "{out}", message="appropriate coordinate reader"),
    case("analyze", "solvation", "{empty_dir}", "--out", "{out}", message="empty_dir"),
    case(*SOLVATION, "--species", "EC=resname EC and and", message="--species EC 'resname EC and and' is not a valid"),
    case(*SOLVATION, "--species", "resname EC", message="must look like NAME=VALUE"),
    case(*SOLVATION, "--species", "EC=resname FOO", message="matched no atoms"),
    case(*SOLVATION, "--solute", "name Li or", message="--solute 'name Li or' is not a valid"),
    case(*SOLVATION, "--solute", "name Na", message="matched no atoms"),
    case(*SOLVATION, "--cutoff", "abc", message="not a number"),
    case(*SOLVATION, "--cutoff", "EC=abc", message="not a number"),
    case(*SOLVATION, "--cutoff", "100", message="half the smallest box width"),
    case(*SOLVATION, "--start", "50", "--stop", "10", message="--start 50 is outside the trajectory"),
    case(*SOLVATION, "--start", "3", "--stop", "1", message="selects none of the 5 frame(s)"),
    case(*SOLVATION, "--stop", "0", message="selects none"),
    case(*SOLVATION, "--start", "-9", message="outside the trajectory"),
    case(*SOLVATION, "--step", "0", message="--step 0"),
    case(*SOLVATION, "--step", "-1", message="--step -1"),
    case(*SOLVATION, "--start", "abc", message="argument --start: invalid int value"),
    case(*SOLVATION, "--clusters", "-1", message="--clusters -1"),
    case(*SOLVATION, "--workers", "0", message="--workers 0"),
    case(*SOLVATION, "--workers", "two", message="argument --workers: invalid int value"),
    case("analyze", "solvation", "{top}", "{xtc}", "--out", "{under_file}", message="which is a file"),
    case("analyze", "solvation", "{top}", "{xtc}", "--out", "{proc}", message="cannot be created"),
    case("analyze", "solvation", "{top}", "{xtc}", "--out", "{nonempty}", message="exists and is not empty"),
    # analyze transport
    case("analyze", "transport", "{top}", message="required: --out"),
    case(*TRANSPORT, "--temperature", "25", message="looks like degrees Celsius"),
    case(*TRANSPORT, "--temperature", "-5", message="must be above 0"),
    case(*TRANSPORT, "--temperature", "0", message="must be above 0"),
    case(*TRANSPORT, "--temperature", "5000", message="above the plausible"),
    case(*TRANSPORT, "--temperature", "abc", message="'abc' is not a number"),
    case(*TRANSPORT, "--temperature", "nan", message="must be above 0"),
    case("analyze", "transport", "{top}", "{text_xtc}", "--out", "{out}", message="cannot read"),
    case("analyze", "transport", "{top}", "{missing}", "--out", "{out}", message="does not exist"),
    case("analyze", "transport", "{top}", "--out", "{out}", message="give a TRAJECTORY"),
    case(*TRANSPORT, "--start", "50", "--stop", "10", message="--start 50 is outside the trajectory"),
    case(*TRANSPORT, "--start", "4", "--stop", "2", message="selects none"),
    case(*TRANSPORT, "--step", "0", message="--step 0"),
    case(*TRANSPORT, "--species", "Li=name Li and", message="--species Li 'name Li and' is not a valid"),
    case(*TRANSPORT, "--species", "Li=name Na", message="selects no atoms"),
    case(*TRANSPORT, "--drift-selection", "foo bar", message="--drift-selection 'foo bar' is not a valid"),
    case(*TRANSPORT, "--charge", "LI=abc", message="is not a number"),
    case(*TRANSPORT, "--charge", "LI", message="must look like NAME=VALUE"),
    case(*TRANSPORT, "--compound", "molecules", message="invalid choice: 'molecules'"),
    case(*TRANSPORT, "--blocks", "abc", message="argument --blocks: invalid int value"),
    case(*TRANSPORT, "--slope-tolerance", "x", message="argument --slope-tolerance: invalid float value"),
    case("analyze", "transport", "{top}", "{xtc}", "--out", "{under_file}", message="which is a file"),
    case("analyze", "transport", "{top}", "{xtc}", "--out", "{proc}", message="cannot be created"),
    case("analyze", "transport", "{top}", "{xtc}", "--out", "{nonempty}", message="exists and is not empty"),
    # analyze arrhenius
    case("analyze", "arrhenius", message="required: DIR"),
    case("analyze", "arrhenius", "{missing}", "{t250}", "{t300}", message="does not exist"),
    case("analyze", "arrhenius", "{t250}", "{t300}", message="at least 3 temperatures"),
    case("analyze", "arrhenius", "{t250}", "{t300}", "{no_temperature}", message="has no temperature"),
    case("analyze", "arrhenius", "{t250}", "{t300}", "{bad_json}", message="is not JSON"),
    case("analyze", "arrhenius", "{n250}", "{n300}", "{n350}", message="nothing to fit"),
    case("analyze", "arrhenius", "{t250}", "{t300}", "{t300}", message="distinct temperatures"),
    case("analyze", "arrhenius", "{n250}", "{n300}", "{n350}", "--law", "power", message="invalid choice: 'power'"),
    case("analyze", "arrhenius", "{n250}", "{n300}", "{n350}", "--out", "{empty_dir}", message="is a folder"),
    case("analyze", "arrhenius", "{n250}", "{n300}", "{n350}", "--out", "{under_file}/fit.json",
         message="which is a file"),
    case("analyze", "arrhenius", "{n250}", "{n300}", "{n350}", "--out", "{proc}/fit.json", message="cannot be created"),
    # analyze crystallization
    case("analyze", "crystallization", "{top}", message="required: --out"),
    case(*CRYSTALLIZATION, "--wavelength", "-1.5", message="wavelength -1.5"),
    case(*CRYSTALLIZATION, "--wavelength", "0", message="wavelength 0.0"),
    case(*CRYSTALLIZATION, "--wavelength", "abc", message="argument --wavelength: invalid float value"),
    case(*CRYSTALLIZATION, "--q-min", "3", "--q-max", "2", message="0 < q_min < q_max"),
    case(*CRYSTALLIZATION, "--q-min", "-1", message="0 < q_min < q_max"),
    case(*CRYSTALLIZATION, "--span", "0", message="chord span"),
    case(*CRYSTALLIZATION, "--threshold", "2", message="threshold 2.0"),
    case(*CRYSTALLIZATION, "--order-cutoff", "-1", message="cutoff -1.0"),
    case(*CRYSTALLIZATION, "--polymer", "resname PA and", message="--polymer 'resname PA and' is not a valid"),
    case(*CRYSTALLIZATION, "--polymer", "resname PA", "--solvent", "bad bad", message="--solvent 'bad bad'"),
    case(*CRYSTALLIZATION, "--steinhardt", "name C or", message="--steinhardt 'name C or' is not a valid"),
    case(*CRYSTALLIZATION, "--polymer", "resname FOO", message="no polymer atoms"),
    case(*CRYSTALLIZATION, "--start", "50", message="--start 50 is outside the trajectory"),
    case(*CRYSTALLIZATION, "--step", "0", message="--step 0"),
    case("analyze", "crystallization", "{top}", "{text_xtc}", "--out", "{out}", message="cannot read"),
    case("analyze", "crystallization", "{top}", "{xtc}", "--out", "{proc}", message="cannot be created"),
    case("analyze", "crystallization", "{top}", "{xtc}", "--out", "{under_file}", message="which is a file"),
    # study cooling
    case("study", message="required: study"),
    case("study", "cooling", "{build}", message="required: --out"),
    case("study", "cooling", "{build}", "--out", "{out}", "--protocol", "nosuch", message="nosuch"),
    case("study", "cooling", "{build}", "--out", "{out}", "--protocol", "{bad_stage_toml}", message="'boil'"),
    case("study", "cooling", "{build}", "--out", "{out}", "--platform", "TPU", message="invalid choice: 'TPU'"),
    case("study", "cooling", "{missing}", "--out", "{out}", message="not found"),
    case("study", "cooling", "{empty_dir}", "--out", "{out}", message="not found"),
    case("study", "cooling", "{corrupt_build}", "--out", "{out}", message="corrupt system.xml"),
    case("study", "cooling", "{build}", "--out", "{under_file}", message="which is a file"),
    case("study", "cooling", "{build}", "--out", "{proc}", message="cannot be created"),
    case("study", "cooling", "{build}", "--out", "{out}", "--polymer", "resname PA and", message="--polymer"),
    case("study", "cooling", "{build}", "--out", "{out}", "--solvent", "and", message="--solvent 'and'"),
    # campaign
    case("campaign", message="required: campaign_command"),
    case("campaign", "plan", GRID, message="required: --out"),
    case("campaign", "plan", "{missing}", "--out", "{out}", message="not found"),
    case("campaign", "plan", "{bad_toml}", "--out", "{out}", message="is not valid TOML"),
    case("campaign", "plan", "{empty_toml}", "--out", "{out}", message="neither [grid] nor [[point]]"),
    case("campaign", "plan", "{empty_grid_toml}", "--out", "{out}", message="empty list"),
    case("campaign", "plan", "{bad_analysis_toml}", "--out", "{out}", message="[campaign]: analysis = ['rdf']"),
    case("campaign", "plan", "{campaign_key_toml}", "--out", "{out}", message="[campaign]: unknown key(s) colour"),
    case("campaign", "plan", "{point_recipe_toml}", "--out", "{out}", message="density_g_per_cm3 = 9.0"),
    case("campaign", "plan", GRID, "--out", "{nonempty}", message="exists and is not empty"),
    case("campaign", "plan", GRID, "--out", "{under_file}", message="which is a file"),
    case("campaign", "plan", GRID, "--out", "{proc}", message="cannot be created"),
    case("campaign", "run", "{campaign}", message='python -m pip install "qsse_md[campaign]"', without="distributed"),
    case("campaign", "run", "{empty_dir}", message="not a campaign folder"),
    case("campaign", "run", "{corrupt_campaign}", message="is corrupt"),
    case("campaign", "run", "{campaign}", "--workers", "0", message="--workers 0"),
    case("campaign", "run", "{campaign}", "--workers", "many", message="argument --workers: invalid int value"),
    case("campaign", "run", "{campaign}", "--retries", "-1", message="--retries -1"),
    case("campaign", "run", "{campaign}", "--scheduler", "moon", message="--scheduler 'moon'"),
    case("campaign", "run", "{campaign}", "--platform", "TPU", message="invalid choice: 'TPU'"),
    case("campaign", "status", message="required: dir"),
    case("campaign", "status", "{empty_dir}", message="not a campaign folder"),
    case("campaign", "status", "{corrupt_campaign}", message="is corrupt"),
    case("campaign", "collect", "{missing}", message="not a campaign folder"),
    case("campaign", "collect", "{campaign}", "--out", "{under_file}", message="which is a file"),
    case("campaign", "collect", "{campaign}", "--out", "{proc}", message="cannot be created"),
    case("campaign", "jobscript", "{empty_dir}", message="not a campaign folder"),
    case("campaign", "jobscript", "{campaign}", "--system", "moon", message="batch system 'moon'"),
    case("campaign", "analyze", "{missing}", "--out", "{out}", message="neither a run folder"),
    case("campaign", "analyze", "{top}:{missing}", "--out", "{out}", message="does not exist"),
    case("campaign", "analyze", "{top}:{xtc}", "--out", "{out}", "--analysis", "rdf", message="unknown analysis rdf"),
    case("campaign", "analyze", "{top}:{xtc}", "--out", "{out}", "--analysis", "report", message="needs a run folder"),
    case("campaign", "analyze", "{top}:{xtc}", "--out", "{out}", "--temperature", "25", message="degrees Celsius"),
    case("campaign", "analyze", "{top}:{xtc}", "--out", "{out}", "--workers", "0", message="--workers 0"),
    case("campaign", "analyze", "{top}:{xtc}", "--out", "{proc}", message="cannot be created"),
    case("campaign", "analyze", "{top}:{xtc}", "--out", "{out}", message='"qsse_md[campaign]"', without="distributed"),
    # demo
    case("demo", "--out", "{under_file}", message="which is a file"),
    case("demo", "--out", "{proc}", message="cannot be created"),
    case("demo", "--out", "{nonempty}", message="exists and is not empty"),
    case("demo", "--out", "{other_build}", message="is not a demo folder"),
    case("demo", "--steps", "10", message="unrecognized arguments: --steps"),
]


def _tree(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize("argv, message, without", CASES)
def test_wrong_input_is_one_line_exit_2_and_leaves_nothing(inputs, tmp_path, monkeypatch, capsys, argv, message,
                                                           without):
    folder, paths = inputs
    before = _tree(folder)
    monkeypatch.chdir(tmp_path)
    if without:
        monkeypatch.setitem(sys.modules, without, None)
    out = tmp_path / "out"
    code = main([arg.format(out=out, **paths) for arg in argv])
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == EXIT_USAGE, captured.err
    assert len(lines) == 1 and lines[0].startswith("qsse-md: error: "), captured.err
    assert message in lines[0]
    assert "Traceback" not in captured.out + captured.err
    assert not out.exists() and _tree(tmp_path) == [] and _tree(folder) == before


def test_there_are_at_least_100_cases():
    assert len(CASES) >= 100
