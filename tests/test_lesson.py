"""The lesson itself: pages, episodes, exercises, notebooks, PDF, honest words, computed prose."""

import itertools
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from conftest import run_cli, run_here
from pypdf import PdfReader

from analysis import lesson
from analysis.io import images, registry
from analysis.models import predict, stardist_model
from analysis.models.store import STORE_ENV
from analysis.site import documents, kernels, pages, threads
from analysis.site.notebook import split_options

PROJECT = pages.read_project(registry.PROJECT_ROOT)
PAGES = {path.stem: path for path in PROJECT.pages}
EPISODES = [stem for stem, path in PAGES.items() if "teaching" in pages.read_qmd(path)[0]]
EXECUTED = [stem for stem, path in PAGES.items() if pages.Page(path, *pages.read_qmd(path)).executes]

# Each step a learner must see as a library call, and the package function a
# hidden cell of the same page compares its result with (the tests pin those).
LIBRARY_CALLS = {
    "tifffile.imread(": ("01-images", "images.load_image("),
    "np.histogram(": ("01-images", "explore.intensity_histogram("),
    "exposure.equalize_hist(": ("01-images", "explore.equalize_channels("),
    "cv2.normalize(": ("02-two-channels", "explore.normalise_to_reference("),
    "np.histogram2d(": ("02-two-channels", "explore.histogram_2d("),
    "nuclei_norm[y : y + height, x : x + width]": ("02-two-channels", "explore.crop("),
    "GaussianMixture(n_components=3": ("03-clustering", 'cluster.fit_labels(features, 3, "gmm")'),
    "KMeans(n_clusters=k": ("03-clustering", 'cluster.fit_labels(features, 4, "kmeans")'),
    "model.predict_instances(": ("04-segmentation", "predict.predict_labels("),
    "ndi.distance_transform_edt(foreground)": ("04-segmentation", "scale.estimate_diameter("),
    "rescale(image.astype(np.float32), factor": (
        "04-segmentation",
        "predict.predict_labels(check_model, nuclei, first_factor)",
    ),
    "dice = 2 * overlap / (predicted.sum() + truth.sum())": ("04-segmentation", "validate.dice("),
    "propagate(actin_01, first_nuclei, where_cells": ("04-segmentation", "cells.grow_cells("),
}

# Digits allowed in prose: the original lesson's published count, years,
# exercise and cluster names, dimensions, bit depths and the hash's name.
ALLOWED = re.compile(r"\b(?:168|(?:19|20)\d\d)\b|Exercises? \d|cluster \d|\d-D\b|\d+-bit|SHA-256")
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")


def prose(text: str) -> str:
    """A page's text without front matter, code, inline code, link targets and attributes."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"\{[^}\n]*\}", "", text)
    return re.sub(r"^\s*\d+\.\s", "", text, flags=re.M)


def test_prose_has_no_hand_typed_numbers():
    sources = [*PAGES.values(), *sorted((PROJECT.root / "report" / "_keypoints").glob("*.md"))]
    typed = [
        (path.name, match.group(), line.strip()[:80])
        for path in sources
        for line in prose(path.read_text()).splitlines()
        for match in NUMBER.finditer(ALLOWED.sub("", line))
    ]
    assert typed == []


def test_prose_scan_finds_a_typed_number():
    assert NUMBER.findall(ALLOWED.sub("", prose("We found 42 nuclei in `{python} n` fields."))) == ["42"]


def test_the_site_has_landing_episodes_reference_and_instructor_notes():
    assert list(PAGES)[0] == "index"
    assert {"reference", "instructor-notes"} <= set(PAGES)
    assert len(EPISODES) >= 1


def visible_code(site, stem: str) -> str:
    notebook = nbformat.read(site / "report" / f"{stem}.ipynb", as_version=4)
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")


def code_cells(stem: str) -> list[tuple[dict, str]]:
    """Each code cell of a page's source: its Quarto options and its code."""
    _, notebook = pages.read_qmd(PAGES[stem])
    return [split_options(c.source) for c in notebook.cells if c.cell_type == "code"]


