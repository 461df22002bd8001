"""Executing a project's pages in Jupyter kernels, side by side, with a cache.

Each page with code runs in a kernel of its own (nbclient), one kernel per
core, each kernel's thread pools sized to its share of the cores. Results
are cached per page (Quarto's ``freeze: auto``): the key covers the cell
sources and the files the project names for the page (its code, data,
models), so a change to what a page's numbers depend on re-executes that
page and no other. An interrupt or a failed page stops every kernel; a page
that did not finish leaves nothing in the cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pandas as pd
from tqdm.auto import tqdm

from analysis.site import keyed
from analysis.site.errors import SourceError
from analysis.site.notebook import split_options
from analysis.site.pages import Page, Project, fill_inline, with_inline_cells
from analysis.site.threads import thread_shares

CELL_TIMEOUT_S = 900

# nbclient's own log (kernel restarts, shutdown noise) stays off the terminal.
_QUIET = logging.getLogger("analysis.site.kernels")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False
_RUNNING: set = set()
_LOCK = threading.Lock()
#: Set by :func:`stop_kernels`: a page still starting stops before its first cell.
_STOPPING = threading.Event()


class RenderError(SourceError):
    """A page of the lesson failed; the message names the file and line."""


def _source_line(qmd: Path, code: str) -> int:
    text = qmd.read_text()
    index = text.find(code.strip().splitlines()[0]) if code.strip() else -1
    return text.count("\n", 0, index) + 1 if index >= 0 else 0


def execute(
    notebook: nbformat.NotebookNode, qmd: Path, input_errors: tuple[str, ...] = ()
) -> nbformat.NotebookNode:
    """Run every code cell in a fresh kernel started in the page's folder.

    Parameters
    ----------
    notebook : NotebookNode
    qmd : Path
        The page's source, for its folder and error messages.
    input_errors : tuple of str
        Names of exception types that report a problem with the page's
        input in one line: raised by a cell, their message alone is
        passed on, without the cell's code.

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
        where = f"{qmd}:{_source_line(qmd, anchor or split_options(code)[1])}"
        if error.ename in input_errors:  # the input's problem, told in one line, not the code's
            raise RenderError(where, error.evalue) from None
        raise RenderError(
            where, f"cell failed: {error.ename}: {error.evalue}\n--- cell ---\n{code}\n------------"
        ) from None
    except DeadKernelError:
        raise RenderError(qmd, "the kernel died while executing the page") from None
    finally:
        with _LOCK:
            _RUNNING.discard(client)
        close_thread_loop()
    return notebook


def close_thread_loop() -> None:
    """Close the event loop that nbclient opened for this thread, unless it is the main thread.

    nbclient runs its coroutines on a loop it makes for each thread and never
    closes; a worker thread's loop (and its sockets) would otherwise outlive
    the thread.
    """
    from jupyter_core.utils import ensure_event_loop

    if threading.current_thread() is not threading.main_thread():
        ensure_event_loop().close()


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
    keyed.digest_files(digest, files)
    return digest.hexdigest()


def _execute_page(page: Page, key: str, cache: Path, reuse: bool, input_errors: tuple[str, ...]) -> None:
    """Execute a page, or reuse its cached result; keep the result in ``cache``.

    A new result replaces older entries of the same page only after its
    execution succeeded; an interrupted or failed execution leaves nothing.
    """
    cached = keyed.find(cache, page.stem, key, ".ipynb") if reuse else None
    if cached:
        executed = nbformat.read(cached, as_version=4)
        page.cached = True
    else:
        executed = execute(with_inline_cells(page.notebook), page.source, input_errors)
        keyed.keep(cache, page.stem, key, ".ipynb", nbformat.writes(executed).encode())
    page.notebook, page.inline = fill_inline(executed)


def execute_pages(
    pages: list[Page],
    project: Project,
    force: bool,
    cache: Path,
    depends_on: Callable[[Page], list[Path]] | None = None,
    input_errors: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
) -> None:
    """Execute every page with code, several kernels at once.

    One kernel runs per core at most. Each kernel's OpenMP, BLAS and
    TensorFlow thread pools (:data:`analysis.site.threads.THREAD_VARIABLES`) get its share of the
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
    cache : Path
        Folder of the executed pages.
    depends_on : callable, optional
        A page's dependencies: the files, besides its cells and its own
        ``inputs``, whose bytes its results depend on.
    input_errors : tuple of str
        As for :func:`execute`.
    env : mapping, optional
        More environment variables of the kernels (a project's own settings).
    """
    options = project.config.get("execute", {})
    reuse = not force and options.get("freeze", "auto") is not False
    # The pages with the most code first: the longest then runs from the start.
    runnable = sorted(
        (page for page in pages if page.executes),
        key=lambda page: -sum(cell.cell_type == "code" for cell in page.notebook.cells),
    )
    kernels = max(1, min(len(runnable), os.cpu_count() or 1))
    settings = {"TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    settings |= thread_shares(kernels)
    if options.get("warning", True) is False:
        settings["PYTHONWARNINGS"] = "ignore"
    settings |= dict(env or {})
    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    progress = tqdm(total=len(runnable), desc="execute", unit="page", disable=None)
    _STOPPING.clear()
    try:
        with ThreadPoolExecutor(max_workers=kernels) as pool:
            try:  # the keys take a moment to hash: the first pages start meanwhile
                jobs = [
                    pool.submit(
                        _execute_page,
                        page,
                        cache_key(page.notebook, [*(depends_on(page) if depends_on else []), *page.inputs]),
                        cache,
                        reuse,
                        input_errors,
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
