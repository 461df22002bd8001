"""The lesson as a project of the site renderer: where it is, and what each page depends on.

The renderer (:mod:`analysis.site`) knows nothing of this package. This
module hands it the lesson's folder, its render cache and, per page, the
files whose bytes the page's results depend on: the package modules the
page imports (followed through their own imports, wherever they stand), the
data manifest when the page reads the data set, the model folder when it
loads a model, and the locked requirements. Editing a module no page
imports leaves every cached page valid.
"""

from __future__ import annotations

import os
from pathlib import Path

from analysis.io.registry import INSTALLED, MANIFEST, PROJECT_ROOT, USER_CACHE
from analysis.io.sources import imported_modules, module_closure, module_file
from analysis.models.stardist_model import PROJECT_MODEL
from analysis.models.store import STORE_ENV
from analysis.site.pages import Page
from analysis.site.render import render

#: Where executed pages are kept between renders (``$ANALYSIS_RENDER_CACHE``).
CACHE_ENV = "ANALYSIS_RENDER_CACHE"


def render_cache(root: Path = PROJECT_ROOT) -> Path:
    """Where a project's executed pages are kept.

    Parameters
    ----------
    root : Path
        The project's folder.

    Returns
    -------
    Path
        ``$ANALYSIS_RENDER_CACHE``; else ``.render-cache`` in the project,
        or the user's cache folder for the lesson of an installed package.
    """
    lesson = root.resolve() == PROJECT_ROOT.resolve()
    default = USER_CACHE / "render" if INSTALLED and lesson else root / ".render-cache"
    return Path(os.environ.get(CACHE_ENV) or default)


def page_dependencies(page: Page) -> list[Path]:
    """The files whose bytes a lesson page's results depend on, besides its cells.

    Parameters
    ----------
    page : Page

    Returns
    -------
    list of Path
        The locked requirements; the source of every package module the
        page imports, directly or through other modules; the data manifest
        when one of them is the data registry; every file of the project
        model's folder when one of them loads models.
    """
    code = "\n".join(cell.source for cell in page.notebook.cells if cell.cell_type == "code")
    modules = set()
    for name in imported_modules(_python_lines(code)):
        modules |= module_closure(name)
    files = [PROJECT_ROOT / "requirements.lock"]
    files += sorted(module_file(name) for name in modules)
    if "analysis.io.registry" in modules:
        files.append(MANIFEST)
    if "analysis.models.stardist_model" in modules:
        files += sorted(path for path in PROJECT_MODEL.iterdir() if path.is_file())  # model.onnx included
    return files


def _python_lines(code: str) -> str:
    """Cell code without IPython's magics and shell lines, which are not Python."""
    return "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))


def render_lesson(
    out: Path | None = None,
    force: bool = False,
    params: dict[str, str] | None = None,
    root: Path | None = None,
) -> dict:
    """Render the lesson (or another project using this package) with its dependencies.

    Parameters
    ----------
    out : Path, optional
        Output folder; by default the project's ``output-dir``, or
        ``./_output`` for the lesson shipped in an installed package.
    force : bool
        Execute every page even when its cached result is valid.
    params : dict, optional
        The pages' parameters (:func:`analysis.site.pages.inject_parameters`).
    root : Path, optional
        Folder of another project's ``_quarto.yml``; default the lesson.

    Returns
    -------
    dict
        :func:`analysis.site.render.render`'s summary.
    """
    root = PROJECT_ROOT if root is None else Path(root)
    if out is None and INSTALLED and root.resolve() == PROJECT_ROOT.resolve():
        out = Path.cwd() / "_output"  # Quarto's output-dir, in the working folder
    return render(
        root,
        out,
        force=force,
        params=params,
        cache=render_cache(root),
        depends_on=page_dependencies,
        input_errors=("AnalysisError",),
        env={STORE_ENV: str(render_cache(root) / "predictions")},
    )
