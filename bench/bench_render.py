"""Time the lesson's render: cold (empty cache), cached, unchanged and re-executed, medians of repeats.

    python bench/bench_render.py [--repeats 3] [--baseline REV]

``--baseline REV`` also times the project as it was at git revision REV
(checked out into a temporary worktree and rendered with the same Python),
so that before and after come from one run on one machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baseline import checkouts, child_env, parse_args

from analysis.lesson import CACHE_ENV


def timed(command: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def render_times(checkout: Path, repeats: int) -> tuple[list[float], ...]:
    """Cold, cached, no-op and forced render times of the project in ``checkout``.

    Cold: empty execution cache. Cached: executions reused, documents built
    again (the output folder's stamp removed first). No-op: nothing changed.
    Forced: every page executed again (``--force``) with the cache folder of
    the cold render, so that a revision with a prediction store finds the
    network's results there, as a re-render of edited pages does.
    """
    cold, cached, noop, forced = [], [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            env = child_env(checkout, **{CACHE_ENV: str(Path(tmp) / "cache")})
            command = [sys.executable, "-m", "analysis", "report", "--out", str(Path(tmp) / "out")]
            cold.append(timed([*command, "--force"], checkout, env))
            (Path(tmp) / "out" / ".render-stamp").unlink(missing_ok=True)
            cached.append(timed(command, checkout, env))
            noop.append(timed(command, checkout, env))
            forced.append(timed([*command, "--force"], checkout, env))
    return cold, cached, noop, forced


def summary(name: str, cold: list[float], cached: list[float], noop: list[float], forced: list[float]) -> str:
    runs = ", ".join(f"{c:.1f}" for c in cold)
    return (
        f"{name}: cold median {statistics.median(cold):.1f} s ({runs}); "
        f"cached median {statistics.median(cached):.1f} s; "
        f"unchanged median {statistics.median(noop):.1f} s; "
        f"every page re-executed median {statistics.median(forced):.1f} s"
    )


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    with checkouts(args.baseline) as found:
        for name, checkout in found.items():
            print(summary(name, *render_times(checkout, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
