"""Time the lesson's render: cold (empty cache) and cached, medians of repeats.

    python bench/bench_render.py [--repeats 3] [--baseline REV]

``--baseline REV`` also times the project as it was at git revision REV
(checked out into a temporary worktree and rendered with the same Python),
so that before and after come from one run on one machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis.data import PROJECT_ROOT, cache_dir, mirror_dir
from analysis.render import CACHE_ENV


def timed(command: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def render_times(checkout: Path, repeats: int) -> tuple[list[float], list[float], list[float]]:
    """Cold, cached and no-op render times of the project in ``checkout``.

    Cold: empty execution cache. Cached: executions reused, documents built
    again (the output folder's stamp removed first). No-op: nothing changed.
    """
    import os

    cold, cached, noop = [], [], []
    mirror = mirror_dir()
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            # both checkouts read the same data (a worktree has no mirror beside it)
            env = {
                **os.environ,
                CACHE_ENV: str(Path(tmp) / "cache"),
                "BBBC008_CACHE": str(cache_dir()),
                "PYTHONPATH": str(checkout),
            }  # the kernels import this checkout's package
            if mirror:
                env["BBBC008_MIRROR"] = str(mirror)
            command = [sys.executable, "-m", "analysis", "report", "--out", str(Path(tmp) / "out")]
            cold.append(timed([*command, "--force"], checkout, env))
            (Path(tmp) / "out" / ".render-stamp").unlink(missing_ok=True)
            cached.append(timed(command, checkout, env))
            noop.append(timed(command, checkout, env))
    return cold, cached, noop


def summary(name: str, cold: list[float], cached: list[float], noop: list[float]) -> str:
    runs = ", ".join(f"{c:.1f}" for c in cold)
    return (
        f"{name}: cold median {statistics.median(cold):.1f} s ({runs}); "
        f"cached median {statistics.median(cached):.1f} s; "
        f"unchanged median {statistics.median(noop):.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", help="git revision to time as well")
    args = parser.parse_args()
    if args.baseline:
        with tempfile.TemporaryDirectory() as tmp:
            worktree = Path(tmp) / "baseline"
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(worktree), args.baseline],
                cwd=PROJECT_ROOT,
                check=True,
                capture_output=True,
            )
            try:
                print(summary(f"baseline {args.baseline}", *render_times(worktree, args.repeats)), flush=True)
            finally:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(worktree)],
                    cwd=PROJECT_ROOT,
                    check=True,
                    capture_output=True,
                )
    print(summary("this checkout", *render_times(PROJECT_ROOT, args.repeats)))


if __name__ == "__main__":
    main()
