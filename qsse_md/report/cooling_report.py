"""The cooling study's windows written to a folder: ``cooling.json``, ``cooling_windows.csv``
and one figure ``cooling.png`` (each quantity against temperature and against time; a
window whose D(Li+) is not determined is a gap, with its reason written on the plot).
The windows are analysed by :func:`qsse_md.workflow.cooling.analyse_cooling_windows`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qsse_md.lib.fit_quality import NOT_DETERMINED
from qsse_md.report.inputs import jsonable

PANELS = (("crystalline_fraction", "crystalline fraction"), ("free_fraction", "free solvent fraction"),
          ("density_g_per_cm3", "density (g/cm³)"), ("D_li_1e-10_m2_per_s", "D(Li⁺) (1e-10 m²/s)"))


def write_cooling(out, record: dict) -> None:
    """Write the cooling record into the new folder ``out``, atomically.

    Parameters
    ----------
    out : str or Path
        Output folder (must not exist, or be empty).
    record : dict
        The record with ``windows`` (one dict per stage: ``stage``,
        ``start_time_ps``/``end_time_ps`` in ps, ``temperature_K``, ``density_g_per_cm3``,
        ``crystalline_fraction``, ``free_fraction``, ``D_li_1e-10_m2_per_s``,
        ``D_li_reason``, ...); written as ``cooling.json`` in plain JSON types.
    """
    import pandas as pd

    from qsse_md.fileio import atomic_write_json, staged_output_dir

    table = pd.DataFrame(record["windows"])
    with staged_output_dir(Path(out)) as staging:
        table.to_csv(staging / "cooling_windows.csv", index=False)
        _figure(table, staging / "cooling.png")
        atomic_write_json(staging / "cooling.json", jsonable(record))


def _figure(table, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(PANELS), 2, figsize=(9, 2.4 * len(PANELS)), sharex="col")
    middle = 0.5 * (table["start_time_ps"] + table["end_time_ps"])
    for row, (column, label) in enumerate(PANELS):
        values = _as_float(table[column])
        axes[row, 0].plot(table["temperature_K"], values, "o-")
        axes[row, 1].plot(middle, values, "o-")
        axes[row, 0].set_ylabel(label)
    missing = table[np.isnan(_as_float(table["D_li_1e-10_m2_per_s"]))]
    for k, window in enumerate(missing.itertuples()):
        axes[-1, 1].text(0.02, 0.95 - 0.12 * k, f"{window.stage}: D {NOT_DETERMINED}: {window.D_li_reason}",
                         transform=axes[-1, 1].transAxes, fontsize="x-small", va="top", wrap=True)
    axes[-1, 0].set_xlabel("temperature (K)")
    axes[-1, 1].set_xlabel("time (ps)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _as_float(series) -> np.ndarray:
    """Column as floats with ``nan`` where a window has no value."""
    return np.array([np.nan if value is None else value for value in series], dtype=np.float64)
