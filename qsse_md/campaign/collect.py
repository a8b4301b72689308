"""Campaign status table and the collected results table with comparison plots.

Columns of ``results.csv`` (one row per task): ``task``, ``state``, ``reason``, the grid
variables (text labels), then where available

- ``density_g_per_cm3``, ``density_std_g_per_cm3``: NPT density (run report)
- ``cn_rdf_<RES EL>``: Li+ first-shell coordination number per partner atom type from
  the Li-X RDF (run report), e.g. ``cn_rdf_EC O``
- ``cn_<species>``: Li+ coordination number per partner species (molecules within the
  first shell; solvation analysis), ``cn_group_<group>`` per coordinating group
- ``D_<species>_1e-10_m2_per_s``: self-diffusion coefficients (transport)
- ``sigma_S_per_cm``, ``sigma_NE_S_per_cm``, ``haven_ratio``, ``t_plus``: conductivity
  (Einstein-Helfand, Nernst-Einstein), Haven ratio, transference number (transport)
"""

from __future__ import annotations

import json
from pathlib import Path

from qsse_md.campaign.state import check_task, is_locked, read_manifest, read_state, task_dir
from qsse_md.fileio import check_writable_dir, write_text_atomic

PLOT_METRICS = ("sigma_S_per_cm", "density_g_per_cm3", "D_LI_1e-10_m2_per_s")


def task_metrics(folder: Path, temperature_K: float | None = None) -> dict:
    """Flat metrics of one finished task folder (see the module docstring for the keys)."""
    folder = Path(folder)
    metrics: dict = {"temperature_K": temperature_K}
    summary = _json(folder / "run" / "summary.json") or _json(folder / "report" / "summary.json")
    if summary:
        metrics["density_g_per_cm3"] = summary["density_g_per_cm3"]["mean"]
        metrics["density_std_g_per_cm3"] = summary["density_g_per_cm3"]["std"]
        for partner, shell in summary.get("li_first_shell", {}).items():
            metrics[f"cn_rdf_{partner}"] = shell["coordination_number"]
    solvation = _json(folder / "solvation" / "solvation.json")
    if solvation:
        for partner, value in solvation.get("coordination", {}).get("species", {}).items():
            metrics[f"cn_{partner}"] = value["mean"]
        for group, value in solvation.get("coordination", {}).get("group", {}).items():
            metrics[f"cn_group_{group}"] = value["mean"]
    transport = _json(folder / "transport" / "transport.json")
    if transport:
        for species, entry in (transport.get("diffusion") or {}).items():
            metrics[f"D_{species}_1e-10_m2_per_s"] = entry.get("D_1e-10_m2_per_s")
        conductivity = transport.get("conductivity") or {}
        for key in ("sigma_S_per_cm", "sigma_sem_S_per_cm", "sigma_NE_S_per_cm", "haven_ratio", "t_plus"):
            metrics[key] = conductivity.get(key)
    return metrics


def status(campaign_dir: str | Path) -> list[dict]:
    """One row per task: ``task``, grid variables, ``state``, ``failures``, ``step``, ``reason``.

    ``state`` is also ``edited`` (spec changed by hand) or ``interrupted`` (recorded as
    running but no process holds the campaign).
    """
    campaign_dir = Path(campaign_dir)
    manifest = read_manifest(campaign_dir)
    live = is_locked(campaign_dir)
    rows = []
    for entry in manifest["tasks"]:
        problem = check_task(campaign_dir, entry)
        record = read_state(task_dir(campaign_dir, entry["id"])) if problem is None else {}
        state = "edited" if problem else record.get("state", "pending")
        if state == "running" and not live:
            state = "interrupted"
        rows.append({"task": entry["id"], **entry["variables"], "state": state,
                     "failures": record.get("failures", 0), "step": record.get("step"),
                     "reason": problem or record.get("reason")})
    return rows


def format_status(rows: list[dict]) -> str:
    """Plain-text table of :func:`status` rows plus a count per state."""
    if not rows:
        return "no tasks"
    columns = [c for c in rows[0] if c != "reason"] + ["reason"]
    text = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [min(40, max(len(c), *(len(t[i]) for t in text))) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v[:w].ljust(w) if i < len(columns) - 1 else v for i, (v, w) in enumerate(zip(t, widths)))
              for t in text]
    counts: dict = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    lines.append(", ".join(f"{n} {state}" for state, n in counts.items()))
    return "\n".join(lines)


def collect(campaign_dir: str | Path, out_dir: str | Path | None = None):
    """Gather every task into ``results.csv`` (+ ``results.parquet`` with pyarrow) and plots.

    Returns the pandas DataFrame (one row per task). Written to ``DIR/results/`` by
    default; plots ``plots/<metric>.png`` compare each metric across the grid variables.
    """
    import pandas as pd

    campaign_dir = Path(campaign_dir)
    manifest = read_manifest(campaign_dir)
    out_dir = check_writable_dir(Path(out_dir or campaign_dir / "results"))
    rows = []
    for row in status(campaign_dir):
        folder = task_dir(campaign_dir, row["task"])
        metrics = _json(folder / "results.json") if row["state"] == "done" else None
        rows.append({k: v for k, v in row.items() if k not in ("failures", "step")} | (metrics or {}))
    table = pd.DataFrame(rows)
    (out_dir / "plots").mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / "results.csv", table.to_csv(index=False))
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        table.to_parquet(out_dir / "results.parquet", index=False)
    plot_metrics(table, manifest["variables"], out_dir / "plots")
    return table


def plot_metrics(table, variables: list[str], folder: Path) -> list[Path]:
    """Comparison plots: each metric against the grid variables (heat map for two varying
    variables, bars with the spread over the others otherwise). Returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = table[table["state"] == "done"] if "state" in table else table
    varying = [v for v in variables if v in done and done[v].nunique() > 1] or variables[:1]
    metrics = [m for m in done.columns if (m in PLOT_METRICS or m.startswith("cn_")) and not m.startswith("cn_group")]
    written = []
    for metric in metrics:
        values = done[[*varying, metric]].dropna()
        if values.empty:
            continue
        values = values.assign(**{metric: values[metric].astype(float)})
        figure, ax = plt.subplots(figsize=(6, 4))
        if len(varying) == 2:
            grid = values.groupby(varying)[metric].mean().unstack(varying[1])
            image = ax.imshow(grid.to_numpy(dtype=float), cmap="viridis", aspect="auto")
            ax.set_yticks(range(len(grid.index)), grid.index)
            ax.set_xticks(range(len(grid.columns)), grid.columns, rotation=45, ha="right")
            ax.set_ylabel(varying[0])
            ax.set_xlabel(varying[1])
            figure.colorbar(image, ax=ax, label=metric)
        else:
            keys = values[varying].astype(str).agg(" | ".join, axis=1)
            stats = values[metric].groupby(keys).agg(["mean", "std"])
            ax.bar(range(len(stats)), stats["mean"], yerr=stats["std"].fillna(0.0), capsize=3)
            ax.set_xticks(range(len(stats)), stats.index, rotation=45, ha="right")
            ax.set_xlabel(" | ".join(varying))
            ax.set_ylabel(metric)
        ax.set_title(metric)
        path = folder / f"{metric.replace(' ', '_').replace('/', '_')}.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


def _json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None
