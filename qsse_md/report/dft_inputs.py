"""DFT inputs of representative Li+ solvation clusters written to a folder.

:func:`write_clusters` cuts the representative clusters with
:mod:`qsse_md.analysis.solvation.clusters` and writes each as XYZ and ORCA input, with
and without the Li+, plus one Li+ input, so that the desolvation energy
dE = E(complex) - E(complex without Li+) - E(Li+) follows from three jobs.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from qsse_md.analysis.solvation.clusters import ORCA_KEYWORDS, Cluster, cut_cluster, representative_shells
from qsse_md.fileio import atomic_write_json, staged_output_dir, write_text_atomic


def write_clusters(universe, table, out_dir, n_clusters=3, anions=(), keywords=ORCA_KEYWORDS):
    """Write the representative clusters as XYZ and ORCA inputs with a manifest.

    Parameters
    ----------
    universe : MDAnalysis.Universe
        The universe the table was computed on.
    table : pandas.DataFrame
        ``Solvation.results.table``.
    out_dir : path
        New folder (written atomically): ``li.xyz``/``li.inp``, one
        ``NN_<composition>/`` folder per cluster with ``complex.*`` and
        ``without_li.*``, and ``manifest.json``.
    n_clusters : int
        Number of most frequent compositions.
    anions : sequence of str
        Anion species names (used for charges when the topology has none).
    keywords : str
        ORCA keyword line (without ``!``); ``Opt`` is dropped for the lone Li+.

    Returns
    -------
    dict
        The manifest: keywords, the dE recipe, and per cluster its composition,
        frequency, frame, Li+ atom index, atom counts, charges, multiplicities and files.
    """
    chosen = representative_shells(table, n_clusters)
    species = dict(zip(table["partner_atom_ix"], table["species"]))
    lithium = Cluster(["Li"], np.zeros((1, 3)), 1, "Li+")
    single_point = " ".join(word for word in keywords.split() if word.lower() != "opt")
    manifest = {"keywords": keywords, "energy": "dE = E(complex) - E(without_li) - E(li)", "length_unit": "angstrom",
                "li": {"xyz": "li.xyz", "orca": "li.inp", "keywords": single_point}, "clusters": []}
    with staged_output_dir(Path(out_dir)) as staging:
        write_text_atomic(staging / "li.xyz", lithium.to_xyz())
        write_text_atomic(staging / "li.inp", lithium.to_orca(single_point))
        for number, row in enumerate(chosen.itertuples(), start=1):
            shell = table[(table["frame"] == row.frame) & (table["solute_ix"] == row.solute_ix)]
            complex_ = cut_cluster(universe, row.frame, row.solute_ix, sorted(set(shell["partner_atom_ix"])),
                                   anions, species.get)
            folder = f"{number:02d}_{re.sub(r'[^A-Za-z0-9]+', '_', row.composition).strip('_')}"
            (staging / folder).mkdir()
            entry = {"composition": row.composition, "n_shells": row.n_shells, "fraction": float(row.fraction),
                     "frame": row.frame, "solute_ix": row.solute_ix, "distances_angstrom": row.distances_angstrom,
                     "folder": folder}
            for name, cluster in (("complex", complex_), ("without_li", complex_.without_solute())):
                write_text_atomic(staging / folder / f"{name}.xyz", cluster.to_xyz())
                write_text_atomic(staging / folder / f"{name}.inp", cluster.to_orca(keywords))
                entry[name] = {"atoms": len(cluster.symbols), "charge_e": cluster.charge_e,
                               "multiplicity": cluster.multiplicity, "xyz": f"{folder}/{name}.xyz",
                               "orca": f"{folder}/{name}.inp"}
            manifest["clusters"].append(entry)
        atomic_write_json(staging / "manifest.json", manifest)
    return manifest
