"""Where one field's time goes in ``measure``: each step of the per-field function, timed alone.

The steps of :func:`analysis.batch.per_field.measure_field` for the default
settings (stardist-li nuclei, cells, cytoplasm, features of two stains),
run one after the other on each of the 12 BBBC008 fields, each step on the
previous step's result, with the model on one thread as a ``measure``
worker has it; then the whole function on the same fields, and the Parquet
parts written. Medians over the fields and rounds; the steps' sum is
compared with the whole.

    python bench/bench_field.py [--rounds 3] [--model project|FOLDER]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from skimage.segmentation import relabel_sequential

from analysis.batch import per_field, screen
from analysis.io import registry
from analysis.models import predict, stardist_model
from analysis.steps import cells, features, scale, segment


def profile(fields: list[per_field.FieldImages], model, rounds: int) -> dict[str, list[float]]:
    """Seconds of each step, per field and round."""
    times: dict[str, list[float]] = defaultdict(list)

    def step(name, function, *args):
        start = time.perf_counter()
        result = function(*args)
        times[name].append(time.perf_counter() - start)
        return result

    for _ in range(rounds):
        for images in fields:
            raw = step("read the stains", per_field.read_stains, images)
            nuclei_image, actin = raw["DNA"], raw["Actin"]
            diameter = step("nucleus size (Li threshold, distances)", scale.estimate_diameter, nuclei_image)
            factor = scale.scale_factor(model.nucleus_diameter, diameter)
            model.recent.clear()  # predicted afresh (bench_segment.py splits this step)
            labels, _ = step(
                "StarDist at the model's scale", predict.predict_labels, model, nuclei_image, factor
            )
            fitted = step("fit to Li's foreground", segment.fit_to_foreground, labels, nuclei_image)
            nuclei = relabel_sequential(fitted)[0].astype(np.int32)
            grown = step("cells by propagation", cells.grow_cells, nuclei, actin)
            rest = step("cytoplasm", cells.cytoplasm, grown, nuclei)
            unit = step("intensities on 0..1", lambda: {n: features.to_unit(i) for n, i in raw.items()})  # noqa: B023
            for name, objects in (("Nuclei", nuclei), ("Cells", grown), ("Cytoplasm", rest)):
                step(f"features of {name}", features.object_features, objects, unit)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="project", help="project (default) or a model folder")
    args = parser.parse_args()
    pairs = registry.dataset_pairs()
    fields = per_field.fields_from_pairs(pairs)
    model = stardist_model.load_model(args.model, threads=1)
    settings = per_field.Settings()
    per_field.measure_field(fields[0], settings, model)  # warm-up
    model.recent.clear()
    steps = profile(fields, model, args.rounds)
    whole, written = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for images in fields:
                model.recent.clear()
                start = time.perf_counter()
                tables = per_field.measure_field(images, settings, model).tables
                whole.append(time.perf_counter() - start)
                start = time.perf_counter()
                screen.write_parts(Path(folder), images, tables, {"bench": "key"})
                written.append(time.perf_counter() - start)
    medians = {name: statistics.median(seconds) for name, seconds in steps.items()}
    total = sum(medians.values())
    print(
        f"one field of measure, steps timed alone (median over {len(fields)} fields x {args.rounds} rounds):"
    )
    for name, seconds in medians.items():
        print(f"  {name:48s} {seconds * 1000:7.1f} ms  {seconds / total:5.1%}")
    print(f"  {'sum of the steps':48s} {total * 1000:7.1f} ms")
    print(f"  {'measure_field, whole':48s} {statistics.median(whole) * 1000:7.1f} ms")
    print(f"  {'the four Parquet parts written':48s} {statistics.median(written) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
