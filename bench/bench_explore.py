"""Time each exploration and clustering step over the 12 image pairs.

Prints the median and range of wall-clock seconds per pair, and compares the
binned kernel density with seaborn's own ``kdeplot`` on all 262,144 pixel
pairs of the first image (run once: it takes minutes).

    python bench/bench_explore.py [--skip-seaborn]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from analysis.io import images, registry
from analysis.steps import cluster, explore


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-seaborn", action="store_true")
    args = parser.parse_args()
    times: dict[str, list[float]] = {}
    for pair in registry.dataset_pairs():
        (nuclei, actin), t = timed(images.load_pair, pair)
        steps = {"load pair": t}
        stack = np.stack([nuclei, actin], axis=-1)
        steps["histograms"] = timed(lambda *cs: [explore.intensity_histogram(c) for c in cs], nuclei, actin)[
            1
        ]
        steps["equalise per channel"] = timed(explore.equalize_channels, stack)[1]
        normalised, steps["normalise (OpenCV)"] = timed(explore.normalise_to_reference, stack, nuclei)
        first, second = normalised[..., 0], normalised[..., 1]
        steps["2-D histogram"] = timed(explore.histogram_2d, first, second)[1]
        steps["KDE, binned (all pixels)"] = timed(explore.gaussian_kde_grid, first, second)[1]
        steps["ROI statistics"] = timed(
            explore.roi_statistics, {"n": first, "a": second}, explore.brightest_roi(first, 60, 50)
        )[1]
        features = explore.pixel_pairs(first, second)
        steps["GMM k=3"] = timed(cluster.fit_labels, features, 3, "gmm")[1]
        steps["KMeans k=3"] = timed(cluster.fit_labels, features, 3, "kmeans")[1]
        for name, seconds in steps.items():
            times.setdefault(name, []).append(seconds)
    print(f"| step | median s | min s | max s |  (n = {len(times['load pair'])} pairs)")
    print("|---|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.4f} | {min(values):.4f} | {max(values):.4f} |")
    if not args.skip_seaborn:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from seaborn import kdeplot

        nuclei, actin = images.load_pair(registry.dataset_pairs()[0])
        normalised = explore.normalise_to_reference(np.stack([nuclei, actin], axis=-1), nuclei)
        x, y = normalised[..., 0].ravel(), normalised[..., 1].ravel()
        fig, ax = plt.subplots()
        _, seconds = timed(kdeplot, x=x, y=y, ax=ax)
        _, binned = timed(explore.gaussian_kde_grid, normalised[..., 0], normalised[..., 1])
        print(
            f"seaborn.kdeplot, {x.size} points: {seconds:.1f} s; binned KDE: {binned:.3f} s "
            f"({seconds / binned:.0f}x faster)"
        )


if __name__ == "__main__":
    main()
