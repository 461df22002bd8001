"""Per-object measurements under CellProfiler's names: location, shape, intensity.

Intensities are scaled to 0..1 by the pixel type's range (8-bit by 255,
16-bit by 65535; floating-point images as they are), as CellProfiler reads
images. Every measurement follows the definition of
:func:`skimage.measure.regionprops` and equals its value, but is computed
for all objects at once (:func:`_moments`, :func:`perimeters`) where
regionprops visits the objects one by one, or with less work per object
(:func:`convex_areas`, for solidity). skimage's perimeter (and so
``FormFactor``) is computed differently from CellProfiler's, so those two
columns are comparable within this package only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit
from skimage.filters import threshold_otsu

#: The weight of each code of a border pixel in skimage's perimeter
#: (:func:`skimage.measure.perimeter`, after Benkrid and Crookes): the pixel
#: itself counts 1, each border neighbour beside it 2, each diagonal one 10.
_PERIMETER_WEIGHTS = np.zeros(50)
_PERIMETER_WEIGHTS[[5, 7, 15, 17, 25, 27]] = 1
_PERIMETER_WEIGHTS[[21, 33]] = np.sqrt(2)
_PERIMETER_WEIGHTS[[13, 23]] = (1 + np.sqrt(2)) / 2
#: The neighbours beside a pixel and those on its diagonals, as (row, column) steps.
_BESIDE = ((-1, 0), (1, 0), (0, -1), (0, 1))
_DIAGONAL = ((-1, -1), (-1, 1), (1, -1), (1, 1))


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


def _neighbours(padded: np.ndarray, step: tuple[int, int]) -> np.ndarray:
    """Each pixel's neighbour ``step`` = (rows, cols) away, from the image padded by one 0."""
    rows, cols = step
    return padded[1 + rows : padded.shape[0] - 1 + rows, 1 + cols : padded.shape[1] - 1 + cols]


def perimeters(labels: np.ndarray) -> np.ndarray:
    """Each object's perimeter, as regionprops' ``perimeter``, all objects at once.

    An object's border pixels are those with one of their four neighbours
    outside it; each border pixel is weighted by which of its eight
    neighbours are border pixels of the same object
    (:func:`skimage.measure.perimeter` with ``neighborhood=4``, applied to
    each object alone).

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n (gaps allowed), 0 = background.

    Returns
    -------
    ndarray of float64
        One value per object present, in label order.
    """
    padded = np.pad(labels, 1)
    border = (labels > 0) & np.logical_or.reduce([_neighbours(padded, step) != labels for step in _BESIDE])
    border_padded = np.pad(np.where(border, labels, 0), 1)
    beside = sum(_neighbours(border_padded, step) == labels for step in _BESIDE)
    diagonal = sum(_neighbours(border_padded, step) == labels for step in _DIAGONAL)
    codes = (1 + 2 * beside + 10 * diagonal)[border]
    # Every object has border pixels (its top row's), so these are all objects present.
    label, objects = np.unique(labels[border], return_inverse=True)
    histograms = np.bincount(objects * 50 + codes, minlength=50 * len(label)).reshape(-1, 50)
    return np.array([histogram @ _PERIMETER_WEIGHTS for histogram in histograms])


@njit(cache=True)
def _turns_left(hull: np.ndarray, size: int, point: np.ndarray) -> bool:  # pragma: no cover
    """Whether the hull's last two points and ``point`` turn counter-clockwise (strictly)."""
    a, b = hull[size - 2], hull[size - 1]
    return (b[0] - a[0]) * (point[1] - a[1]) - (b[1] - a[1]) * (point[0] - a[0]) > 0


@njit(cache=True)
def _hull(points: np.ndarray) -> np.ndarray:  # pragma: no cover
    """The convex hull of whole-number points (sorted by row, then column), by Andrew's monotone chain."""
    count = len(points)
    hull = np.empty((2 * count + 1, 2), np.int64)
    size, chain = 0, 0
    for step in range(2 * count):  # forward along the sorted points, then back
        point = points[step] if step < count else points[2 * count - 1 - step]
        start = 0 if step < count else chain
        while size >= start + 2 and not _turns_left(hull, size, point):
            size -= 1
        hull[size] = point
        size += 1
        if step == count - 1:
            chain = size - 1  # the back chain starts at the last point
    return hull[: size - 1]


