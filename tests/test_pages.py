"""Reading a Quarto project: its file, pages, includes, parameters and inline values."""

import contextlib
import io

import nbformat
import pytest
from mini_project import make_project

from analysis.site import pages
from analysis.site.errors import SourceError


def test_project_file_is_read(tmp_path):
    project = pages.read_project(make_project(tmp_path / "p"))
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
    with pytest.raises(SourceError, match=problem):
        pages.read_project(tmp_path)


def test_includes_are_expanded_and_missing_ones_named(tmp_path):
    (tmp_path / "part.md").write_text("- a point\n")
    assert pages.expand_includes("before\n{{< include part.md >}}\nafter", tmp_path) == (
        "before\n- a point\nafter"
    )
    # the blank line after an include stays, so a heading there is no list item
    assert pages.expand_includes("{{< include part.md >}}\n\n### Next", tmp_path) == "- a point\n\n### Next"
    with pytest.raises(SourceError, match="gone.md"):
        pages.expand_includes("{{< include gone.md >}}", tmp_path)


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
    _, notebook = pages.read_qmd(page)
    assert pages.inject_parameters(notebook, {"images": "/data/own", "channel": "0"}, page)
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
    _, notebook = pages.read_qmd(page)
    with pytest.raises(SourceError, match="has no parameter 'pattern'"):
        pages.inject_parameters(notebook, {"pattern": "x"}, page)
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert not pages.inject_parameters(plain, {"images": "x"}, page)
    assert len(plain.cells) == 1


def test_inline_values_are_computed_by_helper_cells_and_written_in_place():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("n = 3"),
            nbformat.v4.new_markdown_cell("We found `{python} n` nuclei, `{python} n * 2` halves."),
        ]
    )
    with_helpers = pages.with_inline_cells(notebook)
    helper = with_helpers.cells[1]
    assert helper.metadata["inline"]
    namespace = {}
    exec(with_helpers.cells[0].source, namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(helper.source, namespace)
    helper.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed.getvalue())]
    filled, values = pages.fill_inline(with_helpers)
    assert [cell.source for cell in filled.cells] == ["n = 3", "We found 3 nuclei, 6 halves."]
    assert values == [{"expression": "n", "value": "3"}, {"expression": "n * 2", "value": "6"}]
