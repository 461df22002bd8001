"""The package's modules import one another without a cycle, wherever the import stands."""

import ast
import graphlib
from pathlib import Path

import analysis

PACKAGE = Path(analysis.__file__).parent


def imports_within_the_package(path: Path) -> set[str]:
    """The sibling modules a module imports, at its top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names |= {node.module.split(".")[0]} if node.module else {alias.name for alias in node.names}
    return names


def test_no_import_cycles():
    modules = {path.stem: path for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    graph = {name: imports_within_the_package(path) & set(modules) for name, path in modules.items()}
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    assert set(order) == set(modules)
    assert graph["pages"] <= {"data", "errors", "notebook"}  # reading a project needs no kernel or model