@njit(cache=True)
def _convex_areas(labels: np.ndarray, count: int) -> np.ndarray:  # pragma: no cover
    rows, cols = labels.shape
    first = np.full((count, rows), -1, np.int64)
    last = np.full((count, rows), -1, np.int64)
    for row in range(rows):
        for col in range(cols):
            label = labels[row, col]
            if label > 0:
                if first[label - 1, row] < 0:
                    first[label - 1, row] = col
                last[label - 1, row] = col
    areas = np.zeros(count)
    for index in range(count):
        present = np.flatnonzero(first[index] >= 0)
        if present.size == 0:
            continue
        # The midpoints of the outer edges of each row's first and last pixel, in doubled coordinates.
        points = np.empty((8 * present.size, 2), np.int64)
        for place in range(present.size):
            row = present[place]
            for end in range(2):
                col = first[index, row] if end == 0 else last[index, row]
                at = 8 * place + 4 * end
                points[at : at + 4, 0] = (2 * row - 1, 2 * row, 2 * row, 2 * row + 1)
                points[at : at + 4, 1] = (2 * col, 2 * col - 1, 2 * col + 1, 2 * col)
        order = np.argsort(points[:, 0] * (4 * cols + 4) + points[:, 1])  # by row, then column
        hull = _hull(points[order])
        # Pixel centres (2 row, 2 col) inside the hull or on it, row by row.
        total = 0
        for row in range(present[0], present[-1] + 1):
            level = 2 * row
            low, high = np.iinfo(np.int64).max, np.iinfo(np.int64).min
            for corner in range(len(hull)):
                y0, x0 = hull[corner, 0], hull[corner, 1]
                y1, x1 = hull[(corner + 1) % len(hull), 0], hull[(corner + 1) % len(hull), 1]
                if y0 == level:
                    low, high = min(low, -((-x0) // 2)), max(high, x0 // 2)
                if (y0 - level) * (y1 - level) < 0:  # the edge crosses the row: x = p / q
                    p, q = x0 * (y1 - y0) + (level - y0) * (x1 - x0), y1 - y0
                    if q < 0:
                        p, q = -p, -q
                    low, high = min(low, -((-p) // (2 * q))), max(high, p // (2 * q))
            total += max(0, high - low + 1)
        areas[index] = total
    return areas


def convex_areas(labels: np.ndarray) -> np.ndarray:
    """Pixels in each object's convex hull, as regionprops' ``area_convex``.

    The hull is that of the midpoints of the object's outer pixel edges, and
    a pixel counts when its centre lies inside the hull or on its border,
    as :func:`skimage.morphology.convex_hull_image` draws it. The edges of a
    pixel between its row's first and last lie between theirs, so only
    those two pixels of each row can give corners. In doubled coordinates
    every corner is a whole number, so the hull (Andrew's monotone chain)
    and the pixel centres on each row between its sides are found exactly,
    for all objects in one pass (numba).

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n (gaps allowed), 0 = background.

    Returns
    -------
    ndarray of float64
        One value per object present, in label order.
    """
    count = int(labels.max()) if labels.size else 0
    areas = _convex_areas(np.ascontiguousarray(labels, dtype=np.int64), count)
    return areas[np.bincount(labels.ravel(), minlength=count + 1)[1:] > 0]


def _moments(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Each object's number, pixels, centre and second central moments, all objects at once.

    Returns ``label`` (objects present, ascending), ``position`` (each
    foreground pixel's object index, row order), ``rows``/``cols`` (those
    pixels), ``area``, ``row``/``col`` (centre) and ``rr``, ``cc``, ``rc``
    (sums of squared and crossed offsets from the centre).
    """
    rows, cols = np.nonzero(labels)
    label, position = np.unique(labels[rows, cols], return_inverse=True)
    count = len(label)
    area = np.bincount(position, minlength=count)

    def per_object(values: np.ndarray) -> np.ndarray:
        return np.bincount(position, weights=values, minlength=count)

    row, col = per_object(rows) / area, per_object(cols) / area
    drow, dcol = rows - row[position], cols - col[position]
    return {
        "label": label,
        "position": position,
        "rows": rows,
        "cols": cols,
        "area": area,
        "row": row,
        "col": col,
        "rr": per_object(drow * drow),
        "cc": per_object(dcol * dcol),
        "rc": per_object(drow * dcol),
    }


def _axes(moments: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Axis lengths and eccentricity of the ellipse of the objects' second moments, as in regionprops."""
    area = moments["area"]
    # The inertia tensor [[cc, -rc], [-rc, rr]] / area and its eigenvalues, largest first.
    mean = (moments["cc"] + moments["rr"]) / (2 * area)
    spread = np.hypot((moments["cc"] - moments["rr"]) / (2 * area), moments["rc"] / area)
    large, small = np.clip(mean + spread, 0, None), np.clip(mean - spread, 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        eccentricity = np.where(large == 0, 0.0, np.sqrt(1 - small / large))
    return {
        "AreaShape_Eccentricity": eccentricity,
        "AreaShape_MajorAxisLength": 4 * np.sqrt(large),
        "AreaShape_MinorAxisLength": 4 * np.sqrt(small),
    }


def _locations(moments: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        "ObjectNumber": moments["label"].astype(np.int64),
        "Location_Center_X": moments["col"],
        "Location_Center_Y": moments["row"],
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
    return pd.DataFrame(_locations(_moments(labels)))


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
    moments = _moments(labels)
    area = moments["area"].astype(np.float64)
    perimeter = perimeters(labels)
    axes = _axes(moments)
    table = _locations(moments) | {
        "AreaShape_Area": area,
        "AreaShape_Perimeter": perimeter,
        "AreaShape_Eccentricity": axes["AreaShape_Eccentricity"],
        "AreaShape_Solidity": area / convex_areas(labels),
        "AreaShape_MajorAxisLength": axes["AreaShape_MajorAxisLength"],
        "AreaShape_MinorAxisLength": axes["AreaShape_MinorAxisLength"],
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        table["AreaShape_FormFactor"] = np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, np.nan)
    position, count = moments["position"], len(moments["label"])
    for name, image in stains.items():
        values = image[moments["rows"], moments["cols"]].astype(np.float64)
        mean = np.bincount(position, weights=values, minlength=count) / area
        deviation = values - mean[position]
        brightest = np.full(count, -np.inf)
        np.maximum.at(brightest, position, values)
        table[f"Intensity_MeanIntensity_{name}"] = mean
        table[f"Intensity_StdIntensity_{name}"] = np.sqrt(
            np.bincount(position, weights=deviation * deviation, minlength=count) / area
        )
        table[f"Intensity_MaxIntensity_{name}"] = brightest
        table[f"Intensity_IntegratedIntensity_{name}"] = mean * area
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
