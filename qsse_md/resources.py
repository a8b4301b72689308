"""Locate the shipped data folders (``forcefields/``, ``systems/``).

In a wheel they are package data under ``qsse_md/data/``; in a source checkout they are
the top-level folders beside the package.
"""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder of shipped data ``name`` ("forcefields" or "systems")."""
    for candidate in (_PACKAGE_DIR / "data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"qsse_md data folder '{name}' not found next to {_PACKAGE_DIR}; "
        "reinstall the package (pip install qsse_md)."
    )


def forcefields_dir() -> Path:
    """Folder of the shipped OpenMM ffxml files and their provenance records."""
    return data_dir("forcefields")


def systems_dir() -> Path:
    """Folder of the shipped system recipes (TOML) and MD protocols."""
    return data_dir("systems")
