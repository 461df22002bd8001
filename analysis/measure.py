"""Per-object measurements of one field, in CellProfiler's table layout.

Three object types, sharing their object numbers: ``Nuclei`` (StarDist's,
fitted to the stain), ``Cells`` (grown from them on the actin stain,
:mod:`analysis.cells`) and ``Cytoplasm`` (cell minus nucleus); and an
``Image`` table with one row per field. Column names follow CellProfiler's
ExportToSpreadsheet (``ImageNumber``, ``ObjectNumber``, ``Metadata_Well``,
``AreaShape_Area``, ``Intensity_MeanIntensity_DNA``, ``Parent_Nuclei`` ...),
so tools written for CellProfiler's output (pycytominer, cytominer) read
them; :func:`single_cell_table` joins them into one row per cell with the
compartment prefixes those tools expect (``Nuclei_AreaShape_Area``).

Intensities are scaled to 0..1 by the pixel type's range (8-bit by 255,
16-bit by 65535; floating-point images as they are), as CellProfiler reads
images. Shape features come from :func:`skimage.measure.regionprops_table`;
its perimeter (and so ``FormFactor``) is computed differently from
CellProfiler's, so those two columns are comparable within this package
only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from skimage.filters import threshold_otsu
from skimage.measure import regionprops_table
from skimage.segmentation import relabel_sequential

from .cells import REGULARIZATION, cytoplasm, grow_cells
from .images import load_image
from .models import LoadedModel
from .segment import scale_for, segment

OBJECTS = ("Nuclei", "Cells", "Cytoplasm")
SHAPE = {
    "area": "AreaShape_Area",
    "perimeter": "AreaShape_Perimeter",
    "eccentricity": "AreaShape_Eccentricity",
    "solidity": "AreaShape_Solidity",
    "axis_major_length": "AreaShape_MajorAxisLength",
    "axis_minor_length": "AreaShape_MinorAxisLength",
}
INTENSITY = {
    "intensity_mean": "Intensity_MeanIntensity",
    "intensity_std": "Intensity_StdIntensity",
    "intensity_max": "Intensity_MaxIntensity",
}


@dataclass(frozen=True)
class FieldImages:
    """The files of one field and where it sits in the screen.

    Attributes
    ----------
    image_number : int
        1-based, CellProfiler's ``ImageNumber``.
    plate, well : str
    site : int
        The field of view in its well (``Metadata_Site``).
    stains : dict
        Stain name to file; holds at least the nuclei and actin stains.
    """

    image_number: int
    plate: str
    well: str
    site: int
    stains: dict[str, Path] = field(hash=False)

    @property
    def name(self) -> str:
        """A name for files and messages, e.g. ``"P1_A24_s1"``."""
        return "_".join(part for part in (self.plate, self.well, f"s{self.site}") if part)


@dataclass(frozen=True)
class Settings:
    """How a field is measured; part of every result's key.

    Attributes
    ----------
    nuclei_stain, actin_stain : str
        Names of the two stains the objects are found in.
    method : str
        Nuclei method (:func:`analysis.segment.segment`).
    diameter : float or None
        Nucleus diameter in pixels for every field; None estimates it per field.
    regularization : float
        Propagation's lambda (:func:`analysis.cells.grow_cells`).
    mitotic_stain : str or None
        A stain marking mitotic nuclei (phospho-histone H3, say); when given,
        each nucleus is classified and the Image table gets a mitotic index.
    """

    nuclei_stain: str = "DNA"
    actin_stain: str = "Actin"
    method: str = "stardist-li"
    diameter: float | None = None
    regularization: float = REGULARIZATION
    mitotic_stain: str | None = None


def to_unit(image: np.ndarray) -> np.ndarray:
    """Intensities on 0..1 by the pixel type's range, as CellProfiler loads images.

    Parameters
    ----------
    image : ndarray of uint8, uint16 or float

    Returns
    -------
    ndarray of float64
    """
    if image.dtype.kind == "u":
        return image.astype(np.float64) / np.iinfo(image.dtype).max
    return image.astype(np.float64)


def object_features(labels: np.ndarray, stains: dict[str, np.ndarray]) -> pd.DataFrame:
    """Shape, location and per-stain intensity of each object.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n (gaps allowed), 0 = background.
    stains : dict
        Stain name to its image on 0..1 (:func:`to_unit`).

    Returns
    -------
    DataFrame
        One row per object, in label order: ``ObjectNumber``,
        ``Location_Center_X`` and ``_Y`` (column and row, pixels), the
        ``AreaShape_`` features (``FormFactor`` = 4 pi area / perimeter^2,
        NaN for an object without perimeter) and, per stain,
        ``Intensity_MeanIntensity_``, ``_StdIntensity_``, ``_MaxIntensity_``
        and ``_IntegratedIntensity_`` (the sum).
    """
    names = list(stains)
    props = regionprops_table(
        labels,
        intensity_image=np.stack([stains[n] for n in names], axis=-1),
        properties=("label", "centroid", *SHAPE, *INTENSITY),
    )
    table = {
        "ObjectNumber": props["label"],
        "Location_Center_X": props["centroid-1"],
        "Location_Center_Y": props["centroid-0"],
    }
    table |= {column: props[prop] for prop, column in SHAPE.items()}
    perimeter = props["perimeter"]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["AreaShape_FormFactor"] = np.where(
            perimeter > 0, 4 * np.pi * props["area"] / perimeter**2, np.nan
        )
    for index, name in enumerate(names):
        for prop, column in INTENSITY.items():
            table[f"{column}_{name}"] = props[f"{prop}-{index}"]
        table[f"Intensity_IntegratedIntensity_{name}"] = props[f"intensity_mean-{index}"] * props["area"]
    return pd.DataFrame(table)


def mitotic(nuclei_means: np.ndarray, stain: np.ndarray) -> np.ndarray:
    """Which nuclei are bright in a mitosis marker.

    A nucleus counts as mitotic when its mean marker intensity is above
    Otsu's threshold of the marker image, which separates the few bright
    (mitotic) nuclei from the dim rest and the background.

    Parameters
    ----------
    nuclei_means : ndarray of float, shape (n,)
        Each nucleus's mean marker intensity.
    stain : ndarray, shape (rows, cols)
        The marker image, on the same scale.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    return nuclei_means > threshold_otsu(stain)


