"""A Quarto project's sources read as notebooks, as Quarto reads them.

``_quarto.yml`` gives the pages to render, the output folder, the navbar,
the format options and the execute options (:func:`read_project`). Each
``.qmd`` page is read with jupytext, whose R Markdown reader understands
```` ```{python} ```` chunks; ``{{< include >}}`` shortcodes are expanded
(:func:`read_qmd`), parameters are set as ``quarto render -P`` sets them
(:func:`inject_parameters`), and inline `` `{python} expr` `` expressions
are evaluated by helper cells and written where they stand
(:func:`with_inline_cells`, :func:`fill_inline`).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import yaml

from analysis.site.errors import SourceError
from analysis.site.notebook import split_options

PROJECT_FILE = "_quarto.yml"

_INLINE = re.compile(r"`\{python\}\s+([^`]+?)\s*`")
_INCLUDE = re.compile(r"^\{\{<[ \t]*include[ \t]+(\S+)[ \t]*>\}\}[ \t]*$", re.MULTILINE)
_INLINE_MARK = "\x1finline-values:"


@dataclass
class Project:
    """What ``_quarto.yml`` says.

    Attributes
    ----------
    root : Path
        The folder holding ``_quarto.yml``.
    config : dict
        The whole file.
    pages : list of Path
        ``project.render``, in order.
    output_dir : Path
        ``project.output-dir`` (default ``_output``), under ``root``.
    """

    root: Path
    config: dict
    pages: list[Path]
    output_dir: Path

    def css_files(self) -> list[Path]:
        """The stylesheets of the HTML format, ``format.html.css`` (one or a list)."""
        css = self.format_options("html").get("css", [])
        return [self.root / c for c in ([css] if isinstance(css, str) else css)]

    def format_options(self, name: str) -> dict:
        """Options of one output format (``html``, ``typst``, ``ipynb``)."""
        options = self.config.get("format", {}).get(name, {})
        return options if isinstance(options, dict) else {}


@dataclass
class Page:
    """One ``.qmd`` page, read and (when it has code) executed."""

    source: Path
    front: dict
    notebook: nbformat.NotebookNode
    episode: int | None = None
    cached: bool = False
    inline: list[dict] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)

    @property
    def stem(self) -> str:
        """The page's file name without ``.qmd``."""
        return self.source.stem

    @property
    def executes(self) -> bool:
        """Whether the page has code cells."""
        return any(cell.cell_type == "code" for cell in self.notebook.cells)


def read_project(root: Path) -> Project:
    """Read a Quarto project file.

    Parameters
    ----------
    root : Path
        Folder of ``_quarto.yml``.

    Returns
    -------
    Project

    Raises
    ------
    SourceError
        If the file is missing, not YAML, lists no pages, or a listed page
        does not exist.
    """
    path = Path(root) / PROJECT_FILE
    if not path.is_file():
        raise SourceError(path, "project file does not exist")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise SourceError(path, f"not valid YAML ({error.__class__.__name__})") from None
    project = config.get("project", {})
    pages = [path.parent / page for page in project.get("render", [])]
    if not pages:
        raise SourceError(path, "project.render lists no pages")
    for page in pages:
        if not page.is_file():
            raise SourceError(page, "page listed in project.render does not exist")
    return Project(path.parent, config, pages, path.parent / project.get("output-dir", "_output"))


def expand_includes(text: str, folder: Path) -> str:
    """Replace each ``{{< include FILE >}}`` line by the file's text.

    Parameters
    ----------
    text : str
        Page source.
    folder : Path
        Where included files are found (the page's folder).

    Returns
    -------
    str
    """

    def include(match: re.Match) -> str:
        path = folder / match.group(1)
        if not path.is_file():
            raise SourceError(path, "included file does not exist")
        return path.read_text().rstrip("\n")

    return _INCLUDE.sub(include, text)


def read_qmd(path: Path) -> tuple[dict, nbformat.NotebookNode]:
    """Front matter and notebook of a ``.qmd`` file, includes expanded.

    Parameters
    ----------
    path : Path

    Returns
    -------
    front : dict
        The YAML header.
    notebook : NotebookNode
        Markdown and code cells; the header cell removed.
    """
    notebook = jupytext.reads(expand_includes(path.read_text(), path.parent), fmt="Rmd")
    front = {}
    if notebook.cells and notebook.cells[0].cell_type == "raw":
        front = yaml.safe_load(notebook.cells.pop(0).source.strip().strip("-")) or {}
    return front, notebook


def with_inline_cells(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Insert before each Markdown cell with inline code a cell printing its values.

    Parameters
    ----------
    notebook : NotebookNode

    Returns
    -------
    NotebookNode
        A new notebook; each helper cell is marked ``inline`` in its
        metadata, for :func:`fill_inline`.
    """
    cells = []
    for cell in notebook.cells:
        expressions = _INLINE.findall(cell.source) if cell.cell_type == "markdown" else []
        if expressions:
            listed = ", ".join(f"str({e})" for e in expressions)
            code = f"print({_INLINE_MARK!r} + __import__('json').dumps([{listed}]))"
            anchor = f"`{{python}} {expressions[0]}"
            cells.append(nbformat.v4.new_code_cell(code, metadata={"inline": True, "anchor": anchor}))
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells, metadata=notebook.metadata)


def inject_parameters(notebook: nbformat.NotebookNode, params: dict[str, str], source: Path) -> bool:
    """Set a page's parameters, as ``quarto render -P name:value`` does.

    A cell with the option ``tags: [parameters]`` declares the parameters
    and their defaults; a cell assigning the given values is inserted right
    after it.

    Parameters
    ----------
    notebook : NotebookNode
        Changed in place.
    params : dict
        Parameter name to value (a string).
    source : Path
        The page, for error messages.

    Returns
    -------
    bool
        Whether the page has a parameters cell.

    Raises
    ------
    SourceError
        If a name is not assigned in the parameters cell.
    """
    for index, cell in enumerate(notebook.cells):
        options, code = split_options(cell.source) if cell.cell_type == "code" else ({}, "")
        if "parameters" not in options.get("tags", []):
            continue
        declared = {
            target.id
            for node in ast.parse(code).body
            if isinstance(node, ast.Assign)
            for target in node.targets
        }
        for name in params:
            if name not in declared:
                raise SourceError(
                    source, f"has no parameter {name!r} (it declares {', '.join(sorted(declared))})"
                )
        assignments = "\n".join(f"{name} = {value!r}" for name, value in params.items())
        injected = nbformat.v4.new_code_cell(
            f"# Injected parameters\n{assignments}", metadata={"tags": ["injected-parameters"]}
        )
        notebook.cells.insert(index + 1, injected)
        return True
    return False


def fill_inline(notebook: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[dict]]:
    """Replace inline expressions by their printed values; drop the helper cells.

    Parameters
    ----------
    notebook : NotebookNode
        Executed, with the helper cells of the inline expressions.

    Returns
    -------
    notebook : NotebookNode
    values : list of dict
        ``expression`` and ``value`` of every inline expression, in order.
    """
    cells, values, record = [], None, []
    for cell in notebook.cells:
        if cell.metadata.get("inline"):
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
            values = json.loads(text.split(_INLINE_MARK, 1)[1])
            continue
        if values is not None and cell.cell_type == "markdown":
            expressions = _INLINE.findall(cell.source)
            record.extend({"expression": e, "value": v} for e, v in zip(expressions, values, strict=True))
            replacements = iter(values)
            cell.source = _INLINE.sub(lambda _, found=replacements: next(found), cell.source)
            values = None
        cells.append(cell)
    notebook.cells = cells
    return notebook, record
