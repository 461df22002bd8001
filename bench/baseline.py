"""What the benchmarks share: a baseline revision checked out beside this one, and a child's environment."""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from analysis.io.registry import PROJECT_ROOT, cache_dir, mirror_dir


@contextmanager
def checkouts(baseline: str | None) -> Iterator[dict[str, Path]]:
    """The checkouts to time: ``baseline`` (a git revision, in a temporary worktree) first, then this one."""
    with tempfile.TemporaryDirectory() as tmp:
        found = {}
        if baseline:
            worktree = Path(tmp) / "baseline"
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(worktree), baseline],
                cwd=PROJECT_ROOT,
                check=True,
                capture_output=True,
            )
            found[f"baseline {baseline}"] = worktree
        try:
            yield {**found, "this checkout": PROJECT_ROOT}
        finally:
            if baseline:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(worktree)],
                    cwd=PROJECT_ROOT,
                    check=True,
                    capture_output=True,
                )


def child_env(checkout: Path, **extra: str) -> dict[str, str]:
    """Environment of a timed child: this checkout's package and the same data as here."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "BBBC008_CACHE": str(cache_dir()), **extra}
    mirror = mirror_dir()
    if mirror:  # a worktree has no mirror beside it
        env["BBBC008_MIRROR"] = str(mirror)
    return env


def parse_args(description: str) -> argparse.Namespace:
    """The benchmarks' options: ``--repeats`` and ``--baseline REV``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", help="git revision to time as well")
    return parser.parse_args()
