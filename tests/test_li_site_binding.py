"""The single-site Li+ binding scan of ``benchmarks/li_site_binding.py`` against exact minima."""

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
binding = pytest.importorskip("li_site_binding")

LI = np.array([0.8, 0.14, 0.07])


def test_neutral_site_minimum_is_the_lennard_jones_well():
    site = np.array([[0.0, 0.36, 0.5]])
    sigma, epsilon = 0.5 * (LI[1] + site[0, 1]), np.sqrt(LI[2] * site[0, 2])
    energy, position = binding.site_binding(LI, site, np.zeros((1, 3)), np.array([0.0, 0.0, 0.26]))
    assert energy == pytest.approx(-epsilon, rel=1e-6)
    assert np.linalg.norm(position) == pytest.approx(2 ** (1 / 6) * sigma, rel=1e-4)


def test_charged_site_minimum_matches_the_radial_solution():
    site = np.array([[-0.8, 0.3, 0.6]])
    sigma, epsilon = 0.5 * (LI[1] + site[0, 1]), np.sqrt(LI[2] * site[0, 2])
    coulomb = binding.COULOMB_KJ_NM_PER_MOL_E2 * LI[0] * site[0, 0]

    def radial_energy(r):
        return coulomb / r + 4 * epsilon * ((sigma / r) ** 12 - (sigma / r) ** 6)

    exact = scipy.optimize.minimize_scalar(radial_energy, bounds=(0.15, 0.3), method="bounded",
                                           options={"xatol": 1e-9})
    energy, position = binding.site_binding(LI, site, np.zeros((1, 3)), np.array([0.05, 0.0, 0.2]))
    assert energy == pytest.approx(exact.fun, rel=1e-6)
    assert np.linalg.norm(position) == pytest.approx(exact.x, rel=1e-4)


def test_li_stays_within_its_site_box():
    site = np.array([[-0.8, 0.3, 0.6]])
    start = np.array([0.0, 0.0, 0.6])
    _, position = binding.site_binding(LI, site, np.zeros((1, 3)), start)
    assert np.all(np.abs(position - start) <= binding.SITE_HALF_WIDTH_NM + 1e-9)
