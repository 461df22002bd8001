"""``measure`` against CellProfiler 4.2.8's measurement modules, side by side in one run.

    python bench/bench_vs_cellprofiler.py CELLPROFILER_VENV [--work DIR] [--repeats 3]

1. Writes the nuclei, cells and cytoplasm of the 12 BBBC008 fields as label
   images, with a LoadData table naming them beside the DNA and Actin images
   (``cellprofiler/make_fixture.py``'s inputs).
2. Runs CellProfiler headless on them with the reference pipeline
   (``cellprofiler/pipeline.py``: every Measure* module the package
   reproduces) and reads its ``ExecutionTime_`` columns: the CPU seconds of
   each module on each field, as CellProfiler records them.
3. Runs ``python -m analysis measure --workers 1`` on the same 12 fields with
   the default features, timed whole (start-up, reading, segmentation,
   propagation, features, Parquet, QC page), ``--repeats`` times (default
   3; the median counts).
4. Times each feature family of the package on the 12 fields, on the
   objects ``measure`` finds (one call per field and family after one
   warm-up call, the CPU seconds of this process), as ``bench_features.py``
   does.

It prints, per family, CellProfiler's module time next to the package's and
their ratio, then the whole ``measure`` run against the sum of
CellProfiler's measurement modules, and the machine's load before and after.
Without a CellProfiler environment it says so and stops (exit 0).
CellProfiler 4.2.8.1 headless: ``shared/peers/cellprofiler/install.sh``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "cellprofiler")]

#: The package's feature set and the CellProfiler module that computes it.
MODULES = {
    "AreaShape": "MeasureObjectSizeShape",
    "Intensity": "MeasureObjectIntensity",
    "Texture": "MeasureTexture",
    "Granularity": "MeasureGranularity",
    "RadialDistribution": "MeasureObjectIntensityDistribution",
    "Correlation": "MeasureColocalization",
    "ImageQuality": "MeasureImageQuality",
}


def cellprofiler_seconds(venv: Path, folder: Path) -> tuple[dict[str, float], float]:
    """CellProfiler's CPU seconds per measurement module over all fields, and its whole run's wall time."""
    from make_fixture import run_cellprofiler, write_inputs

    (folder / "labels").mkdir(parents=True, exist_ok=True)
    write_inputs(folder)
    start = time.perf_counter()
    run_cellprofiler(venv, folder)
    wall = time.perf_counter() - start
    image = pd.read_csv(folder / "out" / "Image.csv")
    seconds = {}
    for family, module in MODULES.items():
        columns = [c for c in image if c.startswith("ExecutionTime_") and c.endswith(module)]
        seconds[family] = float(image[columns].to_numpy().sum())
    return seconds, wall


def measure_seconds(out: Path) -> float:
    """Wall seconds of ``python -m analysis measure --workers 1`` on the 12 fields."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "analysis", "measure", "--workers", "1", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def family_seconds() -> dict[str, float]:
    """CPU seconds of this process for each feature set over the 12 fields, objects found beforehand."""
    from bench_features import feature_sets

    from analysis.batch.per_field import BASIC, Settings, fields_from_pairs, find_objects, read_stains
    from analysis.io.registry import dataset_pairs
    from analysis.models.stardist_model import load_model
    from analysis.steps.features import to_unit

    settings, model = Settings(), load_model(threads=1)
    seconds: dict[str, float] = dict.fromkeys(MODULES, 0.0)
    for images in fields_from_pairs(dataset_pairs()):
        raw = read_stains(images)
        labels = find_objects(raw, settings, model)[0]
        unit = {name: to_unit(image) for name, image in raw.items()}
        sets = feature_sets(labels, raw, unit)
        sets.pop(BASIC)
        for name, run in sets.items():
            run()  # numba's compiled code is loaded on the first call
            start = time.process_time()
            run()
            seconds[name] += time.process_time() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venv", type=Path, nargs="?", help="CellProfiler's virtual environment")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of measure (default 3; the median counts)"
    )
    args = parser.parse_args()
    if args.venv is None or not (args.venv / "bin" / "cellprofiler").is_file():
        print(
            "skipped: no CellProfiler environment given "
            "(build one with shared/peers/cellprofiler/install.sh, then pass its folder)"
        )
        return
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        folder = (args.work or Path(scratch)).resolve()
        theirs, their_wall = cellprofiler_seconds(args.venv.resolve(), folder / "cellprofiler")
        runs = [measure_seconds(folder / f"measure{run}") for run in range(args.repeats)]
    whole = statistics.median(runs)
    ours = family_seconds()
    load_after = os.getloadavg()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"load average (1, 5, 15 min) before: {load_before}, after: {load_after}")
    print("12 BBBC008 fields; nuclei, cells and cytoplasm; DNA and Actin; seconds over the 12 fields")
    print(f"{'family':<20}{'CellProfiler module':<38}{'CellProfiler':>13}{'package':>9}{'ratio':>8}")
    for family, module in MODULES.items():
        ratio = theirs[family] / ours[family] if ours[family] else float("inf")
        print(f"{family:<20}{module:<38}{theirs[family]:>13.2f}{ours[family]:>9.2f}{ratio:>7.1f}x")
    total = sum(theirs.values())
    print(f"{'all measurement modules':<58}{total:>13.2f}{sum(ours.values()):>9.2f}")
    print(f"CellProfiler's whole run (LoadData, modules, export), wall: {their_wall:.1f} s")
    listed = ", ".join(f"{seconds:.1f}" for seconds in runs)
    print(f"measure --workers 1, whole run, wall: median {whole:.1f} s (runs: {listed})")
    print(f"CellProfiler's measurement modules / the whole measure run: {total / whole:.2f}x")


if __name__ == "__main__":
    main()
