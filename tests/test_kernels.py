"""Executing pages in kernels: the cache key, the cores shared, stopping every kernel."""

import os
import threading

import nbformat
import pytest
from mini_project import PAGE, make_project

from analysis.site import kernels, threads
from analysis.site.pages import Page, read_project, read_qmd


def test_cache_key_follows_cells_and_files(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    image, weights = tmp_path / "image.tif", tmp_path / "weights_best.h5"
    image.write_bytes(b"pixels")
    weights.write_bytes(b"weights")
    key = kernels.cache_key(notebook, [image, weights])
    assert kernels.cache_key(notebook, [image, weights]) == key
    image.write_bytes(b"pixels, changed")
    assert kernels.cache_key(notebook, [image, weights]) != key
    image.write_bytes(b"pixels")
    notebook.cells[0].source = "x = 2"
    assert kernels.cache_key(notebook, [image, weights]) != key


def test_kernels_side_by_side_share_the_cores_and_get_the_project_environment(tmp_path, monkeypatch):
    root = make_project(tmp_path / "project")
    (root / "site" / "index.qmd").write_text(PAGE)  # two pages with code
    project = read_project(root)
    pages = [Page(path, *read_qmd(path)) for path in project.pages]
    seen = []

    def execute(notebook, qmd, input_errors=()):
        seen.append({name: os.environ.get(name) for name in (*threads.THREAD_VARIABLES, "PROJECT_STORE")})
        return nbformat.v4.new_notebook()

    monkeypatch.setattr(kernels, "execute", execute)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # the caller's choice stays
    monkeypatch.delenv("PROJECT_STORE", raising=False)
    kernels.execute_pages(pages, project, force=True, cache=tmp_path / "cache", env={"PROJECT_STORE": "here"})
    shares = {name: "2" for name in threads.THREAD_VARIABLES} | {
        "MKL_NUM_THREADS": "3",
        "PROJECT_STORE": "here",
    }
    assert seen == [shares, shares]  # 4 cores, 2 kernels
    assert "OMP_NUM_THREADS" not in os.environ
    assert "PROJECT_STORE" not in os.environ


def three_pages(tmp_path, monkeypatch, fail_first):
    """A project's three pages with code, run one at a time (one core).

    Each page runs until :func:`analysis.site.kernels.stop_kernels` is called, as a page's
    kernel does until it is killed; with ``fail_first`` the first page
    fails at once. Returns the pages, the project, the names of the pages
    that started and the event that the stop sets.
    """
    root = make_project(tmp_path / "project")
    for name in ("index", "second"):
        (root / "site" / f"{name}.qmd").write_text(PAGE)
    project = read_project(root)
    pages = [Page(path, *read_qmd(path)) for path in sorted((root / "site").glob("*.qmd"))]
    started, stopped = [], threading.Event()

    def execute(notebook, qmd, input_errors=()):
        started.append(qmd.stem)
        if fail_first and len(started) == 1:
            raise kernels.RenderError(qmd, "cell failed")
        assert stopped.wait(timeout=30), "the running page was never stopped"
        raise kernels.RenderError(qmd, "the kernel died while executing the page")

    monkeypatch.setattr(kernels, "execute", execute)
    monkeypatch.setattr(kernels, "stop_kernels", stopped.set)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    return pages, project, started, stopped


def test_after_a_failed_page_the_pages_not_started_never_start(tmp_path, monkeypatch):
    pages, project, started, stopped = three_pages(tmp_path, monkeypatch, fail_first=True)
    with pytest.raises(kernels.RenderError, match="cell failed"):
        kernels.execute_pages(pages, project, force=True, cache=tmp_path / "cache")
    assert stopped.is_set()
    # The one worker may have taken the second page before the stop; never the third.
    assert 1 <= len(started) <= 2


def test_an_interrupt_while_the_keys_are_hashed_stops_the_page_already_running(tmp_path, monkeypatch):
    pages, project, started, stopped = three_pages(tmp_path, monkeypatch, fail_first=False)
    keys = iter(["first", KeyboardInterrupt])

    def cache_key(notebook, files):
        key = next(keys)
        if key is KeyboardInterrupt:  # Ctrl-C while the second page's key is hashed
            raise key
        return key

    monkeypatch.setattr(kernels, "cache_key", cache_key)
    with pytest.raises(KeyboardInterrupt):
        kernels.execute_pages(pages, project, force=True, cache=tmp_path / "cache")
    assert stopped.is_set()
    assert len(started) == 1


def test_a_page_still_starting_when_the_kernels_are_stopped_runs_no_cell(tmp_path):
    qmd = tmp_path / "page.qmd"
    qmd.write_text("")
    marker = tmp_path / "ran"
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(f"open({str(marker)!r}, 'w').close()")]
    )
    kernels.stop_kernels()  # no kernel is up yet: this page is asked to stop at its first cell
    try:
        with pytest.raises(kernels.RenderError, match="stopped"):
            kernels.execute(notebook, qmd)
    finally:
        kernels._STOPPING.clear()
    assert not marker.exists()