def measure_field(
    images: FieldImages, settings: Settings, model: LoadedModel | None
) -> dict[str, pd.DataFrame]:
    """Find nuclei, cells and cytoplasm in one field and measure them.

    Parameters
    ----------
    images : FieldImages
    settings : Settings
    model : LoadedModel or None
        Required for the StarDist methods.

    Returns
    -------
    dict
        ``"Image"``, ``"Nuclei"``, ``"Cells"``, ``"Cytoplasm"``: DataFrames
        in CellProfiler's layout, objects in object-number order.
    """
    raw = {name: load_image(path) for name, path in images.stains.items()}
    nuclei_image, actin_image = raw[settings.nuclei_stain], raw[settings.actin_stain]
    stardist = settings.method.startswith("stardist")
    diameter, factor = scale_for(model if stardist else None, nuclei_image, settings.diameter)
    nuclei = relabel_sequential(segment(nuclei_image, settings.method, model, factor))[0].astype(np.int32)
    cells = grow_cells(nuclei, actin_image, settings.regularization)
    labels = {"Nuclei": nuclei, "Cells": cells, "Cytoplasm": cytoplasm(cells, nuclei)}
    unit = {name: to_unit(image) for name, image in raw.items()}
    metadata = {
        "ImageNumber": images.image_number,
        "Metadata_Plate": images.plate,
        "Metadata_Well": images.well,
        "Metadata_Site": images.site,
    }
    tables = {}
    for name, objects in labels.items():
        table = object_features(objects, unit)
        table.insert(0, "ImageNumber", images.image_number)
        for position, key in enumerate(("Metadata_Plate", "Metadata_Well", "Metadata_Site"), start=2):
            table.insert(position, key, metadata[key])
        if name != "Nuclei":
            table["Parent_Nuclei"] = table["ObjectNumber"]
        if name == "Cytoplasm":
            table["Parent_Cells"] = table["ObjectNumber"]
        tables[name] = table
    image_row = metadata | {f"FileName_{name}": path.name for name, path in images.stains.items()}
    image_row |= {f"Count_{name}": len(tables[name]) for name in OBJECTS}
    image_row |= {f"Intensity_TotalIntensity_{name}": float(unit[name].sum()) for name in unit}
    image_row |= {f"Intensity_MeanIntensity_{name}": float(unit[name].mean()) for name in unit}
    image_row |= {"Math_NucleusDiameter": diameter, "Math_PredictionScale": factor}
    if settings.mitotic_stain:
        marker = settings.mitotic_stain
        flags = mitotic(tables["Nuclei"][f"Intensity_MeanIntensity_{marker}"].to_numpy(), unit[marker])
        tables["Nuclei"][f"Classify_Mitotic_{marker}"] = flags.astype(np.int8)
        image_row[f"Count_MitoticNuclei_{marker}"] = int(flags.sum())
        image_row[f"Math_MitoticIndex_{marker}"] = float(flags.mean()) if len(flags) else float("nan")
    tables["Image"] = pd.DataFrame([image_row])
    return tables


def single_cell_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per cell with its nucleus's and cytoplasm's features beside its own.

    Parameters
    ----------
    tables : dict
        ``"Nuclei"``, ``"Cells"``, ``"Cytoplasm"`` as :func:`measure_field`
        returns them (or concatenated over fields).

    Returns
    -------
    DataFrame
        ``Metadata_`` columns, ``ImageNumber``, ``ObjectNumber``, then every
        feature prefixed by its compartment (``Cells_AreaShape_Area``,
        ``Nuclei_Intensity_MeanIntensity_DNA`` ...), the layout pycytominer
        and cytominer read. A cell without cytoplasm has NaN there.
    """
    keys = ["ImageNumber", "ObjectNumber"]
    metadata = [c for c in tables["Cells"].columns if c.startswith("Metadata_")]
    merged = tables["Cells"][[*keys, *metadata]]
    for name in ("Cells", "Nuclei", "Cytoplasm"):
        features = tables[name].drop(columns=metadata + [c for c in tables[name] if c.startswith("Parent_")])
        features = features.rename(columns={c: f"{name}_{c}" for c in features.columns if c not in keys})
        merged = merged.merge(features, on=keys, how="left")
    return merged
