"""The built tiny box on a GPU platform: same forces as the CPU platform, and a short run (``-m gpu``)."""

import shutil

import numpy as np
import openmm
import pytest

from qsse_md.md.runner import run
from qsse_md.runfolder import RunFolder

pytestmark = pytest.mark.gpu


@pytest.fixture
def gpu_platform():
    """Name of the first GPU platform OpenMM has; skips the test (before any build) without one."""
    names = {openmm.Platform.getPlatform(k).getName() for k in range(openmm.Platform.getNumPlatforms())}
    for name in ("CUDA", "OpenCL"):
        if name in names:
            return name
    pytest.skip("no CUDA or OpenCL OpenMM platform")


def _energy_and_forces(system, positions, platform):
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName(platform))
    context.setPositions(positions)
    state = context.getState(getEnergy=True, getForces=True)
    unit = openmm.unit.kilojoule_per_mole
    return (state.getPotentialEnergy().value_in_unit(unit),
            state.getForces(asNumpy=True).value_in_unit(unit / openmm.unit.nanometer))


def test_gpu_and_cpu_agree_on_the_built_box(gpu_platform, tiny_run):
    system, pdb, _ = RunFolder(tiny_run).load_build()
    cpu_energy, cpu_forces = _energy_and_forces(system, pdb.positions, "CPU")
    gpu_energy, gpu_forces = _energy_and_forces(system, pdb.positions, gpu_platform)
    assert gpu_energy == pytest.approx(cpu_energy, rel=1e-4, abs=1.0)  # kJ/mol; mixed vs single precision
    assert np.sqrt(np.mean((gpu_forces - cpu_forces) ** 2)) < 1e-2 * np.sqrt(np.mean(cpu_forces ** 2))


def test_test_protocol_runs_on_the_gpu(gpu_platform, tiny_run, tmp_path):
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_run, folder, ignore=shutil.ignore_patterns("run.json", "stages"))
    run(folder, protocol="test", platform=gpu_platform)
    assert RunFolder(folder).read_run()["sessions"][-1]["platform"] == gpu_platform
