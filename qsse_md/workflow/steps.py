"""A small runner of named, resumable steps: each step is skipped when its output is there.

A workflow is a list of :class:`Step`; :func:`run_steps` runs them in order. A step with
a ``done`` marker (a file or folder its action writes last, or atomically) is skipped
when the marker exists, so calling the workflow again after an interruption continues
with the first unfinished step. A step without a marker always runs: it resumes by
itself (MD from its checkpoints) or is cheap.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class Step:
    """One named step of a workflow.

    Attributes
    ----------
    name : str
        Name shown to ``on_start`` and key of the step's result.
    action : callable
        Called with no arguments to do the step; its return value is the step's result.
    done : Path, optional
        Output whose existence marks the step as done; None runs the step every time.
    load : callable, optional
        Called with ``done`` when the step is skipped; its return value is then the
        step's result (None when not given).
    clear : Path, optional
        Incomplete output removed before ``action`` runs.
    """

    name: str
    action: Callable[[], Any]
    done: Path | None = None
    load: Callable[[Path], Any] | None = None
    clear: Path | None = None

    def is_done(self) -> bool:
        """True when the step's ``done`` marker exists."""
        return self.done is not None and Path(self.done).exists()


def run_steps(steps, on_start: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run each step of ``steps`` in order, skipping those that are done.

    Parameters
    ----------
    steps : iterable of Step
        The workflow; names must be unique.
    on_start : callable, optional
        Called with the step's name before each step, done or not (e.g. to record
        where a task is).

    Returns
    -------
    dict of str to object
        Each step's result: what its ``action`` returned, or, for a skipped step, what
        its ``load`` returned (None without one).
    """
    results = {}
    for step in steps:
        if on_start is not None:
            on_start(step.name)
        if step.is_done():
            results[step.name] = None if step.load is None else step.load(Path(step.done))
            continue
        if step.clear is not None and Path(step.clear).exists():
            shutil.rmtree(step.clear)
        results[step.name] = step.action()
    return results
