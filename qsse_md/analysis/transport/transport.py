"""Diffusion, conductivity with all ion correlations, Onsager coefficients, transference.

One pass over the trajectory keeps only the selected centres in memory (atoms, or
molecular centres of mass per residue; molecules are made whole in the first frame,
over the bonds when the topology has them), unwrapped frame by frame with the NPT-safe
displacement scheme of :mod:`qsse_md.lib.unwrap` (von Bülow et al. 2020), optionally
relative to the centre of mass of a reference group (system drift removal). The
coefficients are computed in ``_conclude`` by
:func:`qsse_md.analysis.transport.transport_core.compute_transport`, whose docstring gives the
definitions, units and the block-averaging error model.
"""

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.exceptions import NoDataError

from qsse_md.analysis.transport.transport_core import compute_transport
from qsse_md.lib.box import is_orthorhombic, require_box
from qsse_md.lib.correlation import BACKENDS
from qsse_md.lib.centres import frame_orthorhombic, weighted_centres
from qsse_md.lib.unwrap import make_whole, unwrap_step_inplace

COMPOUNDS = ("residues", "atoms")
#: a centre charge this close to an integer (e) is that integer: force-field files round
#: partial charges, so a neutral molecule may read 4.9e-08 e and PF6- -1.00000006 e
INTEGER_CHARGE_TOLERANCE_E = 1e-3


def nearest_integer_charge(charge_e):
    """``charge_e`` (e) rounded to the nearest integer when within
    :data:`INTEGER_CHARGE_TOLERANCE_E` of it, else unchanged; a float."""
    nearest = round(float(charge_e))
    return float(nearest) if abs(float(charge_e) - nearest) <= INTEGER_CHARGE_TOLERANCE_E else float(charge_e)


def _bonds_within(group, atoms):
    """Bonds with both atoms in ``group`` as pairs of positions in ``atoms`` (a superset);
    None when the topology has no bonds."""
    try:
        pairs = group.bonds.indices
    except NoDataError:
        return None
    inside = np.zeros(atoms.universe.atoms.n_atoms, dtype=bool)
    inside[group.ix] = True
    position = np.full(atoms.universe.atoms.n_atoms, -1, dtype=np.int64)
    position[atoms.ix] = np.arange(len(atoms))
    pairs = pairs.reshape(-1, 2)
    return position[pairs[np.all(inside[pairs], axis=1)]]


