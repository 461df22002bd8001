"""Executed lesson pages as notebooks a learner can open and run."""

from __future__ import annotations

import re

import nbformat
import yaml

_OPTION = re.compile(r"^#\|\s?(.*)$")
_CALLOUT = re.compile(r"^:::+\s*\{[^}]*\}\s*$")
_TITLE = re.compile(r'title="([^"]*)"')
_CLOSE = re.compile(r"^:::+\s*$")
_ATTRIBUTES = re.compile(r"^(#{1,6} .*?)\s*\{[^}]*\}\s*$")
_CROSS_REFERENCE = re.compile(r"@(fig-[\w-]+)")

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def split_options(source: str) -> tuple[dict, str]:
    """Quarto cell options and the code below them.

    Parameters
    ----------
    source : str
        A code cell's source; its leading ``#|`` lines are YAML options.

    Returns
    -------
    options : dict
    code : str
        The source without the option lines.
    """
    lines = source.splitlines()
    options = []
    while lines and _OPTION.match(lines[0]):
        options.append(_OPTION.match(lines.pop(0)).group(1))
    return (yaml.safe_load("\n".join(options)) or {}), "\n".join(lines)


def plain_markdown(text: str, figures: dict[str, int]) -> str:
    """Quarto Markdown as plain Markdown a notebook shows well.

    Callout fences become bold titles (``::: {.callout-tip title="T"}`` ->
    ``**T**``), closing fences disappear, heading attributes are dropped and
    ``@fig-name`` becomes ``Figure N``.

    Parameters
    ----------
    text : str
    figures : dict
        Figure label to its number on the page.

    Returns
    -------
    str
    """
    lines = []
    for line in text.splitlines():
        if _CALLOUT.match(line):
            title = _TITLE.search(line)
            if title:
                lines.append(f"**{title.group(1)}**")
            continue
        if _CLOSE.match(line):
            continue
        lines.append(_ATTRIBUTES.sub(r"\1", line))
    markdown = "\n".join(lines).strip()
    return _CROSS_REFERENCE.sub(
        lambda m: f"Figure {figures[m.group(1)]}" if m.group(1) in figures else m.group(0), markdown
    )


def figure_numbers(notebook: nbformat.NotebookNode) -> dict[str, int]:
    """Number the labelled figures of a page in order of appearance.

    Parameters
    ----------
    notebook : NotebookNode
        Code cells whose options hold ``label: fig-...``.

    Returns
    -------
    dict
        Label to number, from 1.
    """
    numbers: dict[str, int] = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            label = str(split_options(cell.source)[0].get("label", ""))
            if label.startswith("fig-"):
                numbers[label] = len(numbers) + 1
    return numbers


def learner_notebook(executed: nbformat.NotebookNode, title: str) -> nbformat.NotebookNode:
    """The notebook of one executed page, as a learner downloads it.

    Cells the page hides (``echo: false`` or ``include: false``: display
    setup, checks against the package, provenance) are left out; every
    other cell keeps its outputs, without its Quarto option lines. Markdown
    is made plain (:func:`plain_markdown`), a title cell opens the notebook
    and the Python 3 kernel is named.

    Parameters
    ----------
    executed : NotebookNode
        The executed page, inline values filled in.
    title : str

    Returns
    -------
    NotebookNode
        Valid by :func:`nbformat.validate`.
    """
    figures = figure_numbers(executed)
    cells = [nbformat.v4.new_markdown_cell(f"# {title}")]
    for cell in executed.cells:
        if cell.cell_type == "markdown":
            source = plain_markdown(cell.source, figures)
            if source:
                cells.append(nbformat.v4.new_markdown_cell(source))
            continue
        options, code = split_options(cell.source)
        if options.get("include") is False or options.get("echo", True) is False:
            continue
        outputs = [output for output in cell.get("outputs", [])]
        for output in outputs:
            output.get("data", {}).pop("text/csv", None)
        cells.append(
            nbformat.v4.new_code_cell(code, outputs=outputs, execution_count=cell.get("execution_count"))
        )
    notebook = nbformat.v4.new_notebook(
        cells=cells, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}, "title": title}
    )
    nbformat.validate(notebook)
    return notebook
