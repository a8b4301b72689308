"""Campaign folder layout, per-task state records and locks.

Layout::

    DIR/manifest.json          campaign settings + every task (id, sha256, variables)
    DIR/campaign.toml          the campaign file as given (plan) or the inputs (analyze)
    DIR/.campaign.lock         held (flock) by the process running the campaign
    DIR/tasks/ID/spec.json     the task's full specification and its SHA-256
    DIR/tasks/ID/state.json    pending | running | done | failed (+ reason, failures, history)
    DIR/tasks/ID/run/          build + MD folder (qsse-md build / run)
    DIR/tasks/ID/solvation/    qsse-md analyze solvation output
    DIR/tasks/ID/transport/    qsse-md analyze transport output
    DIR/tasks/ID/results.json  flat metrics of the task (collected into one table)
    DIR/results/               collect: results.csv (+ .parquet) and plots/*.png

States are written atomically (temporary file + rename), so a killed process leaves the
previous state, never half a file.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from qsse_md.campaign.spec import spec_hash
from qsse_md.errors import UserFixableError
from qsse_md.fileio import atomic_write_json

STATES = ("pending", "running", "done", "failed")
MANIFEST = "manifest.json"
LOCK = ".campaign.lock"


class CampaignLockedError(UserFixableError):
    """Another process is running this campaign folder."""


def read_manifest(campaign_dir: str | Path) -> dict:
    """The manifest of a planned campaign folder."""
    path = Path(campaign_dir) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{campaign_dir} is not a campaign folder (no {MANIFEST}); "
                                "create one with 'qsse-md campaign plan FILE --out DIR'")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is corrupt ({error}); plan the campaign again into a new folder") from None


def task_dir(campaign_dir: str | Path, task_id: str) -> Path:
    return Path(campaign_dir) / "tasks" / task_id


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def read_state(folder: Path) -> dict:
    """The state record of a task folder (``pending`` if none was written yet)."""
    path = Path(folder) / "state.json"
    if not path.is_file():
        return {"state": "pending", "failures": 0, "reason": None, "history": []}
    return json.loads(path.read_text())


def write_state(folder: Path, state: str, reason: str | None = None, **extra) -> dict:
    """Record ``state`` for the task in ``folder`` atomically; return the record."""
    if state not in STATES:
        raise ValueError(f"unknown task state {state!r}")
    record = read_state(folder)
    record.update(extra, state=state, reason=reason, updated=now())
    record.setdefault("history", []).append(
        {"state": state, "time": record["updated"], "host": socket.gethostname(), "pid": os.getpid(),
         **({"reason": reason} if reason else {})})
    atomic_write_json(Path(folder) / "state.json", record)
    return record


def check_task(campaign_dir: Path, entry: dict) -> str | None:
    """Why the task folder of manifest ``entry`` cannot be trusted, or None if it is intact."""
    folder = task_dir(campaign_dir, entry["id"])
    path = folder / "spec.json"
    if not path.is_file():
        return f"task {entry['id']}: {path} is missing"
    try:
        record = json.loads(path.read_text())
        digest = spec_hash(record["spec"])
    except (json.JSONDecodeError, KeyError, TypeError):
        return f"task {entry['id']}: {path} is not a task specification"
    if digest != entry["sha256"] or record.get("sha256") != entry["sha256"]:
        return (f"task {entry['id']}: {path} was edited by hand (its hash no longer matches the "
                "manifest); put it back or plan a new campaign with the change")
    return None


@contextmanager
def campaign_lock(campaign_dir: Path) -> Iterator[None]:
    """Hold the campaign folder's lock; raise CampaignLockedError if another process has it."""
    path = Path(campaign_dir) / LOCK
    handle = open(path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise CampaignLockedError(f"campaign {campaign_dir} is being run by {holder}; wait for it "
                                      "to finish (or stop it) before running it again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {now()}")
        handle.flush()
        yield
    finally:
        handle.close()


def is_locked(campaign_dir: Path) -> bool:
    """True while some process holds the campaign lock."""
    path = Path(campaign_dir) / LOCK
    if not path.is_file():
        return False
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


@contextmanager
def task_lock(folder: Path) -> Iterator[None]:
    """Exclusive lock of one task folder; blocks while another worker still runs it."""
    with open(Path(folder) / ".task.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
