"""Imports run downward through the layers of ARCHITECTURE.md: no module imports a layer above its own."""

import ast
from pathlib import Path

import qsse_md

PACKAGE = Path(qsse_md.__file__).parent
BASE = {"units", "errors", "fileio", "resources", "spec", "runfolder"}
LAYERS = ["lib", "analysis", "chem", "forcefield", "assembly", "md", "report", "workflow", "campaign", "cli"]


def _layer(name: str) -> int:
    return -1 if name in BASE else LAYERS.index(name)


def _imported_packages(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else (
            [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
        for name in names:
            parts = name.split(".")
            if parts[0] == "qsse_md" and len(parts) > 1:
                yield parts[1]


def test_every_module_imports_only_its_own_layer_or_lower_ones():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if top == "__init__":
            continue
        for imported in _imported_packages(path):
            if imported != top and _layer(imported) > _layer(top):
                upward.append(f"{path.relative_to(PACKAGE)} imports qsse_md.{imported}")
    assert upward == []


def test_every_top_level_name_has_a_layer():
    names = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").is_file())) and p.name != "__init__.py"}
    assert names == BASE | set(LAYERS)
