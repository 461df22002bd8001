"""Shared fixtures: the verified data set and a command-line runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis import data


@pytest.fixture(scope="session")
def pairs() -> list[data.ImagePair]:
    """The 12 BBBC008 image pairs, verified against the manifest."""
    return data.dataset_pairs()


@pytest.fixture(scope="session")
def first_pair(pairs) -> tuple[np.ndarray, np.ndarray]:
    """Nuclei and actin of A24 field 1, the lesson's example image."""
    return data.load_pair(pairs[0])


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m analysis`` in a child process and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "analysis", *map(str, args)],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600,
    )


def assert_clean_failure(result: subprocess.CompletedProcess, names: str, out: Path) -> None:
    """One stderr line naming the culprit, non-zero exit, no traceback, no output."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and names in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.stem}*"))


@pytest.fixture(scope="session")
def lesson_site(tmp_path_factory) -> Path:
    """The lesson rendered from scratch into a temporary folder (its cache too)."""
    from analysis import render

    folder = tmp_path_factory.mktemp("lesson")
    result = run_cli("report", "--out", folder / "site", env={render.CACHE_ENV: str(folder / "cache")})
    assert result.returncode == 0, result.stderr
    return folder / "site"
