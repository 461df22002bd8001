"""Executed pages as documents: Markdown with figures and tables, chapters of the PDF."""

import base64
import io

import nbformat
import pandas as pd
from mini_project import make_project
from PIL import Image

from analysis.site import documents
from analysis.site.pages import Page, read_project, read_qmd


def png(width=800):
    """A one-row PNG ``width`` pixels wide."""
    buffer = io.BytesIO()
    Image.new("L", (width, 1)).save(buffer, format="PNG")
    return buffer.getvalue()


def executed_page(tmp_path):
    path = make_project(tmp_path / "project") / "site" / "page.qmd"
    page = Page(path, *read_qmd(path))
    figure = nbformat.v4.new_code_cell('#| label: fig-demo\n#| fig-cap: "A demo."\nfigure')
    encoded = base64.b64encode(png()).decode()
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": encoded})]
    table = nbformat.v4.new_code_cell('#| label: tbl-demo\n#| tbl-cap: "A table."\ntable')
    table.outputs = [
        nbformat.v4.new_output(
            "execute_result", data={"text/markdown": "| x |\n|--|\n| 1 |", "text/csv": "x\n0.123456789\n"}
        )
    ]
    hidden = nbformat.v4.new_code_cell("#| include: false\nsecret = 1")
    page.notebook.cells = [nbformat.v4.new_markdown_cell("## Results"), figure, table, hidden]
    return page


def test_figures_and_tables_become_markdown_and_files(tmp_path):
    build, tables = tmp_path / "build", tmp_path / "tables"
    build.mkdir()
    tables.mkdir()
    markdown = documents.page_markdown(executed_page(tmp_path), build, tables)
    assert (build / "page-figure-01.png").read_bytes() == png()
    assert '![A demo.](page-figure-01.png){#fig-demo alt="A demo." width="' in markdown
    assert 'width="100%"' in markdown  # 800 px at the figures' 110 dpi: wider than the text
    assert "::: {#tbl-demo}\n| x |" in markdown
    assert ": A table." in markdown
    assert "secret" not in markdown
    assert pd.read_csv(tables / "demo.csv").x.tolist() == [0.123456789]  # full precision


def test_pages_that_are_not_episodes_are_unnumbered_chapters(tmp_path):
    project = read_project(make_project(tmp_path / "project"))
    index, page = (Page(path, *read_qmd(path)) for path in project.pages)
    page.episode = 1
    assert documents.pdf_section(page, "## The result").startswith("# The page {#page-page}")
    assert "## The result" in documents.pdf_section(page, "## The result")
    unnumbered = documents.pdf_section(index, "## Welcome\n\n## Setup {#setup}")
    assert unnumbered.startswith("# Mini lesson {#page-index .unnumbered}")
    assert "## Welcome {.unnumbered}" in unnumbered
    assert "## Setup {#setup}" in unnumbered  # headings with attributes keep theirs


def test_each_page_links_to_the_previous_and_next_in_the_sidebar_s_order(tmp_path):
    project = read_project(make_project(tmp_path / "project"))
    index, page = (Page(path, *read_qmd(path)) for path in project.pages)
    by_stem = {"index": index, "page": page}
    first, second = (documents.page_navigation(project, p, by_stem) for p in (index, page))
    assert '<a class="nav-page-next" href="page.html" rel="next">The page &rarr;</a>' in first
    assert "nav-page-previous" not in first
    assert '<a class="nav-page-previous" href="index.html" rel="prev">&larr; Mini lesson</a>' in second
    assert "nav-page-next" not in second
    assert first.strip().startswith("```{=html}")  # raw HTML, for the HTML pages only
    assert first.strip().endswith("```")


def test_page_navigation_follows_the_configuration(tmp_path):
    project = read_project(make_project(tmp_path / "project"))
    index, page = (Page(path, *read_qmd(path)) for path in project.pages)
    by_stem = {"index": index, "page": page}
    project.config["website"]["sidebar"]["contents"][1]["contents"][0]["text"] = "A & B"
    assert ">A &amp; B &rarr;</a>" in documents.page_navigation(project, index, by_stem)
    project.config["website"]["sidebar"]["contents"] = ["site/page.qmd"]  # the index is not in it
    assert documents.page_navigation(project, index, by_stem) == ""
    project.config["website"]["sidebar"] = [  # several sidebars: the one listing the page counts
        {"id": "other", "contents": ["site/other.qmd", "site/page.qmd"]},
        {"id": "lesson", "contents": ["site/index.qmd", "site/page.qmd"]},
    ]
    assert 'href="page.html" rel="next"' in documents.page_navigation(project, index, by_stem)
    assert 'href="other.html" rel="prev"' in documents.page_navigation(project, page, by_stem)
    project.config["website"]["page-navigation"] = False
    assert documents.page_navigation(project, page, by_stem) == ""


def html_inputs(folder, figure=b"figure", css="body { color: #123456; }"):
    """A page's Markdown and options as write_html hands them to pandoc, built in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "page-figure-01.png").write_bytes(figure)
    (folder / "other-figure-01.png").write_bytes(b"not shown on this page")
    (folder / "style.css").write_text(css)
    markdown = "# The page\n\n![A demo.](page-figure-01.png){#fig-demo}\n"
    return markdown, [f"--css={folder / 'style.css'}", "--toc"], folder


def test_the_html_key_counts_what_pandoc_reads_and_not_where_it_lies(tmp_path):
    key = documents.html_key(*html_inputs(tmp_path / "one"))
    assert documents.html_key(*html_inputs(tmp_path / "another")) == key
    assert documents.html_key(*html_inputs(tmp_path / "figure", figure=b"changed")) != key
    assert documents.html_key(*html_inputs(tmp_path / "css", css="body { color: red; }")) != key
    markdown, extra, folder = html_inputs(tmp_path / "text")
    assert documents.html_key(markdown + "More words.\n", extra, folder) != key
    assert documents.html_key(markdown, extra[:1], folder) != key
    (folder / "other-figure-01.png").write_bytes(b"another page's figure changed")
    assert documents.html_key(markdown, extra, folder) == key
