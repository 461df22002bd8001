"""The package installed (not editable) into a fresh environment, used from another folder."""

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from analysis import data

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
        ["git", "ls-files"], cwd=data.PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:  # a copy, so that the build leaves nothing in the checkout
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(data.PROJECT_ROOT / name, source / name)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = next((venv / "lib").glob("python*/site-packages"))
    dependencies = [path for path in sys.path if path.endswith("site-packages")]
    (site_packages / "dependencies.pth").write_text("\n".join(dependencies) + "\n")
    python = venv / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", str(source)],
        check=True,
        capture_output=True,
    )
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    env = {
        **os.environ,
        "BBBC008_MIRROR": str(data.mirror_dir()),
        "ANALYSIS_RENDER_CACHE": str(folder / "cache"),
    }
    return python, elsewhere, env, site_packages


def run(installed, *args):
    python, elsewhere, env, _ = installed
    return subprocess.run(
        [python, *map(str, args)], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_installed_package_is_the_one_used(installed):
    result = run(
        installed, "-c", "import analysis, analysis.data as d; print(analysis.__file__, d.INSTALLED)"
    )
    assert result.stdout.startswith(str(installed[3]))
    assert result.stdout.split()[-1] == "True"


def test_count_from_another_folder(installed):
    result = run(installed, "-m", "analysis", "count", "--out", "counts.csv")
    assert result.returncode == 0, result.stderr
    counts = pd.read_csv(installed[1] / "counts.csv")
    assert len(counts) == 12
    assert counts["model"].eq("project").all()


def test_report_from_another_folder(installed):
    result = run(installed, "-m", "analysis", "report")
    assert result.returncode == 0, result.stderr
    site = installed[1] / "_output" / "report"
    assert (site / "index.html").is_file()
    assert (site / "lesson.pdf").is_file()
    assert (site / "04-segmentation.ipynb").is_file()
