"""Shared fixtures: the verified data set, a command-line runner, the rendered lesson.

The tests keep every file they make outside the checkout: the data cache and
the render cache live in a temporary folder for the session (children
inherit the variables), and a session fixture fails if any file of the
checkout appeared, changed or vanished.

The run's processes share one prediction store (``$ANALYSIS_PREDICTION_STORE``):
the same field at the same scale through the same weights and code is
predicted once per run, whichever test, command or worker asks first. Its
entries are keyed by everything the labels depend on. Tests whose subject is
the network's own run (an interrupt while it predicts, which runtime it
imports, the installed package) take the ``network_runs`` fixture.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from skimage.draw import disk

from analysis.io import images, pairing, registry
from analysis.models import onnx_stardist, stardist_model
from analysis.models.store import STORE_ENV
from analysis.site import threads

_SESSION_DIR = tempfile.TemporaryDirectory(prefix="analysis-tests-")
os.environ["BBBC008_CACHE"] = str(Path(_SESSION_DIR.name) / "data-cache")
os.environ["ANALYSIS_RENDER_CACHE"] = str(Path(_SESSION_DIR.name) / "render-cache")
# Bytecode caches are not results; everything else in the checkout must stay as it was.
_SKIPPED = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def pytest_configure(config: pytest.Config) -> None:
    """Share the cores among the run's processes: with ``-n N``, each computes on cores / N threads.

    Set in the controlling process before it starts its workers, so every
    worker, and every process a test starts, inherits it. Left to each
    library where one process runs the tests. A variable the caller set
    stays. Two processes on two cores whose thread pools each wanted both
    cores took a tenth to a fifth longer over the network's and ``measure``'s
    tests.
    """
    workers = config.getoption("numprocesses", None)  # pytest-xdist's -n, a number by now
    if isinstance(workers, int) and workers > 0:
        os.environ.update(threads.thread_shares(workers))  # as the renderer's kernels share them
    if not hasattr(config, "workerinput"):  # the controlling process: its workers inherit the store
        os.environ[STORE_ENV] = str(Path(_SESSION_DIR.name) / "predictions")


@pytest.fixture
def network_runs(monkeypatch) -> None:
    """No prediction store for this test: the network runs for every field it is asked for."""
    monkeypatch.delenv(STORE_ENV)


def checkout_files(root: Path = registry.PROJECT_ROOT) -> dict[str, int]:
    """Every file of the checkout with its modification time (ns)."""
    files = {}
    for folder, names, filenames in os.walk(root):
        names[:] = [n for n in names if n not in _SKIPPED]
        for name in filenames:
            path = Path(folder) / name
            files[str(path.relative_to(root))] = path.stat().st_mtime_ns
    return files


@pytest.fixture(scope="session", autouse=True)
def checkout_untouched():
    """Fail the session if a test wrote into the checkout."""
    before = checkout_files()
    yield
    after = checkout_files()
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert changed == [], f"the tests wrote into the checkout: {changed[:10]}"


@pytest.fixture(scope="session")
def pairs() -> list[pairing.ImagePair]:
    """The 12 BBBC008 image pairs, verified against the manifest."""
    return registry.dataset_pairs()


@pytest.fixture(scope="session")
def first_pair(pairs) -> tuple[np.ndarray, np.ndarray]:
    """Nuclei and actin of A24 field 1, the lesson's example image."""
    return images.load_pair(pairs[0])


def project_model_copy(target: Path, *left_out: str) -> Path:
    """A copy of the project's model folder at ``target``, without the files named."""
    shutil.copytree(stardist_model.PROJECT_MODEL, target, ignore=shutil.ignore_patterns(*left_out))
    return target


