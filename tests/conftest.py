"""Shared fixtures: the tiny box built and run once per test session."""

import pytest

from qsse_md.assembly.builder import build_system
from qsse_md.assembly.recipe import load_recipe
from qsse_md.md.runner import run
from qsse_md.resources import systems_dir


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """Run folder of ``systems/tiny.toml`` through the ``test`` protocol (read-only for tests)."""
    folder = tmp_path_factory.mktemp("shared") / "tiny"
    build_system(load_recipe(systems_dir() / "tiny.toml"), folder)
    run(folder, protocol="test", platform="CPU")
    return folder