def hidden_code(stem: str) -> str:
    return "\n".join(code for options, code in code_cells(stem) if options.get("include") is False)


# Characters of a code line that the PDF's code blocks show without wrapping
# (about 90 at their font size), as ruff would keep Python.
PDF_CODE_WIDTH = 88


def test_code_learners_see_fits_the_pdf_without_wrapping():
    too_long = [
        (stem, line)
        for stem in PAGES
        for options, code in code_cells(stem)
        if options.get("include") is not False and options.get("echo") is not False
        for line in code.splitlines()
        if len(line) > PDF_CODE_WIDTH
    ]
    assert too_long == []


@pytest.mark.slow
@pytest.mark.parametrize("call", LIBRARY_CALLS)
def test_learners_see_the_library_call_and_the_page_checks_it_against_the_package(lesson_site, call):
    stem, package_function = LIBRARY_CALLS[call]
    assert call in visible_code(lesson_site, stem)
    assert package_function in hidden_code(stem)


@pytest.mark.slow
def test_every_page_is_rendered(lesson_site):
    for stem in PAGES:
        html = (lesson_site / "report" / f"{stem}.html").read_text()
        assert "`{python}" not in html
        assert "Traceback" not in html
        assert "### " not in html, stem  # no Markdown left unconverted
        assert "{." not in html, stem
        assert not re.search(r"""<(script|img|link|iframe|source)[^>]+(src|href)=["']https?:""", html)
    assert (lesson_site / "report" / documents.PDF_NAME).read_bytes().startswith(b"%PDF")


def test_the_cite_section_says_what_citation_cff_says():
    citation = yaml.safe_load((registry.PROJECT_ROOT / "CITATION.cff").read_text())
    section = (registry.PROJECT_ROOT / "report" / "_cite.md").read_text()
    prose = " ".join(section.split())
    bibtex = dict(re.findall(r"^\s+(\w+)\s+= \{+(.*?)\}+,?$", section, re.MULTILINE))
    assert bibtex["title"] == citation["title"]
    assert bibtex["version"] == citation["version"]
    assert bibtex["year"] == str(citation["date-released"])[:4]
    assert bibtex["author"] == citation["authors"][0]["name"]
    assert bibtex["license"] == citation["license"]
    assert citation["title"] in prose
    for reference in citation["references"]:  # each by its DOI, the image set by its name
        assert (reference["doi"] if "doi" in reference else reference["url"].rsplit("/", 1)[-1]) in prose


@pytest.mark.slow
def test_every_page_has_the_licences_and_the_landing_and_reference_pages_say_how_to_cite(lesson_site):
    for stem in PAGES:
        html = (lesson_site / "report" / f"{stem}.html").read_text()
        footer = html[html.index('<footer class="page-footer">') :]
        assert "CC BY 4.0" in footer
        assert "BSD 3-Clause" in footer
        assert "CC BY-NC-SA 3.0" in footer
        assert 'href="index.html#cite-this-lesson"' in footer
        assert ('id="cite-this-lesson"' in html) == (stem in ("index", "reference")), stem


@pytest.mark.slow
def test_each_page_leads_to_the_next_from_setup_to_the_instructor_notes(lesson_site):
    stems = list(PAGES)
    for before, after in itertools.pairwise(stems):
        assert f'href="{after}.html" rel="next"' in (lesson_site / "report" / f"{before}.html").read_text()
        assert f'href="{before}.html" rel="prev"' in (lesson_site / "report" / f"{after}.html").read_text()
    assert 'rel="prev"' not in (lesson_site / "report" / f"{stems[0]}.html").read_text()
    assert 'rel="next"' not in (lesson_site / "report" / f"{stems[-1]}.html").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("stem", EPISODES)
