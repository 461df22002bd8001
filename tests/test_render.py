"""Rendering a Quarto website project: pages, notebooks, PDF, tables, cache, failures."""

import json
import re
import shutil
import signal

import nbformat
import pandas as pd
import pytest
from conftest import interrupt_cli, run_cli
from mini_project import PAGE, make_project
from pypdf import PdfReader

from analysis import lesson
from analysis.site import browser, search

# Each test renders the mini project: kernels, pandoc and typst run for real.
pytestmark = pytest.mark.slow


def without_data(folder) -> dict[str, str]:
    """A render cache, and no BBBC008 data to be had: no mirror, an empty cache, no network."""
    return {
        lesson.CACHE_ENV: str(folder / "cache"),
        "BBBC008_MIRROR": str(folder / "no-mirror"),
        "BBBC008_CACHE": str(folder / "no-data"),
    }


@pytest.fixture
def cache_env(tmp_path):
    return without_data(tmp_path)


def render_mini(folder):
    root = make_project(folder / "project")
    out = folder / "out"
    result = run_cli("report", "--project", root, "--out", out, env=without_data(folder))
    assert result.returncode == 0, result.stderr
    assert "executed: page" in result.stderr
    return root, out


@pytest.fixture(scope="module")
def mini_site(tmp_path_factory):
    return render_mini(tmp_path_factory.mktemp("mini"))


def rendered_copy(mini_site, folder):
    """The module's rendered mini project, its outputs and its cache, copied into ``folder``."""
    root, out = mini_site
    shutil.copytree(root.parent, folder, dirs_exist_ok=True)
    return folder / root.name, folder / out.name


def test_site_pages_navbar_and_links(mini_site):
    _, out = mini_site
    index = (out / "site" / "index.html").read_text()
    page = (out / "site" / "page.html").read_text()
    for html in (index, page):
        assert 'href="index.html"' in html
        assert 'href="page.html"' in html
        assert "#123456" in html  # the project's CSS, embedded
    assert 'href="page.html#the-result"' in index
    assert "Shared words from an include." in index
    assert '<a href="page.qmd">The page</a>' not in index
    assert ">The page</a>" in index
    assert "The answer is 42" in page
    assert "hidden_marker" not in page
    assert "1.1" in page  # episode 1, section 1
    for html in (index, page):  # the footer's parts, Markdown converted, links to pages made HTML
        footer = html[html.index('<footer class="page-footer">') :]
        assert '<div class="footer-left"><p>Text: <em>CC BY 4.0</em>.</p></div>' in footer
        assert '<a href="page.html#the-result">Back to the page</a>' in footer


def test_every_page_carries_the_search_index_of_the_whole_site(mini_site):
    _, out = mini_site
    indexes = []
    for name in ("index.html", "page.html"):
        html = (out / "site" / name).read_text()
        assert search.INDEX_MARK not in html
        indexes.append(json.loads(re.search(r"window\.searchIndex = (\[.*?\]);</script>", html).group(1)))
    assert indexes[0] == indexes[1]
    found = {(e["kind"], e["page"], e["anchor"], e["title"]): e["text"] for e in indexes[0]}
    assert "The answer is 42" in found["section", "page.html", "the-result", "1.1 The result"]
    assert found["glossary", "index.html", "term-pixel", "Pixel"] == "One picture element."
    assert found["exercise", "page.html", "the-result", "Exercise 1: double it"].startswith(
        "Double the answer."
    )
    assert "Shared words from an include." in found["section", "index.html", "welcome", "Welcome"]
    every_text = " ".join(found.values())
    assert "Download" not in every_text  # the site's furniture is not the page's text
    assert "hidden_marker" not in every_text


def test_an_episode_has_a_handout_and_every_task_is_in_the_exercises_pdf(mini_site):
    _, out = mini_site
    handout = nbformat.read(out / "site" / "page-handout.ipynb", as_version=4)
    sources = [(cell.cell_type, cell.source) for cell in handout.cells]
    assert ("code", "answer = 6 * 7") in sources
    task = sources.index(("markdown", "## Exercise 1: double it\nDouble the answer."))
    assert sources[task + 1] == ("code", "# Your answer\n")
    assert not any("doubled" in source or "hidden_marker" in source for _, source in sources)
    assert not any(cell.get("outputs") for cell in handout.cells if cell.cell_type == "code")
    text = " ".join(page.extract_text() for page in PdfReader(out / "site" / "exercises.pdf").pages)
    assert "Exercise 1: double it" in text
    assert "Double the answer." in text
    assert "doubled" not in text
    page = (out / "site" / "page.html").read_text()
    assert 'href="page-handout.ipynb"' in page
    assert 'href="exercises.pdf"' in page
    assert 'href="exercises.pdf"' in (out / "site" / "index.html").read_text()


def test_figures_are_numbered_and_cross_referenced(mini_site):
    page = (mini_site[1] / "site" / "page.html").read_text()
    assert "Figure 1: A demo figure." in page.replace("\n", " ")
    assert '<a href="#fig-demo">Figure 1</a>' in page
    assert page.count("data:image/png;base64,") == 1
    assert 'alt="A rising line."' in page


def test_exercise_solution_is_folded_after_its_task(mini_site):
    page = (mini_site[1] / "site" / "page.html").read_text()
    task = page.index("Double the answer.")
    assert page.index("<details", task) > task
    assert "It is 84." in page[page.index("<details") :]


