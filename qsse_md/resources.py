"""Locate the shipped data folders (``forcefields/``, ``systems/``) and helper programs.

In a wheel they are package data under ``qsse_md/data/``; in a source checkout they are
the top-level folders beside the package. :func:`file_or_shipped` resolves a recipe or
protocol argument that is a file path or the name of a shipped one.
"""

import logging
import os
import shutil
import sys
from pathlib import Path

log = logging.getLogger(__name__)
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


def executable(name: str, *extra_dirs: Path) -> str | None:
    """Full path of program ``name``: on PATH, else beside the running Python (the bin folder
    of a virtual environment that is not activated, as under cron or a batch script), else
    in ``extra_dirs``; None when it is nowhere."""
    return shutil.which(name) or shutil.which(
        name, path=os.pathsep.join(str(d) for d in (Path(sys.executable).parent, *extra_dirs)))


def forcefields_dir() -> Path:
    """Folder of the shipped OpenMM ffxml files and their provenance records."""
    return data_dir("forcefields")


def systems_dir() -> Path:
    """Folder of the shipped system recipes (TOML) and MD protocols."""
    return data_dir("systems")


def file_or_shipped(text: str, shipped_dir: Path, what: str) -> Path:
    """Path of the file ``text``, else of the shipped TOML file ``shipped_dir/<text>.toml``.

    A folder is never taken for the file. When ``text`` is both a file and a shipped
    name the file wins; when it is a folder and a shipped name the shipped file is used;
    either way a log line says which.

    Parameters
    ----------
    text : str or Path
        What the user gave: a path or the name of a shipped file.
    shipped_dir : Path
        Folder of the shipped files (``systems_dir()``, ``systems_dir() / "protocols"``).
    what : str
        Kind of file, for messages ("recipe", "protocol").

    Raises
    ------
    FileNotFoundError
        When ``text`` is neither a file nor a shipped name (the message lists the names).
    """
    path, shipped = Path(text), Path(shipped_dir) / f"{text}.toml"
    if path.is_file():
        if shipped.is_file():
            log.info("using the %s file %s, not the shipped %s '%s'", what, path, what, text)
        return path
    if shipped.is_file():
        if path.is_dir():
            log.info("%s is a folder, not a %s file; using the shipped %s '%s'", path, what, what, text)
        return shipped
    names = ", ".join(sorted(p.stem for p in Path(shipped_dir).glob("*.toml")))
    kind = "a folder (not a file) and not" if path.is_dir() else "neither a file nor"
    raise FileNotFoundError(f"{what} '{text}' not found: it is {kind} a shipped {what} ({names})")
