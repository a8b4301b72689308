"""Atomic-crystal order of solvent or salt: Steinhardt q4/q6 through freud (optional).

Bond-orientational order parameters of Steinhardt, Nelson & Ronchetti, Phys. Rev. B 28,
784 (1983), doi:10.1103/PhysRevB.28.784, computed by freud's
:class:`freud.order.Steinhardt` (Ramasubramani et al., Comput. Phys. Commun. 254,
107275 (2020), doi:10.1016/j.cpc.2020.107275) on atoms or on molecule centres. An ideal
fcc crystal with 12 neighbours gives q4 = 0.191 and q6 = 0.575; a liquid gives small
values. freud is optional: without it the analyzer refuses to start with a message
saying how to install it.
"""

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase

from qsse_md.analysis._plotting import axes_or_new
from qsse_md.analysis.species_guess import molecule_indices
from qsse_md.lib.box import box_matrix, minimum_image, require_box

Q_EDGES = np.linspace(0.0, 1.0, 51)


def _require_freud():
    try:
        import freud
    except ImportError:
        raise ImportError("Steinhardt order needs freud: pip install freud-analysis (optional extra)") from None
    return freud


class SteinhardtOrder(AnalysisBase):
    """Mean Steinhardt q_l of atoms or molecule centres per frame.

    Parameters
    ----------
    atoms : AtomGroup
        Atoms to analyse (e.g. Li and P of LiPF6, or solvent atoms).
    ls : tuple of int
        Spherical-harmonic degrees (default q4 and q6).
    num_neighbors : int, optional
        Use this many nearest neighbours (12 suits close packing)...
    r_max_angstrom : float
        ...else all neighbours within this distance, Å.
    centres : {"atoms", "molecules"}
        One point per atom, or per molecule (centre of geometry, unwrapped by minimum image).

    Attributes
    ----------
    results.time_ps : numpy.ndarray, shape (n_frames,)
    results.q : dict of int to numpy.ndarray, shape (n_frames,)
        Mean q_l over points per frame, dimensionless.
    results.histogram : dict of int to numpy.ndarray, shape (50,)
        Points per q_l bin (edges ``results.q_edges``), summed over frames.
    """

    def __init__(self, atoms, ls=(4, 6), num_neighbors=12, r_max_angstrom=4.0, centres="atoms", **kwargs):
        self._freud = _require_freud()
        super().__init__(atoms.universe.trajectory, **kwargs)
        if len(atoms) == 0:
            raise ValueError("empty selection: Steinhardt order needs atoms")
        if centres not in ("atoms", "molecules"):
            raise ValueError(f"centres={centres!r}; choose 'atoms' or 'molecules'")
        self._atoms, self._ls = atoms, tuple(int(l) for l in ls)
        self._molecule = (np.unique(molecule_indices(atoms.universe)[atoms.ix], return_inverse=True)[1]
                          if centres == "molecules" else None)
        self._query = ({"num_neighbors": int(num_neighbors), "exclude_ii": True} if num_neighbors
                       else {"r_max": float(r_max_angstrom), "exclude_ii": True})

    def _prepare(self):
        self.results.time_ps = np.zeros(self.n_frames)
        self.results.q = {l: np.zeros(self.n_frames) for l in self._ls}
        self.results.q_edges = Q_EDGES
        self.results.histogram = {l: np.zeros(len(Q_EDGES) - 1, dtype=np.int64) for l in self._ls}

    def _points(self, dimensions):
        positions = self._atoms.positions.astype(np.float64)
        if self._molecule is None:
            return positions
        first = np.unique(self._molecule, return_index=True)[1]
        offsets = minimum_image(positions - positions[first][self._molecule], dimensions)
        counts = np.bincount(self._molecule)[:, None]
        sums = np.stack([np.bincount(self._molecule, weights=offsets[:, k]) for k in range(3)], axis=1)
        return positions[first] + sums / counts

    def _single_frame(self):
        dimensions = require_box(self._ts.dimensions, f"frame {self._ts.frame}")
        box = self._freud.box.Box.from_matrix(box_matrix(dimensions).T)
        points = box.wrap(self._points(dimensions))
        self.results.time_ps[self._frame_index] = self._ts.time
        for l in self._ls:
            order = self._freud.order.Steinhardt(l).compute((box, points), neighbors=self._query).particle_order
            self.results.q[l][self._frame_index] = float(np.nanmean(order))
            self.results.histogram[l] += np.histogram(order[np.isfinite(order)], bins=Q_EDGES)[0]

    def to_dataframe(self):
        """Tidy series: ``time_ps`` and ``q4``, ``q6``, ... (dimensionless).

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        return pd.DataFrame({"time_ps": self.results.time_ps, **{f"q{l}": v for l, v in self.results.q.items()}})

    def plot(self, ax=None):
        """Histograms of the per-point q_l summed over frames.

        Returns the matplotlib Axes (a new figure's when ``ax`` is None).
        """
        ax = axes_or_new(ax)
        for l, counts in self.results.histogram.items():
            ax.stairs(counts, Q_EDGES, label=f"q{l}")
        ax.set_xlabel("q_l (dimensionless)")
        ax.set_ylabel("points")
        ax.legend()
        return ax