def test_tables_inline_values_and_times_are_written(mini_site):
    tables = mini_site[1] / "tables"
    pd.testing.assert_frame_equal(
        pd.read_csv(tables / "demo.csv"), pd.DataFrame({"x": [0.123456, 2.0], "name": ["a", "b"]})
    )
    inline = pd.read_csv(tables / "inline_values.csv")
    assert inline.to_dict("records") == [
        {"page": "page", "expression": "answer", "value": 42},
        {"page": "page", "expression": "doubled", "value": 84},
    ]
    assert set(pd.read_csv(tables / "section_times.csv").columns) == {"page", "section", "seconds"}


def test_learner_notebook(mini_site):
    notebook = nbformat.read(mini_site[1] / "site" / "page.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    assert notebook.cells[0].source == "# The page"
    text = "\n".join(cell.source for cell in notebook.cells)
    assert ":::" not in text
    assert "#|" not in text
    assert "hidden_marker" not in text
    assert "**Exercise 1: double it**" in text
    assert "**Solution**" in text
    assert "shown in Figure 1." in text
    assert not (mini_site[1] / "site" / "index.ipynb").exists()  # no code, no notebook


def test_one_pdf_of_all_pages_on_a4(mini_site):
    reader = PdfReader(mini_site[1] / "site" / "lesson.pdf")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert "Welcome" in text
    assert "1.1 The result" in text
    assert "Figure 1" in text


def kept_names(folder):
    """``page.html`` for an entry ``page-<key>.html`` of :mod:`analysis.site.keyed`."""
    return sorted(re.sub(r"-[0-9a-f]{16}(\.\w+)$", r"\1", path.name) for path in folder.iterdir())


def test_second_render_reuses_the_cache_and_a_change_executes(mini_site, tmp_path, cache_env):
    root, out = rendered_copy(mini_site, tmp_path)
    again = run_cli("report", "--project", root, "--out", out, env=cache_env)
    assert again.returncode == 0
    assert "executed: none; from cache: page; outputs already up to date" in again.stderr
    # Another output folder: each page's HTML and screenshot come from the cache, as they were.
    cache = tmp_path / "cache"
    kept = [cache / "html"] + ([cache / "screens"] if browser.chromium_paths() else [])

    def made():
        return {path: path.stat().st_mtime_ns for folder in kept for path in folder.iterdir()}

    before = made()
    assert kept_names(kept[0]) == ["index.html", "page.html"]
    elsewhere = tmp_path / "elsewhere"
    assert run_cli("report", "--project", root, "--out", elsewhere, env=cache_env).returncode == 0
    assert made() == before  # nothing converted or photographed again
    for name in ("index.html", "page.html"):
        assert (elsewhere / "site" / name).read_bytes() == (out / "site" / name).read_bytes()
    (root / "site" / "style.css").write_text("body { color: #654321; }")
    restyled = run_cli("report", "--project", root, "--out", out, env=cache_env)
    assert "executed: none; from cache: page; outputs written" in restyled.stderr
    assert "#654321" in (out / "site" / "index.html").read_text()
    restyled_pages = made()
    assert not restyled_pages.keys() & before.keys()  # every page made anew with the new style
    page = root / "site" / "page.qmd"
    page.write_text(page.read_text().replace("6 * 7", "6 * 8"))
    changed = run_cli("report", "--project", root, "--out", out, env=cache_env)
    assert changed.returncode == 0
    assert "executed: page" in changed.stderr
    assert "The answer is 48" in (out / "site" / "page.html").read_text()
    assert len(list(cache.glob("*.ipynb"))) == 1  # the new execution replaced the old
    assert kept_names(kept[0]) == ["index.html", "page.html"]  # and so did the new page
    unchanged = {path: time for path, time in restyled_pages.items() if path.name.startswith("index-")}
    assert {path: time for path, time in made().items() if path in restyled_pages} == unchanged


def test_failing_cell_fails_the_render_and_writes_nothing(tmp_path, cache_env):
    root = make_project(tmp_path / "project", PAGE.replace("answer = 6 * 7", "answer = 6 / 0"))
    out = tmp_path / "out"
    result = run_cli("report", "--project", root, "--out", out, env=cache_env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ")
    assert "page.qmd:17" in lines[0]
    assert "ZeroDivisionError" in lines[0]
    assert "answer = 6 / 0" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not list((tmp_path / "cache").glob("*"))


def test_an_input_error_in_a_cell_is_one_line(tmp_path, cache_env):
    bad_input = (
        "from analysis.errors import AnalysisError\nraise AnalysisError('masks/a.tif', 'does not fit')"
    )
    root = make_project(tmp_path / "project", PAGE.replace("answer = 6 * 7", bad_input))
    out = tmp_path / "out"
    result = run_cli("report", "--project", root, "--out", out, env=cache_env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.fullmatch(r"error: .*page\.qmd:\d+: masks/a\.tif: does not fit", lines[0])
    assert not out.exists()


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_render_keeps_the_previous_outputs(mini_site, tmp_path, sig, status):
    root, out = rendered_copy(mini_site, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    cache = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*")}
    page = root / "site" / "page.qmd"
    started = root / "site" / "started"  # the kernel runs in the page's folder
    long_cell = "import pathlib, time\npathlib.Path('started').touch()\ntime.sleep(60)\nanswer = 6 * 7"
    page.write_text(page.read_text().replace("answer = 6 * 7", long_cell))
    result = interrupt_cli(
        "report",
        "--project",
        root,
        "--out",
        out,
        ready=started.exists,
        sig=sig,
        env=without_data(tmp_path),
    )
    assert result.returncode == status
    assert result.stderr.strip() == "interrupted"
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*")} == cache
