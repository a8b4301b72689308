"""Plots, tidy tables and the JSON record of :class:`~qsse_md.analysis.transport.transport.Transport`.

matplotlib and pandas are imported inside the functions only.
"""

import math

import numpy as np

from qsse_md.analysis._plotting import axes_or_new
from qsse_md.lib.fit_quality import NOT_DETERMINED


def plot_msd(results, ax=None):
    """Log-log MSD (Å^2) against lag (ps) per species, fit windows shaded; returns the Axes.

    A species without a coefficient has no fitted line; its legend entry gives the reason
    (``D not determined: <reason>``).
    """
    ax = axes_or_new(ax)
    lags = results.lag_ps
    for k, name in enumerate(results.msd_angstrom2):
        curve = results.msd_angstrom2[name]
        record = results.diffusion[name]
        label = name if record["D_1e-10_m2_per_s"] is not None else f"{name}: D {NOT_DETERMINED}: {record['reason']}"
        ax.loglog(lags[1:], curve[1:], color=f"C{k}", label=label)
        window = record["fit_window_ps"]
        if window is not None:
            ax.axvspan(window[0], window[1], color=f"C{k}", alpha=0.12)
            d = results.diffusion[name]["D_1e-10_m2_per_s"]
            inside = (lags >= window[0]) & (lags <= window[1])
            ax.loglog(lags[inside], 6 * d / 100.0 * lags[inside], color=f"C{k}", linestyle="--", linewidth=1)
    ax.set_xlabel("lag time (ps)")
    ax.set_ylabel("MSD (Å$^2$)")
    ax.legend()
    return ax


def plot_conductivity(results, ax=None):
    """Collective charge MSD <|Δ Σ q r|^2> (e^2 Å^2) against lag, fit window shaded.

    When Green–Kubo results exist the running conductivity integral (S/cm) is drawn
    on a twin axis (``ax.right_ax``). A σ that is not determined is noted on the plot
    (``σ not determined: <reason>``). Returns the Axes.
    """
    ax = axes_or_new(ax)
    conductivity = results.conductivity
    if conductivity is None or conductivity.get("collective_msd_e2_angstrom2") is None:
        ax.text(0.5, 0.5, "no collective conductivity", ha="center", va="center", transform=ax.transAxes)
        return ax
    curve = conductivity["collective_msd_e2_angstrom2"]
    lags = results.lag_ps[:len(curve)]
    ax.plot(lags, curve, color="C0", label="collective charge MSD")
    ax.axvspan(*conductivity["fit_window_ps"], color="C0", alpha=0.12)
    ax.set_xlabel("lag time (ps)")
    ax.set_ylabel(r"$\langle|\Delta \sum q r|^2\rangle$ (e$^2$ Å$^2$)")
    gk = results.green_kubo
    notes = [f"σ {NOT_DETERMINED}: {conductivity['sigma_reason']}" if conductivity["sigma_reason"] else None,
             f"Green–Kubo σ {NOT_DETERMINED}: {gk['sigma_reason']}" if gk is not None and gk["sigma_reason"] else None]
    for row, note in enumerate(note for note in notes if note):
        ax.text(0.02, 0.95 - 0.07 * row, note, transform=ax.transAxes, fontsize="small", va="top", wrap=True)
    if gk is not None:
        right = ax.twinx()
        right.plot(gk["lag_ps"], gk["running_sigma_S_per_cm"], color="C1", label="Green–Kubo running integral")
        right.axvspan(*gk["sigma_window_ps"], color="C1", alpha=0.12)
        right.set_ylabel("σ (S/cm)")
        ax.right_ax = right
    return ax


def msd_table(results):
    """Tidy MSD table.

    Returns
    -------
    pandas.DataFrame
        Columns ``species``, ``lag_ps`` (ps), ``msd_angstrom2``, ``msd_x_angstrom2``,
        ``msd_y_angstrom2``, ``msd_z_angstrom2`` (Å^2).
    """
    import pandas as pd

    frames = []
    for name, xyz in results.msd_xyz_angstrom2.items():
        frames.append(pd.DataFrame({"species": name, "lag_ps": results.lag_ps, "msd_angstrom2": xyz.sum(axis=1),
                                    "msd_x_angstrom2": xyz[:, 0], "msd_y_angstrom2": xyz[:, 1],
                                    "msd_z_angstrom2": xyz[:, 2]}))
    return pd.concat(frames, ignore_index=True)


def diffusion_table(results):
    """One row per species: D, its standard error (1e-10 m^2/s), D_x/y/z, window, slope."""
    import pandas as pd

    rows = []
    for name, record in results.diffusion.items():
        window = record["fit_window_ps"] or [None, None]
        xyz = record["D_xyz_1e-10_m2_per_s"] or [None] * 3
        xyz_sem = record["D_xyz_sem_1e-10_m2_per_s"] or [None] * 3
        row = {"species": name, "n_centres": record["n_centres"], "D_1e-10_m2_per_s": record["D_1e-10_m2_per_s"],
               "sem_1e-10_m2_per_s": record["sem_1e-10_m2_per_s"]}
        for axis, value, sem in zip("xyz", xyz, xyz_sem):
            row[f"D_{axis}_1e-10_m2_per_s"], row[f"D_{axis}_sem_1e-10_m2_per_s"] = value, sem
        row.update(fit_start_ps=window[0], fit_end_ps=window[1], loglog_slope=record["loglog_slope"],
                   reason=record["reason"])
        rows.append(row)
    return pd.DataFrame(rows)


def _clean(value):
    """Numpy scalars -> float, non-finite -> None, recursively; arrays are dropped by the caller."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def summary_record(results):
    """JSON-ready summary: coefficients, fit windows, uncertainties, units (no curves)."""
    conductivity = None
    if results.conductivity is not None:
        conductivity = {k: v for k, v in results.conductivity.items() if k != "collective_msd_e2_angstrom2"}
    green_kubo = None
    if results.green_kubo is not None:
        green_kubo = {key: value for key, value in results.green_kubo.items()
                      if key not in ("lag_ps", "running_D_1e-10_m2_per_s", "running_sigma_S_per_cm")}
    return _clean({
        "units": {"D": "1e-10 m^2/s", "sigma": "S/cm", "onsager": "e^2 L_ij in S/cm (times z_i z_j: "
                  "conductivity contribution)", "time": "ps", "volume": "angstrom^3", "temperature": "K",
                  "charge": "e"},
        "species": results.species, "charges_e": results.charges_e, "temperature_K": results.temperature_K,
        "volume_angstrom3": results.volume_angstrom3, "n_frames": results.n_frames, "dt_ps": results.dt_ps,
        "n_blocks": results.n_blocks, "max_fit_lag_ps": results.max_fit_lag_ps,
        "uncertainty": f"standard error over {results.n_blocks} contiguous time blocks (block averaging)",
        "diffusion": results.diffusion, "conductivity": conductivity, "green_kubo": green_kubo,
    })
