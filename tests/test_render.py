"""Rendering a Quarto website project: pages, notebooks, PDF, tables, cache, failures."""

import os
import re
import signal
import threading

import nbformat
import pandas as pd
import pytest
from conftest import after, interrupt_cli, run_cli
from pypdf import PdfReader

from analysis import render
from analysis.errors import AnalysisError

QUARTO = """project:
  type: website
  output-dir: _site
  render:
    - site/index.qmd
    - site/page.qmd
website:
  title: "Mini lesson"
  navbar:
    left:
      - href: site/index.qmd
        text: Home
      - href: site/page.qmd
        text: "1. Page"
execute:
  freeze: auto
  warning: false
format:
  html:
    toc: true
    number-sections: true
    embed-resources: true
    css: site/style.css
  typst:
    papersize: a4
    number-sections: true
"""

INDEX = """---
title: "Mini lesson"
number-sections: false
listing:
  id: episode-list
  type: table
  contents: [page.qmd]
  sort: false
  fields: [title, teaching]
---

## Welcome

See [the page](page.qmd) and its [result](page.qmd#the-result).

::: {#episode-list}
:::

{{< include _shared.md >}}
"""

PAGE = """---
title: "The page"
teaching: 5
exercises: 3
---

```{python}
#| include: false
from analysis.display import notebook_setup
notebook_setup()
hidden_marker = "checked quietly"
```

## The result

```{python}
answer = 6 * 7
```

The answer is `{python} answer`, shown in @fig-demo.

```{python}
#| label: fig-demo
#| fig-cap: "A demo figure."
#| fig-alt: "A rising line."
from matplotlib.figure import Figure
figure = Figure(figsize=(3, 2))
figure.subplots().plot([1, 2, 3])
figure
```

```{python}
#| label: tbl-demo
#| tbl-cap: "A demo table."
import pandas as pd
pd.DataFrame({"x": [0.123456, 2.0], "name": ["a", "b"]})
```

::: {.callout-tip title="Exercise 1: double it"}
Double the answer.

::: {.callout-tip title="Solution" collapse="true"}
```{python}
doubled = 2 * answer
```

It is `{python} doubled`.
:::
:::
"""


def make_project(root, page=PAGE):
    (root / "site").mkdir(parents=True)
    (root / "_quarto.yml").write_text(QUARTO)
    (root / "site" / "index.qmd").write_text(INDEX)
    (root / "site" / "page.qmd").write_text(page)
    (root / "site" / "_shared.md").write_text("Shared words from an include.")
    (root / "site" / "style.css").write_text("body { color: #123456; }")
    return root


@pytest.fixture
def cache_env(tmp_path):
    return {render.CACHE_ENV: str(tmp_path / "cache")}


def test_project_file_is_read(tmp_path):
    project = render.read_project(make_project(tmp_path / "p"))
    assert [p.name for p in project.pages] == ["index.qmd", "page.qmd"]
    assert project.output_dir == tmp_path / "p" / "_site"
    assert project.format_options("typst")["papersize"] == "a4"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "project file does not exist"),
        ("project: [unclosed", "not valid YAML"),
        ("project:\n  type: website\n", "lists no pages"),
        ("project:\n  render: [site/missing.qmd]\n", "does not exist"),
    ],
)
def test_bad_project_files_are_refused(tmp_path, text, problem):
    if text is not None:
        (tmp_path / "_quarto.yml").write_text(text)
    with pytest.raises(AnalysisError, match=problem):
        render.read_project(tmp_path)


def test_includes_are_expanded_and_missing_ones_named(tmp_path):
    (tmp_path / "part.md").write_text("- a point\n")
    assert render.expand_includes("before\n{{< include part.md >}}\nafter", tmp_path) == (
        "before\n- a point\nafter"
    )
    # the blank line after an include stays, so a heading there is no list item
    assert render.expand_includes("{{< include part.md >}}\n\n### Next", tmp_path) == "- a point\n\n### Next"
    with pytest.raises(AnalysisError, match="gone.md"):
        render.expand_includes("{{< include gone.md >}}", tmp_path)


def render_mini(folder):
    root = make_project(folder / "project")
    out = folder / "out"
    result = run_cli("report", "--project", root, "--out", out, env={render.CACHE_ENV: str(folder / "cache")})
    assert result.returncode == 0, result.stderr
    assert "executed: page" in result.stderr
    return root, out


@pytest.fixture(scope="module")
def mini_site(tmp_path_factory):
    return render_mini(tmp_path_factory.mktemp("mini"))


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


def test_second_render_reuses_the_cache_and_a_change_executes(tmp_path, cache_env):
    root, out = render_mini(tmp_path)
    again = run_cli("report", "--project", root, "--out", out, env=cache_env)
    assert again.returncode == 0
    assert "executed: none; from cache: page; outputs already up to date" in again.stderr
    (root / "site" / "style.css").write_text("body { color: #654321; }")
    restyled = run_cli("report", "--project", root, "--out", out, env=cache_env)
    assert "executed: none; from cache: page; outputs written" in restyled.stderr
    assert "#654321" in (out / "site" / "index.html").read_text()
    page = root / "site" / "page.qmd"
    page.write_text(page.read_text().replace("6 * 7", "6 * 8"))
    changed = run_cli("report", "--project", root, "--out", out, env=cache_env)
    assert changed.returncode == 0
    assert "executed: page" in changed.stderr
    assert "The answer is 48" in (out / "site" / "page.html").read_text()
    cache = tmp_path / "cache"
    assert [p.name for p in cache.iterdir()] == [next(cache.glob("page-*.ipynb")).name]


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


