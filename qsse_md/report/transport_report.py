"""Transport results written to a folder: ``transport.json``, CSV tables and PNG plots.

:func:`write_transport` writes, atomically, ``DIR/transport.json`` (D per species, σ NE
and collective, L_ij, t+, Haven ratio, fit windows, standard errors, units), ``msd.csv``,
``diffusion.csv``, ``msd.png`` and, when a temperature gives a conductivity,
``onsager.csv`` and ``conductivity.png``. The analysis runs in
:func:`qsse_md.workflow.analyze_transport.analyze_transport`.
"""

from __future__ import annotations

from pathlib import Path


def write_transport(out, analysis, record: dict) -> None:
    """Write the transport results into the new folder ``out``, atomically.

    Parameters
    ----------
    out : str or Path
        Output folder (must not exist, or be empty).
    analysis : qsse_md.analysis.transport.transport.Transport
        The finished analysis (its MSDs, diffusion table and plots are written).
    record : dict
        Its JSON record (``analysis.summary()`` plus ``inputs``), written as ``transport.json``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qsse_md.analysis.transport.transport_plots import diffusion_table
    from qsse_md.fileio import atomic_write_json, staged_output_dir

    with staged_output_dir(Path(out)) as staging:
        analysis.to_dataframe().to_csv(staging / "msd.csv", index=False)
        diffusion_table(analysis.results).to_csv(staging / "diffusion.csv", index=False)
        conductivity = record["conductivity"]
        if conductivity and conductivity["onsager_S_per_cm"]:
            _onsager_table(conductivity).to_csv(staging / "onsager.csv", index=False)
        plots = [("msd.png", analysis.plot)]
        if conductivity is not None and conductivity["reason"] is None:
            plots.append(("conductivity.png", analysis.plot_conductivity))
        for name, draw in plots:
            figure, ax = plt.subplots()
            draw(ax=ax)
            figure.savefig(staging / name, dpi=120, bbox_inches="tight")
            plt.close(figure)
        atomic_write_json(staging / "transport.json", record)


def _onsager_table(conductivity):
    import pandas as pd

    rows = [{"pair": pair, "total_S_per_cm": entry["total"], "sem_S_per_cm": entry["sem"],
             "self_S_per_cm": entry.get("self"), "distinct_S_per_cm": entry.get("distinct")}
            for pair, entry in conductivity["onsager_S_per_cm"].items()]
    return pd.DataFrame(rows)
