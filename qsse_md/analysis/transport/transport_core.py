"""Transport coefficients from unwrapped centre trajectories (arrays in, dict out).

Used by :class:`qsse_md.analysis.transport.transport.Transport`; callable directly on arrays
(tests, other codes). Units: positions Å, times ps, charges e, volume Å^3; results
leave in 1e-10 m^2/s (D) and S/cm (conductivities, Onsager coefficients).

Definitions (V mean box volume, k_B T thermal energy, N_i centres of species i,
z_i their charge, Δr displacement over lag t):

* self-diffusion  D_i = lim <|Δr|^2> / (6 t)  (Einstein), per direction <Δx^2>/(2 t);
* Onsager coefficients, reported as e^2 L_ij in S/cm (multiply by z_i z_j for the
  conductivity contribution):  e^2 L_ij = e^2 / (6 V k_B T) d/dt <Σ_{a∈i} Δr_a · Σ_{b∈j} Δr_b>,
  split for i = j into self (Σ_a <|Δr_a|^2>) and distinct (the rest) parts
  (Fong, Self, McCloskey & Persson, *Macromolecules* 54, 2575 (2021),
  doi:10.1021/acs.macromol.0c02545);
* collective (Einstein–Helfand) conductivity  σ = Σ_ij z_i z_j e^2 L_ij  (all cross terms);
* Nernst–Einstein  σ_NE = e^2 / (V k_B T) Σ_i N_i z_i^2 D_i;  Haven ratio H = σ_NE / σ,
  uncorrelatedness σ / σ_NE;
* transference number  t_i = Σ_j z_i z_j L_ij / σ  (t+ sums the cationic species);
* Green–Kubo: D_i = 1/3 ∫ <v(0)·v(t)> dt,  σ = 1 / (3 V k_B T) ∫ <J(0)·J(t)> dt,
  J = Σ_a q_a v_a, averaged over a plateau window of the running integral chosen by
  :mod:`qsse_md.analysis.transport._green_kubo` (integrated at most to the Einstein window end).

Uncertainties: the trajectory is cut into ``n_blocks`` contiguous blocks; every
coefficient is refitted in each block over the same lag window, and the reported
standard error is the standard deviation of the block values over sqrt(n_blocks)
(block averaging, Flyvbjerg & Petersen 1989). The fit window therefore ends at most
half a block long (``T // n_blocks // 2`` frames). Central values use the full trajectory.
A D, σ or σ_NE whose standard error exceeds it is not determined
(:mod:`qsse_md.lib.fit_quality`): None, with the reason (``reason``, ``sigma_reason``,
``sigma_NE_reason``); quantities divided by an undetermined σ or σ_NE (Haven ratio,
uncorrelatedness, transference numbers) are None too.
"""

import numpy as np

from qsse_md.analysis.transport._green_kubo import green_kubo
from qsse_md.analysis.transport._msd_fit import NoDiffusiveRegime, block_sem, diffusive_window, linear_slope, loglog_slope
from qsse_md.lib.fit_quality import undetermined_reason
from qsse_md.lib.correlation import cross_msd, mean_msd, windowed_cross_msd, windowed_mean_msd
from qsse_md.units import BOLTZMANN_J_PER_K, ELEMENTARY_CHARGE_C, M2_PER_ANGSTROM2, S_PER_PS

#: Å^2/ps -> 1e-10 m^2/s
D_UNIT = M2_PER_ANGSTROM2 / S_PER_PS / 1e-10
_S_PER_M_TO_S_PER_CM = 0.01
#: MSD (Å^2) at or below which a species counts as immobile (D = 0, no fit)
IMMOBILE_ANGSTROM2 = 1e-20


def conductivity_prefactor(volume_angstrom3, temperature_K):
    """e^2 / (V k_B T) converting (Å^2/ps) to S/cm: multiply by a diffusion-like slope."""
    volume_m3 = volume_angstrom3 * M2_PER_ANGSTROM2 * 1e-10
    return (ELEMENTARY_CHARGE_C ** 2 / (volume_m3 * BOLTZMANN_J_PER_K * temperature_K)
            * M2_PER_ANGSTROM2 / S_PER_PS * _S_PER_M_TO_S_PER_CM)


