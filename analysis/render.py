"""Render the lesson website from its Quarto project without Quarto.

``_quarto.yml`` is read for what Quarto would read there: the pages to
render, the output folder, the navbar, the format options and the execute
options. Each ``.qmd`` page is read with jupytext (its R Markdown reader
understands ```` ```{python} ```` chunks); ``{{< include >}}`` shortcodes are
expanded, inline `` `{python} expr` `` expressions are evaluated where they
stand, and the pages with code are executed with nbclient, each in its own
kernel, several at once. The results are written as Markdown that pandoc
turns into one self-contained HTML file per page and, all pages together,
into Typst, which the typst compiler turns into one PDF. Each executed page
also becomes a notebook a learner can open (:mod:`analysis.notebook`).

Execution is cached per page (Quarto's ``freeze: auto``): the key covers the
cell sources, the ``analysis`` package's code, the locked requirements, the
data manifest, the bytes of every data file and the model files, so any
change to what the numbers depend on re-executes. Outputs are built in a
temporary folder and moved into place only when everything succeeded.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from base64 import b64decode
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import yaml
from tqdm.auto import tqdm

from .browser import chromium_paths, screenshot_pages
from .data import INSTALLED, MANIFEST, PROJECT_ROOT, USER_CACHE, fetch_all, sha256
from .display import FIGURE_DPI
from .errors import AnalysisError
from .notebook import learner_notebook, split_options
from .output import write_csv
from .segment import PROJECT_MODEL

PROJECT_FILE = "_quarto.yml"
ASSETS = Path(__file__).with_name("render_assets")
#: Where executed pages are kept between renders (``$ANALYSIS_RENDER_CACHE``).
CACHE_ENV = "ANALYSIS_RENDER_CACHE"
#: The whole lesson as one PDF, beside the pages.
PDF_NAME = "lesson.pdf"
#: File in the output folder recording what the site was built from (:func:`site_key`).
STAMP = ".render-stamp"
CELL_TIMEOUT_S = 900
#: Thread-pool sizes of OpenMP, BLAS and TensorFlow, set for each kernel.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)

_INLINE = re.compile(r"`\{python\}\s+([^`]+?)\s*`")
_INCLUDE = re.compile(r"^\{\{<[ \t]*include[ \t]+(\S+)[ \t]*>\}\}[ \t]*$", re.MULTILINE)
_INLINE_MARK = "\x1finline-values:"
# nbclient's own log (kernel restarts, shutdown noise) stays off the terminal.
_QUIET = logging.getLogger("analysis.render.kernels")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False
_RUNNING: set = set()
_LOCK = threading.Lock()
#: Set by :func:`stop_kernels`: a page still starting stops before its first cell.
_STOPPING = threading.Event()


class RenderError(AnalysisError):
    """A page of the lesson failed; the message names the file and line."""


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


def read_project(root: Path = PROJECT_ROOT) -> Project:
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
    AnalysisError
        If the file is missing, not YAML, lists no pages, or a listed page
        does not exist.
    """
    path = Path(root) / PROJECT_FILE
    if not path.is_file():
        raise AnalysisError(path, "project file does not exist")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise AnalysisError(path, f"not valid YAML ({error.__class__.__name__})") from None
    project = config.get("project", {})
    pages = [path.parent / page for page in project.get("render", [])]
    if not pages:
        raise AnalysisError(path, "project.render lists no pages")
    for page in pages:
        if not page.is_file():
            raise AnalysisError(page, "page listed in project.render does not exist")
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
            raise AnalysisError(path, "included file does not exist")
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


