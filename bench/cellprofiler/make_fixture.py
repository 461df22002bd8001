"""Measure this package's own objects with real CellProfiler and keep its tables as a test fixture.

    python bench/cellprofiler/make_fixture.py CELLPROFILER_VENV WORK_FOLDER [--every N]

1. Finds the nuclei, cells and cytoplasm of the 12 BBBC008 fields exactly
   as ``measure`` does (:func:`analysis.batch.per_field.find_objects`) and
   writes them as 16-bit label images into WORK_FOLDER, with a LoadData
   table naming them beside the DNA and Actin images.
2. Builds the reference pipeline with CellProfiler's own Python
   (``pipeline.py``) and runs it headless.
3. Keeps every N-th object of each field (object numbers 1, 1 + N, ...),
   the features both sides compute, seven significant digits, gzipped, in
   ``tests/data/cellprofiler/``; the Image table whole.

CellProfiler 4.2.8.1 headless: ``shared/peers/cellprofiler/install.sh``.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from analysis.batch.per_field import OBJECTS, Settings, fields_from_pairs, find_objects, read_stains
from analysis.io.registry import dataset_pairs
from analysis.models.stardist_model import load_model

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parents[1] / "tests" / "data" / "cellprofiler"
KEYS = ["ImageNumber", "ObjectNumber"]


def write_inputs(folder: Path) -> None:
    settings = Settings()
    model = load_model()
    rows = []
    for field in fields_from_pairs(dataset_pairs(), settings):
        labels, _, _ = find_objects(read_stains(field), settings, model)
        row = {"Metadata_Well": field.well, "Metadata_Site": field.site}
        for stain, path in field.stains.items():
            row |= {f"Image_FileName_{stain}": path.name, f"Image_PathName_{stain}": str(path.parent)}
        for name, image in labels.items():
            file = folder / "labels" / f"{field.name}_{name}.tiff"
            tifffile.imwrite(file, image.astype(np.uint16))
            row |= {
                f"Image_ObjectsFileName_{name}": file.name,
                f"Image_ObjectsPathName_{name}": str(file.parent),
            }
        rows.append(row)
    pd.DataFrame(rows).to_csv(folder / "load.csv", index=False)


def run_cellprofiler(venv: Path, folder: Path) -> None:
    subprocess.run([venv / "bin" / "python", HERE / "pipeline.py", folder], check=True)
    subprocess.run(
        [venv / "bin" / "cellprofiler", "-c", "-r", "-p", folder / "measure.cppipe", "-o", folder / "out"],
        check=True,
    )


def our_numbers(folder: Path, name: str) -> pd.DataFrame:
    """CellProfiler numbers the objects of a label image 1..n, closing gaps; the labels' own numbers."""
    load = pd.read_csv(folder / "load.csv")
    rows = []
    for number, file in enumerate(load[f"Image_ObjectsFileName_{name}"], start=1):
        labels = np.unique(tifffile.imread(folder / "labels" / file))
        labels = labels[labels > 0]
        rows.append(
            pd.DataFrame({"ImageNumber": number, "Rank": np.arange(1, len(labels) + 1), "Label": labels})
        )
    return pd.concat(rows, ignore_index=True)


def keep(folder: Path, every: int) -> None:
    FIXTURE.mkdir(parents=True, exist_ok=True)
    for name in OBJECTS:
        table = pd.read_csv(folder / "out" / f"{name}.csv")
        numbers = our_numbers(folder, name).rename(columns={"Rank": "ObjectNumber"})
        table = table.merge(numbers, on=KEYS, validate="one_to_one")
        table["ObjectNumber"] = table.pop("Label")
        table = table[(table.ObjectNumber - 1) % every == 0]
        families = ("AreaShape_", "Intensity_", "Location_", "Texture_", "Granularity_")
        families += ("RadialDistribution_", "Correlation_")
        features = [c for c in table if c.startswith(families)]
        table[KEYS + features].to_csv(FIXTURE / f"{name}.csv.gz", index=False, float_format="%.7g")
    image = pd.read_csv(folder / "out" / "Image.csv")
    quality = [c for c in image if c.startswith("ImageQuality_")]
    image[["ImageNumber", *quality]].to_csv(FIXTURE / "Image.csv.gz", index=False, float_format="%.7g")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venv", type=Path, help="CellProfiler's virtual environment")
    parser.add_argument("folder", type=Path, help="an empty work folder outside the checkout")
    parser.add_argument("--every", type=int, default=4, help="keep every N-th object (default 4)")
    args = parser.parse_args()
    folder = args.folder.resolve()
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    write_inputs(folder)
    run_cellprofiler(args.venv, folder)
    keep(folder, args.every)
    print(FIXTURE, file=sys.stderr)


if __name__ == "__main__":
    main()
