"""What each lesson page's cache depends on: the modules it imports, and nothing unrelated."""

import nbformat
import pytest

from analysis import lesson
from analysis.io import registry
from analysis.models import stardist_model
from analysis.site.pages import Page, read_project, read_qmd

LESSON = read_project(registry.PROJECT_ROOT)


def page_with(code: str, tmp_path) -> Page:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    return Page(tmp_path / "page.qmd", {}, notebook)


def names(files) -> set[str]:
    return {str(path.relative_to(registry.PROJECT_ROOT)) for path in files}


def test_a_page_depends_on_the_modules_it_imports_and_theirs(tmp_path):
    found = names(lesson.page_dependencies(page_with("from analysis.steps import cells", tmp_path)))
    assert "analysis/steps/cells.py" in found
    assert "analysis/steps/__init__.py" in found
    assert "analysis/__init__.py" in found
    assert "requirements.lock" in found
    assert "analysis/steps/explore.py" not in found  # not imported by cells
    assert "data/manifest.csv" not in found  # cells reads no data set
    assert not any(name.startswith("models/") for name in found)


def test_imports_inside_functions_are_followed(tmp_path):
    # summary's run() imports the serial runs inside the function only.
    found = names(lesson.page_dependencies(page_with("import analysis.cli.summary", tmp_path)))
    assert "analysis/batch/serial.py" in found
    assert "analysis/steps/explore.py" in found  # through serial.summarise


def test_reading_the_data_set_or_a_model_brings_their_files(tmp_path):
    code = "%matplotlib inline\nfrom analysis.io import registry\nfrom analysis.models import stardist_model"
    found = names(lesson.page_dependencies(page_with(code, tmp_path)))
    assert "data/manifest.csv" in found
    model_files = {path.name for path in stardist_model.PROJECT_MODEL.iterdir() if path.is_file()}
    assert {"weights_best.h5", "model.onnx", "scale.json"} <= model_files
    assert {f"models/{stardist_model.PROJECT_MODEL.name}/{name}" for name in model_files} <= found


def test_code_that_does_not_parse_gives_what_precedes_it(tmp_path):
    # The page's kernel reports the error itself when it runs the cell.
    page = page_with("from analysis.steps import cells\nx = (", tmp_path)
    assert "analysis/steps/cells.py" in names(lesson.page_dependencies(page))


@pytest.fixture(scope="module")
def lesson_dependencies() -> dict[str, set[str]]:
    return {path.stem: names(lesson.page_dependencies(Page(path, *read_qmd(path)))) for path in LESSON.pages}


def test_the_episodes_do_not_depend_on_the_screen_the_cli_or_training(lesson_dependencies):
    everything = set().union(*lesson_dependencies.values())
    for unrelated in (
        "analysis/batch/screen.py",
        "analysis/cli/main.py",
        "analysis/cli/measure.py",
        "analysis/training/retrain.py",
        "analysis/site/browser.py",
    ):
        assert unrelated not in everything, unrelated


def test_only_the_segmentation_pages_depend_on_the_model(lesson_dependencies):
    with_model = {page for page, found in lesson_dependencies.items() if "models/" in " ".join(found)}
    assert with_model == {"04-segmentation", "05-your-images"}
    assert "analysis/steps/cells.py" not in lesson_dependencies["01-images"]
