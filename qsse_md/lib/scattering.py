"""X-ray scattering kernels: atomic form factors, Lorch-windowed RDF transform, direct sums.

Atomic form factors are the nine-parameter Cromer–Mann fits
:math:`f(s) = \\sum_{i=1}^{4} a_i e^{-b_i s^2} + c` with :math:`s = \\sin\\theta/\\lambda
= q / 4\\pi` (Å⁻¹), coefficients of neutral atoms from *International Tables for
Crystallography*, Vol. C (2006), Table 6.1.1.4, doi:10.1107/97809553602060000600
(Cromer & Mann, Acta Cryst. A24, 321 (1968), doi:10.1107/S0567739468000550). All 99
coefficients of the 11 elements below were compared, digit by digit, with an independent
public transcription of that table (a Fortran ``cscatt`` array) and agree; f(0) equals the
atomic number within 0.01 (tested).

The total structure factor is the Faber–Ziman combination of partials (Faber & Ziman,
Phil. Mag. 11, 153 (1965), doi:10.1080/14786436508211931)

.. math::
    S(q) - 1 = \\sum_{\\alpha\\beta} \\frac{c_\\alpha c_\\beta f_\\alpha f_\\beta}{\\langle f\\rangle^2}
               [S_{\\alpha\\beta}(q) - 1],\\quad
    S_{\\alpha\\beta}(q) - 1 = 4\\pi\\rho \\int_0^{R} r^2 [g_{\\alpha\\beta}(r) - 1]
               \\frac{\\sin qr}{qr} \\frac{\\sin(\\pi r/R)}{\\pi r/R} dr

with the Lorch window (Lorch, J. Phys. C 2, 229 (1969), doi:10.1088/0022-3719/2/2/305)
damping the truncation ripples at the cutoff R. The coherent intensity per atom
(electron units) is :math:`I(q) = \\langle f^2\\rangle - \\langle f\\rangle^2 + \\langle f\\rangle^2 S(q)`.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from qsse_md.lib._jit import jit
from qsse_md.lib.box import box_geometry, box_matrix, require_box
from qsse_md.lib.cell_search import AT_EDGE, bin_at_edge, scaled_bin
from qsse_md.lib.distances import BACKENDS, pair_distance_histogram

#: ``symbol: (a1, b1, a2, b2, a3, b3, a4, b4, c)``; a dimensionless (electrons), b in Å².
CROMER_MANN = {
    "H": (0.489918, 20.6593, 0.262003, 7.74039, 0.196767, 49.5519, 0.049879, 2.20159, 0.001305),
    "Li": (1.12820, 3.95460, 0.750800, 1.05240, 0.617500, 85.3905, 0.465300, 168.261, 0.037700),
    "B": (2.05450, 23.2185, 1.33260, 1.02100, 1.09790, 60.3498, 0.706800, 0.140300, -0.19320),
    "C": (2.31000, 20.8439, 1.02000, 10.2075, 1.58860, 0.568700, 0.865000, 51.6512, 0.215600),
    "N": (12.2126, 0.005700, 3.13220, 9.89330, 2.01250, 28.9975, 1.16630, 0.582600, -11.529),
    "O": (3.04850, 13.2771, 2.28680, 5.70110, 1.54630, 0.323900, 0.867000, 32.9089, 0.250800),
    "F": (3.53920, 10.2825, 2.64120, 4.29440, 1.51700, 0.261500, 1.02430, 26.1476, 0.277600),
    "Na": (4.76260, 3.28500, 3.17360, 8.84220, 1.26740, 0.313600, 1.11280, 129.424, 0.676000),
    "P": (6.43450, 1.90670, 4.17910, 27.1570, 1.78000, 0.526000, 1.49080, 68.1645, 1.11490),
    "S": (6.90530, 1.46790, 5.20340, 22.2151, 1.43790, 0.253600, 1.58630, 56.1720, 0.866900),
    "Cl": (11.4604, 0.010400, 7.19640, 1.16620, 6.25560, 18.5194, 1.64550, 47.7784, -9.5574),
}
CU_K_ALPHA_ANGSTROM = 1.5406


def form_factor(symbol, q):
    """Cromer–Mann X-ray form factor of a neutral atom.

    Parameters
    ----------
    symbol : str
        Element symbol (a key of :data:`CROMER_MANN`).
    q : array_like
        Scattering vector length :math:`4\\pi\\sin\\theta/\\lambda`, Å⁻¹.

    Returns
    -------
    numpy.ndarray
        f(q) in electrons, shape of ``q``; f(0) equals the atomic number within 0.01.
    """
    if symbol not in CROMER_MANN:
        raise ValueError(f"no Cromer-Mann coefficients for element {symbol!r}; known: {sorted(CROMER_MANN)}")
    a1, b1, a2, b2, a3, b3, a4, b4, c = CROMER_MANN[symbol]
    s2 = (np.asarray(q, dtype=np.float64) / (4.0 * np.pi)) ** 2
    return a1 * np.exp(-b1 * s2) + a2 * np.exp(-b2 * s2) + a3 * np.exp(-b3 * s2) + a4 * np.exp(-b4 * s2) + c


def two_theta_degrees(q, wavelength_angstrom=CU_K_ALPHA_ANGSTROM):
    """Diffraction angle 2θ (degrees) of q (Å⁻¹) for a wavelength (Å); ``nan`` beyond 2θ = 180°."""
    sine = np.asarray(q, dtype=np.float64) * wavelength_angstrom / (4.0 * np.pi)
    with np.errstate(invalid="ignore"):
        return np.where(sine <= 1.0, 2.0 * np.degrees(np.arcsin(np.minimum(sine, 1.0))), np.nan)


def lorch_transform(edges_angstrom, g, density, q):
    """Partial structure factor minus one from a partial g(r), Lorch-windowed.

    Parameters
    ----------
    edges_angstrom : numpy.ndarray, shape (n_bins + 1,)
        Equally spaced r bin edges from 0 to the cutoff R, Å.
    g : numpy.ndarray, shape (n_bins,) or (n_partials, n_bins)
        Partial g(r) per bin (dimensionless), one row per partial.
    density : float
        Total number density ρ, Å⁻³.
    q : numpy.ndarray, shape (n_q,)
        Scattering vector lengths, Å⁻¹ (> 0).

    Returns
    -------
    numpy.ndarray, shape (n_q,) or (n_partials, n_q)
        :math:`S_{\\alpha\\beta}(q) - 1` (module docstring), midpoint rule in r.
    """
    r = 0.5 * (edges_angstrom[1:] + edges_angstrom[:-1])
    dr = np.diff(edges_angstrom)
    window = np.sinc(r / edges_angstrom[-1])  # numpy sinc(x) = sin(pi x) / (pi x)
    kernel = np.sinc(np.outer(q, r) / np.pi)
    return 4.0 * np.pi * density * (r * r * (np.asarray(g) - 1.0) * window * dr) @ kernel.T


def reciprocal_vectors(dimensions, q_min, q_max, max_per_bin=None, edges=None, seed=0):
    """Wave vectors allowed by a periodic box with q_min <= |q| <= q_max (one of each ±q pair).

    Parameters
    ----------
    dimensions : array_like, shape (6,)
        Box ``[a, b, c, alpha, beta, gamma]`` (Å, degrees).
    q_min, q_max : float
        Range of |q|, Å⁻¹.
    max_per_bin : int, optional
        Keep at most this many vectors (random, reproducible) per bin of ``edges``.
    edges : numpy.ndarray, optional
        q bin edges for the subsampling, Å⁻¹.
    seed : int

    Returns
    -------
    numpy.ndarray, shape (n_vectors, 3)
        Vectors :math:`2\\pi (h a^* + k b^* + l c^*)` in Å⁻¹.
    """
    box = box_matrix(dimensions)
    reciprocal = 2.0 * np.pi * np.linalg.inv(box).T
    n_max = np.ceil(q_max * np.linalg.norm(box, axis=1) / (2.0 * np.pi)).astype(int)  # q . a = 2 pi h
    grids = np.meshgrid(*(np.arange(-n, n + 1) for n in n_max), indexing="ij")
    hkl = np.stack([grid.ravel() for grid in grids], axis=1)
    first_nonzero = np.argmax(hkl != 0, axis=1)
    hkl = hkl[hkl[np.arange(len(hkl)), first_nonzero] > 0]  # one of each ±q pair, no q = 0
    vectors = hkl @ reciprocal
    length = np.linalg.norm(vectors, axis=1)
    vectors = vectors[(length >= q_min) & (length <= q_max)]
    if max_per_bin is None:
        return vectors
    bins = np.digitize(np.linalg.norm(vectors, axis=1), edges)
    rng = np.random.default_rng(seed)
    keep = np.concatenate([rng.permutation(np.flatnonzero(bins == b))[:max_per_bin] for b in np.unique(bins)])
    return vectors[np.sort(keep)]


def density_modes(positions, vectors, chunk=2048):
    """Fourier components :math:`\\rho(\\mathbf q) = \\sum_j e^{i\\mathbf q\\cdot\\mathbf r_j}`.

    Parameters
    ----------
    positions : numpy.ndarray, shape (n, 3)
        Coordinates, Å.
    vectors : numpy.ndarray, shape (m, 3)
        Wave vectors, Å⁻¹.
    chunk : int
        Wave vectors per block; memory is ``n * chunk`` complex numbers.

    Returns
    -------
    numpy.ndarray of complex, shape (m,)
    """
    positions = np.asarray(positions, dtype=np.float64)
    out = np.empty(len(vectors), dtype=np.complex128)
    for start in range(0, len(vectors), chunk):
        phases = positions @ vectors[start:start + chunk].T
        out[start:start + chunk] = np.cos(phases).sum(axis=0) + 1j * np.sin(phases).sum(axis=0)
    return out


@jit(cache=True, nogil=True)
def _typed_histogram(positions, types, n_types, edges, vectors, inverse, orthorhombic, first_row, row_step):
    """Pairs i < j binned by (type of i, type of j) and distance, counted once (i's type
    first), for the rows i = first_row, first_row + row_step, ... (one share of the work).

    The minimum image is written out as in ``qsse_md.lib.distances._numpy_distances``
    (same arithmetic, so the numpy reference agrees exactly). For each atom i, three
    passes over j > i: squared distances (a loop the compiler vectorises), a branch-free
    compaction of the j inside the cutoff, then the bins of those only, so no
    unpredictable branch is taken per pair.
    """
    n = positions.shape[0]
    counts = np.zeros((n_types, n_types, edges.shape[0] - 1), dtype=np.int64)
    cutoff_squared = edges[-1] * edges[-1]
    n_bins = edges.shape[0] - 1
    bins_per_unit = n_bins / (edges[-1] - edges[0])
    x, y, z = positions[:, 0].copy(), positions[:, 1].copy(), positions[:, 2].copy()
    squared = np.empty(n)
    inside = np.empty(n, dtype=np.int64)
    for i in range(first_row, n - 1, row_step):
        xi, yi, zi, ti = x[i], y[i], z[i], types[i]
        if orthorhombic:
            _orthorhombic_squared(x, y, z, i, xi, yi, zi, vectors, inverse, squared)
        else:
            _triclinic_squared(x, y, z, i, xi, yi, zi, vectors, inverse, squared)
        n_inside = 0
        for j in range(i + 1, n):
            inside[n_inside] = j
            n_inside += 1 if squared[j] <= cutoff_squared else 0
        for k in range(n_inside):
            j = inside[k]
            distance = np.sqrt(squared[j])
            index = scaled_bin(distance, edges[0], bins_per_unit, n_bins)
            if index == AT_EDGE:
                index = bin_at_edge(distance, edges, bins_per_unit)
            if index >= 0:
                counts[ti, types[j], index] += 1
    return counts


@jit(cache=True, inline="always")
def _orthorhombic_squared(x, y, z, i, xi, yi, zi, vectors, inverse, squared):
    """``squared[j]`` = minimum-image squared distance of atoms i and j > i, orthorhombic box."""
    lx, ly, lz = vectors[0, 0], vectors[1, 1], vectors[2, 2]
    ix, iy, iz = inverse[0, 0], inverse[1, 1], inverse[2, 2]
    for j in range(i + 1, x.shape[0]):
        dx = x[j] - xi
        dy = y[j] - yi
        dz = z[j] - zi
        dx -= lx * np.rint(dx * ix)
        dy -= ly * np.rint(dy * iy)
        dz -= lz * np.rint(dz * iz)
        squared[j] = dx * dx + dy * dy + dz * dz


@jit(cache=True, inline="always")
def _triclinic_squared(x, y, z, i, xi, yi, zi, vectors, inverse, squared):
    """``squared[j]`` as :func:`_orthorhombic_squared` for any box (fractional rounding)."""
    for j in range(i + 1, x.shape[0]):
        dx = x[j] - xi
        dy = y[j] - yi
        dz = z[j] - zi
        n0 = np.rint(dx * inverse[0, 0] + dy * inverse[1, 0] + dz * inverse[2, 0])
        n1 = np.rint(dx * inverse[0, 1] + dy * inverse[1, 1] + dz * inverse[2, 1])
        n2 = np.rint(dx * inverse[0, 2] + dy * inverse[1, 2] + dz * inverse[2, 2])
        dx -= n0 * vectors[0, 0] + n1 * vectors[1, 0] + n2 * vectors[2, 0]
        dy -= n0 * vectors[0, 1] + n1 * vectors[1, 1] + n2 * vectors[2, 1]
        dz -= n0 * vectors[0, 2] + n1 * vectors[1, 2] + n2 * vectors[2, 2]
        squared[j] = dx * dx + dy * dy + dz * dz


def typed_pair_histogram(positions, types, n_types, edges, dimensions, backend="numba", n_threads=None):
    """Minimum-image pair-distance histograms of every pair of atom types in one pass.

    Parameters
    ----------
    positions : array_like, shape (n, 3)
        Coordinates, Å.
    types : array_like of int, shape (n,)
        Type index of each atom, 0 .. n_types - 1.
    n_types : int
    edges : numpy.ndarray, shape (n_bins + 1,)
        Equally spaced bin edges, Å; ``edges[-1]`` at most half the smallest box width.
    dimensions : array_like, shape (6,)
        Box ``[a, b, c, alpha, beta, gamma]`` in Å and degrees.
    backend : {"numba", "numpy"}
        One compiled all-pairs pass (time O(n²), memory O(n)), or the numpy reference
        built from :func:`qsse_md.lib.distances.pair_distance_histogram` per type pair.
    n_threads : int, optional
        Threads sharing the rows of the compiled pass (interleaved, so equal work);
        default: the CPUs this process may use. The integer counts do not depend on it.

    Returns
    -------
    numpy.ndarray of int, shape (n_types, n_types, n_bins)
        Ordered pairs (i, j), i ≠ j, of type (a, b) per bin: symmetric, and the
        diagonal counts every unordered same-type pair twice.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    positions = np.ascontiguousarray(positions, dtype=np.float64).reshape(-1, 3)
    types = np.asarray(types, dtype=np.int64)
    edges = np.asarray(edges, dtype=np.float64)
    if backend == "numpy":
        counts = np.zeros((n_types, n_types, len(edges) - 1), dtype=np.int64)
        for a in range(n_types):
            for b in range(n_types):
                counts[a, b] = pair_distance_histogram(positions[types == a], positions[types == b], edges,
                                                       dimensions, backend="numpy")
            counts[a, a, 0] -= np.count_nonzero(types == a)  # self pairs at r = 0
        return counts
    vectors, inverse, _, orthorhombic = box_geometry(tuple(require_box(dimensions)))
    order = np.argsort(types, kind="stable")  # runs of one partner type keep the counts in cache
    arguments = (positions[order], types[order], int(n_types), edges, vectors, inverse, orthorhombic)
    if n_threads is None:
        n_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if n_threads <= 1:
        counts = _typed_histogram(*arguments, 0, 1)
    else:
        with ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="qsse-md-pairs") as pool:
            counts = sum(pool.map(lambda first: _typed_histogram(*arguments, first, n_threads), range(n_threads)))
    return counts + counts.transpose(1, 0, 2)