def compute_transport(centres, species_index, names, dt_ps, volume_angstrom3=None, temperature_K=None,
                      charges_e=None, velocities=None, n_blocks=5, slope_tolerance=0.15, min_points=4,
                      backend="fft"):
    """All transport results of one trajectory.

    Parameters
    ----------
    centres : numpy.ndarray, shape (T, N, 3)
        Unwrapped centre positions (atoms or molecular centres of mass), Å.
    species_index : numpy.ndarray, shape (N,), int
        Species of each centre, index into ``names``.
    names : list of str
        Species names.
    dt_ps : float
        Time between frames, ps.
    volume_angstrom3 : float, optional
        Mean box volume, Å^3 (needed with ``temperature_K`` for conductivities).
    temperature_K : float, optional
        Temperature, K; conductivities and Onsager coefficients only when given.
    charges_e : sequence of float, optional
        Charge of one centre of each species, e (needed for conductivities).
    velocities : numpy.ndarray, shape (T, N, 3), optional
        Centre velocities, Å/ps: adds Green–Kubo estimates.
    n_blocks, slope_tolerance, min_points, backend
        Block count for standard errors; fit-window acceptance (see
        :func:`qsse_md.analysis.transport._msd_fit.diffusive_window`); correlation backend.

    Returns
    -------
    dict
        ``lag_ps`` (L,), ``msd_angstrom2`` {name: (L,)}, ``msd_xyz_angstrom2`` {name: (L, 3)},
        ``diffusion`` {name: {...}}, ``conductivity`` (dict or None) and ``green_kubo``
        (dict or None); see :class:`qsse_md.analysis.transport.transport.Transport`.
    """
    centres = np.asarray(centres, dtype=np.float64)
    n_frames = centres.shape[0]
    if n_frames < 4:
        raise ValueError(f"only {n_frames} frame(s): an MSD needs at least 4 frames; use a longer trajectory")
    species_index = np.asarray(species_index)
    n_blocks = int(n_blocks)
    if n_blocks < 2:
        raise ValueError(f"n_blocks={n_blocks}: block averaging needs at least 2 blocks")
    block_length = n_frames // n_blocks
    max_end = max(block_length // 2, 1) if block_length >= 2 else 0
    lags_ps = np.arange(n_frames) * dt_ps
    out = {"lag_ps": lags_ps, "msd_angstrom2": {}, "msd_xyz_angstrom2": {}, "diffusion": {},
           "conductivity": None, "green_kubo": None, "n_frames": n_frames, "dt_ps": dt_ps,
           "n_blocks": n_blocks, "max_fit_lag_ps": max_end * dt_ps}
    windows = {}
    fitted_d, block_d = {}, {}
    members_of = {}
    for k, name in enumerate(names):
        members = members_of[k] = centres[:, species_index == k]
        xyz = mean_msd(members, backend=backend)
        out["msd_xyz_angstrom2"][name] = xyz
        out["msd_angstrom2"][name] = xyz.sum(axis=1)
        record = {"n_centres": int(members.shape[1]), "D_1e-10_m2_per_s": None, "sem_1e-10_m2_per_s": None,
                  "D_xyz_1e-10_m2_per_s": None, "D_xyz_sem_1e-10_m2_per_s": None, "fit_window_ps": None,
                  "loglog_slope": None, "reason": None}
        out["diffusion"][name] = record
        try:
            if max_end >= min_points and np.max(xyz[:max_end + 1].sum(axis=1)) <= IMMOBILE_ANGSTROM2:
                start, end, slope = 1, max_end, float("nan")  # immobile: D = 0 exactly, no log-log slope
                record["reason"] = "immobile: the MSD is zero over the fit window"
            else:
                start, end, slope = diffusive_window(xyz.sum(axis=1), max_end, slope_tolerance, min_points)
        except NoDiffusiveRegime as error:
            record["reason"] = str(error)
            continue
        windows[name] = (start, end)
        lags = lags_ps[start:end + 1]
        record["D_1e-10_m2_per_s"] = linear_slope(lags, xyz[start:end + 1].sum(axis=1)) / 6.0 * D_UNIT
        record["D_xyz_1e-10_m2_per_s"] = [linear_slope(lags, xyz[start:end + 1, c]) / 2.0 * D_UNIT for c in range(3)]
        blocks_xyz = windowed_mean_msd(members, n_blocks, max_lag=end, backend=backend)
        block_d[name] = np.array([linear_slope(lags, b[start:end + 1]) / 6.0 * D_UNIT for b in blocks_xyz.sum(-1)])
        record["sem_1e-10_m2_per_s"] = block_sem(block_d[name])
        record["D_xyz_sem_1e-10_m2_per_s"] = [
            block_sem([linear_slope(lags, b[start:end + 1, c]) / 2.0 * D_UNIT for b in blocks_xyz]) for c in range(3)]
        record["fit_window_ps"] = [float(lags[0]), float(lags[-1])]
        record["loglog_slope"] = slope
        fitted_d[name] = record["D_1e-10_m2_per_s"]
        reason = undetermined_reason(fitted_d[name], record["sem_1e-10_m2_per_s"], name="D", unit="1e-10 m2/s")
        if reason is not None:
            record.update({key: None for key in record if key not in ("n_centres", "reason")}, reason=reason)
    if temperature_K is not None:
        out["conductivity"] = _conductivity(species_index, names, charges_e, lags_ps, volume_angstrom3,
                                            temperature_K, fitted_d, windows, block_d, n_blocks, backend,
                                            out["msd_angstrom2"], members_of)
        if velocities is not None:
            ends = [window[1] for window in windows.values()]
            out["green_kubo"] = green_kubo(np.asarray(velocities, dtype=np.float64), species_index, names,
                                           charges_e, dt_ps, max(ends) if ends else max_end, n_blocks, D_UNIT,
                                           conductivity_prefactor(volume_angstrom3, temperature_K), backend)
    return out


def _conductivity(species_index, names, charges_e, lags_ps, volume, temperature_K, fitted_d, windows,
                  block_d, n_blocks, backend, species_msd, members_of):
    charged = [k for k, name in enumerate(names) if charges_e[k] != 0.0]
    prefactor = conductivity_prefactor(volume, temperature_K)
    result = {"temperature_K": float(temperature_K), "volume_angstrom3": float(volume), "reason": None,
              "sigma_NE_S_per_cm": None, "sigma_NE_sem_S_per_cm": None, "sigma_S_per_cm": None,
              "sigma_sem_S_per_cm": None, "sigma_reason": None, "sigma_NE_reason": None,
              "haven_ratio": None, "haven_ratio_sem": None,
              "uncorrelatedness": None, "uncorrelatedness_sem": None, "onsager_S_per_cm": {},
              "transference": {}, "t_plus": None, "t_plus_sem": None, "fit_window_ps": None,
              "collective_msd_e2_angstrom2": None}
    missing = [names[k] for k in charged if names[k] not in windows]
    if not charged:
        result["reason"] = "no charged species selected"
        return result
    if missing:
        result["reason"] = f"no self-diffusion coefficient for {', '.join(missing)}, so no conductivity is given"
        return result
    start = max(windows[names[k]][0] for k in charged)
    end = min(windows[names[k]][1] for k in charged)
    if end - start + 1 < 2:
        result["reason"] = "the fit windows of the charged species do not overlap"
        return result
    lags = lags_ps[start:end + 1]
    counts = np.array([np.count_nonzero(species_index == k) for k in range(len(names))])
    z = np.asarray(charges_e, dtype=np.float64)
    sums = {k: members_of[k].sum(axis=1) for k in charged}
    pairs = [(i, j) for a, i in enumerate(charged) for j in charged[a:]]
    total, blocks = {}, {}
    for i, j in pairs:
        y = None if i == j else sums[j]
        curve = cross_msd(sums[i], y, max_lag=end, backend=backend).sum(axis=-1)
        total[i, j] = prefactor / 6.0 * linear_slope(lags, curve[start:end + 1])
        block_curves = windowed_cross_msd(sums[i], y, n_blocks, max_lag=end, backend=backend).sum(axis=-1)
        blocks[i, j] = np.array([prefactor / 6.0 * linear_slope(lags, b[start:end + 1]) for b in block_curves])
    charge_signal = sum(z[k] * sums[k] for k in charged)
    result["collective_msd_e2_angstrom2"] = cross_msd(charge_signal, max_lag=end, backend=backend).sum(axis=-1)

    def sigma_of(values):
        return sum((1 if i == j else 2) * z[i] * z[j] * values[i, j] for i, j in pairs)

    sigma, sigma_blocks = sigma_of(total), sigma_of(blocks)
    ne = prefactor * sum(counts[k] * z[k] ** 2 * fitted_d[names[k]] / D_UNIT for k in charged)
    ne_blocks = prefactor * sum(counts[k] * z[k] ** 2 * block_d[names[k]] / D_UNIT for k in charged)
    result.update(sigma_S_per_cm=float(sigma), sigma_sem_S_per_cm=block_sem(sigma_blocks),
                  sigma_NE_S_per_cm=float(ne), sigma_NE_sem_S_per_cm=block_sem(ne_blocks),
                  fit_window_ps=[float(lags[0]), float(lags[-1])])
    with np.errstate(divide="ignore", invalid="ignore"):
        result.update(haven_ratio=float(ne / sigma), haven_ratio_sem=block_sem(ne_blocks / sigma_blocks),
                      uncorrelatedness=float(sigma / ne), uncorrelatedness_sem=block_sem(sigma_blocks / ne_blocks))
    for i, j in pairs:
        entry = {"total": float(total[i, j]), "sem": block_sem(blocks[i, j])}
        if i == j:
            self_curve = counts[i] * species_msd[names[i]][:end + 1]  # sum of the centres' MSDs
            entry["self"] = prefactor / 6.0 * linear_slope(lags, self_curve[start:end + 1])
            entry["distinct"] = entry["total"] - entry["self"]
        result["onsager_S_per_cm"][f"{names[i]}-{names[j]}"] = entry
    t_plus, t_plus_blocks = 0.0, 0.0
    for i in charged:
        share = sum(z[i] * z[j] * total[min(i, j), max(i, j)] for j in charged)
        share_blocks = sum(z[i] * z[j] * blocks[min(i, j), max(i, j)] for j in charged)
        with np.errstate(divide="ignore", invalid="ignore"):
            value, value_blocks = share / sigma, share_blocks / sigma_blocks
        result["transference"][names[i]] = {"t": float(value), "sem": block_sem(value_blocks)}
        if z[i] > 0:
            t_plus, t_plus_blocks = t_plus + value, t_plus_blocks + value_blocks
    result["t_plus"], result["t_plus_sem"] = float(t_plus), block_sem(np.atleast_1d(t_plus_blocks))
    _drop_undetermined(result)
    return result


def _drop_undetermined(result):
    """Set σ and σ_NE that are not determined, and the ratios built on them, to None (in place)."""
    for key in ("sigma", "sigma_NE"):
        reason = undetermined_reason(result[f"{key}_S_per_cm"], result[f"{key}_sem_S_per_cm"], name=key,
                                     unit="S/cm")
        if reason is not None:
            result.update({f"{key}_S_per_cm": None, f"{key}_sem_S_per_cm": None, f"{key}_reason": reason,
                           "haven_ratio": None, "haven_ratio_sem": None, "uncorrelatedness": None,
                           "uncorrelatedness_sem": None})
    if result["sigma_reason"] is not None:
        result.update(t_plus=None, t_plus_sem=None,
                      transference={name: {"t": None, "sem": None} for name in result["transference"]})


__all__ = ["D_UNIT", "compute_transport", "conductivity_prefactor", "loglog_slope"]
