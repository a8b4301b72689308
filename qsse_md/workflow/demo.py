"""``qsse-md demo``: build the shipped demo box, run the ``demo`` protocol, write the run report.

Three steps on :func:`qsse_md.workflow.steps.run_steps`: the build (skipped once the
folder holds a finished build of the demo recipe), the MD (resumes from its checkpoints)
and the run report (:func:`qsse_md.workflow.analyze_run.report_run`). Calling it again
on the same folder resumes.
"""

from __future__ import annotations

import json
import logging
from typing import Callable

from qsse_md.runfolder import RunFolder
from qsse_md.workflow.steps import Step, run_steps

log = logging.getLogger(__name__)


def run_demo(out, on_built: Callable[[dict], None] | None = None) -> dict:
    """Build, run and report the demo box in ``out``, resuming what is there.

    Parameters
    ----------
    out : str or Path
        The demo folder: new, or one an earlier demo left (maybe unfinished).
    on_built : callable, optional
        Called with the build record right after a build (not when the build is reused).

    Returns
    -------
    dict
        The run report summary (:func:`qsse_md.workflow.analyze_run.report_run`).

    Raises
    ------
    ValueError
        When ``out`` holds a build of another recipe.
    """
    from qsse_md.assembly.builder import build_system
    from qsse_md.assembly.recipe import load_recipe
    from qsse_md.md.runner import run
    from qsse_md.resources import systems_dir
    from qsse_md.workflow.analyze_run import report_run

    folder = RunFolder(out)
    recipe = load_recipe(systems_dir() / "demo.toml")
    if folder.is_built():
        _check_demo_folder(folder, recipe)
        log.info("resuming the demo in %s", folder.path)

    def build() -> dict:
        record = build_system(recipe, folder.path)
        if on_built is not None:
            on_built(record)
        return record

    return run_steps([Step("build", build, done=folder.build_record),
                      Step("md", lambda: run(folder.path, protocol="demo")),
                      Step("report", lambda: report_run(folder.path))])["report"]


def _check_demo_folder(folder: RunFolder, recipe) -> None:
    """Refuse a build folder that was not built from the demo ``recipe`` (its recorded recipe)."""
    if (not folder.recipe_record.is_file()
            or folder.read_recipe() != json.loads(json.dumps(recipe.source, default=str))):
        raise ValueError(f"{folder.path} is not a demo folder: it holds a build of "
                         f"'{folder.read_build().get('name')}' from another recipe; choose another --out")
