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

import functools
import io
import os
import tokenize
from pathlib import Path

from analysis.io.registry import INSTALLED, MANIFEST, PROJECT_ROOT, USER_CACHE
from analysis.models.stardist_model import PROJECT_MODEL
from analysis.models.store import STORE_ENV
from analysis.site.pages import Page
from analysis.site.render import render

#: Where executed pages are kept between renders (``$ANALYSIS_RENDER_CACHE``).
CACHE_ENV = "ANALYSIS_RENDER_CACHE"
PACKAGE = "analysis"
_PACKAGE_DIR = Path(__file__).resolve().parent


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


def _module_file(name: str) -> Path | None:
    """The source file of a module of this package (its ``__init__.py`` for a sub-package)."""
    parts = name.split(".")[1:]
    base = _PACKAGE_DIR.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(source: str, module: str = "") -> set[str]:
    """Modules of this package that a piece of code imports, at any depth of it.

    The code is read token by token (:mod:`tokenize`), not parsed into a
    syntax tree: CPython 3.11's ``ast`` keeps a depth counter shared by all
    threads, and the renderer computes these while its kernels' threads run.

    Parameters
    ----------
    source : str
        Python code (a module, or a page's cells joined).
    module : str
        The code's own module name, to resolve relative imports (``""``
        for a page).

    Returns
    -------
    set of str
        Dotted names; ``from analysis.io import images`` gives
        ``analysis.io`` and ``analysis.io.images``.
    """
    found = set()
    for words in _statements(source):
        if words[0] == "import":
            found |= {name.split(" as ")[0] for name in _names(words[1:])}
        elif words[0] == "from" and "import" in words:
            at = words.index("import")
            base = "".join(words[1:at])
            level = len(base) - len(base.lstrip("."))
            if level:
                package = module.rsplit(".", level)[0] if module else ""
                base = f"{package}.{base[level:]}".strip(".")
            found.add(base)
            found |= {f"{base}.{name.split(' as ')[0]}" for name in _names(words[at + 1 :])}
    return {name for name in found if name.split(".")[0] == PACKAGE and _module_file(name)}


def _statements(source: str) -> list[list[str]]:
    """The logical lines of some code that import, each as its tokens' strings."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
    statements, words = [], []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in skip:
                continue
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or token.string == ";":
                if words and words[0] in ("import", "from"):
                    statements.append(words)
                words = []
            elif token.string == ":" and words and words[0] in ("else", "try", "finally"):
                words = []  # ``try: import x`` on one line
            else:
                words.append(token.string)
    except (tokenize.TokenError, SyntaxError):  # the page's kernel reports the code's own error
        pass
    return statements


def _names(words: list[str]) -> list[str]:
    """``a.b as c, d`` (tokens, parentheses allowed) as ``["a.b as c", "d"]``."""
    text = "".join(f" {word} " if word == "as" else word for word in words if word not in "()")
    return [name.strip() for name in text.split(",") if name.strip()]


def _with_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts) + 1)}


@functools.cache
def module_closure(name: str) -> frozenset[str]:
    """A module of this package and every one of its modules it imports, directly or not.

    Parameters
    ----------
    name : str
        Dotted name, e.g. ``"analysis.steps.cells"``.

    Returns
    -------
    frozenset of str
        Including the packages on each module's path (their
        ``__init__.py`` runs on import).
    """
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        for module in _with_parents(current) - seen:
            seen.add(module)
            path = _module_file(module)
            if path is not None:
                todo.extend(imported_modules(path.read_text(), module) - seen)
    return frozenset(module for module in seen if _module_file(module))


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
    files += sorted(_module_file(name) for name in modules)
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