def test_episode_has_questions_objectives_key_points_and_a_notebook(lesson_site, stem):
    html = (lesson_site / "report" / f"{stem}.html").read_text()
    for title in ("Questions", "Objectives", "Key points"):
        assert f'<p class="callout-title">{title}</p>' in html
    assert f'href="{stem}.ipynb"' in html
    notebook = nbformat.read(lesson_site / "report" / f"{stem}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    assert notebook.cells[0].source.startswith("# ")
    assert not any(line.startswith(":::") for cell in notebook.cells for line in cell.source.splitlines())


EXERCISE = re.compile(
    r'<p class="callout-title">Exercise (\d): [^<]+</p>(.*?)'
    r'<details class="[^"]*"><summary>Solution</summary>(.*?)</details>',
    re.S,
)


@pytest.mark.slow
def test_nine_exercises_each_with_a_task_and_a_folded_solution(lesson_site):
    found = {}
    for stem in EPISODES:
        html = (lesson_site / "report" / f"{stem}.html").read_text()
        for match in EXERCISE.finditer(html):
            task_words = len(re.sub(r"<[^>]+>", " ", match.group(2)).split())
            executed = "<img" in match.group(3) or "<table" in match.group(3)
            found[int(match.group(1))] = task_words >= 8 and executed
    assert found == {n: True for n in range(1, 10)}


@pytest.fixture(scope="module")
def pdf_text(lesson_site) -> list[str]:
    """The text of each page of the lesson's PDF, extracted once for the tests that read it."""
    return [page.extract_text() for page in PdfReader(lesson_site / "report" / documents.PDF_NAME).pages]


@pytest.mark.slow
def test_no_pdf_page_ends_with_a_table_caption(pdf_text):
    # A table's caption stands above it: it must start the page the table starts on.
    stranded = []
    for number, page in enumerate(pdf_text, start=1):
        lines = [line for line in page.splitlines() if line.strip()][:-1]  # page number
        if any(re.match(r"Table\s\d+:", line) for line in lines[-2:]):  # captions of one or two lines
            stranded.append(number)
    assert stranded == []


@pytest.mark.slow
def test_pdf_is_a4_numbered_and_marks_solutions(lesson_site, pdf_text):
    box = PdfReader(lesson_site / "report" / documents.PDF_NAME).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = re.sub(r"\s+", " ", " ".join(pdf_text))
    for number, stem in enumerate(EPISODES, start=1):
        title = pages.read_qmd(PAGES[stem])[0]["title"]
        assert f"{number} {title}" in text
        assert f"{number}.1 " in text
    assert "0.1 " not in text
    assert "### " not in text
    assert "{.unnumbered}" not in text
    assert text.count("Solution") >= 9
    assert all(f"Exercise {n}:" in text for n in range(1, 10))
    assert re.search(r"Figure \d+: ", text)


@pytest.mark.slow
def test_validation_is_named_for_what_it_is(lesson_site):
    site = " ".join((lesson_site / "report" / f"{stem}.html").read_text() for stem in PAGES)
    assert "ground truth (instances)" not in site
    assert "hand-drawn" not in site
    assert "hand-corrected foreground mask" in site
    assert "instances derived from the masks" in site
    validation = pd.read_csv(lesson_site / "tables" / "validation.csv")
    assert set(validation.method) == {
        "stardist (project)",
        "stardist-li (project)",
        "watershed",
        "otsu",
        "li",
    }
    assert set(pd.read_csv(lesson_site / "tables" / "by-well.csv").well) == {"A24", "L15"}


@pytest.mark.slow
def test_the_count_in_the_text_is_the_package_count(lesson_site, pairs):
    model = stardist_model.load_model()
    nuclei = images.load_image(pairs[0].nuclei)
    _, centres = predict.predict_labels(model, nuclei)
    html = (lesson_site / "report" / "04-segmentation.html").read_text()
    assert f"<strong>{len(centres)} nuclei</strong>" in html
    # The validation counts at the model's scale.
    scaled, _ = predict.predict_labels(model, nuclei, predict.scale_for(model, nuclei)[1])
    validation = pd.read_csv(lesson_site / "tables" / "validation.csv")
    first = validation[(validation.image == pairs[0].name) & (validation.method == "stardist (project)")]
    assert first.n_predicted.item() == scaled.max()


# The tables the lesson shows (provenance excepted: it describes the machine).
PINNED_TABLES = (
    "pairs",
    "validation",
    "by-well",
    "magnified",
    "cluster-shares",
    "ex8-counts",
    "ex9",
    "cells",
    "own-counts",
    "size-rule",
)


@pytest.mark.slow
@pytest.mark.parametrize("name", PINNED_TABLES)
def test_lesson_tables_are_pinned(lesson_site, name, dataframe_regression):
    table = pd.read_csv(lesson_site / "tables" / f"{name}.csv")
    # Scores to 0.002 (as in test_validate), shares to 1e-4 (as in
    # test_cluster); counts and names exactly.
    dataframe_regression.check(
        table,
        basename=f"table_{name}",
        default_tolerance={"atol": 2e-3 if name != "cluster-shares" else 1e-4, "rtol": 0},
    )


@pytest.mark.slow
def test_every_inline_value_is_pinned(lesson_site, data_regression):
    values = pd.read_csv(lesson_site / "tables" / "inline_values.csv", dtype=str)
    data_regression.check(
        {
            page: [f"{row.expression} = {row.value}" for row in rows.itertuples()]
            for page, rows in values.groupby("page", sort=False)
        }
    )


@pytest.fixture(scope="module")
def learner_runs(lesson_site, tmp_path_factory) -> dict[str, tuple]:
    """Every downloaded notebook and handout, run from a learner's own folder.

    Notebooks have their outputs removed; each handout's empty answer
    cells run too. Two kernels run side by side, each with one thread per
    pool, as the renderer runs them, and with the render's prediction
    store: the package's calls reuse what the render predicted, while the
    visible ``predict_instances`` calls run the network. Each result,
    keyed by the file name, is the executed notebook and the error it
    raised (None).
    """
    from nbclient import NotebookClient

    def run(name):
        notebook = nbformat.read(lesson_site / "report" / name, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs = []
        folder = tmp_path_factory.mktemp(f"learner-{Path(name).stem}")
        try:
            NotebookClient(
                notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(folder)}}
            ).execute()
        except Exception as error:  # reported by the test of this notebook
            return notebook, error
        finally:
            kernels.close_thread_loop()
        return notebook, None

    names = [f"{stem}.ipynb" for stem in EXECUTED] + [
        f"{stem}{documents.HANDOUT_SUFFIX}" for stem in EPISODES
    ]
    with pytest.MonkeyPatch.context() as patch:
        for name in threads.THREAD_VARIABLES:
            patch.setenv(name, "1")
        store = lesson_site.parent / "cache" / "predictions"
        predicted = sorted(store.iterdir())
        patch.setenv(STORE_ENV, str(store))
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = dict(zip(names, pool.map(run, names), strict=True))
    # Every prediction the learners' package calls asked for was one the render made.
    assert sorted(store.iterdir()) == predicted
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("stem", EXECUTED)
def test_learner_notebook_runs_on_its_own(learner_runs, stem):
    notebook, error = learner_runs[f"{stem}.ipynb"]
    assert error is None, error
    assert any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def solution_lines(stem):
    """The lines only an episode's folded solutions hold that say something (code or prose)."""
    inside, outside, depth_in_solution, depth = [], set(), None, 0
    for line in PAGES[stem].read_text().splitlines():
        if re.match(r"^:::+\s*\{", line):
            depth += 1
            if 'title="Solution"' in line:
                depth_in_solution = depth
        elif re.match(r"^:::+\s*$", line):
            if depth == depth_in_solution:
                depth_in_solution = None
            depth -= 1
        elif depth_in_solution:
            if len(line.strip()) > 25 and not line.startswith(("#|", "`{python}")):
                inside.append(line.strip())
        else:
            outside.add(line.strip())
    return [line for line in inside if line not in outside]


