"""The model's reference nucleus diameter: the centre of the training zoom, or no zoom.

``predict_labels`` resamples each field so that its nuclei have the model's
reference diameter (``scale.json``): the median diameter of the fitted A24
fields times the geometric centre of the training zoom range,
sqrt(0.7 x 2.0) = 1.18. With the fitted fields' own median as the
reference (zoom 1), every field is resampled by a factor 1.18 times smaller,
and the network sees about 28 % fewer pixels. Each reference, on the 12 fields:

1. StarDist per field at that reference's scale (resampling, network,
   non-maximum suppression, labels back), ONNX Runtime on ``--threads``
   threads: median over the 12 fields x ``--rounds`` rounds, the two
   references interleaved, nothing recalled.
2. A24 field 6 (the field that chose the checkpoint, never fitted):
   ``stardist-li`` Dice and ``stardist`` count error.
3. The held-out checks the project model must pass (``bench_int8.checks``).

    python bench/bench_reference.py [--rounds 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import pandas as pd
from bench_int8 import checks

from analysis.batch.serial import validate_segmentation
from analysis.io import images, registry
from analysis.models import predict, stardist_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    pairs = registry.dataset_pairs()
    fields = [images.load_pair(pair)[0] for pair in pairs]
    model = stardist_model.load_model(threads=args.threads)
    training = json.loads((stardist_model.PROJECT_MODEL / "training.json").read_text())
    zoom = math.sqrt(math.prod(training["settings"]["zoom_range"]))
    references = {
        "training zoom centre (the model's)": model.nucleus_diameter,
        "no zoom (fitted fields' median)": model.nucleus_diameter / zoom,
    }
    times = {name: [] for name in references}
    for _ in range(args.rounds):
        for field in fields:
            for name, reference in references.items():
                model.nucleus_diameter = reference
                model.recent.clear()
                factor = predict.scale_for(model, field)[1]
                start = time.perf_counter()
                predict.predict_labels(model, field, factor)
                times[name].append(time.perf_counter() - start)
    rows = []
    for name, reference in references.items():
        model.nucleus_diameter = reference
        model.recent.clear()
        factors = [predict.scale_for(model, field)[1] for field in fields]
        scores = validate_segmentation(pairs, ["stardist", "stardist-li"], model)
        well, field = training["train_well"], training["checkpoint_field"]
        chosen = scores[scores.well.eq(well) & scores.field.eq(field)]
        fitted = chosen[chosen.method.str.startswith("stardist-li")]
        plain = chosen[chosen.method.str.startswith("stardist (")]
        rows.append(
            {
                "reference": name,
                "diameter (px)": round(reference, 3),
                "scale factor, median": round(statistics.median(factors), 3),
                "StarDist per field (ms)": round(1000 * statistics.median(times[name]), 1),
                "A24 f6 stardist-li Dice": round(fitted.dice.item(), 4),
                "A24 f6 stardist count error": round(plain.count_error.item(), 4),
                **checks(scores),
            }
        )
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
