"""Time StarDist inference and a whole counting run.

1. Inference per 512 x 512 image after one warm-up call: median over the
   12 channel-1 images, 3 rounds each.
2. ``python -m analysis count`` on all 12 images, process start and model
   load included: median of 3 runs, for StarDist and the watershed baseline.

    python bench/bench_segment.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis import data, images, segment


def main() -> None:
    model = segment.load_model()
    images = [images.load_image(p.nuclei) for p in data.dataset_pairs()]
    segment.predict_labels(model, images[0])  # warm-up: graph building, first allocation
    per_image = []
    for _ in range(3):
        for image in images:
            start = time.perf_counter()
            segment.predict_labels(model, image)
            per_image.append(time.perf_counter() - start)
    print(
        f"StarDist inference per image after warm-up: median {statistics.median(per_image):.3f} s "
        f"(min {min(per_image):.3f}, max {max(per_image):.3f}, n = {len(per_image)})"
    )
    for method in ("stardist", "watershed"):
        runs = []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(3):
                start = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "analysis",
                        "count",
                        "--method",
                        method,
                        "--out",
                        str(Path(tmp) / "counts.csv"),
                    ],
                    check=True,
                    capture_output=True,
                )
                runs.append(time.perf_counter() - start)
        print(
            f"count run, 12 images, {method}: median {statistics.median(runs):.1f} s "
            f"(runs: {', '.join(f'{r:.1f}' for r in runs)})"
        )


if __name__ == "__main__":
    main()