@pytest.mark.slow
@pytest.mark.parametrize("stem", EPISODES)
def test_each_episode_has_a_handout_of_its_code_and_tasks_that_runs_without_its_solutions(learner_runs, stem):
    name = f"{stem}{documents.HANDOUT_SUFFIX}"
    handout, error = learner_runs[name]
    assert error is None, error
    tasks = [cell for cell in handout.cells if cell.metadata.get("exercise")]
    exercises = re.findall(r'title="(Exercise \d+: [^"]+)"', PAGES[stem].read_text())
    assert [cell.source.splitlines()[0] for cell in tasks] == [f"## {title}" for title in exercises]
    for task in tasks:  # each task is followed by an empty cell for the answer
        answer = handout.cells[handout.cells.index(task) + 1]
        assert answer.cell_type == "code"
        assert answer.source.strip() == "# Your answer"
    text = "\n".join(cell.source for cell in handout.cells)
    solutions = solution_lines(stem)
    assert len(solutions) > 3
    assert [line for line in solutions if line in text] == []


@pytest.mark.slow
def test_the_exercises_pdf_holds_every_task_and_no_solution(lesson_site):
    text = " ".join(
        page.extract_text() for page in PdfReader(lesson_site / "report" / documents.TASKS_PDF_NAME).pages
    )
    text = " ".join(text.split())
    titles = [t for stem in EPISODES for t in re.findall(r'title="(Exercise \d+): ', PAGES[stem].read_text())]
    assert len(titles) == 9
    assert all(title in text for title in titles)
    assert [
        line for stem in EPISODES for line in solution_lines(stem) if " ".join(line.split()) in text
    ] == []
    for stem in EPISODES:  # each episode links its handout and the PDF; so does the landing page
        html = (lesson_site / "report" / f"{stem}.html").read_text()
        assert f'href="{stem}{documents.HANDOUT_SUFFIX}"' in html
        assert f'href="{documents.TASKS_PDF_NAME}"' in html
    assert f'href="{documents.TASKS_PDF_NAME}"' in (lesson_site / "report" / "index.html").read_text()


