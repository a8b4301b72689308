"""Green–Kubo estimates from velocities, with a plateau rule and block errors (private).

D = (1/3) ∫ <v(0)·v(t)> dt per species (velocity autocorrelation, averaged over the
species' centres) and σ = V / (3 k_B T) ∫ <J(0)·J(t)> dt / V² with the charge current
J = Σ q_i v_i (Hansen & McDonald, *Theory of Simple Liquids*, 4th ed., 2013,
doi:10.1016/C2010-0-66723-X, ch. 7).

Where to stop integrating: the trajectory is cut into ``n_blocks`` contiguous blocks and
the running integral is computed in each. Following the cut-off rule of the time
decomposition method (Zhang, Otani & Maginn, *J. Chem. Theory Comput.* 11 (2015) 3537,
doi:10.1021/acs.jctc.5b00351), the integration ends at ``t_cut``, the first lag where the
standard deviation of the block running integrals exceeds 40 % of their mean (or at the
largest lag). Instead of that method's double-exponential fit, the coefficient is the
mean of the whole-trajectory running integral over the plateau window [t_cut / 2, t_cut];
its standard error comes from the same window average in each block. A plateau value
whose standard error exceeds it is not determined (:mod:`qsse_md.lib.fit_quality`):
None, with the reason.
"""

import numpy as np

from qsse_md.analysis.transport._msd_fit import block_sem, running_integral
from qsse_md.lib.correlation import correlation, windowed_correlation
from qsse_md.lib.fit_quality import undetermined_reason

#: relative spread of the block running integrals that ends the integration (Zhang et al. 2015)
RELATIVE_SPREAD_CUTOFF = 0.4


def plateau_window(running_blocks):
    """``(start, end)`` lag indices (inclusive) of the plateau of block running integrals.

    Parameters
    ----------
    running_blocks : numpy.ndarray, shape (n_blocks, L)

    Returns
    -------
    tuple of int
        ``end`` is the last lag before the block spread exceeds
        :data:`RELATIVE_SPREAD_CUTOFF` of the |mean| (lag 0 excluded), ``start = end // 2``.
    """
    mean = running_blocks.mean(axis=0)
    spread = running_blocks.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        noisy = np.nonzero(spread[1:] > RELATIVE_SPREAD_CUTOFF * np.abs(mean[1:]))[0]
    end = int(noisy[0]) if len(noisy) else running_blocks.shape[1] - 1
    end = max(end, 1)
    return end // 2, end


def _estimate(signal_acf, acf_blocks, dt_ps, scale, name, unit):
    """Plateau value and its block SEM (None when not determined), why not (or None), the
    running integral and the window (ps)."""
    running = running_integral(signal_acf, dt_ps) * scale
    running_blocks = running_integral(acf_blocks.T, dt_ps).T * scale
    start, end = plateau_window(running_blocks)
    value = float(running[start:end + 1].mean())
    sem = block_sem(running_blocks[:, start:end + 1].mean(axis=1))
    reason = undetermined_reason(value, sem, name=name, unit=unit)
    if reason is not None:
        value, sem = None, None
    return value, sem, reason, running, [float(start * dt_ps), float(end * dt_ps)]


def green_kubo(velocities, species_index, names, charges_e, dt_ps, max_lag, n_blocks, d_unit, sigma_prefactor,
               backend):
    """Green–Kubo D per species and σ of the charge current, with plateau windows and errors.

    Parameters
    ----------
    velocities : numpy.ndarray, shape (T, n_centres, 3)
        Centre velocities, Å/ps.
    species_index : numpy.ndarray of int, shape (n_centres,)
    names : list of str
    charges_e : list of float
        Charge of one centre of each species, e.
    dt_ps : float
        Frame spacing, ps.
    max_lag : int
        Largest lag (frames); clipped to the block length - 1.
    n_blocks : int
        Blocks for the plateau rule and the standard errors.
    d_unit : float
        Factor from Å²/ps to the reported D unit (1e-10 m²/s).
    sigma_prefactor : float
        Factor from e² Å²/ps to S/cm (:func:`~qsse_md.analysis.transport.transport_core.conductivity_prefactor`).
    backend : {"fft", "direct"}

    Returns
    -------
    dict
        ``lag_ps``; per species ``D_1e-10_m2_per_s``, ``D_sem_1e-10_m2_per_s``,
        ``D_reason``, ``running_D_1e-10_m2_per_s`` and ``D_window_ps``; ``sigma_S_per_cm``,
        ``sigma_sem_S_per_cm``, ``sigma_reason``, ``running_sigma_S_per_cm``,
        ``sigma_window_ps``. Values not determined are None, with the reason.
    """
    max_lag = int(min(max_lag, velocities.shape[0] // n_blocks - 1))
    result = {"lag_ps": np.arange(max_lag + 1) * dt_ps, "D_1e-10_m2_per_s": {}, "D_sem_1e-10_m2_per_s": {},
              "D_reason": {}, "running_D_1e-10_m2_per_s": {}, "D_window_ps": {}}
    for k, name in enumerate(names):
        own = velocities[:, species_index == k]
        vacf = correlation(own, max_lag=max_lag, backend=backend).mean(axis=1).sum(axis=-1)
        blocks = windowed_correlation(own, None, n_blocks, max_lag=max_lag, backend=backend).mean(axis=2).sum(-1)
        value, sem, reason, running, window = _estimate(vacf, blocks, dt_ps, d_unit / 3.0, "D", "1e-10 m2/s")
        result["D_1e-10_m2_per_s"][name], result["D_sem_1e-10_m2_per_s"][name] = value, sem
        result["D_reason"][name] = reason
        result["running_D_1e-10_m2_per_s"][name], result["D_window_ps"][name] = running, window
    z = np.asarray(charges_e, dtype=np.float64)
    current = np.einsum("n,tnc->tc", z[species_index], velocities)
    jacf = correlation(current, max_lag=max_lag, backend=backend).sum(axis=-1)
    blocks = windowed_correlation(current, None, n_blocks, max_lag=max_lag, backend=backend).sum(axis=-1)
    value, sem, reason, running, window = _estimate(jacf, blocks, dt_ps, sigma_prefactor / 3.0, "sigma", "S/cm")
    result.update(sigma_S_per_cm=value, sigma_sem_S_per_cm=sem, sigma_reason=reason, running_sigma_S_per_cm=running,
                  sigma_window_ps=window)
    return result
