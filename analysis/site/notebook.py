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


def _notebook(cells: list, title: str) -> nbformat.NotebookNode:
    """A notebook of ``cells`` for the Python 3 kernel, checked by :func:`nbformat.validate`."""
    notebook = nbformat.v4.new_notebook(
        cells=cells, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}, "title": title}
    )
    nbformat.validate(notebook)
    return notebook


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
    return _notebook(cells, title)


#: Markdown that opens a handout, after its title.
HANDOUT_INTRO = (
    "Type along: the code cells are the episode's, without their outputs. "
    "Each exercise ends with an empty cell for your answer; the solutions are "
    "folded on the lesson's page."
)


def handout_notebook(executed: nbformat.NotebookNode, title: str) -> nbformat.NotebookNode:
    """An episode as a learner's handout: its code and its exercises' tasks, no solutions.

    Kept: the section headings, every code cell the page shows (without
    options or outputs), and each exercise (a callout titled "Exercise
    ...") as its title and task in Markdown, followed by one empty code
    cell. Left out: the prose, hidden cells, and everything inside a
    callout titled "Solution".

    Parameters
    ----------
    executed : NotebookNode
        The executed page, inline values filled in.
    title : str

    Returns
    -------
    NotebookNode
        Valid by :func:`nbformat.validate`; each exercise's Markdown cell
        has ``"exercise": true`` in its metadata.
    """
    figures = figure_numbers(executed)
    cells = [nbformat.v4.new_markdown_cell(f"# {title}: handout\n\n{HANDOUT_INTRO}")]
    open_callouts: list[str] = []  # "exercise", "solution" or "other", innermost last
    task: list[str] = []

    def end_task() -> None:
        if task:
            cells.append(nbformat.v4.new_markdown_cell(plain_markdown("\n".join(task), figures)))
            cells[-1].metadata["exercise"] = True
            cells.append(nbformat.v4.new_code_cell("# Your answer\n"))
            task.clear()

    for cell in executed.cells:
        if cell.cell_type == "code":
            options, code = split_options(cell.source)
            hidden = options.get("include") is False or options.get("echo", True) is False
            if not hidden and "solution" not in open_callouts:
                cells.append(nbformat.v4.new_code_cell(code))
            continue
        headings = []
        for line in cell.source.splitlines():
            if _CALLOUT.match(line):
                name = (_TITLE.search(line) or [None, ""])[1]
                kind = (
                    "exercise"
                    if name.startswith("Exercise")
                    else "solution"
                    if name == "Solution"
                    else "other"
                )
                if kind == "solution":
                    end_task()
                elif kind == "exercise":
                    task.append(f"## {name}")
                open_callouts.append(kind)
            elif _CLOSE.match(line) and open_callouts:
                if open_callouts.pop() == "exercise":
                    end_task()
            elif "solution" in open_callouts:
                continue
            elif "exercise" in open_callouts:
                task.append(line)
            elif line.startswith("#"):
                headings.append(line)
        if headings:
            cells.append(nbformat.v4.new_markdown_cell(plain_markdown("\n\n".join(headings), figures)))
    return _notebook(cells, title)


def tasks_markdown(handout: nbformat.NotebookNode, title: str) -> str:
    """The exercises of a handout as one chapter of the tasks PDF.

    Parameters
    ----------
    handout : NotebookNode
        From :func:`handout_notebook`.
    title : str
        The episode's title, the chapter's heading.

    Returns
    -------
    str
        Markdown; "" when the episode has no exercise.
    """
    tasks = [cell.source for cell in handout.cells if cell.metadata.get("exercise")]
    return f"# {title}\n\n" + "\n\n".join(tasks) if tasks else ""
