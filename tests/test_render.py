"""Rendering: Quarto cell options, inline code, cache keys, failures, the real report."""

import re

import nbformat
import pandas as pd
import pytest

from analysis import data, render, segment
from conftest import run_cli

MINI = """---
title: "Mini"
---

```{python}
#| echo: false
answer = 6 * 7
```

The answer is `{python} answer`.

```{python}
#| label: fig-demo
#| fig-cap: "A demo figure."
#| fig-alt: "A rising line."
from analysis.display import notebook_setup
from matplotlib.figure import Figure
notebook_setup()
figure = Figure(figsize=(3, 2))
figure.subplots().plot([1, 2, 3])
figure
```
"""


def test_cell_options_are_split_from_code():
    options, code = render.split_options('#| echo: false\n#| fig-cap: "A b"\nx = 1\n#| not an option')
    assert options == {"echo": False, "fig-cap": "A b"}
    assert code == "x = 1\n#| not an option"


def test_mini_report_renders_with_inline_values_and_figure(tmp_path):
    source = tmp_path / "mini.qmd"
    source.write_text(MINI)
    result = run_cli("report", "--qmd", source, "--out", tmp_path / "out", "--force")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "mini.html").read_text()
    assert "The answer is 42." in html
    assert "answer = 6 * 7" not in html  # echo: false
    assert html.count("data:image/png;base64,") == 1 and 'alt="A rising line."' in html
    assert (tmp_path / "out" / "mini.pdf").read_bytes().startswith(b"%PDF")
    notebook = nbformat.read(tmp_path / "out" / "mini.ipynb", as_version=4)
    assert "The answer is 42." in notebook.cells[1].source


def test_failing_cell_fails_the_render(tmp_path):
    source = tmp_path / "broken.qmd"
    source.write_text(MINI.replace("answer = 6 * 7", "answer = 6 / 0"))
    out = tmp_path / "out"
    result = run_cli("report", "--qmd", source, "--out", out, "--force")
    assert result.returncode == 1
    assert "broken.qmd:7" in result.stderr and "ZeroDivisionError" in result.stderr
    assert "answer = 6 / 0" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_cache_key_follows_cells_data_and_model(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    image, weights = tmp_path / "image.tif", tmp_path / "weights_best.h5"
    image.write_bytes(b"pixels")
    weights.write_bytes(b"weights")
    key = render.cache_key(notebook, [image], [weights])
    assert render.cache_key(notebook, [image], [weights]) == key
    image.write_bytes(b"pixels, changed")
    assert render.cache_key(notebook, [image], [weights]) != key
    image.write_bytes(b"pixels")
    weights.write_bytes(b"other weights")
    assert render.cache_key(notebook, [image], [weights]) != key
    weights.write_bytes(b"weights")
    notebook.cells[0].source = "x = 2"
    assert render.cache_key(notebook, [image], [weights]) != key


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    result = run_cli("report", "--out", out, "--force")
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.slow
def test_report_files_and_figures(rendered):
    html = (rendered / "lesson.html").read_text()
    notebook = nbformat.read(rendered / "lesson.ipynb", as_version=4)
    pictures = sum("image/png" in o.get("data", {}) for c in notebook.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert pictures >= 20 and html.count('src="data:image/png;base64,') == pictures
    assert "Traceback" not in html and "Error" not in re.sub(r"<[^>]+>", " ", html).replace("error", "")
    assert not re.search(r"""<(script|img|link|iframe|source)[^>]+(src|href)=["']https?:""", html)
    assert 'href="lesson.ipynb"' in html and 'href="lesson.pdf"' in html


@pytest.mark.slow
def test_report_numbers_come_from_the_package(rendered, pairs):
    html = (rendered / "lesson.html").read_text()
    counts = pd.read_csv(rendered / "tables" / "counts.csv")
    assert len(counts) == 12 and counts.image.tolist() == [p.name for p in pairs]
    table = html[html.index("ground truth (instances)"):]
    assert len(re.findall(r"<tr", table[: table.index("</table>")])) == 12
    labels, centres = segment.predict_labels(segment.load_model(), data.load_image(pairs[0].nuclei))
    assert f"<strong>{len(centres)} nuclei</strong>" in html
    stardist = counts["stardist (project)"].tolist()
    assert stardist[0] == len(centres)


@pytest.mark.slow
def test_report_pdf_has_every_section(rendered):
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(rendered / "lesson.pdf").pages)
    text = re.sub(r"\s+", " ", text)
    for heading in ("Loading and pairing the images", "Images as arrays", "Exploring intensities",
                    "Histogram equalisation", "Normalising one channel against another with OpenCV",
                    "Visualising two channels together", "Regions of interest", "Clustering pixels",
                    "Segmenting and counting nuclei", "Summary", "Appendix: provenance"):
        assert heading in text, heading
    numbers = {n for pair in re.findall(r"Exercises? (\d)(?: and (\d))?", text) for n in pair if n}
    assert numbers == {str(n) for n in range(1, 10)}
