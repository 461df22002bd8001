"""Per-object measurements under CellProfiler's names: location, shape, intensity.

Intensities are scaled to 0..1 by the pixel type's range (8-bit by 255,
16-bit by 65535; floating-point images as they are), as CellProfiler reads
images. Shape features come from :func:`skimage.measure.regionprops_table`;
its perimeter (and so ``FormFactor``) is computed differently from
CellProfiler's, so those two columns are comparable within this package
only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage.filters import threshold_otsu
from skimage.measure import regionprops_table

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


def _locations(props: dict) -> dict:
    return {
        "ObjectNumber": props["label"],
        "Location_Center_X": props["centroid-1"],
        "Location_Center_Y": props["centroid-0"],
    }


def object_locations(labels: np.ndarray) -> pd.DataFrame:
    """Number and centre of each object.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n (gaps allowed), 0 = background.

    Returns
    -------
    DataFrame
        ``ObjectNumber``, ``Location_Center_X`` and ``_Y`` (column and row,
        pixels), one row per object in label order.
    """
    return pd.DataFrame(_locations(regionprops_table(labels, properties=("label", "centroid"))))


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
    table = _locations(props)
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
