"""Export a built box to GROMACS (``.top``/``.gro``) and Amber (``prmtop``/``inpcrd``) via ParmEd.

A build folder holds ``topology.pdb`` and ``system.xml`` (see :func:`qsse_md.assembly.builder.
build_system`). ParmEd reads an OpenMM System force by force; anything it cannot represent
is handled here explicitly, never dropped:

- the PF6- cis-only angle term (a ``CustomAngleForce``, E = step(theta_cis_max - theta)
  k/2 (theta - theta0)^2) becomes harmonic angle entries for the angles that are cis at the
  exported geometry; the trans angles contribute exactly zero and are left out. This is
  exact while every angle stays on its side of theta_cis_max (135 deg for PF6-);
- bonds constrained in ``system.xml`` (e.g. X-H with ``constraints = "hbonds"``) carry no
  bond term there; their force constants are recovered from the build's ``forcefield/``
  files, so the exported files are complete also for a flexible run;
- any other force ParmEd cannot write raises a one-line :class:`ValueError`.

Run settings (cutoff, PME tolerance, dispersion correction, constraints) are not part of
the exported topologies; ``export.json`` records them for the user's engine input.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import warnings
from pathlib import Path

import numpy as np
import openmm
from openmm import app, unit

from qsse_md.fileio import check_new_output_dir, staged_output_dir
from qsse_md.runfolder import RunFolder

FORMAT_FILES = {"gromacs": ("system.top", "system.gro"),
                "amber": ("system.prmtop", "system.inpcrd")}
CIS_ANGLE_ENERGY = "step(theta_cis_max - theta)*0.5*k*(theta - theta0)^2"
CIS_ANGLE_PARAMETERS = ("k", "theta0", "theta_cis_max")
CIS_MARGIN_RAD = math.radians(5.0)
_PASSED_THROUGH = (openmm.HarmonicBondForce, openmm.HarmonicAngleForce,
                   openmm.PeriodicTorsionForce, openmm.RBTorsionForce, openmm.NonbondedForce)
_NOT_EXPORTED = (openmm.CMMotionRemover,)


def export_system(build_dir, out_dir, formats=("gromacs", "amber")) -> dict:
    """Write the box of ``build_dir`` as GROMACS and/or Amber files into ``out_dir``.

    Parameters
    ----------
    build_dir : path-like
        A build folder with ``topology.pdb`` and ``system.xml`` (and ``forcefield/`` when
        the system has constrained bonds).
    out_dir : path-like
        Output folder; must not exist or be empty. Written under a temporary name and
        renamed at the end, so a failed export leaves nothing behind.
    formats : sequence of str
        Any of "gromacs" (``system.top``, ``system.gro``) and "amber" (``system.prmtop``,
        ``system.inpcrd``). Coordinates are the build's minimised positions.

    Returns
    -------
    dict
        The export record, also written as ``out_dir/export.json``: formats, files,
        source build (path and SHA-256 of its inputs), conversions made and run settings
        (cutoff in nm, PME tolerance, dispersion correction, constraints).

    Raises
    ------
    FileNotFoundError
        If the build folder, ``topology.pdb`` or ``system.xml`` is missing.
    FileExistsError
        If ``out_dir`` exists and is not empty.
    ValueError
        For an unknown format, a corrupt ``topology.pdb`` or ``system.xml`` or a force that
        cannot be exported exactly.
    """
    build, out_dir = RunFolder(build_dir), Path(out_dir)
    formats = _check_formats(formats)
    system, pdb, _ = build.load_build()
    check_new_output_dir(out_dir)
    positions_nm = np.asarray(pdb.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
    portable, conversions = portable_system(system, pdb.topology, positions_nm, build.forcefield_dir)
    structure = to_structure(pdb.topology, portable, positions_nm)

    with staged_output_dir(out_dir) as staging:
        files = {}
        for fmt in formats:
            top_name, xyz_name = FORMAT_FILES[fmt]
            if fmt == "gromacs" and not _copies_are_identical(structure):
                structure.save(str(staging / top_name), format=fmt, combine="all")
                conversions.append({"force": "molecule types", "converted_to": "one GROMACS "
                                    "moleculetype for the whole box", "note": "molecules with "
                                    "equal atoms differ in their bonded terms"})
            else:
                structure.save(str(staging / top_name), format=fmt)
            structure.save(str(staging / xyz_name), format="gro" if fmt == "gromacs" else "rst7")
            files[fmt] = [top_name, xyz_name]
        record = _record(build, system, formats, files, conversions)
        (staging / "export.json").write_text(json.dumps(record, indent=2) + "\n")
        staging.chmod(0o755)
    return record


def portable_system(system: openmm.System, topology: app.Topology, positions_nm: np.ndarray,
                    forcefield_dir: Path | None = None) -> tuple[openmm.System, list[dict]]:
    """A copy of ``system`` using only forces ParmEd writes, and the conversions made.

    Parameters
    ----------
    system : openmm.System
        The built system (not modified).
    topology : openmm.app.Topology
        Its topology (atoms and bonds).
    positions_nm : ndarray, shape (n_atoms, 3)
        Coordinates in nm at which geometry-dependent conversions are decided.
    forcefield_dir : Path or None
        Folder of the ffxml files the system was built from; needed only when some bonds
        are constrained and so have no bond term in ``system``.

    Returns
    -------
    (openmm.System, list of dict)
        The portable system, whose energy equals that of ``system`` at ``positions_nm``
        (plus the restored terms of constrained bonds, zero at their constraint length),
        and one record per conversion.
    """
    portable = copy.deepcopy(system)
    conversions = []
    for index in reversed(range(portable.getNumForces())):
        force = portable.getForce(index)
        if isinstance(force, _PASSED_THROUGH):
            continue
        if isinstance(force, _NOT_EXPORTED):
            portable.removeForce(index)
        elif isinstance(force, openmm.CustomAngleForce):
            conversions.append(_convert_cis_angles(portable, index, positions_nm))
        else:
            raise ValueError(f"{force.__class__.__name__} '{force.getName()}' cannot be written "
                             "to GROMACS/Amber files; run the build's system.xml in OpenMM, or "
                             "rebuild without this force")
    restored = _restore_constrained_bonds(portable, topology, forcefield_dir)
    if restored:
        conversions.append(restored)
    return portable, conversions


def to_structure(topology: app.Topology, system: openmm.System, positions_nm: np.ndarray):
    """ParmEd Structure of a portable system, with the System's masses (Da).

    Raises
    ------
    ValueError
        If ParmEd reports any force or term it could not interpret.
    """
    import parmed
    from parmed.exceptions import OpenMMWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OpenMMWarning)
        structure = parmed.openmm.load_topology(topology, system, xyz=positions_nm * 10.0)
    problems = [str(w.message) for w in caught if issubclass(w.category, OpenMMWarning)]
    if problems:
        raise ValueError(f"ParmEd could not represent the system exactly: {problems[0]}; "
                         "run the build's system.xml in OpenMM instead")
    for index, atom in enumerate(structure.atoms):
        atom.mass = system.getParticleMass(index).value_in_unit(unit.dalton)
    return structure


def _copies_are_identical(structure) -> bool:
    """Whether the molecules ParmEd writes as copies of one moleculetype share all terms.

    ParmEd groups molecules by atom names, charges and LJ only; two PF6- whose cis angle
    sets differ would otherwise be written with the first one's angles.
    """
    groups = structure.split()
    first = {}
    for atom in structure.atoms:
        first.setdefault(atom.marked, atom.idx)
    signatures = {}
    terms = ("bonds", "angles", "dihedrals", "rb_torsions", "impropers", "urey_bradleys")
    for name in terms:
        for term in getattr(structure, name):
            atoms = [getattr(term, f"atom{n}") for n in range(1, 5) if hasattr(term, f"atom{n}")]
            molecule = atoms[0].marked
            key = (name, tuple(a.idx - first[molecule] for a in atoms), str(term.type))
            signatures.setdefault(molecule, []).append(key)
    for _, members in groups:
        reference = sorted(signatures.get(min(members) + 1, []))
        if any(sorted(signatures.get(m + 1, [])) != reference for m in members):
            return False
    return True


def _check_formats(formats) -> tuple[str, ...]:
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    unknown = [f for f in formats if f not in FORMAT_FILES]
    if unknown or not formats:
        raise ValueError(f"unknown export format(s) {unknown}; choose from "
                         f"{', '.join(FORMAT_FILES)}")
    return tuple(dict.fromkeys(formats))


def _convert_cis_angles(system: openmm.System, index: int, positions_nm: np.ndarray) -> dict:
    """Replace the cis-only CustomAngleForce at ``index`` by harmonic angle entries."""
    force = system.getForce(index)
    names = tuple(force.getPerAngleParameterName(i) for i in range(force.getNumPerAngleParameters()))
    if (force.getEnergyFunction().replace(" ", "") != CIS_ANGLE_ENERGY.replace(" ", "")
            or names != CIS_ANGLE_PARAMETERS or force.getNumGlobalParameters()):
        raise ValueError(f"CustomAngleForce with energy '{force.getEnergyFunction()}' has no "
                         "GROMACS/Amber equivalent; run the build's system.xml in OpenMM")
    harmonic = next((f for f in (system.getForce(i) for i in range(system.getNumForces()))
                     if isinstance(f, openmm.HarmonicAngleForce)), None)
    if harmonic is None:
        harmonic = openmm.HarmonicAngleForce()
        system.addForce(harmonic)
    kept, boundaries, closest = 0, set(), math.pi
    angles = [force.getAngleParameters(i) for i in range(force.getNumAngles())]
    for i, j, k, (k_angle, theta0, theta_cis_max) in angles:
        theta = _angle_rad(positions_nm, i, j, k)
        if abs(theta - theta_cis_max) < CIS_MARGIN_RAD:
            raise ValueError(f"angle {i}-{j}-{k} is {math.degrees(theta):.1f} deg, too close to "
                             f"its cis/trans boundary {math.degrees(theta_cis_max):.1f} deg to "
                             "export as a harmonic angle; minimise the box first")
        boundaries.add(round(math.degrees(theta_cis_max), 6))
        closest = min(closest, abs(theta - theta_cis_max))
        if theta < theta_cis_max:
            harmonic.addAngle(i, j, k, theta0, k_angle)
            kept += 1
    energy = force.getEnergyFunction()
    system.removeForce(index)
    return {"force": "CustomAngleForce", "energy": energy,
            "converted_to": "harmonic angles (cis angles only)", "angles_kept": kept,
            "angles_zero_at_geometry": len(angles) - kept,
            "closest_to_boundary_deg": round(math.degrees(closest), 2),
            "valid_while": f"every angle stays on its side of {sorted(boundaries)} deg"}


def _angle_rad(positions_nm: np.ndarray, i: int, j: int, k: int) -> float:
    a, b = positions_nm[i] - positions_nm[j], positions_nm[k] - positions_nm[j]
    cosine = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.arccos(np.clip(cosine, -1.0, 1.0)))


def _restore_constrained_bonds(system: openmm.System, topology: app.Topology,
                               forcefield_dir: Path | None) -> dict | None:
    """Add bond terms for constrained topology bonds that have none; None if there are none."""
    bonds = next(f for f in system.getForces() if isinstance(f, openmm.HarmonicBondForce))
    have = {frozenset(bonds.getBondParameters(b)[:2]) for b in range(bonds.getNumBonds())}
    topology_bonds = {frozenset((a.index, b.index)) for a, b in topology.bonds()}
    missing = {}
    for c in range(system.getNumConstraints()):
        i, j, length = system.getConstraintParameters(c)
        if frozenset((i, j)) in topology_bonds and frozenset((i, j)) not in have:
            missing[frozenset((i, j))] = length.value_in_unit(unit.nanometer)
    if not missing:
        return None
    files = sorted(Path(forcefield_dir).glob("*.xml")) if forcefield_dir else []
    if not files:
        raise ValueError(f"{len(missing)} constrained bonds have no bond term in system.xml "
                         f"and no force-field files were found in {forcefield_dir}; export "
                         "from a complete build folder")
    flexible = app.ForceField(*map(str, files)).createSystem(topology, constraints=None,
                                                            rigidWater=False)
    source = next(f for f in flexible.getForces() if isinstance(f, openmm.HarmonicBondForce))
    added = 0
    for b in range(source.getNumBonds()):
        i, j, length, k = source.getBondParameters(b)
        target = missing.get(frozenset((i, j)))
        if target is None:
            continue
        if abs(length.value_in_unit(unit.nanometer) - target) > 1e-9:
            raise ValueError(f"bond {i}-{j}: force-field length differs from its constraint "
                             "length; the forcefield/ folder does not match system.xml")
        bonds.addBond(i, j, length, k)
        added += 1
    if added != len(missing):
        raise ValueError(f"only {added} of {len(missing)} constrained bonds found in the "
                         "forcefield/ files; the folder does not match system.xml")
    return {"force": "constraints", "converted_to": "harmonic bond terms from forcefield/*.xml",
            "bonds_restored": added,
            "note": "constrain these bonds in your engine to match the OpenMM run"}


def _record(folder: RunFolder, system: openmm.System, formats, files, conversions) -> dict:
    import parmed

    build = folder.read_build() if folder.is_built() else {}
    nonbonded = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    options = build.get("system_options", {})
    settings = {
        "nonbonded_method": "PME" if nonbonded.getNonbondedMethod() == openmm.NonbondedForce.PME
        else str(nonbonded.getNonbondedMethod()),
        "nonbonded_cutoff_nm": nonbonded.getCutoffDistance().value_in_unit(unit.nanometer),
        "ewald_error_tolerance": nonbonded.getEwaldErrorTolerance(),
        "dispersion_correction": nonbonded.getUseDispersionCorrection(),
        "constraints": options.get("constraints", f"{system.getNumConstraints()} constraints"),
        "constrained_bonds": system.getNumConstraints(),
    }
    return {
        "formats": list(formats),
        "files": files,
        "source": {
            "build_dir": str(folder.path.resolve()),
            "name": build.get("name"),
            "sha256": {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
                       for path in (folder.topology_pdb, folder.system_xml)},
        },
        "conversions": conversions,
        "run_settings": settings,
        "parmed_version": parmed.__version__,
        "openmm_version": openmm.__version__,
    }
