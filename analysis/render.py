"""Render a Quarto-format report without Quarto.

``report/*.qmd`` is read with jupytext (its R Markdown reader understands
```` ```{python} ```` chunks), inline `` `{python} expr` `` expressions are
evaluated where they stand, the notebook is executed with nbclient, and the
result is written as Markdown that pandoc turns into one self-contained HTML
file and into Typst, which the typst compiler turns into PDF. The executed
notebook is kept beside both.

Execution is cached: the key covers the cell sources, the ``analysis``
package's code, the data manifest, the bytes of every data file and the
model weights, so any change to what the numbers depend on re-executes.
Outputs are built in a temporary folder and moved into place only when
everything succeeded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from base64 import b64decode
from pathlib import Path

import jupytext
import nbformat
import yaml
from tqdm.auto import tqdm

from .data import MANIFEST, PROJECT_ROOT, fetch_all, sha256
from .display import FIGURE_DPI, TABLES_ENV
from .errors import AnalysisError
from .train import PROJECT_MODEL

REPORT = PROJECT_ROOT / "report" / "lesson.qmd"
OUTPUT = PROJECT_ROOT / "_output"
CACHE = PROJECT_ROOT / ".render-cache"
ASSETS = Path(__file__).with_name("render_assets")
CELL_TIMEOUT_S = 900

_OPTION = re.compile(r"^#\|\s?(.*)$")
_INLINE = re.compile(r"`\{python\}\s+([^`]+?)\s*`")
_INLINE_MARK = "\x1finline-values:"


class RenderError(AnalysisError):
    """A cell of the report failed; the message shows the cell and the error."""


def split_options(source: str) -> tuple[dict, str]:
    """Quarto cell options (leading ``#|`` lines, YAML) and the remaining code."""
    lines = source.splitlines()
    options = []
    while lines and _OPTION.match(lines[0]):
        options.append(_OPTION.match(lines.pop(0)).group(1))
    return (yaml.safe_load("\n".join(options)) or {}), "\n".join(lines)


def read_qmd(path: Path) -> tuple[dict, nbformat.NotebookNode]:
    """Front matter and notebook of a ``.qmd`` file.

    Returns
    -------
    front : dict
        The YAML header.
    notebook : NotebookNode
        Markdown and code cells; the header cell removed.
    """
    notebook = jupytext.reads(path.read_text(), fmt="Rmd")
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
    notebook.cells = cells
    return notebook


def _fill_inline(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace inline expressions by their printed values; drop the helper cells."""
    cells, values = [], None
    for cell in notebook.cells:
        if cell.metadata.get("inline"):
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
            values = json.loads(text.split(_INLINE_MARK, 1)[1])
            continue
        if values is not None and cell.cell_type == "markdown":
            replacements = iter(values)
            cell.source = _INLINE.sub(lambda _: next(replacements), cell.source)
            values = None
        cells.append(cell)
    notebook.cells = cells
    return notebook


def _source_line(qmd: Path, code: str) -> int:
    text = qmd.read_text()
    index = text.find(code.strip().splitlines()[0]) if code.strip() else -1
    return text.count("\n", 0, index) + 1 if index >= 0 else 0


def execute(notebook: nbformat.NotebookNode, qmd: Path, tables: Path) -> nbformat.NotebookNode:
    """Run every code cell in a fresh kernel started in the report's folder.

    Tables the cells show are written as CSV into ``tables``.

    Raises
    ------
    RenderError
        At the first failing cell, naming its line in the ``.qmd``.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env = {"PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3", TABLES_ENV: str(tables),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    progress = tqdm(total=cells, desc=f"execute {qmd.name}", unit="cell", disable=None)
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3", allow_errors=False,
        on_cell_executed=lambda **_: progress.update(),
        record_timing=True, extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(qmd.parent)}},
    )
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log lines
    except CellExecutionError as error:
        failing = next((c for c in notebook.cells if c.cell_type == "code"
                        and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        code = failing.source if failing else ""
        anchor = failing.metadata.get("anchor") if failing else None
        raise RenderError(
            f"{qmd}:{_source_line(qmd, anchor or split_options(code)[1])}",
            f"cell failed: {error.ename}: {error.evalue}\n--- cell ---\n{code}\n------------",
        ) from None
    finally:
        progress.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def cache_key(notebook: nbformat.NotebookNode, data_files: list[Path], model_files: list[Path]) -> str:
    """SHA-256 over everything an executed report depends on.

    Parameters
    ----------
    notebook : NotebookNode
        Its cell sources count, in order.
    data_files, model_files : list of Path
        Their names and bytes count.

    Returns
    -------
    str
        64 hex digits.
    """
    digest = hashlib.sha256()
    for cell in notebook.cells:
        digest.update(f"{cell.cell_type}\0{cell.source}\0".encode())
    code = sorted((PROJECT_ROOT / "analysis").rglob("*.py"))
    for path in [*code, MANIFEST, *data_files, *model_files]:
        digest.update(f"{path.name}\0{sha256(path) if path.is_file() else 'missing'}\0".encode())
    return digest.hexdigest()


def _width_percent(image: Path, dpi: float = FIGURE_DPI, text_width_in: float = 6.5) -> int:
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


def to_markdown(front: dict, notebook: nbformat.NotebookNode, build: Path) -> str:
    """Markdown of an executed notebook; figures are written into ``build``."""
    parts = ["---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n"]
    figure_number = 0
    for cell in notebook.cells:
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
                    path = build / f"figure-{figure_number:02d}.png"
                    path.write_bytes(b64decode(data["image/png"]))
                    images.append(path)
                elif "text/markdown" in data:
                    parts.append(data["text/markdown"])
                elif "text/plain" in data:
                    parts.append(f"```text\n{data['text/plain']}\n```")
        parts.extend(_figure_markdown(p, options, i, len(images)) for i, p in enumerate(images))
    return "\n\n".join(parts) + "\n"


def _pandoc(markdown: Path, target: Path, to: str, extra: list[str]) -> None:
    import pypandoc

    pypandoc.convert_file(
        str(markdown), to, outputfile=str(target), format="markdown",
        extra_args=["--standalone", f"--lua-filter={ASSETS / 'callouts.lua'}",
                    f"--resource-path={markdown.parent}", *extra],
    )


def write_documents(markdown: str, build: Path, name: str) -> tuple[Path, Path]:
    """Write ``<name>.html`` (self-contained) and ``<name>.pdf`` into ``build``."""
    import typst

    source = build / f"{name}.md"
    source.write_text(markdown)
    html = build / f"{name}.html"
    _pandoc(source, html, "html5", ["--embed-resources", "--mathml", "--toc", "--number-sections",
                                     f"--css={ASSETS / 'report.css'}"])
    typ = build / f"{name}.typ"
    _pandoc(source, typ, "typst", ["--toc", "--number-sections",
                                   f"--include-in-header={ASSETS / 'header.typ'}"])
    pdf = build / f"{name}.pdf"
    typst.compile(str(typ), output=str(pdf), root=str(build))
    return html, pdf


def _executed(notebook: nbformat.NotebookNode, qmd: Path, key: str,
              force: bool) -> tuple[nbformat.NotebookNode, Path, bool]:
    """The executed notebook for a cache key: reused, or run and stored.

    Returns the notebook, its cache folder (which also holds its ``tables/``)
    and whether it was reused. Older entries of the same report are removed
    only after a new execution succeeded.
    """
    name = qmd.stem
    cached = CACHE / f"{name}-{key[:16]}"
    if (cached / f"{name}.ipynb").is_file() and not force:
        return nbformat.read(cached / f"{name}.ipynb", as_version=4), cached, True
    staging = CACHE / f".{name}-staging"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "tables").mkdir(parents=True)
    executed = _fill_inline(execute(_with_inline_cells(notebook), qmd, staging / "tables"))
    nbformat.write(executed, staging / f"{name}.ipynb")
    for old in CACHE.glob(f"{name}-*"):
        shutil.rmtree(old)
    os.replace(staging, cached)
    return executed, cached, False


def render(qmd: Path = REPORT, out: Path = OUTPUT, force: bool = False) -> dict:
    """Execute (or reuse) and render a report to HTML, PDF and ``.ipynb``.

    Parameters
    ----------
    qmd : Path
        The Quarto-format source.
    out : Path
        Folder that receives ``<name>.html``, ``<name>.pdf`` and
        ``<name>.ipynb``.
    force : bool
        Execute even when the cache holds a result for the same key.

    Returns
    -------
    dict
        ``html``, ``pdf``, ``ipynb`` paths, ``cached`` (bool), ``seconds``.
    """
    start = time.perf_counter()
    qmd = Path(qmd).resolve()
    if not qmd.is_file():
        raise AnalysisError(qmd, "report source does not exist")
    name = qmd.stem
    front, notebook = read_qmd(qmd)
    data_files = [path for kind in ("images", "foreground") for path in sorted(fetch_all(kind).glob("*.tif"))]
    model_files = [PROJECT_MODEL / f for f in ("config.json", "thresholds.json", "weights_best.h5")]
    executed, cached, hit = _executed(notebook, qmd, cache_key(notebook, data_files, model_files), force)
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=out.parent if out.parent.exists() else None) as tmp:
        build = Path(tmp)
        for asset in qmd.parent.glob("*.png"):
            shutil.copy(asset, build / asset.name)
        html, pdf = write_documents(to_markdown(front, executed, build), build, name)
        ipynb = build / f"{name}.ipynb"
        nbformat.write(executed, ipynb)
        shutil.copytree(cached / "tables", build / "tables", dirs_exist_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(out / "tables", ignore_errors=True)
        for path in (html, pdf, ipynb, build / "tables"):
            os.replace(path, out / path.name)
    return {"html": out / html.name, "pdf": out / pdf.name, "ipynb": out / ipynb.name,
            "cached": hit, "seconds": time.perf_counter() - start}
