"""The package's modules import one another without a cycle, wherever the import stands."""

import graphlib
from pathlib import Path

import analysis
from analysis.io.sources import imported_modules

PACKAGE = Path(analysis.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycles():
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: imported_modules(path.read_text(), name) - {name} for name, path in files.items()}
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    assert set(files) <= set(order)


def test_reading_a_project_needs_no_kernel_or_model():
    pages = PACKAGE / "site" / "pages.py"
    assert imported_modules(pages.read_text(), "analysis.site.pages") <= {
        "analysis.site",
        "analysis.site.errors",
        "analysis.site.notebook",
    }
