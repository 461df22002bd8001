"""Render a Quarto website project without Quarto.

The project and its pages are read as Quarto reads them
(:mod:`analysis.site.pages`), the pages with code are executed or taken from
the cache (:mod:`analysis.site.kernels`), and the results become one HTML page
per source page, one PDF of the whole lesson (:mod:`analysis.site.documents`),
a notebook per executed page (:mod:`analysis.site.notebook`), every labelled
table as CSV and, where Chromium is installed, a screenshot of every page
(:mod:`analysis.site.browser`). A page's HTML and screenshot made before from
the same inputs are taken from the cache. Outputs are built in a temporary
folder and moved into place only when everything succeeded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pandas as pd
import yaml

from analysis.site.browser import chromium_paths, screenshot_pages
from analysis.site.documents import (
    AFTER_BODY_FILE,
    ASSETS,
    HANDOUT_SUFFIX,
    PDF_NAME,
    TASKS_PDF_NAME,
    after_body,
    fill_listing,
    page_markdown,
    page_navigation,
    pdf_section,
    write_html,
    write_pdf,
)
from analysis.site.errors import SourceError
from analysis.site.kernels import execute_pages, section_times
from analysis.site.keyed import digest_files, file_digest
from analysis.site.notebook import handout_notebook, learner_notebook, tasks_markdown
from analysis.site.pages import Page, Project, inject_parameters, read_project, read_qmd
from analysis.site.search import write_index

#: File in the output folder recording what the site was built from (:func:`site_key`).
STAMP = ".render-stamp"


def _replace(build: Path, out: Path) -> None:
    """Move every entry of ``build`` into ``out``, replacing what was there."""
    out.mkdir(parents=True, exist_ok=True)
    for entry in build.iterdir():
        target = out / entry.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(entry, target)


def render(
    root: Path,
    out: Path | None = None,
    force: bool = False,
    screenshots: bool = True,
    params: dict[str, str] | None = None,
    cache: Path | None = None,
    depends_on: Callable[[Page], list[Path]] | None = None,
    input_errors: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
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
        installed (:mod:`analysis.site.browser`).
    params : dict, optional
        Values for the pages' parameters (:func:`inject_parameters`); a
        value naming a folder makes its TIFF files part of the cache key.
    cache : Path, optional
        Folder of executed pages, and of each page's HTML and screenshot
        (:mod:`analysis.site.keyed`); default ``.render-cache`` in the project.
    depends_on : callable, optional
        The files a page's results depend on besides its cells
        (:func:`analysis.site.kernels.execute_pages`).
    input_errors : tuple of str
        Exception names that a page raises for a problem with its input
        (:func:`analysis.site.kernels.execute`).
    env : mapping, optional
        Environment variables of the kernels, besides the thread settings
        (:func:`analysis.site.kernels.execute_pages`).

    Returns
    -------
    dict
        ``pages`` (HTML paths), ``notebooks``, ``pdf``, ``handouts`` (one
        notebook per episode: its code and tasks, no solutions),
        ``tasks_pdf`` (every episode's exercises), ``tables``,
        ``screens`` (PNG paths, empty without Chromium),
        ``up_to_date`` (the outputs already matched and were kept),
        ``executed`` and ``cached`` (page names), ``seconds``.
    """
    start = time.perf_counter()
    project = read_project(root)
    out = project.output_dir if out is None else Path(out)
    pages = [Page(path, *read_qmd(path)) for path in project.pages]
    episodes = [page for page in pages if "teaching" in page.front]
    for number, page in enumerate(episodes, start=1):
        page.episode = number
    if params:
        parameterised = [page for page in pages if inject_parameters(page.notebook, params, page.source)]
        if not parameterised:
            raise SourceError(project.root / "_quarto.yml", "no page of the project has a parameters cell")
        folders = [Path(value) for value in params.values() if value and Path(value).is_dir()]
        for page in parameterised:
            page.inputs = [path for folder in folders for path in sorted(folder.glob("*.tif*"))]
    cache = project.root / ".render-cache" if cache is None else Path(cache)
    execute_pages(pages, project, force, cache, depends_on, input_errors, env)
    site = project.pages[0].parent.relative_to(project.root)
    stamp = site_key(project, pages)
    expected = [
        out / site / f"{p.stem}{suffix}"
        for p in pages
        for suffix in (
            (".html", ".ipynb", *([HANDOUT_SUFFIX] if p.episode else [])) if p.executes else (".html",)
        )
    ]
    up_to_date = (
        (out / STAMP).is_file()
        and (out / STAMP).read_text() == stamp
        and all(path.is_file() for path in [*expected, out / site / PDF_NAME, out / site / TASKS_PDF_NAME])
    )
    if up_to_date:
        shots = sorted((out / "screens").glob("*.png"))
    else:
        shots = _build_site(project, pages, out, site, stamp, screenshots, cache)
    site_dir = out / site
    return {
        "pages": [site_dir / f"{p.stem}.html" for p in pages],
        "notebooks": [site_dir / f"{p.stem}.ipynb" for p in pages if p.executes],
        "pdf": site_dir / PDF_NAME,
        "handouts": [site_dir / f"{p.stem}{HANDOUT_SUFFIX}" for p in pages if p.episode and p.executes],
        "tasks_pdf": site_dir / TASKS_PDF_NAME,
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
    digest_files(
        digest, [*project.css_files(), *sorted(ASSETS.iterdir()), *sorted(Path(__file__).parent.glob("*.py"))]
    )
    return digest.hexdigest()


def _build_site(
    project: Project, pages: list[Page], out: Path, site: Path, stamp: str, screenshots: bool, cache: Path
) -> list[Path]:
    """Convert the executed pages into the site, notebooks, PDF and tables; returns screenshots.

    Each page's HTML and screenshot made before from the same inputs are
    taken from ``cache`` (``html/``, ``screens/``), and new ones kept there.
    """
    by_stem = {page.stem: page for page in pages}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}-", dir=out.parent) as tmp:
        build = Path(tmp)
        pages_dir, tables, assets = build / site, build / "tables", build / "assets"
        for folder in (pages_dir, tables, assets):
            folder.mkdir(parents=True)
        notebooks, inline, times = [], [], []
        bodies = [fill_listing(page_markdown(page, assets, tables), page, by_stem) for page in pages]
        (assets / AFTER_BODY_FILE).write_text(after_body(project))
        handouts = {
            page.stem: handout_notebook(page.notebook, page.front.get("title", page.stem))
            for page in pages
            if page.episode and page.executes
        }
        tasks = [
            tasks_markdown(handouts[p.stem], p.front.get("title", p.stem))
            for p in pages
            if p.stem in handouts
        ]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # pandoc runs as a child process
            pdf_job = pool.submit(
                write_pdf, project, [pdf_section(p, b) for p, b in zip(pages, bodies, strict=True)], assets
            )
            tasks_job = pool.submit(write_pdf, project, [t for t in tasks if t], assets, TASKS_PDF_NAME)
            footed = [
                body + page_navigation(project, p, by_stem) for p, body in zip(pages, bodies, strict=True)
            ]
            html = list(
                pool.map(
                    lambda job: write_html(project, *job, assets, kept=cache / "html"),
                    zip(pages, footed, strict=True),
                )
            )
            shown = {pages_dir / path.name: file_digest(path) for path in html}  # before the search index
            write_index(html)
            for path in html:
                os.replace(path, pages_dir / path.name)
            shots_job = None
            if screenshots and chromium_paths():  # while the PDFs are typeset
                folder, kept = build / "screens", cache / "screens"
                shots_job = pool.submit(screenshot_pages, list(shown), folder, kept=kept, keys=shown)
            for stem, handout in handouts.items():
                nbformat.write(handout, pages_dir / f"{stem}{HANDOUT_SUFFIX}")
            for page in pages:
                if page.executes:
                    notebook = learner_notebook(page.notebook, page.front.get("title", page.stem))
                    notebooks.append(pages_dir / f"{page.stem}.ipynb")
                    nbformat.write(notebook, notebooks[-1])
                    inline += [{"page": page.stem} | value for value in page.inline]
                    times.append(section_times(page))
            for path in (pdf_job.result(), tasks_job.result()):
                os.replace(path, pages_dir / path.name)
            shots = shots_job.result() if shots_job else []
        inline_table = pd.DataFrame(inline, columns=["page", "expression", "value"])
        inline_table.to_csv(tables / "inline_values.csv", index=False)
        if times:
            pd.concat(times, ignore_index=True).to_csv(tables / "section_times.csv", index=False)
        shutil.rmtree(assets)
        (build / STAMP).write_text(stamp)
        _replace(build, out)
    if not shots:  # screenshots of an older build would no longer match the pages
        shutil.rmtree(out / "screens", ignore_errors=True)
    return [out / "screens" / p.name for p in shots]
