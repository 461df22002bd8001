"""Time each feature family per field: what ``measure --features`` costs.

For each of the first ``--fields`` BBBC008 fields, the nuclei, cells and
cytoplasm are found once (as ``measure`` finds them); then each family of
:data:`analysis.steps.profiling.FAMILIES`, the small ``basic`` set and the
image quality measures are timed on the three object types and two stains,
``--repeats`` times. The table gives the median seconds per field of each
set, the share of the whole, and the fields per second one core would reach
with that set alone (object finding not counted; it is timed by
``bench_field.py``). The first call of each family, which compiles numba
code, is left out.

    python bench/bench_features.py [--fields 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from analysis.batch.per_field import BASIC, Settings, fields_from_pairs, find_objects, read_stains
from analysis.io.registry import dataset_pairs
from analysis.models.stardist_model import load_model
from analysis.steps.features import object_features, to_unit
from analysis.steps.profiling import FAMILIES, costes_scale, family_features
from analysis.steps.quality import image_quality


def feature_sets(labels, raw, unit):
    """Each feature set of one field as a function of no arguments, by name."""
    scales = {name: costes_scale(image) for name, image in raw.items()}

    def field(family):  # one field's object types share what its images alone decide, as in measure
        shared = {}
        return [family_features(family, objects, unit, scales, shared) for objects in labels.values()]

    sets = {family: lambda family=family: field(family) for family in FAMILIES}
    sets[BASIC] = lambda: [object_features(objects, unit) for objects in labels.values()]
    sets["ImageQuality"] = lambda: [image_quality(image, name) for name, image in unit.items()]
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    settings, model = Settings(), load_model()
    seconds: dict[str, list[float]] = {}
    for images in fields_from_pairs(dataset_pairs())[: args.fields]:
        raw = read_stains(images)
        labels = find_objects(raw, settings, model)[0]
        unit = {name: to_unit(image) for name, image in raw.items()}
        sets = feature_sets(labels, raw, unit)
        for run in sets.values():  # numba compiles on the first call
            run()
        for name, run in sets.items():
            for _ in range(args.repeats):
                start = time.perf_counter()
                run()
                seconds.setdefault(name, []).append(time.perf_counter() - start)
    medians = {name: statistics.median(times) for name, times in seconds.items()}
    default = sum(medians[name] for name in (*FAMILIES, "ImageQuality"))
    print(f"{args.fields} fields x {args.repeats} repeats; nuclei, cells and cytoplasm; DNA and Actin")
    print(f"{'set':<20}{'s per field':>12}{'share':>8}{'fields/s':>10}")
    for name, value in medians.items():
        share = f"{value / default:.0%}" if name != BASIC else ""
        print(f"{name:<20}{value:>12.3f}{share:>8}{1 / value:>10.1f}")
    print(f"{'default (all above)':<20}{default:>12.3f}{'100%':>8}{1 / default:>10.2f}")


if __name__ == "__main__":
    main()