@pytest.fixture(scope="session")
def keras_model(tmp_path_factory) -> stardist_model.LoadedModel:
    """The project's model loaded through TensorFlow: its folder without the exported network."""
    folder = tmp_path_factory.mktemp("keras") / stardist_model.PROJECT_MODEL.name
    return stardist_model.load_model(project_model_copy(folder, onnx_stardist.ONNX_FILE))


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m analysis`` in a child process and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "analysis", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def run_here(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the command line's ``main`` in this process, as ``run_cli`` runs it in a child.

    Standard output and error are captured and the environment's changes
    undone afterwards, and so are the signal handlers ``main`` installs.
    For what a child process is not needed for: bad input, option checks,
    runs whose tables are compared with each other.
    """
    from analysis.cli.main import main

    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    saved = {name: os.environ.get(name) for name in env or {}}
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        os.environ.update(env or {})
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                status = main([str(arg) for arg in args])
            except SystemExit as end:  # argparse's usage errors and --help
                status = end.code
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for number, handler in handlers.items():
            signal.signal(number, handler)
    return subprocess.CompletedProcess(
        ["analysis", *map(str, args)], status, stdout.getvalue(), stderr.getvalue()
    )


@pytest.fixture(scope="session")
def running_scheduler(tmp_path_factory) -> Iterator[str]:
    """The address of a ``dask scheduler`` with two ``dask worker`` processes, for every test of a process.

    Runs whose subject is not the cluster itself (resuming, a corrupt
    field, stains' names, a further stain) share it rather than each
    starting a LocalCluster; the tests of ``measure``'s own cluster start
    their own.
    """
    from analysis.batch import screen

    with screen.local_scheduler(tmp_path_factory.mktemp("scheduler"), workers=2) as (address, _):
        yield address


def measured(out: Path, *options) -> subprocess.CompletedProcess:
    """Run ``measure`` into ``out``; it must succeed."""
    result = run_here("measure", "--out", out, *options)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().startswith("measured "), result.stderr
    return result


def sparse_field(nuclei=2, size=256):
    """A few bright discs 13 px wide on a large field of Gaussian noise, and where the discs are."""
    rng = np.random.default_rng(0)
    image = rng.normal(100, 10, (size, size))
    discs = np.zeros(image.shape, bool)
    for _ in range(nuclei):
        rows, cols = disk((rng.integers(12, size - 12), rng.integers(12, size - 12)), 6, shape=image.shape)
        image[rows, cols] += 300
        discs[rows, cols] = True
    return np.clip(image, 0, 65535).astype(np.uint16), discs


@pytest.fixture
def main_here() -> Iterator[Callable[[list[str]], int]]:
    """The command line's ``main``, run in this process.

    ``main`` installs its own SIGINT and SIGTERM handlers; the test's are
    put back afterwards.
    """
    from analysis.cli.main import main

    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield main
    for number, handler in handlers.items():
        signal.signal(number, handler)


def interrupt_cli(
    *args: str,
    ready: Callable[[], bool],
    sig: int = signal.SIGTERM,
    env: dict | None = None,
    timeout_s: float = 300,
) -> subprocess.CompletedProcess:
    """Start ``python -m analysis``, send it ``sig`` once ``ready()`` holds, collect its output.

    The command must still be running when the signal is sent. The child is
    killed if anything fails, so a failed test never leaves it working.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "analysis", *map(str, args)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout_s
    try:
        while not ready():
            ended = child.poll() is not None
            assert not ended, f"the command ended before it could be interrupted: {child.communicate()}"
            assert time.monotonic() < deadline, "the command never got ready to be interrupted"
            time.sleep(0.1)
        assert child.poll() is None, "the command ended before it could be interrupted"
        child.send_signal(sig)
        stdout, stderr = child.communicate(timeout=120)
    finally:
        child.kill()
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


def after(seconds: float) -> Callable[[], bool]:
    """A ``ready`` for :func:`interrupt_cli`: true once ``seconds`` have passed."""
    start = time.monotonic()
    return lambda: time.monotonic() - start >= seconds


def assert_clean_failure(result: subprocess.CompletedProcess, names: str, out: Path) -> None:
    """One stderr line naming the culprit, non-zero exit, no traceback, no output."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert names in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.stem}*"))


@pytest.fixture(scope="session")
def lesson_site(tmp_path_factory) -> Path:
    """The lesson rendered from scratch into a temporary folder (its cache too).

    Rendered once per run: with several pytest-xdist workers, the first that
    needs it renders into the folder the workers share, and the others wait
    for it under a lock, then read it. Tests only read the site and its cache.
    """
    from analysis import lesson

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each worker's folder lies in the run's
    folder = root / "lesson"
    with open(root / "lesson.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "site").is_dir():  # a failed render writes no site
            env = {lesson.CACHE_ENV: str(folder / "cache")}
            result = run_cli("report", "--out", folder / "site", env=env)
            assert result.returncode == 0, result.stderr
    return folder / "site"


def synthetic_run(folder: Path) -> dict:
    """A small screen's tables as ``measure`` writes them: one field blurred, one saturated, one empty.

    Two plates of three wells, two sites each: 12 fields, each with a small
    nuclei image on disk for its thumbnail.
    """
    rng = np.random.default_rng(0)
    rows, nuclei, files = [], [], {}
    folder.mkdir(parents=True, exist_ok=True)
    number = 0
    for plate in ("P1", "P2"):
        for well in ("B03", "C07", "D12"):
            for site in (1, 2):
                number += 1
                count = 0 if number == 12 else int(rng.integers(20, 40))
                rows.append(
                    {
                        "ImageNumber": number,
                        "Metadata_Plate": plate,
                        "Metadata_Well": well,
                        "Metadata_Site": site,
                        "Count_Nuclei": count,
                        "ImageQuality_PowerLogLogSlope_DNA": -3.0 if number == 5 else rng.normal(-1.5, 0.02),
                        "ImageQuality_PercentMaximal_DNA": 4.0 if number == 8 else 0.05,
                    }
                )
                nuclei.append(
                    pd.DataFrame(
                        {
                            "ImageNumber": number,
                            "ObjectNumber": np.arange(1, count + 1),
                            "Metadata_Plate": plate,
                            "Metadata_Well": well,
                            "Metadata_Site": site,
                            "AreaShape_Area": rng.normal(150, 20, count),
                            "Intensity_MeanIntensity_DNA": rng.normal(0.3, 0.05, count),
                        }
                    )
                )
                files[number] = folder / f"field{number}.tif"
                tifffile.imwrite(files[number], rng.integers(0, 255, (64, 64), dtype=np.uint8))
    nuclei = pd.concat(nuclei, ignore_index=True)
    tables = {
        "Image": pd.DataFrame(rows),
        "Nuclei": nuclei,
        "Cells": nuclei.assign(AreaShape_Area=nuclei.AreaShape_Area * 3),
    }
    failures = pd.DataFrame(
        {"field": ["P2_D12_s3"], "image_number": [13], "reason": ["x.tif: not a readable TIFF image"]}
    )
    return {"tables": tables, "failures": failures, "files": files}