def without_search_index(html):
    """A page without the search index, which holds every page's text."""
    return re.sub(r"<script>window\.searchIndex = .*?</script>", "", html, count=1, flags=re.DOTALL)


EXAMPLE_HUMAN_PATTERN = r"^(?P<plate>.+)_(?P<well>[A-P]\d{2})f00d(?P<channel>\d)\.tif$"


@pytest.mark.slow
def test_the_lesson_renders_for_other_images_without_ground_truth(lesson_site, tmp_path):
    """CellProfiler's ExampleHuman field through the parameters of the own-images page."""
    folder = registry.mirror_dir().parent / "cellprofiler_examplehuman" / "images"
    site = tmp_path / "site"
    naming = [
        "--images",
        folder,
        "--pattern",
        EXAMPLE_HUMAN_PATTERN,
        "--nuclei-channel",
        "0",
        "--actin-channel",
        "2",
    ]
    # The episodes do not depend on the parameters: their results come from a copy of the
    # lesson's cache (the page rendered anew replaces its entry there).
    cache = shutil.copytree(lesson_site.parent / "cache", tmp_path / "cache")
    result = run_cli("report", "--out", site, *naming, env={lesson.CACHE_ENV: str(cache)})
    assert result.returncode == 0, result.stderr
    assert "executed: 05-your-images;" in result.stderr
    html = without_search_index((site / "report" / "05-your-images.html").read_text())
    assert "<strong>No ground truth was given</strong>" in html
    assert "dice_mean" not in html
    counts = pd.read_csv(site / "tables" / "own-counts.csv")
    assert counts.image.tolist() == ["D03 f1"]
    # The same count as the command line's, method for method.
    out = tmp_path / "counts.csv"
    assert run_here("count", *naming, "--method", "stardist-li", "--out", out).returncode == 0
    assert counts.n_nuclei.item() == pd.read_csv(out).n_nuclei.item()
    # The lesson's own render shows BBBC008, scored against its masks.
    own = without_search_index((lesson_site / "report" / "05-your-images.html").read_text())
    assert "<strong>No ground truth was given</strong>" not in own
    assert "dice_mean" in own