class Transport(AnalysisBase):
    r"""Self-diffusion, Einstein–Helfand and Nernst–Einstein conductivity, L_ij, t+.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    species : dict
        ``{name: selection string or AtomGroup}``; each must be non-empty and the
        species may not share atoms.
    temperature_K : float, optional
        Temperature (K). Conductivities and Onsager coefficients are computed only
        when it is given; then every centre needs a charge and the selection must be
        neutral (|Σq| < 0.01 e).
    charges : dict, optional
        ``{name: charge of one centre in e}``; overrides the topology charges (used
        when the topology has none). Charges from the topology are summed per centre
        and rounded to the nearest integer when within 1e-3 e of it, so neutral
        molecules count as non-ions (charge 0) and need no charge given.
    compound : {"residues", "atoms"}
        Centres are the mass-weighted centres of the selected atoms of each residue
        (molecules such as PF6, TFSI, solvents; a single-atom ion is its own centre),
        or every selected atom.
    remove_drift : bool
        Subtract the centre of mass of ``drift_selection`` (unwrapped the same way)
        from every centre in every frame.
    drift_selection : str
        Reference group for the drift (default the whole system).
    n_blocks : int
        Blocks for the standard errors (the fit window ends by half a block).
    slope_tolerance, min_points : float, int
        Acceptance of the automatic fit window (log-log slope within 1 ± tol).
    green_kubo : {"auto", True, False}
        Velocity-based estimates when the trajectory has velocities ("auto").
    backend : {"fft", "direct"}
        Correlation kernel of :mod:`qsse_md.lib.correlation`.

    Attributes
    ----------
    results.lag_ps : numpy.ndarray, shape (T,)
        Lag times, ps.
    results.msd_angstrom2 : dict of numpy.ndarray, shape (T,)
        MSD per species averaged over its centres, Å^2.
    results.msd_xyz_angstrom2 : dict of numpy.ndarray, shape (T, 3)
        Per-direction MSD components, Å^2.
    results.diffusion : dict of dict
        Per species: ``D_1e-10_m2_per_s``, ``sem_1e-10_m2_per_s``,
        ``D_xyz_1e-10_m2_per_s`` and ``D_xyz_sem_1e-10_m2_per_s`` (lists of 3),
        ``fit_window_ps``, ``loglog_slope``,
        ``n_centres``, ``reason`` (why there is no coefficient, e.g. no diffusive regime or a
        standard error above D; all values None then).
    results.conductivity : dict or None
        ``sigma_S_per_cm`` (Einstein–Helfand, all cross terms), ``sigma_NE_S_per_cm``,
        their ``*_sem_*``, ``haven_ratio``, ``uncorrelatedness``, ``onsager_S_per_cm``
        {"A-B": {total, sem[, self, distinct]}} (e^2 L_ij in S/cm), ``transference``
        {name: {t, sem}}, ``t_plus``, ``t_plus_sem``, ``fit_window_ps``,
        ``collective_msd_e2_angstrom2`` (MSD of Σ q r, e^2 Å^2), ``reason``;
        ``sigma_reason`` and ``sigma_NE_reason`` say why σ or σ_NE is not determined
        (None, with the ratios built on it; :mod:`qsse_md.lib.fit_quality`).
    results.green_kubo : dict or None
        ``D_1e-10_m2_per_s`` and ``D_sem_1e-10_m2_per_s`` {name}, ``sigma_S_per_cm``,
        ``sigma_sem_S_per_cm``, the plateau windows ``D_window_ps`` {name} and
        ``sigma_window_ps`` (:mod:`qsse_md.analysis.transport._green_kubo`), running integrals, ``lag_ps``;
        ``D_reason`` {name} and ``sigma_reason`` say why a plateau value is not determined (None).
    results.charges_e : dict
        Charge of one centre per species, e (None where unknown; topology charges
        rounded to an integer when within 1e-3 e of it).
    results.volume_angstrom3 : float
        Mean box volume, Å^3.
    """

    _analysis_algorithm_is_parallelizable = False

    def __init__(self, universe, species, temperature_K=None, charges=None, compound="residues",
                 remove_drift=True, drift_selection="all", n_blocks=5, slope_tolerance=0.15, min_points=4,
                 green_kubo="auto", backend="fft", **kwargs):
        super().__init__(universe.trajectory, **kwargs)
        if not species:
            raise ValueError("no species given; pass e.g. {'Li': 'name Li', 'PF6': 'resname PF6'}")
        if compound not in COMPOUNDS:
            raise ValueError(f"compound={compound!r}; choose one of {COMPOUNDS}")
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; choose one of {BACKENDS}")
        if int(min_points) != min_points or min_points < 2:
            raise ValueError(f"min_points={min_points!r} (CLI: --min-points): a fit window needs a whole number "
                             ">= 2 of MSD lag times")
        if temperature_K is not None and not float(temperature_K) > 0:
            raise ValueError(f"temperature_K={temperature_K!r} must be positive (K)")
        require_box(universe.trajectory.ts.dimensions)
        self._names = list(species)
        groups = [universe.select_atoms(sel) if isinstance(sel, str) else sel for sel in species.values()]
        for name, group in zip(self._names, groups):
            if len(group) == 0:
                raise ValueError(f"species {name!r} selects no atoms; check its selection")
        union = sum(groups[1:], groups[0])
        if len(union.unique) != sum(len(g) for g in groups):
            raise ValueError("species selections overlap; every atom may belong to one species only")
        self._drift = universe.select_atoms(drift_selection) if remove_drift else None
        atoms = union | self._drift if remove_drift else union
        self._atoms = atoms
        position = {index: k for k, index in enumerate(atoms.ix)}
        centre_of_atom, species_of_centre = [], []
        n_centres = 0
        for k, group in enumerate(groups):
            keys = group.resindices if compound == "residues" else np.arange(len(group))
            _, local = np.unique(keys, return_inverse=True)
            centre_of_atom.append(local + n_centres)
            species_of_centre.extend([k] * (local.max() + 1))
            n_centres += local.max() + 1
        self._centre_of_atom = np.concatenate(centre_of_atom)
        self._selected = np.array([position[i] for g in groups for i in g.ix])
        self._species_index = np.array(species_of_centre)
        masses = np.concatenate([g.masses for g in groups]).astype(np.float64)
        if np.any(masses <= 0):
            masses = np.ones_like(masses)
        self._weights = masses / np.bincount(self._centre_of_atom, masses)[self._centre_of_atom]
        self._drift_rows = None
        if remove_drift:
            self._drift_rows = np.array([position[i] for i in self._drift.ix])
            drift_masses = self._drift.masses.astype(np.float64)
            self._drift_weights = drift_masses / drift_masses.sum() if drift_masses.sum() > 0 else \
                np.full(len(drift_masses), 1.0 / len(drift_masses))
        self._whole_index = atoms.resindices
        self._bonds = _bonds_within(union, atoms)  # only the centres' molecules need to be whole
        self._all_atoms = len(atoms) == len(universe.atoms) and bool(np.all(atoms.ix == np.arange(len(atoms))))
        self._drift_all = self._drift_rows is not None and bool(
            np.array_equal(self._drift_rows, np.arange(len(atoms))))
        self._temperature = None if temperature_K is None else float(temperature_K)
        self._charges_e = self._centre_charges(groups, charges)
        if self._temperature is not None:
            self._check_charges()
        self._options = dict(n_blocks=n_blocks, slope_tolerance=slope_tolerance, min_points=min_points,
                             backend=backend)
        has_velocities = universe.trajectory.ts.has_velocities
        if green_kubo is True and not has_velocities:
            raise ValueError("green_kubo=True but the trajectory has no velocities")
        self._velocities = bool(has_velocities) and green_kubo in ("auto", True) and self._temperature is not None

    def _centre_charges(self, groups, charges):
        """Per species: charge of one centre (e), None if unknown; non-uniform -> nan."""
        charges = dict(charges or {})
        unknown = set(charges) - set(self._names)
        if unknown:
            raise ValueError(f"charges given for unknown species {sorted(unknown)}; species are {self._names}")
        out = {}
        for k, (name, group) in enumerate(zip(self._names, groups)):
            if name in charges:
                out[name] = float(charges[name])
                continue
            try:
                atom_charges = group.charges.astype(np.float64)
            except (NoDataError, AttributeError):
                out[name] = None
                continue
            members = self._centre_of_atom[self._species_offsets(k, groups)]
            per_centre = np.bincount(members - members.min(), atom_charges)
            out[name] = nearest_integer_charge(per_centre.mean()) if np.ptp(per_centre) < 1e-3 else float("nan")
        return out

    def _species_offsets(self, k, groups):
        start = sum(len(g) for g in groups[:k])
        return slice(start, start + len(groups[k]))

    def _check_charges(self):
        missing = [n for n, q in self._charges_e.items() if q is None]
        if missing:
            raise ValueError(f"no charges for species {missing}: the topology has none; give them with "
                             "charges={name: q} (CLI: --charge NAME=Q, 0 for a neutral species), or analyse "
                             "a topology with charges or a qsse-md run folder")
        mixed = [n for n, q in self._charges_e.items() if np.isnan(q)]
        if mixed:
            raise ValueError(f"the centres of species {mixed} carry different charges; split them into species "
                             "of one charge each (or give --charge NAME=Q)")
        counts = np.bincount(self._species_index, minlength=len(self._names))
        net = sum(counts[k] * self._charges_e[n] for k, n in enumerate(self._names))
        if abs(net) > 0.01:
            raise ValueError(f"the selected species carry a net charge of {net:+.3f} e; conductivity needs a "
                             "neutral selection (add the counter-ions as a species)")

    def _prepare(self):
        n_centres = len(self._species_index)
        self._centres = np.empty((self.n_frames, n_centres, 3))
        self._centre_velocities = np.empty((self.n_frames, n_centres, 3)) if self._velocities else None
        self._times = np.empty(self.n_frames)
        self._volumes = np.empty(self.n_frames)
        self._previous = None
        self._rows = np.ascontiguousarray(self._atoms.ix, dtype=np.intp)
        if self._drift_rows is None:  # no drift removal: an empty group subtracts nothing
            self._drift_rows_all = np.zeros(0, dtype=np.intp)
            self._drift_weights_all = np.zeros(0)
        else:
            self._drift_rows_all = np.ascontiguousarray(self._drift_rows, dtype=np.intp)
            self._drift_weights_all = np.ascontiguousarray(self._drift_weights, dtype=np.float64)

    def _single_frame(self):
        ts = self._ts
        dimensions = require_box(ts.dimensions, f"frame {ts.frame}")
        i = self._frame_index
        # the common case in one compiled call: unwrap (same arithmetic as unwrap_step_inplace),
        # mass-weighted centres minus the drift, box volume; the first frame and triclinic
        # boxes take the general path below
        volume = -1.0 if self._previous is None or not is_orthorhombic(dimensions) else frame_orthorhombic(
            self._previous[0], self._previous[1], ts.positions, self._rows, self._all_atoms, dimensions,
            self._selected, self._weights, self._centre_of_atom, self._drift_rows_all, self._drift_all,
            self._drift_weights_all, self._centres[i])
        if volume >= 0.0:
            self._volumes[i] = volume
        else:
            positions = ts.positions if self._all_atoms else self._atoms.positions
            if self._previous is None:
                wrapped = positions.astype(np.float64)
                self._previous = (wrapped, make_whole(wrapped, self._whole_index, dimensions, self._bonds))
            else:
                unwrap_step_inplace(self._previous[0], self._previous[1], positions, dimensions)
            self._centres[i] = self._reduce(self._previous[1])
            self._volumes[i] = ts.volume
        if self._centre_velocities is not None:
            self._centre_velocities[i] = self._reduce(self._atoms.velocities.astype(np.float64))
        self._times[i] = ts.time

    def _reduce(self, values):
        """Mass-weighted centre values (n_centres, 3), minus the drift group's mean."""
        out = weighted_centres(values, self._selected, self._weights, self._centre_of_atom,
                                len(self._species_index))
        if self._drift_rows is not None:
            out -= self._drift_weights @ (values if self._drift_all else values[self._drift_rows])
        return out

    def _conclude(self):
        if self.n_frames < 4:
            raise ValueError(f"only {self.n_frames} frame(s) analysed: an MSD needs at least 4; use more frames")
        steps = np.diff(self._times)
        dt = float(np.median(steps))
        if dt <= 0 or np.max(np.abs(steps - dt)) > 1e-4 * dt:
            raise ValueError(f"non-uniform frame spacing (time steps {steps.min():.6g}..{steps.max():.6g} ps); "
                             "transport needs equally spaced frames: select a uniform subset (step)")
        charges = [self._charges_e[n] for n in self._names] if self._temperature is not None else None
        volume = float(self._volumes.mean())
        computed = compute_transport(self._centres, self._species_index, self._names, dt, volume,
                                     self._temperature, charges, self._centre_velocities, **self._options)
        for key, value in computed.items():
            self.results[key] = value
        self.results.charges_e = dict(self._charges_e)
        self.results.volume_angstrom3 = volume
        self.results.temperature_K = self._temperature
        self.results.species = list(self._names)

    def plot(self, ax=None):
        """Log-log MSD per species with the fit window of each marked; returns the Axes."""
        from qsse_md.analysis.transport.transport_plots import plot_msd

        return plot_msd(self.results, ax=ax)

    def plot_conductivity(self, ax=None):
        """Collective charge MSD (and Green–Kubo running integral if any); returns the Axes."""
        from qsse_md.analysis.transport.transport_plots import plot_conductivity

        return plot_conductivity(self.results, ax=ax)

    def to_dataframe(self):
        """Tidy MSD table: species, lag_ps, msd_angstrom2, msd_x/y/z_angstrom2 (Å^2)."""
        from qsse_md.analysis.transport.transport_plots import msd_table

        return msd_table(self.results)

    def summary(self):
        """JSON-ready dict of every coefficient (units in the key names)."""
        from qsse_md.analysis.transport.transport_plots import summary_record

        return summary_record(self.results)
