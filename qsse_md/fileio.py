"""File helpers: atomic output (folders and files appear complete or not at all), TOML input."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def check_writable_dir(folder: Path) -> Path:
    """Return ``folder`` as a Path once it is known that it can be created and written to.

    The nearest existing ancestor must be a folder in which a probe folder can be made
    (made and removed at once); an existing ``folder`` must be a folder. Nothing is left
    behind.

    Raises
    ------
    FileExistsError
        When ``folder`` or one of its ancestors is a file.
    PermissionError
        When no folder can be made there (read-only or virtual file system, no rights).
    """
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is" if existing == folder else f"would be inside {existing}, which is"
        raise FileExistsError(f"output folder {folder} {where} a file, not a folder; choose another --out")
    try:
        Path(tempfile.mkdtemp(prefix=".qsse-md-probe.", dir=existing)).rmdir()
    except OSError as error:
        raise PermissionError(f"output folder {folder} cannot be created in {existing} ({error.strerror}); "
                              "choose another --out") from None
    return folder


def check_new_output_dir(out_dir: Path) -> Path:
    """Return ``out_dir`` as a Path if it can be created and written to and is absent or empty.

    Raises
    ------
    FileExistsError
        When ``out_dir`` exists and is not an empty folder, or is inside a file.
    PermissionError
        When it cannot be created (see :func:`check_writable_dir`).
    """
    out_dir = Path(out_dir)
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise FileExistsError(f"output folder {out_dir} exists and is not empty; choose "
                              "another --out or remove it")
    return check_writable_dir(out_dir)


@contextmanager
def staged_output_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a hidden sibling folder that becomes ``out_dir`` only if the block succeeds.

    On any exception the staging folder is removed and ``out_dir`` is left untouched.
    """
    out_dir = check_new_output_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        yield staging
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file, fsync and ``os.replace``."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, record: dict) -> None:
    """Write ``record`` as indented JSON to ``path`` atomically."""
    write_text_atomic(path, json.dumps(record, indent=2) + "\n")


def read_toml(path: Path, what: str) -> dict:
    """Parse the TOML file ``path``; one-line errors for a missing file or bad syntax.

    ``what`` names the file in messages (e.g. "recipe", "protocol").
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} not found")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{what} {path} is not valid TOML: {error}") from None
