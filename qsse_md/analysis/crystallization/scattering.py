"""X-ray-weighted structure factor S(q) and intensity I(q) of a trajectory, with partials.

One pass: each frame adds, for every pair of atom types (group × element), a
minimum-image pair-distance histogram (:func:`qsse_md.lib.scattering.typed_pair_histogram`,
one compiled pass over the pairs) to running counts, so memory grows with the number of types and bins, never with the
square of the number of atoms. The partial g(r) are transformed with a Lorch window
and combined with Cromer–Mann form factors (:mod:`qsse_md.lib.scattering`). For
checking, ``direct=True`` also sums :math:`|\\sum_j f_j e^{i\\mathbf q\\cdot\\mathbf r_j}|^2`
over the wave vectors the box allows (memory: atoms × a block of vectors).
"""

import warnings

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.core.groups import AtomGroup

from qsse_md.analysis._checks import checked_cutoffs
from qsse_md.analysis._plotting import axes_or_new
from qsse_md.analysis.species_guess import element_symbols
from qsse_md.lib.box import box_widths, require_box
from qsse_md.lib.distances import BACKENDS
from qsse_md.lib.scattering import (CROMER_MANN, CU_K_ALPHA_ANGSTROM, density_modes, form_factor, lorch_transform,
                                    reciprocal_vectors, two_theta_degrees, typed_pair_histogram)


