"""The package installed (not editable) into a fresh environment, used from another folder.

The core install must count, validate and measure without the extras: in
the environment below, ``CORE_ONLY=1`` makes the extras' packages
unimportable, as they are where only ``pip install .`` ran.
"""

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import tifffile

from analysis import lesson
from analysis.io import registry
from analysis.models.store import STORE_ENV

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A new virtual environment holding a regular install of a copy of this checkout.

    The environment reuses the dependencies installed here (a ``.pth`` file
    names their folder), so nothing is downloaded.
    """
    folder = tmp_path_factory.mktemp("install")
    source = folder / "source"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=registry.PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:  # a copy, so that the build leaves nothing in the checkout
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(registry.PROJECT_ROOT / name, source / name)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = next((venv / "lib").glob("python*/site-packages"))
    dependencies = [path for path in sys.path if path.endswith("site-packages")]
    (site_packages / "dependencies.pth").write_text("\n".join(dependencies) + "\n")
    (site_packages / "core_only.py").write_text(CORE_ONLY)
    (site_packages / "core_only.pth").write_text("import core_only\n")
    python = venv / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", str(source)],
        check=True,
        capture_output=True,
    )
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    env = {  # without the run's prediction store: the installed package predicts for itself
        **{name: value for name, value in os.environ.items() if name != STORE_ENV},
        "BBBC008_MIRROR": str(registry.mirror_dir()),
        "ANALYSIS_RENDER_CACHE": str(folder / "cache"),
    }
    return python, elsewhere, env, site_packages


#: Run at start-up in the test environment: with CORE_ONLY=1, the extras cannot be imported.
CORE_ONLY = """
import os, sys
EXTRAS = {"tensorflow", "keras", "tf2onnx", "onnx", "selenium", "typst", "pypandoc", "nbclient", "jupytext"}

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in EXTRAS:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

if os.environ.get("CORE_ONLY") == "1":
    sys.meta_path.insert(0, Blocked())
"""
EXTRAS = ("tensorflow", "selenium", "typst", "pypandoc")


def run(installed, *args, core_only=True, env=None):
    python, elsewhere, base, _ = installed
    env = {**base, "CORE_ONLY": "1" if core_only else "0", **(env or {})}
    return subprocess.run(
        [python, *map(str, args)], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_core_requires_none_of_the_extras(installed):
    metadata = next(installed[3].glob("bbbc008_lesson-*.dist-info")) / "METADATA"
    required = [line for line in metadata.read_text().splitlines() if line.startswith("Requires-Dist:")]
    core = [line for line in required if "extra ==" not in line]
    assert core, required
    for package in EXTRAS:
        assert not any(package in line for line in core), package
        assert any(package in line for line in required), package  # in an extra


def test_the_blocker_blocks(installed):
    result = run(installed, "-c", "import tensorflow")
    assert "No module named 'tensorflow'" in result.stderr


def test_the_installed_package_is_the_one_used(installed):
    result = run(
        installed, "-c", "import analysis, analysis.io.registry as d; print(analysis.__file__, d.INSTALLED)"
    )
    assert result.stdout.startswith(str(installed[3]))
    assert result.stdout.split()[-1] == "True"


def test_count_from_another_folder(installed):
    result = run(installed, "-m", "analysis", "count", "--out", "counts.csv")
    assert result.returncode == 0, result.stderr
    counts = pd.read_csv(installed[1] / "counts.csv")
    assert len(counts) == 12
    assert counts["model"].eq("project").all()


def test_measure_from_another_folder(installed, tmp_path):
    # Every feature family, on a quarter of the ExampleHuman field.
    images = tmp_path / "images"
    images.mkdir()
    for path in (registry.mirror_dir().parent / "cellprofiler_examplehuman" / "images").glob("*.tif"):
        tifffile.imwrite(images / path.name, tifffile.imread(path)[:256, :256])
    pattern = r"^(?P<plate>.+)_(?P<well>[A-P]\d{2})f00d(?P<channel>\d)\.tif$"
    naming = ["--images", images, "--pattern", pattern, "--nuclei-channel", "0", "--actin-channel", "2"]
    result = run(installed, "-m", "analysis", "measure", *naming, "--out", "screen", "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert pd.read_parquet(installed[1] / "screen" / "Image").Count_Nuclei.item() > 0


def test_report_without_the_lesson_extra_is_one_line(installed):
    result = run(installed, "-m", "analysis", "report")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert line.endswith("not installed: rendering needs pip install 'bbbc008-lesson[lesson]'")


def test_export_without_the_train_extra_is_one_line(installed):
    result = run(installed, "-m", "analysis", "export")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: tensorflow: not installed: training, exporting and models without model.onnx need it "
        "(pip install 'bbbc008-lesson[train]')"
    ]


def test_report_from_another_folder(installed, lesson_site):
    # The pages executed for the session's render are reused (the installed
    # package's files have the same bytes); the site is built from the package.
    cache = {lesson.CACHE_ENV: str(lesson_site.parent / "cache")}
    result = run(installed, "-m", "analysis", "report", core_only=False, env=cache)
    assert result.returncode == 0, result.stderr
    site = installed[1] / "_output" / "report"
    assert (site / "index.html").is_file()
    assert (site / "lesson.pdf").is_file()
    assert (site / "04-segmentation.ipynb").is_file()
