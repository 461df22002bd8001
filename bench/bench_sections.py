"""Time the lesson's first six sections on one image, in one fresh process.

Loading, histograms, equalisation, normalisation, the pixel-pair figure
(scatter, 2-D histogram, density), a region of interest and clustering
(Gaussian mixture and k-means, three clusters), done with the package, the
figure drawn to PNG, Python's start and every import included.

    python bench/bench_sections.py [--repeats 3] [--baseline REV]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baseline import checkouts, child_env, parse_args

SECTIONS = """
import matplotlib
matplotlib.use("Agg")
import numpy as np
from analysis.steps import cluster, explore
from analysis.io import registry
from analysis.plots import figures
try:
    from analysis.io.images import load_pair
except ImportError:  # older revisions read images in analysis.io.registry
    from analysis.io.registry import load_pair

nuclei, actin = load_pair(registry.dataset_pairs()[0])
counts = [explore.intensity_histogram(c) for c in (nuclei, actin)]
equalised = explore.equalize_channels(np.stack([nuclei, actin], axis=-1))
normalised = explore.normalise_to_reference(np.stack([nuclei, actin], axis=-1), nuclei)
first, second = normalised[..., 0], normalised[..., 1]
pair_counts, edges = explore.histogram_2d(first, second)
density = explore.gaussian_kde_grid(first, second)
figures.plot_pixel_pairs(first, second, pair_counts, edges, density).savefig("pairs.png")
roi = explore.brightest_roi(first, 60, 50)
crop = explore.crop(first, roi)
features = explore.pixel_pairs(first, second)
labels = [cluster.fit_labels(features, 3, method) for method in ("gmm", "kmeans")]
"""


def run_once(checkout: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", SECTIONS],
            cwd=tmp,
            env=child_env(checkout, MPLBACKEND="Agg"),
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    with checkouts(args.baseline) as found:
        for name, checkout in found.items():
            runs = [run_once(checkout) for _ in range(args.repeats)]
            listed = ", ".join(f"{r:.2f}" for r in runs)
            print(f"{name}: median {statistics.median(runs):.2f} s ({listed})", flush=True)


if __name__ == "__main__":
    main()