def test_cache_key_follows_cells_and_files(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    image, weights = tmp_path / "image.tif", tmp_path / "weights_best.h5"
    image.write_bytes(b"pixels")
    weights.write_bytes(b"weights")
    key = render.cache_key(notebook, [image, weights])
    assert render.cache_key(notebook, [image, weights]) == key
    image.write_bytes(b"pixels, changed")
    assert render.cache_key(notebook, [image, weights]) != key
    image.write_bytes(b"pixels")
    notebook.cells[0].source = "x = 2"
    assert render.cache_key(notebook, [image, weights]) != key


def test_kernels_side_by_side_share_the_cores(tmp_path, monkeypatch):
    root = make_project(tmp_path / "project")
    (root / "site" / "index.qmd").write_text(PAGE)  # two pages with code
    project = render.read_project(root)
    pages = [render.Page(path, *render.read_qmd(path)) for path in project.pages]
    seen = []

    def execute(notebook, qmd):
        seen.append({name: os.environ.get(name) for name in render.THREAD_VARIABLES})
        return nbformat.v4.new_notebook()

    monkeypatch.setattr(render, "execute", execute)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setenv(render.CACHE_ENV, str(tmp_path / "cache"))
    for name in render.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # the caller's choice stays
    render.execute_pages(pages, project, force=True)
    shares = {name: "2" for name in render.THREAD_VARIABLES} | {"MKL_NUM_THREADS": "3"}
    assert seen == [shares, shares]  # 4 cores, 2 kernels
    assert "OMP_NUM_THREADS" not in os.environ  # restored afterwards


def three_pages(tmp_path, monkeypatch, fail_first):
    """A project's three pages with code, run one at a time (one core).

    Each page runs until :func:`render.stop_kernels` is called, as a page's
    kernel does until it is killed; with ``fail_first`` the first page
    fails at once. Returns the pages, the project, the names of the pages
    that started and the event that the stop sets.
    """
    root = make_project(tmp_path / "project")
    for name in ("index", "second"):
        (root / "site" / f"{name}.qmd").write_text(PAGE)
    project = render.read_project(root)
    pages = [render.Page(path, *render.read_qmd(path)) for path in sorted((root / "site").glob("*.qmd"))]
    started, stopped = [], threading.Event()

    def execute(notebook, qmd):
        started.append(qmd.stem)
        if fail_first and len(started) == 1:
            raise render.RenderError(qmd, "cell failed")
        assert stopped.wait(timeout=30), "the running page was never stopped"
        raise render.RenderError(qmd, "the kernel died while executing the page")

    monkeypatch.setattr(render, "execute", execute)
    monkeypatch.setattr(render, "stop_kernels", stopped.set)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    monkeypatch.setenv(render.CACHE_ENV, str(tmp_path / "cache"))
    return pages, project, started, stopped


def test_after_a_failed_page_the_pages_not_started_never_start(tmp_path, monkeypatch):
    pages, project, started, stopped = three_pages(tmp_path, monkeypatch, fail_first=True)
    with pytest.raises(render.RenderError, match="cell failed"):
        render.execute_pages(pages, project, force=True)
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

    monkeypatch.setattr(render, "cache_key", cache_key)
    with pytest.raises(KeyboardInterrupt):
        render.execute_pages(pages, project, force=True)
    assert stopped.is_set()
    assert len(started) == 1


def test_a_page_still_starting_when_the_kernels_are_stopped_runs_no_cell(tmp_path):
    qmd = tmp_path / "page.qmd"
    qmd.write_text("")
    marker = tmp_path / "ran"
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(f"open({str(marker)!r}, 'w').close()")]
    )
    render.stop_kernels()  # no kernel is up yet: this page is asked to stop at its first cell
    try:
        with pytest.raises(render.RenderError, match="stopped"):
            render.execute(notebook, qmd)
    finally:
        render._STOPPING.clear()
    assert not marker.exists()


def test_dependencies_include_the_lock_file():
    assert "requirements.lock" in [path.name for path in render.dependency_files()]


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_render_keeps_the_previous_outputs(tmp_path, sig, status):
    root, out = render_mini(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    page = root / "site" / "page.qmd"
    page.write_text(page.read_text().replace("answer = 6 * 7", "import time\ntime.sleep(60)\nanswer = 6 * 7"))
    result = interrupt_cli(
        "report",
        "--project",
        root,
        "--out",
        out,
        ready=after(6),
        sig=sig,
        env={render.CACHE_ENV: str(tmp_path / "cache")},
    )
    assert result.returncode == status
    assert result.stderr.strip() == "interrupted"
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        next((tmp_path / "cache").glob("page-*.ipynb")).name
    ]


PARAMETERS = """```{python}
#| tags: [parameters]
images = ""
channel = "1"
```

```{python}
print(f"images={images!r} channel={channel!r}")
```
"""


def test_parameters_are_injected_after_the_parameters_cell(tmp_path):
    page = tmp_path / "page.qmd"
    page.write_text(PARAMETERS)
    _, notebook = render.read_qmd(page)
    assert render.inject_parameters(notebook, {"images": "/data/own", "channel": "0"}, page)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert code[1] == "# Injected parameters\nimages = '/data/own'\nchannel = '0'"
    assert code[2].startswith("print(")
    namespace = {}
    for source in code[:2]:
        exec(source.replace("#|", "#"), namespace)
    assert (namespace["images"], namespace["channel"]) == ("/data/own", "0")


def test_an_undeclared_parameter_is_refused_and_a_page_without_parameters_is_left_alone(tmp_path):
    page = tmp_path / "page.qmd"
    page.write_text(PARAMETERS)
    _, notebook = render.read_qmd(page)
    with pytest.raises(AnalysisError, match="has no parameter 'pattern'"):
        render.inject_parameters(notebook, {"pattern": "x"}, page)
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert not render.inject_parameters(plain, {"images": "x"}, page)
    assert len(plain.cells) == 1
