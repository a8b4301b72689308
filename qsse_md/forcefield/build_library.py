"""Regenerate the shipped force-field library under ``forcefields/``.

Run from a source checkout (needs the ``params`` extra)::

    OMP_NUM_THREADS=2 python -m qsse_md.forcefield.build_library [--only EC DOA ...]

Writes ``gaff2.xml``, ``solvents/NAME.xml``, ``monomers/NAME.xml`` (each with a ``.json``
provenance record), the ion files and ``index.json`` (canonical SMILES -> file).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from qsse_md.chem.species import list_species
from qsse_md.forcefield.ffxml import write_gaff2_ffxml
from qsse_md.forcefield.ions import write_ion_library
from qsse_md.forcefield.library import parameterise
from qsse_md.resources import forcefields_dir

log = logging.getLogger(__name__)
FOLDERS = {"solvent": "solvents", "monomer": "monomers"}


def build_library(root: Path, only: list[str] | None = None) -> None:
    """Parameterise every registry solvent and monomer with RESP into ``root``."""
    index_path = root / "index.json"
    index = json.loads(index_path.read_text()) if index_path.is_file() else {}
    if not only:
        write_gaff2_ffxml(root / "gaff2.xml")
        write_ion_library(root / "ions")
    for species in list_species("solvent") + list_species("monomer"):
        if only and species.name not in only:
            continue
        relative = f"{FOLDERS[species.kind]}/{species.name}.xml"
        started = time.perf_counter()
        parameterise(species, "resp", root / relative)
        log.info("%s: RESP templates in %.0f s", species.name, time.perf_counter() - started)
        index[f"{species.kind}:{species.canonical_smiles}"] = {
            "name": species.name, "file": relative, "charges": "RESP HF/6-31G*"}
        index_path.write_text(json.dumps(dict(sorted(index.items())), indent=2) + "\n")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="species names to (re)generate")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    build_library(forcefields_dir(), args.only)


if __name__ == "__main__":
    main()
