"""Time the report: a cold render, a cached re-render, and the cache key's
reaction to a changed data file.

    python bench/bench_render.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis import data, render


def timed_render(*flags: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "analysis", "report", *flags], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    print(f"cold render (--force): {timed_render('--force'):.1f} s")
    cached = [timed_render() for _ in range(3)]
    print(f"cached re-render: median {sorted(cached)[1]:.1f} s (runs: {', '.join(f'{c:.1f}' for c in cached)})")
    _, notebook = render.read_qmd(render.REPORT)
    files = sorted(data.fetch_all("images").glob("*.tif"))
    models = [render.PROJECT_MODEL / "weights_best.h5"]
    with tempfile.TemporaryDirectory() as tmp:
        changed = Path(tmp) / files[0].name
        shutil.copy(files[0], changed)
        payload = bytearray(changed.read_bytes())
        payload[-1] ^= 1
        changed.write_bytes(payload)
        same = render.cache_key(notebook, files, models) == render.cache_key(notebook, [changed, *files[1:]], models)
    print(f"one data file changed by one bit -> cache key {'unchanged (BUG)' if same else 'changed: re-execution'}")


if __name__ == "__main__":
    main()
