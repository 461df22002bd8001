"""Where a result came from: software, platform, commit, data, model, time."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

from analysis.io.registry import PROJECT_ROOT, fetch, read_manifest, sha256

PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "scikit-image",
    "scikit-learn",
    "opencv-python-headless",
    "tifffile",
    "matplotlib",
    "seaborn",
    "tensorflow-cpu",
    "keras",
    "stardist",
    "csbdeep",
    "nbclient",
    "jupytext",
    "pypandoc-binary",
    "typst",
)


def package_versions(packages=PACKAGES) -> pd.DataFrame:
    """Installed version of each package (``"not installed"`` otherwise).

    Parameters
    ----------
    packages : sequence of str
        Distribution names.

    Returns
    -------
    DataFrame
        ``package`` and ``version``.
    """
    rows = []
    for name in packages:
        try:
            rows.append({"package": name, "version": version(name)})
        except PackageNotFoundError:
            rows.append({"package": name, "version": "not installed"})
    return pd.DataFrame(rows)


def platform_summary() -> pd.DataFrame:
    """Python, operating system, processor and the project's git commit.

    Returns
    -------
    DataFrame
        ``item`` and ``value``.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commit += " (with uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown (not a git checkout)"
    return pd.DataFrame(
        [
            {"item": "python", "value": sys.version.split()[0]},
            {"item": "platform", "value": platform.platform()},
            {"item": "processor", "value": platform.machine()},
            {"item": "git commit", "value": commit},
        ]
    )


def data_hashes() -> pd.DataFrame:
    """SHA-256 of every data file as read, checked against the manifest.

    Returns
    -------
    DataFrame
        ``kind``, ``file``, ``sha256`` and ``matches_manifest``.
    """
    rows = []
    for entry in read_manifest():
        actual = sha256(fetch(entry))
        rows.append(
            {
                "kind": entry.kind,
                "file": entry.file,
                "sha256": actual,
                "matches_manifest": actual == entry.sha256,
            }
        )
    return pd.DataFrame(rows)