class StructureFactor(AnalysisBase):
    """Faber–Ziman X-ray S(q) by Lorch-windowed transform of streamed partial RDFs.

    Parameters
    ----------
    groups : AtomGroup or dict of str to AtomGroup
        Atoms that scatter (disjoint groups, e.g. polymer, solvent, anion, cation);
        partial contributions are reported per pair of groups.
    q_range : tuple of float
        ``(q_min, q_max)`` in Å⁻¹; clipped, with a warning, to what the box allows
        (q_min >= 2π / r_max for the transform, 2π / largest box width for the direct sum).
    n_q : int
        Points of the q grid of the transform.
    bin_width_angstrom : float
        r bin width of the histograms, Å (q_max is clipped to π / width).
    r_max_angstrom : float, optional
        Transform cutoff R, Å; default and maximum half the smallest box width.
    wavelength_angstrom : float
        X-ray wavelength for the 2θ axis, Å (Cu K-alpha by default).
    direct : bool
        Also compute S(q) directly on box-allowed wave vectors.
    max_vectors_per_bin : int
        Direct method: at most this many vectors per q shell (random, reproducible).
    backend : {"numba", "numpy"}
        Histogram kernel (the numpy one is a reference, for testing).

    Attributes
    ----------
    results.q : numpy.ndarray, shape (n_q,)
        Å⁻¹. ``results.two_theta_deg`` is the matching 2θ (degrees, ``nan`` beyond 180°).
    results.s_q : numpy.ndarray, shape (n_q,)
        Faber–Ziman S(q), dimensionless (-> 1 at large q and for an ideal gas).
    results.i_q : numpy.ndarray, shape (n_q,)
        Coherent intensity per atom, electron units (e²/atom).
    results.partials : dict of str to numpy.ndarray, shape (n_q,)
        Contribution of each group pair ``"A-B"`` (both orders) to S(q) - 1; they sum to it.
    results.direct_q, results.direct_s_q, results.direct_i_q, results.direct_n_vectors
        Direct method per shell of width 2π / largest box width: mean |q| (Å⁻¹), S,
        I (e²/atom) and vectors averaged (only with ``direct=True``).
    results.r_max_angstrom, results.wavelength_angstrom, results.volume_angstrom3
    """

    def __init__(self, groups, q_range=(0.3, 5.0), n_q=471, bin_width_angstrom=0.02, r_max_angstrom=None,
                 wavelength_angstrom=CU_K_ALPHA_ANGSTROM, direct=False, max_vectors_per_bin=200, backend="numba",
                 **kwargs):
        groups = {"all": groups} if isinstance(groups, AtomGroup) else dict(groups)
        if not groups or any(len(g) == 0 for g in groups.values()):
            raise ValueError("empty selection: every scattering group needs atoms; check the selections")
        atoms = sum(groups.values(), next(iter(groups.values())).universe.atoms[[]])
        if len(atoms.unique) != len(atoms):
            raise ValueError("the scattering groups overlap; make them disjoint")
        super().__init__(atoms.universe.trajectory, **kwargs)
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; choose one of {BACKENDS}")
        half_width = checked_cutoffs(atoms.universe.trajectory,
                                     {} if r_max_angstrom is None else {"r_max": float(r_max_angstrom)})
        r_max = half_width if r_max_angstrom is None else float(r_max_angstrom)
        widths = box_widths(atoms.universe.trajectory.ts.dimensions)
        if not 0 < bin_width_angstrom < r_max:
            raise ValueError(f"bin width {bin_width_angstrom} Å must be positive and smaller than r_max {r_max} Å")
        q_min, q_max = _clip_range(q_range, 2 * np.pi / r_max, np.pi / bin_width_angstrom, "the RDF transform")
        self._types, self._type_group, self._type_element = [], [], []
        symbols = element_symbols(atoms.universe.atoms)
        for g, (name, group) in enumerate(groups.items()):
            for element in sorted(set(symbols[group.ix])):
                if element not in CROMER_MANN:
                    raise ValueError(f"group {name!r} has atoms of element {element!r} with no form factor; "
                                     f"known elements: {sorted(CROMER_MANN)}")
                self._types.append(group[symbols[group.ix] == element])
                self._type_group.append(g)
                self._type_element.append(element)
        self._names = list(groups)
        self._atoms = sum(self._types, atoms.universe.atoms[[]])
        self._type_of = np.concatenate([np.full(len(group), k) for k, group in enumerate(self._types)])
        self._kernel_backend = backend
        self._n_atoms = len(atoms)
        self._edges = np.linspace(0.0, r_max, int(round(r_max / bin_width_angstrom)) + 1)
        self._q = np.linspace(q_min, q_max, int(n_q))
        if not float(wavelength_angstrom) > 0:
            raise ValueError(f"X-ray wavelength {wavelength_angstrom} Å must be positive (Cu K-alpha: "
                             f"{CU_K_ALPHA_ANGSTROM} Å)")
        self._wavelength = float(wavelength_angstrom)
        self._direct = bool(direct)
        if self._direct:
            spacing = 2 * np.pi / widths.max()
            low, high = _clip_range(q_range, spacing, np.inf, "the direct sum")
            self._direct_edges = (np.arange(np.floor(low / spacing), np.ceil(high / spacing) + 1) + 0.5) * spacing
            self._max_vectors = int(max_vectors_per_bin)

    def _prepare(self):
        n_types = len(self._types)
        self._counts = np.zeros((n_types, n_types, len(self._edges) - 1))
        self._volume_sum = 0.0
        if self._direct:
            n_bins = len(self._direct_edges) - 1
            self._direct_sums = np.zeros((5, n_bins))  # |A|^2/N, <f^2> - <f>^2, <f>^2, |q|, vectors

    def _single_frame(self):
        dimensions = require_box(self._ts.dimensions, f"frame {self._ts.frame}")
        self._counts += typed_pair_histogram(self._atoms.positions, self._type_of, len(self._types), self._edges,
                                             dimensions, backend=self._kernel_backend)
        self._volume_sum += self._ts.volume
        if self._direct:
            self._direct_frame([group.positions for group in self._types], dimensions)

    def _direct_frame(self, positions, dimensions):
        vectors = reciprocal_vectors(dimensions, self._direct_edges[0], self._direct_edges[-1], self._max_vectors,
                                     self._direct_edges)
        length = np.linalg.norm(vectors, axis=1)
        factors = np.array([form_factor(element, length) for element in self._type_element])
        amplitude = sum(f * density_modes(p, vectors) for f, p in zip(factors, positions))
        fractions = np.array([len(p) for p in positions])[:, None] / self._n_atoms
        mean_f, mean_f2 = (fractions * factors).sum(axis=0), (fractions * factors ** 2).sum(axis=0)
        n_bins = len(self._direct_edges) - 1
        bins = np.digitize(length, self._direct_edges) - 1
        inside = (bins >= 0) & (bins < n_bins)  # a vector exactly on the last edge is left out
        for row, values in enumerate((np.abs(amplitude) ** 2 / self._n_atoms, mean_f2 - mean_f ** 2, mean_f ** 2,
                                      length, np.ones_like(length))):
            self._direct_sums[row] += np.bincount(bins[inside], weights=values[inside], minlength=n_bins)

    def _conclude(self):
        volume = self._volume_sum / self.n_frames
        sizes = np.array([len(group) for group in self._types], dtype=np.float64)
        fractions, density = sizes / self._n_atoms, self._n_atoms / volume
        factors = np.array([form_factor(element, self._q) for element in self._type_element])
        mean_f, mean_f2 = fractions @ factors, fractions @ factors ** 2
        shells = 4.0 / 3.0 * np.pi * np.diff(self._edges ** 3)
        rows, weights, keys = [], [], []
        for a in range(len(self._types)):
            for b in range(a, len(self._types)):
                n_pairs = sizes[a] * (sizes[b] - (a == b))
                if n_pairs == 0:
                    continue
                rows.append(self._counts[a, b] * volume / (self.n_frames * n_pairs * shells))
                weights.append((1 if a == b else 2) * fractions[a] * fractions[b] * factors[a] * factors[b]
                               / mean_f ** 2)
                keys.append("-".join(self._names[k] for k in sorted((self._type_group[a], self._type_group[b]))))
        partials = {}
        for key, weight, transform in zip(keys, weights, lorch_transform(self._edges, np.array(rows), density,
                                                                         self._q)):
            partials[key] = partials.get(key, 0.0) + weight * transform
        self.results.q = self._q
        self.results.two_theta_deg = two_theta_degrees(self._q, self._wavelength)
        self.results.partials = partials
        self.results.s_q = 1.0 + sum(partials.values())
        self.results.i_q = mean_f2 - mean_f ** 2 + mean_f ** 2 * self.results.s_q
        self.results.r_max_angstrom, self.results.wavelength_angstrom = self._edges[-1], self._wavelength
        self.results.volume_angstrom3 = volume
        if self._direct:
            i_sum, incoherent, coherent, q_sum, count = self._direct_sums
            used = count > 0
            self.results.direct_q = q_sum[used] / count[used]
            self.results.direct_s_q = (i_sum[used] - incoherent[used]) / coherent[used]
            self.results.direct_i_q = i_sum[used] / count[used]
            self.results.direct_n_vectors = count[used].astype(np.int64)

    def to_dataframe(self):
        """Curves on the transform's q grid.

        Returns
        -------
        pandas.DataFrame
            Columns ``q_inv_angstrom``, ``two_theta_deg``, ``S``, ``I_e2_per_atom`` and
            ``partial_<A>-<B>`` (contributions to S - 1).
        """
        import pandas as pd

        return pd.DataFrame({"q_inv_angstrom": self.results.q, "two_theta_deg": self.results.two_theta_deg,
                             "S": self.results.s_q, "I_e2_per_atom": self.results.i_q,
                             **{f"partial_{key}": value for key, value in self.results.partials.items()}})

    def plot(self, ax=None, axis="q"):
        """S(q) (line), the direct sums (dots) and the partials (thin lines).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
        axis : {"q", "two_theta"}
            Abscissa: q in Å⁻¹ or 2θ in degrees at the chosen wavelength.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes_or_new(ax)
        x = self.results.q if axis == "q" else self.results.two_theta_deg
        ax.plot(x, self.results.s_q, color="k", label="S(q)")
        for key, value in self.results.partials.items():
            ax.plot(x, value, linewidth=0.8, label=f"{key} (S - 1 part)")
        if self._direct:
            q = self.results.direct_q
            ax.plot(q if axis == "q" else two_theta_degrees(q, self._wavelength), self.results.direct_s_q, "o",
                    markersize=3, color="grey", label="direct")
        ax.set_xlabel("q (Å⁻¹)" if axis == "q" else f"2θ (degrees, λ = {self._wavelength:g} Å)")
        ax.set_ylabel("S(q)")
        ax.legend(fontsize="small")
        return ax


def _clip_range(q_range, low, high, method):
    """``q_range`` clipped to [low, high] with a warning saying why."""
    q_min, q_max = (float(q) for q in q_range)
    if not 0 < q_min < q_max:
        raise ValueError(f"q_range {tuple(q_range)} must satisfy 0 < q_min < q_max (Å⁻¹)")
    if q_min >= high or q_max <= low:
        raise ValueError(f"q_range {tuple(q_range)} Å⁻¹ lies outside what {method} allows ({low:.3g}-{high:.3g} "
                         "Å⁻¹); use a larger box or another range")
    if q_min < low or q_max > high:
        warnings.warn(f"q_range {tuple(q_range)} Å⁻¹ exceeds what {method} allows ({low:.3g}-{high:.3g} Å⁻¹; "
                      "box size and bin width); clipped", stacklevel=3)
    return max(q_min, low), min(q_max, high)
