"""``qsse-md analyze transport`` and ``qsse-md analyze arrhenius``.

``transport`` runs :class:`qsse_md.analysis.transport.Transport` on any trajectory and
writes, atomically, ``DIR/transport.json`` (D per species, σ NE and collective, L_ij,
t+, Haven ratio, fit windows, standard errors, units), ``msd.csv``, ``diffusion.csv``,
``onsager.csv`` (with a temperature) and ``msd.png``/``conductivity.png``.
``arrhenius`` fits a temperature series of such folders with
:func:`qsse_md.analysis.arrhenius.fit_arrhenius` (and VTF from 4 temperatures on).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

LOG = logging.getLogger(__name__)


def _pairs(items, option, convert=str):
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"{option} {item!r} must look like NAME=VALUE")
        try:
            out[name.strip()] = convert(value.strip())
        except ValueError as error:
            raise ValueError(f"{option} {item!r}: {value!r} is not a number") from error
    return out


def _default_species(universe):
    names = [n for n in dict.fromkeys(universe.residues.resnames) if n and str(n).strip()] \
        if hasattr(universe.residues, "resnames") else []
    if not names:
        raise ValueError("the topology has no residue names to guess species from; give --species NAME=SELECTION")
    return {str(n): f"resname {n}" for n in names}


def analyze_transport(topology, trajectory, out, species=None, temperature_K=None, charges=None,
                      compound="residues", n_blocks=5, slope_tolerance=0.15, remove_drift=True,
                      drift_selection="all", start=None, stop=None, step=None):
    """Run the transport analysis and write ``out`` (must not exist); return the JSON record."""
    import MDAnalysis as mda
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qsse_md.analysis.transport import Transport
    from qsse_md.analysis.transport_plots import diffusion_table
    from qsse_md.fileio import atomic_write_json, check_new_output_dir, staged_output_dir

    for path in (topology, trajectory):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path} does not exist")
    check_new_output_dir(Path(out))
    universe = mda.Universe(str(topology), str(trajectory))
    species = species or _default_species(universe)
    analysis = Transport(universe, species, temperature_K=temperature_K, charges=charges, compound=compound,
                         remove_drift=remove_drift, drift_selection=drift_selection, n_blocks=n_blocks,
                         slope_tolerance=slope_tolerance)
    analysis.run(start=start, stop=stop, step=step)
    record = analysis.summary()
    record["inputs"] = {"topology": str(topology), "trajectory": str(trajectory), "species": species,
                        "compound": compound, "remove_drift": remove_drift, "drift_selection": drift_selection,
                        "start": start, "stop": stop, "step": step}
    with staged_output_dir(Path(out)) as staging:
        analysis.to_dataframe().to_csv(staging / "msd.csv", index=False)
        diffusion_table(analysis.results).to_csv(staging / "diffusion.csv", index=False)
        conductivity = record["conductivity"]
        if conductivity and conductivity["onsager_S_per_cm"]:
            _onsager_table(conductivity).to_csv(staging / "onsager.csv", index=False)
        for name, draw in (("msd.png", analysis.plot), ("conductivity.png", analysis.plot_conductivity)):
            figure, ax = plt.subplots()
            draw(ax=ax)
            figure.savefig(staging / name, dpi=120, bbox_inches="tight")
            plt.close(figure)
        atomic_write_json(staging / "transport.json", record)
    return record


def _onsager_table(conductivity):
    import pandas as pd

    rows = [{"pair": pair, "total_S_per_cm": entry["total"], "sem_S_per_cm": entry["sem"],
             "self_S_per_cm": entry.get("self"), "distinct_S_per_cm": entry.get("distinct")}
            for pair, entry in conductivity["onsager_S_per_cm"].items()]
    return pd.DataFrame(rows)


def _fmt(value, error, digits=4):
    if value is None:
        return "n/a"
    return f"{value:.{digits}g}" + ("" if error is None else f" ± {error:.2g}")


def _transport(args) -> None:
    species = _pairs(args.species, "--species") or None
    charges = _pairs(args.charge, "--charge", float) or None
    record = analyze_transport(args.topology, args.trajectory, args.out, species=species,
                               temperature_K=args.temperature, charges=charges, compound=args.compound,
                               n_blocks=args.blocks, slope_tolerance=args.slope_tolerance,
                               remove_drift=not args.no_drift_removal, drift_selection=args.drift_selection,
                               start=args.start, stop=args.stop, step=args.step)
    print(f"transport of {record['n_frames']} frames (dt {record['dt_ps']:.4g} ps) -> {args.out}/transport.json")
    for name, entry in record["diffusion"].items():
        if entry["D_1e-10_m2_per_s"] is None:
            print(f"  D({name}): no coefficient: {entry['reason']}", file=sys.stderr)
        else:
            print(f"  D({name}) = {_fmt(entry['D_1e-10_m2_per_s'], entry['sem_1e-10_m2_per_s'])} 1e-10 m^2/s "
                  f"(fit {entry['fit_window_ps'][0]:.4g}-{entry['fit_window_ps'][1]:.4g} ps, "
                  f"log-log slope {entry['loglog_slope']:.2f})")
    conductivity = record["conductivity"]
    if conductivity is not None:
        if conductivity["reason"]:
            print(f"  conductivity: {conductivity['reason']}", file=sys.stderr)
        else:
            print(f"  sigma = {_fmt(conductivity['sigma_S_per_cm'], conductivity['sigma_sem_S_per_cm'])} S/cm; "
                  f"NE {_fmt(conductivity['sigma_NE_S_per_cm'], conductivity['sigma_NE_sem_S_per_cm'])} S/cm; "
                  f"Haven {_fmt(conductivity['haven_ratio'], conductivity['haven_ratio_sem'], 3)}; "
                  f"t+ {_fmt(conductivity['t_plus'], conductivity['t_plus_sem'], 3)}")


def fit_transport_series(directories, law="arrhenius"):
    """Fit σ (collective and NE, as σT) and D per species against T over transport folders.

    Returns a JSON-ready dict ``{quantity: fit record}``; raises ValueError when a
    folder lacks a temperature or fewer than 3 (VTF: 4) temperatures remain.
    """
    from qsse_md.analysis.arrhenius import fit_arrhenius, fit_vtf

    records = []
    for directory in directories:
        path = Path(directory) / "transport.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; run 'qsse-md analyze transport' there first")
        record = json.loads(path.read_text())
        if record.get("temperature_K") is None:
            raise ValueError(f"{path} has no temperature; rerun the transport analysis with --temperature K")
        records.append(record)
    if len(records) < 3:
        raise ValueError(f"{len(records)} transport result(s) given; an Arrhenius fit needs at least 3 temperatures")
    temperatures = [r["temperature_K"] for r in records]
    series = {}
    for key, error_key in (("sigma_S_per_cm", "sigma_sem_S_per_cm"), ("sigma_NE_S_per_cm", "sigma_NE_sem_S_per_cm")):
        values = [(r["conductivity"] or {}).get(key) for r in records]
        errors = [(r["conductivity"] or {}).get(error_key) for r in records]
        series[key] = (values, errors, True)
    for name in records[0]["diffusion"]:
        values = [r["diffusion"].get(name, {}).get("D_1e-10_m2_per_s") for r in records]
        errors = [r["diffusion"].get(name, {}).get("sem_1e-10_m2_per_s") for r in records]
        series[f"D_{name}_1e-10_m2_per_s"] = (values, errors, False)
    fits = {}
    for quantity, (values, errors, times_t) in series.items():
        if any(v is None for v in values):
            fits[quantity] = {"reason": "missing at some temperature"}
            continue
        errors = None if any(e is None for e in errors) else errors
        fit = fit_arrhenius(temperatures, values, errors, multiply_by_T=times_t)
        fits[quantity] = {"arrhenius": fit.to_dict()}
        if law in ("vtf", "both"):
            fits[quantity]["vtf"] = fit_vtf(temperatures, values, errors, multiply_by_T=False).to_dict()
    return {"directories": [str(d) for d in directories], "temperatures_K": temperatures, "fits": fits,
            "units": {"activation": "kJ/mol and eV", "sigma": "S/cm (fitted as sigma*T for Arrhenius)",
                      "D": "1e-10 m^2/s"}}


def _arrhenius(args) -> None:
    from qsse_md.fileio import atomic_write_json

    result = fit_transport_series(args.directories, law=args.law)
    for quantity, fit in result["fits"].items():
        if "arrhenius" in fit:
            a = fit["arrhenius"]
            print(f"  {quantity:28s} Ea = {a['activation_kJ_per_mol']:.2f} ± {a['activation_sem_kJ_per_mol']:.2f} "
                  f"kJ/mol ({a['activation_eV']:.4f} ± {a['activation_sem_eV']:.4f} eV)")
        else:
            print(f"  {quantity:28s} {fit['reason']}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(Path(args.out), result)
        print(f"wrote {args.out}")


def add_transport_parsers(analyses) -> None:
    """Add ``transport`` and ``arrhenius`` to the ``qsse-md analyze`` sub-parsers."""
    transport = analyses.add_parser("transport", help="diffusion, conductivity (NE and collective), Onsager "
                                    "coefficients, transference number")
    transport.add_argument("topology")
    transport.add_argument("trajectory")
    transport.add_argument("--species", action="append", metavar="NAME=SEL",
                           help="a species as an MDAnalysis selection (repeat); default one per residue name")
    transport.add_argument("--charge", action="append", metavar="NAME=Q",
                           help="charge (e) of one centre of a species, if the topology has no charges")
    transport.add_argument("--temperature", type=float, help="temperature (K); enables conductivities")
    transport.add_argument("--compound", choices=["residues", "atoms"], default="residues",
                           help="centres: residue centres of mass (default) or atoms")
    transport.add_argument("--blocks", type=int, default=5, help="time blocks for standard errors (default 5)")
    transport.add_argument("--slope-tolerance", type=float, default=0.15,
                           help="accept fit windows with log-log MSD slope within 1 ± this (default 0.15)")
    transport.add_argument("--no-drift-removal", action="store_true", help="keep the system centre-of-mass drift")
    transport.add_argument("--drift-selection", default="all", help="reference group for drift removal")
    transport.add_argument("--start", type=int)
    transport.add_argument("--stop", type=int)
    transport.add_argument("--step", type=int)
    transport.add_argument("--out", required=True, help="output folder (must not exist or be empty)")
    transport.set_defaults(func=_transport)

    arrhenius = analyses.add_parser("arrhenius", help="Arrhenius/VTF fits of a temperature series of "
                                    "transport results")
    arrhenius.add_argument("directories", nargs="+", metavar="DIR", help="folders holding transport.json")
    arrhenius.add_argument("--law", choices=["arrhenius", "vtf", "both"], default="arrhenius")
    arrhenius.add_argument("--out", help="write the fits to this JSON file")
    arrhenius.set_defaults(func=_arrhenius)
