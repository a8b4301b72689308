"""Steinhardt q4/q6 through freud on an fcc lattice; clear message without freud."""

import sys

import MDAnalysis as mda
import numpy as np
import pytest

from qsse_md.analysis.crystallization.steinhardt import SteinhardtOrder


def _fcc_universe(dimer=False):
    a, n = 4.0, 3
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.array([[i, j, k] for i in range(n) for j in range(n) for k in range(n)])
    centres = (cells[:, None, :] + basis[None]).reshape(-1, 3) * a
    if dimer:  # two atoms ±0.5 Å along z around each site, one molecule each; some split by the boundary
        points = np.concatenate([centres - [0, 0, 0.5], centres + [0, 0, 0.5]])
        points = np.mod(points, a * n)
        resindex = np.concatenate([np.arange(len(centres))] * 2)
    else:
        points, resindex = centres, np.arange(len(centres))
    universe = mda.Universe.empty(len(points), n_residues=len(centres), atom_resindex=resindex, trajectory=True)
    universe.add_TopologyAttr("elements", ["C"] * len(points))
    if dimer:
        universe.add_TopologyAttr("bonds", [(k, k + len(centres)) for k in range(len(centres))])
    universe.atoms.positions = points.astype(np.float32)
    universe.dimensions = [a * n] * 3 + [90.0] * 3
    return universe


@pytest.mark.parametrize("dimer", [False, True])
def test_fcc_values(dimer):
    pytest.importorskip("freud")
    import matplotlib

    matplotlib.use("Agg")
    analysis = SteinhardtOrder(_fcc_universe(dimer).atoms, centres="molecules" if dimer else "atoms").run()
    assert analysis.results.q[4][0] == pytest.approx(0.19094, abs=1e-3)
    assert analysis.results.q[6][0] == pytest.approx(0.57452, abs=1e-3)
    assert list(analysis.to_dataframe().columns) == ["time_ps", "q4", "q6"]
    assert analysis.plot().get_xlabel() == "q_l (dimensionless)"


def test_missing_freud_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "freud", None)
    with pytest.raises(ImportError, match="pip install freud-analysis"):
        SteinhardtOrder(_fcc_universe().atoms)