def _with_inline_cells(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Insert before each Markdown cell with inline code a cell printing its values."""
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
    AnalysisError
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
                raise AnalysisError(
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


def _source_line(qmd: Path, code: str) -> int:
    text = qmd.read_text()
    index = text.find(code.strip().splitlines()[0]) if code.strip() else -1
    return text.count("\n", 0, index) + 1 if index >= 0 else 0


def execute(notebook: nbformat.NotebookNode, qmd: Path) -> nbformat.NotebookNode:
    """Run every code cell in a fresh kernel started in the page's folder.

    Parameters
    ----------
    notebook : NotebookNode
    qmd : Path
        The page's source, for its folder and error messages.

    Returns
    -------
    NotebookNode
        The same notebook, executed.

    Raises
    ------
    RenderError
        At the first failing cell, naming its line in the ``.qmd``.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    def started(**_notebook) -> None:
        # Only a kernel that is up may be killed: nbclient does not clean up after
        # a kernel that dies while it starts, and fails at exit instead.
        with _LOCK:
            _RUNNING.add(client)

    def stop_if_asked(**_cell) -> None:
        if _STOPPING.is_set():  # its kernel was still starting when the others were killed
            raise RenderError(qmd, "stopped: the render was interrupted or another page failed")

    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        allow_errors=False,
        record_timing=True,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(qmd.parent)}},
        log=_QUIET,
        on_notebook_start=started,
        on_cell_start=stop_if_asked,
    )
    try:
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log lines
    except CellExecutionError as error:
        failing = next(
            (
                c
                for c in notebook.cells
                if c.cell_type == "code"
                and any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        code = failing.source if failing else ""
        anchor = failing.metadata.get("anchor") if failing else None
        raise RenderError(
            f"{qmd}:{_source_line(qmd, anchor or split_options(code)[1])}",
            f"cell failed: {error.ename}: {error.evalue}\n--- cell ---\n{code}\n------------",
        ) from None
    except DeadKernelError:
        raise RenderError(qmd, "the kernel died while executing the page") from None
    finally:
        with _LOCK:
            _RUNNING.discard(client)
    return notebook


def stop_kernels() -> None:
    """Kill the kernels of every page being executed (after an interrupt).

    Kernels run in sessions of their own, so an interrupt of this process
    does not reach them; their pages then end at once with a dead kernel.
    A page whose kernel is still starting is left to start, and stops
    before its first cell.
    """
    _STOPPING.set()
    with _LOCK:
        clients = list(_RUNNING)
    for client in clients:
        process = getattr(getattr(getattr(client, "km", None), "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()


def dependency_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """Every file whose bytes an executed page's results depend on.

    Parameters
    ----------
    root : Path
        The project's folder.

    Returns
    -------
    list of Path
    """
    data_files = [path for kind in ("images", "foreground") for path in sorted(fetch_all(kind).glob("*.tif"))]
    code = sorted((Path(__file__).parent).rglob("*.py"))
    model = [PROJECT_MODEL / f for f in ("config.json", "thresholds.json", "weights_best.h5", "scale.json")]
    return [*code, root / "requirements.lock", MANIFEST, *data_files, *model]


def cache_key(notebook: nbformat.NotebookNode, files: list[Path]) -> str:
    """SHA-256 over everything an executed page depends on.

    Parameters
    ----------
    notebook : NotebookNode
        Its cell sources count, in order.
    files : list of Path
        Their names and bytes count; a missing file counts as missing.

    Returns
    -------
    str
        64 hex digits.
    """
    digest = hashlib.sha256()
    for cell in notebook.cells:
        digest.update(f"{cell.cell_type}\0{cell.source}\0".encode())
    _digest_files(digest, files)
    return digest.hexdigest()


def _digest_files(digest, files: list[Path]) -> None:
    """Feed each file's name and SHA-256 (or ``missing``) into a running digest."""
    for path in files:
        digest.update(f"{path.name}\0{sha256(path) if path.is_file() else 'missing'}\0".encode())


def cache_dir(root: Path = PROJECT_ROOT) -> Path:
    """Where executed pages are kept.

    Parameters
    ----------
    root : Path
        The project's folder.

    Returns
    -------
    Path
        ``$ANALYSIS_RENDER_CACHE``; else ``.render-cache`` in the project,
        or the user's cache folder when the project ships inside an
        installed package.
    """
    default = USER_CACHE / "render" if INSTALLED and root == PROJECT_ROOT else root / ".render-cache"
    return Path(os.environ.get(CACHE_ENV) or default)


def _execute_page(page: Page, key: str, cache: Path, reuse: bool) -> None:
    """Execute a page, or reuse its cached result; keep the result in ``cache``.

    A new result replaces older entries of the same page only after its
    execution succeeded; an interrupted or failed execution leaves nothing.
    """
    cached = cache / f"{page.stem}-{key[:16]}.ipynb"
    if reuse and cached.is_file():
        executed = nbformat.read(cached, as_version=4)
        page.cached = True
    else:
        cache.mkdir(parents=True, exist_ok=True)
        executed = execute(_with_inline_cells(page.notebook), page.source)
        with tempfile.NamedTemporaryFile(
            "w", dir=cache, prefix=f".{page.stem}-", suffix=".ipynb", delete=False
        ) as handle:
            nbformat.write(executed, handle)
        for old in cache.glob(f"{page.stem}-*.ipynb"):
            old.unlink()
        os.replace(handle.name, cached)
    page.notebook, page.inline = fill_inline(executed)


def execute_pages(pages: list[Page], project: Project, force: bool) -> None:
    """Execute every page with code, several kernels at once.

    One kernel runs per core at most. Each kernel's OpenMP, BLAS and
    TensorFlow thread pools (:data:`THREAD_VARIABLES`) get its share of the
    cores, so kernels side by side do not compete for them; a variable
    already set in the environment is kept.

    ``execute.freeze`` of ``_quarto.yml`` decides whether cached results
    are reused (``auto``, the default, or ``true``) or every page runs
    (``false``); ``force`` always runs. ``execute.warning: false`` hides
    Python warnings in the outputs.

    Parameters
    ----------
    pages : list of Page
        Executed in place.
    project : Project
    force : bool
    """
    options = project.config.get("execute", {})
    reuse = not force and options.get("freeze", "auto") is not False
    files = dependency_files(project.root)
    cache = cache_dir(project.root)
    # The pages with the most code first: the longest then runs from the start.
    runnable = sorted(
        (page for page in pages if page.executes),
        key=lambda page: -sum(cell.cell_type == "code" for cell in page.notebook.cells),
    )
    cores = os.cpu_count() or 1
    kernels = max(1, min(len(runnable), cores))
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    env |= {name: str(max(1, cores // kernels)) for name in THREAD_VARIABLES if name not in os.environ}
    if options.get("warning", True) is False:
        env["PYTHONWARNINGS"] = "ignore"
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    progress = tqdm(total=len(runnable), desc="execute", unit="page", disable=None)
    _STOPPING.clear()
    try:
        with ThreadPoolExecutor(max_workers=kernels) as pool:
            try:  # the keys take a moment to hash: the first pages start meanwhile
                jobs = [
                    pool.submit(
                        _execute_page, page, cache_key(page.notebook, [*files, *page.inputs]), cache, reuse
                    )
                    for page in runnable
                ]
                for job in jobs:
                    job.result()
                    progress.update()
            except BaseException:  # an interrupt, or a failed page: stop the others
                pool.shutdown(wait=False, cancel_futures=True)  # pages not started never start
                stop_kernels()
                raise
    finally:
        progress.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _width_percent(image: Path, dpi: float = FIGURE_DPI, text_width_in: float = 6.3) -> int:
    """Share of the text width a PNG takes at ``dpi``, at most 100."""
    width_px = int.from_bytes(image.read_bytes()[16:20], "big")  # PNG IHDR width
    return min(100, round(100 * width_px / dpi / text_width_in))


def _figure_markdown(image: Path, options: dict, index: int, count: int) -> str:
    caption = options.get("fig-cap", "")
    if isinstance(caption, list):
        caption = caption[index] if index < len(caption) else ""
    alt = options.get("fig-alt", caption)
    label = options.get("label", "")
    attrs = [f"#{label}-{index + 1}" if label and count > 1 else f"#{label}" if label else ""]
    attrs.append('alt="{}"'.format(alt.replace('"', "'")) if alt else "")
    attrs.append(f'width="{_width_percent(image)}%"')
    return f"![{caption}]({image.name}){{{' '.join(a for a in attrs if a)}}}"


def _table_markdown(table: str, options: dict) -> str:
    label, caption = options.get("label", ""), options.get("tbl-cap", "")
    if not caption:
        return table
    return f"::: {{#{label}}}\n{table}\n\n: {caption}\n:::" if label else f"{table}\n\n: {caption}"


def page_markdown(page: Page, build: Path, tables: Path) -> str:
    """Markdown body of an executed page; figures are written into ``build``.

    Tables shown by cells labelled ``tbl-NAME`` are written to
    ``tables/NAME.csv`` at full precision.

    Parameters
    ----------
    page : Page
        Executed.
    build : Path
        Folder for the figures.
    tables : Path
        Folder for the tables.

    Returns
    -------
    str
    """
    parts, figure_number = [], 0
    for cell in page.notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        options, code = split_options(cell.source)
        if options.get("include") is False:
            continue
        if options.get("echo", True) and code.strip():
            parts.append(f"```python\n{code}\n```")
        if options.get("output", True) is False:
            continue
        images = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream" and output.get("name") == "stdout":
                parts.append(f"```text\n{output['text'].rstrip()}\n```")
            elif kind in ("execute_result", "display_data"):
                data = output.get("data", {})
                if "image/png" in data:
                    figure_number += 1
                    path = build / f"{page.stem}-figure-{figure_number:02d}.png"
                    path.write_bytes(b64decode(data["image/png"]))
                    images.append(path)
                elif "text/markdown" in data:
                    parts.append(_table_markdown(data["text/markdown"], options))
                    if "text/csv" in data and str(options.get("label", "")).startswith("tbl-"):
                        (tables / f"{options['label'][4:]}.csv").write_text(data["text/csv"])
                elif "text/plain" in data:
                    parts.append(f"```text\n{data['text/plain']}\n```")
        parts.extend(_figure_markdown(p, options, i, len(images)) for i, p in enumerate(images))
    return "\n\n".join(parts) + "\n"


def _listing(listing: dict, pages: dict[str, Page]) -> str:
    """A Quarto table listing (``listing:`` in the front matter) as a pipe table."""
    fields = listing.get("fields", ["title"])
    names = listing.get("field-display-names", {})
    rows = [
        "| " + " | ".join(names.get(f, f) for f in fields) + " |",
        "|" + "|".join(":--" if i == 0 else "--:" for i in range(len(fields))) + "|",
    ]
    for item in listing.get("contents", []):
        target = pages[Path(item).stem]
        cells = [
            f"[{target.front.get(f, '')}]({item})" if f == "title" else str(target.front.get(f, ""))
            for f in fields
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _fill_listing(markdown: str, page: Page, pages: dict[str, Page]) -> str:
    listing = page.front.get("listing")
    if not listing:
        return markdown
    empty = re.compile(r"^::: \{#" + re.escape(listing["id"]) + r"\}\n:::$", re.MULTILINE)
    return empty.sub(lambda _: f"::: {{#{listing['id']}}}\n{_listing(listing, pages)}\n:::", markdown)


def _navbar(project: Project, current: Page) -> str:
    """The site's navbar as HTML, links relative to the pages' folder."""
    website = project.config.get("website", {})
    navbar = website.get("navbar", {})
    items = []
    for side in ("left", "right"):
        for item in navbar.get(side, []):
            href = Path(item["href"]).name.replace(".qmd", ".html")
            current_class = ' class="current"' if href == f"{current.stem}.html" else ""
            items.append(
                f'<li class="nav-{side}"><a href="{href}"{current_class}>{item.get("text", href)}</a></li>'
            )
    title = website.get("title", "")
    return (
        f'<nav class="navbar" aria-label="Lesson"><span class="nav-title">{title}</span>'
        f"<ul>{''.join(items)}</ul></nav>\n"
    )


def _downloads(page: Page) -> str:
    links = [f"[PDF of the whole lesson (`{PDF_NAME}`)]({PDF_NAME})"]
    if page.executes:
        what = "this episode" if page.episode else "this page"
        links.insert(0, f"[{what} as an executed notebook (`{page.stem}.ipynb`)]({page.stem}.ipynb)")
    return "::: {.downloads}\nDownload: " + " · ".join(links) + "\n:::\n\n"


def _pandoc(markdown: str, target: Path, to: str, extra: list[str], resource_path: Path) -> None:
    import pypandoc

    pypandoc.convert_text(
        markdown,
        to,
        format="markdown",
        outputfile=str(target),
        extra_args=[
            "--standalone",
            f"--lua-filter={ASSETS / 'lesson.lua'}",
            f"--resource-path={resource_path}",
            *extra,
        ],
    )


def _front(page: Page, lang: str) -> str:
    front = {"title": page.front.get("title", page.stem), "lang": lang}
    if page.front.get("subtitle"):
        front["subtitle"] = page.front["subtitle"]
    return "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n\n"


def write_html(project: Project, page: Page, body: str, build: Path) -> Path:
    """One self-contained HTML page with navbar, table of contents and numbering.

    Parameters
    ----------
    project : Project
    page : Page
    body : str
        The page's Markdown.
    build : Path
        Working folder (figures, navbar).

    Returns
    -------
    Path
    """
    options = project.format_options("html")
    numbered = page.front.get("number-sections", options.get("number-sections", False))
    extra = [
        "--embed-resources" if options.get("embed-resources") else "--self-contained=false",
        f"--metadata=pagetitle:{page.front.get('title', page.stem)}",
    ]
    if options.get("html-math-method") == "mathml":
        extra.append("--mathml")
    if page.front.get("toc", options.get("toc")):
        extra.append("--toc")
    if numbered:
        extra += ["--number-sections", f"--number-offset={page.episode or 0}"]
    extra += [f"--css={css}" for css in project.css_files()]
    navbar = build / f"{page.stem}-navbar.html"
    navbar.write_text(_navbar(project, page))
    extra.append(f"--include-before-body={navbar}")
    html = build / f"{page.stem}.html"
    lang = project.config.get("lang", "en")
    _pandoc(_front(page, lang) + _downloads(page) + body, html, "html5", extra, build)
    return html


def _pdf_section(page: Page, body: str) -> str:
    """A page as one chapter of the PDF: its title a level-1 heading."""
    title = page.front.get("title", page.stem)
    if page.episode:
        return f"# {title} {{#page-{page.stem}}}\n\n{body}"
    unnumbered = re.sub(
        r"^(#{2,6} .*?)(\{[^}]*\})?\s*$",
        lambda m: m.group(1).rstrip() + " {.unnumbered}" if not m.group(2) else m.group(0),
        body,
        flags=re.MULTILINE,
    )
    return f"# {title} {{#page-{page.stem} .unnumbered}}\n\n{unnumbered}"


def write_pdf(project: Project, sections: list[str], build: Path) -> Path:
    """The whole lesson as one PDF (A4 unless ``format.typst.papersize`` says otherwise).

    Parameters
    ----------
    project : Project
    sections : list of str
        Markdown of each page (:func:`_pdf_section`).
    build : Path
        Working folder with the figures.

    Returns
    -------
    Path
    """
    import typst

    options = project.format_options("typst")
    title = project.config.get("website", {}).get("title", "Lesson")
    front = {
        "title": title,
        "lang": project.config.get("lang", "en"),
        "papersize": options.get("papersize", "a4"),
    }
    extra = [f"--include-in-header={ASSETS / 'header.typ'}"]
    if options.get("toc"):
        extra.append("--toc")
    if options.get("number-sections"):
        extra.append("--number-sections")
    typ = build / "lesson.typ"
    markdown = "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n\n" + "\n\n".join(sections)
    _pandoc(markdown, typ, "typst", extra, build)
    pdf = build / PDF_NAME
    typst.compile(str(typ), output=str(pdf), root=str(build))
    return pdf


def section_times(page: Page) -> pd.DataFrame:
    """Seconds of execution per section (``##`` heading) of an executed page.

    Parameters
    ----------
    page : Page

    Returns
    -------
    DataFrame
        ``page``, ``section``, ``seconds``.
    """
    rows, section = {}, "(start)"
    for cell in page.notebook.cells:
        if cell.cell_type == "markdown":
            heading = re.search(r"^## (.+?)(\s*\{.*\})?$", cell.source, re.MULTILINE)
            section = heading.group(1) if heading else section
            continue
        timing = cell.metadata.get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            seconds = (
                pd.Timestamp(timing["shell.execute_reply"]) - pd.Timestamp(timing["iopub.execute_input"])
            ).total_seconds()
            rows[section] = rows.get(section, 0.0) + seconds
    return pd.DataFrame({"page": page.stem, "section": list(rows), "seconds": list(rows.values())})


def _replace(build: Path, out: Path) -> None:
    """Move every entry of ``build`` into ``out``, replacing what was there."""
    out.mkdir(parents=True, exist_ok=True)
    for entry in build.iterdir():
        target = out / entry.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(entry, target)


def render(
    root: Path = PROJECT_ROOT,
    out: Path | None = None,
    force: bool = False,
    screenshots: bool = True,
    params: dict[str, str] | None = None,
) -> dict:
    """Execute (or reuse) and render every page of a Quarto website project.

    Parameters
    ----------
    root : Path
        Folder of ``_quarto.yml``.
    out : Path, optional
        Output folder; default ``project.output-dir``. Receives ``report/``
        (one HTML page per source page, a notebook per executed page and
        ``lesson.pdf``) and ``tables/`` (every labelled table, inline values
        and execution times as CSV), the layout ``quarto render`` gives.
    force : bool
        Execute even when the cache holds a result for the same key.
    screenshots : bool
        Save a screenshot of each page into ``screens/`` when Chromium is
        installed (:mod:`analysis.browser`).
    params : dict, optional
        Values for the pages' parameters (:func:`inject_parameters`); a
        value naming a folder makes its TIFF files part of the cache key.

    Returns
    -------
    dict
        ``pages`` (HTML paths), ``notebooks``, ``pdf``, ``tables``,
        ``screens`` (PNG paths, empty without Chromium),
        ``up_to_date`` (the outputs already matched and were kept),
        ``executed`` and ``cached`` (page names), ``seconds``.
    """
    start = time.perf_counter()
    project = read_project(root)
    if out is None:  # an installed package renders into the working folder, as Quarto's output-dir
        out = (
            Path.cwd() / project.output_dir.name
            if INSTALLED and project.root == PROJECT_ROOT
            else project.output_dir
        )
    out = Path(out)
    pages = [Page(path, *read_qmd(path)) for path in project.pages]
    episodes = [page for page in pages if "teaching" in page.front]
    for number, page in enumerate(episodes, start=1):
        page.episode = number
    if params:
        parameterised = [page for page in pages if inject_parameters(page.notebook, params, page.source)]
        if not parameterised:
            raise AnalysisError(project.root / "_quarto.yml", "no page of the project has a parameters cell")
        folders = [Path(value) for value in params.values() if value and Path(value).is_dir()]
        for page in parameterised:
            page.inputs = [path for folder in folders for path in sorted(folder.glob("*.tif*"))]
    execute_pages(pages, project, force)
    site = project.pages[0].parent.relative_to(project.root)
    stamp = site_key(project, pages)
    expected = [
        out / site / f"{p.stem}.{suffix}"
        for p in pages
        for suffix in (("html", "ipynb") if p.executes else ("html",))
    ]
    up_to_date = (
        (out / STAMP).is_file()
        and (out / STAMP).read_text() == stamp
        and all(path.is_file() for path in [*expected, out / site / PDF_NAME])
    )
    if up_to_date:
        shots = sorted((out / "screens").glob("*.png"))
    else:
        shots = _build_site(project, pages, out, site, stamp, screenshots)
    site_dir = out / site
    return {
        "pages": [site_dir / f"{p.stem}.html" for p in pages],
        "notebooks": [site_dir / f"{p.stem}.ipynb" for p in pages if p.executes],
        "pdf": site_dir / PDF_NAME,
        "tables": out / "tables",
        "screens": shots,
        "up_to_date": up_to_date,
        "executed": [p.stem for p in pages if p.executes and not p.cached],
        "cached": [p.stem for p in pages if p.cached],
        "seconds": time.perf_counter() - start,
    }


def site_key(project: Project, pages: list[Page]) -> str:
    """SHA-256 over everything the built site is made of.

    The executed pages (outputs included), every page's front matter and
    text, ``_quarto.yml``, the project's CSS, the renderer's assets and the
    package's code: when it matches the stamp left by the last build, the
    outputs are up to date.

    Parameters
    ----------
    project : Project
    pages : list of Page
        Executed.

    Returns
    -------
    str
        64 hex digits.
    """
    digest = hashlib.sha256()
    digest.update(yaml.safe_dump(project.config, sort_keys=True).encode())
    for page in pages:
        digest.update(json.dumps(page.front, sort_keys=True, default=str).encode())
        for cell in page.notebook.cells:  # not the cells' ids, which jupytext draws at random
            outputs = json.dumps(cell.get("outputs", []), sort_keys=True)
            digest.update(f"{cell.cell_type}\0{cell.source}\0{outputs}\0".encode())
    _digest_files(
        digest, [*project.css_files(), *sorted(ASSETS.iterdir()), *sorted(Path(__file__).parent.glob("*.py"))]
    )
    return digest.hexdigest()


def _build_site(
    project: Project, pages: list[Page], out: Path, site: Path, stamp: str, screenshots: bool
) -> list[Path]:
    """Convert the executed pages into the site, notebooks, PDF and tables; returns screenshots."""
    by_stem = {page.stem: page for page in pages}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}-", dir=out.parent) as tmp:
        build = Path(tmp)
        pages_dir, tables, assets = build / site, build / "tables", build / "assets"
        for folder in (pages_dir, tables, assets):
            folder.mkdir(parents=True)
        notebooks, inline, times = [], [], []
        bodies = [_fill_listing(page_markdown(page, assets, tables), page, by_stem) for page in pages]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # pandoc runs as a child process
            pdf_job = pool.submit(
                write_pdf, project, [_pdf_section(p, b) for p, b in zip(pages, bodies, strict=True)], assets
            )
            html = list(
                pool.map(lambda job: write_html(project, *job, assets), zip(pages, bodies, strict=True))
            )
            pdf = pdf_job.result()
        for page in pages:
            if page.executes:
                notebook = learner_notebook(page.notebook, page.front.get("title", page.stem))
                notebooks.append(pages_dir / f"{page.stem}.ipynb")
                nbformat.write(notebook, notebooks[-1])
                inline += [{"page": page.stem} | value for value in page.inline]
                times.append(section_times(page))
        for path in [*html, pdf]:
            os.replace(path, pages_dir / path.name)
        write_csv(pd.DataFrame(inline, columns=["page", "expression", "value"]), tables / "inline_values.csv")
        if times:
            write_csv(pd.concat(times, ignore_index=True), tables / "section_times.csv")
        shutil.rmtree(assets)
        shots = []
        if screenshots and chromium_paths():
            shots = screenshot_pages([pages_dir / p.name for p in html], build / "screens")
        (build / STAMP).write_text(stamp)
        _replace(build, out)
    if not shots:  # screenshots of an older build would no longer match the pages
        shutil.rmtree(out / "screens", ignore_errors=True)
    return [out / "screens" / p.name for p in shots]
