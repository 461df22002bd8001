"""Time StarDist inference, the scale steps and a whole counting run.

1. Inference per 512 x 512 image after one warm-up call, at the image's own
   scale and at the model's: median over the 12 channel-1 images, 3 rounds each,
   each prediction made afresh (the model's memory of recent predictions,
   ``LoadedModel.recent``, is emptied before each).
2. The scale steps per image: the nucleus-size estimate, and the resampling
   of the image and of its labels back (the two ``skimage.transform`` calls).
3. One prediction at the image's own scale split into its steps (a model
   with ``model.onnx`` only): the normalisation, the network with its
   probability threshold, StarDist's non-maximum suppression and its
   polygons drawn as labels; medians over the same 36 predictions.
4. ``python -m analysis count`` on all 12 images, process start and model
   load included: median of 3 runs, for StarDist and the watershed baseline.

    python bench/bench_segment.py [--model FOLDER]

``--model`` times another model folder, e.g. a copy of the project's
without ``model.onnx`` to time the same network in TensorFlow.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from skimage.transform import resize

from analysis.io import images, registry
from analysis.models import predict, stardist_model
from analysis.models.onnx_stardist import OnnxStarDist
from analysis.steps import scale


def _timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def _predicted(model: stardist_model.LoadedModel, field: np.ndarray, factor: float = 1.0) -> None:
    """One prediction made afresh: the model's memory of recent ones is emptied first."""
    model.recent.clear()
    predict.predict_labels(model, field, factor)


def _summary(seconds: list[float]) -> str:
    return (
        f"median {statistics.median(seconds):.3f} s (min {min(seconds):.3f}, max {max(seconds):.3f}, "
        f"n = {len(seconds)})"
    )


def _steps(network: OnnxStarDist, field: np.ndarray) -> dict[str, float]:
    """Seconds of each step of one prediction at the field's own scale, and the candidates' number."""
    from stardist.geometry import polygons_to_label
    from stardist.nms import non_maximum_suppression_sparse

    times = {}
    start = time.perf_counter()
    normalised = predict.normalise_for_network(field)
    times["percentile normalisation"] = time.perf_counter() - start
    start = time.perf_counter()
    prob, dist, point = network.candidates(normalised)
    times["the network, with the probability threshold"] = time.perf_counter() - start
    start = time.perf_counter()
    points, probs, dists, _ = non_maximum_suppression_sparse(
        dist, prob, point, nms_thresh=network.thresholds.nms
    )
    times["non-maximum suppression"] = time.perf_counter() - start
    start = time.perf_counter()
    polygons_to_label(dists, points, prob=probs, shape=field.shape)
    times["polygons to labels"] = time.perf_counter() - start
    times["candidates"] = len(prob)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="project", help="project (default) or a model folder")
    args = parser.parse_args()
    model = stardist_model.load_model(args.model)
    print(f"model: {model.folder} ({type(model.model).__name__})")
    fields = [images.load_image(p.nuclei) for p in registry.dataset_pairs()]
    factors = [predict.scale_for(model, field)[1] for field in fields]
    predict.predict_labels(model, fields[0])  # warm-up: graph building, first allocation
    native, scaled, estimate, resampling = [], [], [], []
    for _ in range(3):
        for field, factor in zip(fields, factors, strict=True):
            native.append(_timed(_predicted, model, field))
            scaled.append(_timed(_predicted, model, field, factor))
            estimate.append(_timed(scale.estimate_diameter, field))
            labels = np.zeros(predict.resample(field, factor).shape, np.int32)
            back = partial(resize, order=0, preserve_range=True, anti_aliasing=False)
            resampling.append(_timed(predict.resample, field, factor) + _timed(back, labels, field.shape))
    print(f"StarDist inference per 512 x 512 image at its own scale, after warm-up: {_summary(native)}")
    print(
        f"at the model's scale (factors {min(factors):.2f} to {max(factors):.2f}), "
        f"resampling included: {_summary(scaled)}"
    )
    print(f"nucleus-size estimate per image: {_summary(estimate)}")
    print(f"resampling the image and its labels back: {_summary(resampling)}")
    if isinstance(model.model, OnnxStarDist):
        steps = pd.DataFrame([_steps(model.model, field) for _ in range(3) for field in fields])
        print(f"one prediction's steps (median {steps.pop('candidates').median():.0f} candidates):")
        for name, seconds in steps.items():
            print(f"  {name}: {_summary(list(seconds))}")
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
                        "--model",
                        args.model,
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
