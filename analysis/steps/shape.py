"""CellProfiler's size and shape of every object at once, with regionprops' values.

MeasureObjectSizeShape (and cp_measure's ``get_sizeshape``, its code as a
library) asks :func:`skimage.measure.regionprops` for each object's area,
box, centre, convex hull, perimeters, Euler number and filled area, then
distance-transforms each object's crop for its radii: one Python visit, and
a dozen small array operations, per object. Here each measurement is made
for all objects of a label image together, with regionprops' definitions:

- the Euler number and Crofton's perimeter come from one histogram of each
  object's 2 x 2 pixel patterns (:func:`pattern_histograms`), the count
  :func:`skimage.measure.euler_number` and
  :func:`skimage.measure.perimeter_crofton` make of one object's crop;
- the radii come from one distance transform per colour of a colouring in
  which touching objects differ (:func:`edge_distances`);
- the perimeter and convex area are :mod:`analysis.steps.features`' (equal
  to regionprops');
- the moments and the ellipse (axes, eccentricity, orientation) are
  cp_measure's, which already computes them for all objects at once.

Only the filled area still visits objects one by one, and only those whose
Euler number, against their count of parts, says they have a hole. The
columns, their order and their values are cp_measure's (tested on awkward
objects; on the 12 BBBC008 fields every column is equal but the mean radius,
within 2e-14 of it).
"""

from __future__ import annotations

import cv2
import numpy as np
from centrosome.cpmorphology import color_labels
from cp_measure.primitives._moments import (
    axes_eccentricity_orientation,
    inertia_2d,
    moment_feature_dict,
    spatial_moments_2d,
)
from scipy import ndimage as ndi

from analysis.steps.features import convex_areas, perimeters

#: skimage's weight of each 2 x 2 pattern in the Euler number of 8-connected objects.
_EULER_WEIGHTS = np.array([0, 0, 0, 0, 0, 0, -1, 0, 1, 0, 0, 0, 0, 0, -1, 0])
#: skimage's weight of each 2 x 2 pattern in Crofton's perimeter with four directions.
_CROFTON_WEIGHTS = np.array(
    [
        0,
        np.pi / 4 * (1 + 1 / (np.sqrt(2))),
        np.pi / (4 * np.sqrt(2)),
        np.pi / (2 * np.sqrt(2)),
        0,
        np.pi / 4 * (1 + 1 / (np.sqrt(2))),
        0,
        np.pi / (4 * np.sqrt(2)),
        np.pi / 4,
        np.pi / 2,
        np.pi / (4 * np.sqrt(2)),
        np.pi / (4 * np.sqrt(2)),
        np.pi / 4,
        np.pi / 2,
        0,
        0,
    ]
)
_FILL = np.ones((3, 3), bool)


def pattern_histograms(labels: np.ndarray) -> np.ndarray:
    """How often each 2 x 2 pattern of its own pixels occurs around every object.

    A window of 2 x 2 pixels is coded, for an object, by which of its four
    pixels belong to that object (bottom right 1, top right 2, bottom left 4,
    top left 8), as skimage codes the windows of a binary image. Every
    window that holds a pixel of an object is counted once for it.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background.

    Returns
    -------
    ndarray of int, shape (n, 16)
        Row ``k``: the histogram of object ``k + 1``'s codes.
    """
    count = int(labels.max())
    padded = np.pad(labels, 1)
    corners = (padded[1:, 1:], padded[:-1, 1:], padded[1:, :-1], padded[:-1, :-1])
    objects, codes = [], []
    for place, label in enumerate(corners):
        # A window is counted for the object at its first corner that holds it.
        first = label > 0
        for earlier in corners[:place]:
            first &= earlier != label
        here = label[first]
        code = sum((corner[first] == here) << bit for bit, corner in enumerate(corners))
        objects.append(here - 1)
        codes.append(code)
    flat = np.concatenate(objects) * 16 + np.concatenate(codes)
    return np.bincount(flat, minlength=16 * count).reshape(count, 16)


def edge_distances(colours: np.ndarray, outside_is_edge: bool = True) -> np.ndarray:
    """Each object pixel's distance to the nearest pixel outside its object.

    The pixels of one colour are distance-transformed together: a pixel's
    nearest outside pixel always touches its object (one step from it
    towards the pixel leads inside), so it is never of the same colour.
    OpenCV's exact transform (Felzenszwalb's) gives each distance in 32
    bits; its square is a whole number, recovered exactly, and its root
    taken in 64 bits, so the values equal
    :func:`scipy.ndimage.distance_transform_edt`'s.

    Parameters
    ----------
    colours : ndarray of int, shape (rows, cols)
        :func:`centrosome.cpmorphology.color_labels` of the objects: 0 on
        the background, and objects that touch have different colours.
    outside_is_edge : bool
        True: beyond the image is outside every object, as in an object's
        crop padded by one pixel (MeasureObjectSizeShape's radii). False:
        only pixels in the image count (centrosome's ``distance_to_edge``).

    Returns
    -------
    ndarray of float64, shape (rows, cols)
        0 on the background.
    """
    padded = np.pad(colours, 1) if outside_is_edge else colours
    distance = np.zeros(padded.shape)
    for colour in range(1, padded.max() + 1):
        mask = padded == colour
        found = cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        distance[mask] = np.sqrt(np.rint(np.square(found[mask], dtype=np.float64)))
    return distance[1:-1, 1:-1] if outside_is_edge else distance


def object_parts(labels: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """How many 8-connected parts each object has.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background.
    colours : ndarray of int, shape (rows, cols)
        :func:`centrosome.cpmorphology.color_labels` of ``labels``.

    Returns
    -------
    ndarray of int, shape (n,)
    """
    count = int(labels.max())
    parts = np.zeros(count + 1, np.intp)
    for colour in range(1, colours.max() + 1):
        # Objects of one colour do not touch: each part found here lies in one object, its owner.
        mask = colours == colour
        found, number = ndi.label(mask, _FILL)
        owner = np.zeros(number + 1, np.intp)
        owner[found[mask]] = labels[mask]
        parts += np.bincount(owner[1:], minlength=count + 1)
    return parts[1:]


def _radii(labels: np.ndarray, colours: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximum, mean and median of each object's :func:`edge_distances`."""
    inside = labels > 0
    objects, distance = labels[inside] - 1, edge_distances(colours)[inside]
    order = np.lexsort((distance, objects))
    ordered = distance[order]
    pixels = np.bincount(objects, minlength=count)
    start = np.concatenate([[0], np.cumsum(pixels)[:-1]])
    lower, upper = ordered[start + (pixels - 1) // 2], ordered[start + pixels // 2]
    mean = np.bincount(objects, weights=distance, minlength=count) / pixels
    return ordered[start + pixels - 1], mean, np.where(lower == upper, lower, (lower + upper) / 2)


def filled_areas(labels: np.ndarray, boxes: list, holes: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Each object's area with its holes filled, as regionprops' ``area_filled``.

    A hole is a part of the object's box that no 8-connected path outside
    the object joins to the box's edge. Only the objects that may have one
    are filled, one by one; the others' filled area is their area.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background.
    boxes : list of tuple of slice
        :func:`scipy.ndimage.find_objects` of ``labels``.
    holes : ndarray of bool, shape (n,)
        Whether each object may have a hole.
    area : ndarray, shape (n,)
        Each object's pixel count.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    filled = area.astype(np.float64)
    for index in np.flatnonzero(holes):
        mask = labels[boxes[index]] == index + 1
        filled[index] = np.count_nonzero(ndi.binary_fill_holes(mask, _FILL))
    return filled


def size_shape(labels: np.ndarray, colours: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """MeasureObjectSizeShape's features of every object, advanced ones included.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background, at least one object.
    colours : ndarray of int, optional
        :func:`centrosome.cpmorphology.color_labels` of ``labels``, if
        already found.

    Returns
    -------
    dict
        cp_measure's ``get_sizeshape`` names (``Area``, ``Perimeter``,
        ``Zernike`` aside: see cp_measure's ``get_zernike``; the moments and
        the inertia tensor) in its order, one value per object.
    """
    count = int(labels.max())
    boxes = ndi.find_objects(labels)
    starts = np.array([[box[0].start, box[1].start] for box in boxes])
    stops = np.array([[box[0].stop, box[1].stop] for box in boxes])
    rows, cols = np.nonzero(labels)
    objects = labels[rows, cols] - 1
    pixels = np.bincount(objects, minlength=count)
    area = pixels.astype(np.float64)
    box_area = np.prod(stops - starts, axis=1).astype(np.float64)
    perimeter = perimeters(labels)
    convex = convex_areas(labels)
    histograms = pattern_histograms(labels)
    euler = np.array([_EULER_WEIGHTS @ histogram for histogram in histograms])
    crofton = np.array([_CROFTON_WEIGHTS @ histogram for histogram in histograms])
    colours = color_labels(labels) if colours is None else colours
    maximum, mean, median = _radii(labels, colours, count)
    raw, central, normalized, hu = spatial_moments_2d(labels)
    inertia = inertia_2d(central)
    major, minor, eccentricity, orientation = axes_eccentricity_orientation(inertia)
    # The Euler number of 8-connected parts is their count less their 4-connected holes; an
    # object without those has no hole that an 8-connected path cannot leave either.
    filled = filled_areas(labels, boxes, euler < object_parts(labels, colours), pixels)
    with np.errstate(divide="ignore"):  # an object without perimeter: infinity, as in CellProfiler
        form_factor = 4.0 * np.pi * area / perimeter**2
    return (
        {
            "Area": area,
            "BoundingBoxArea": box_area,
            "ConvexArea": convex,
            "EquivalentDiameter": (2 * 2 * area / np.pi) ** (1 / 2),
            "Perimeter": perimeter,
            "MajorAxisLength": major,
            "MinorAxisLength": minor,
            "Eccentricity": eccentricity,
            "Orientation": orientation * (180 / np.pi),
            "Center_X": np.bincount(objects, weights=cols, minlength=count) / pixels,
            "Center_Y": np.bincount(objects, weights=rows, minlength=count) / pixels,
            "BoundingBoxMinimum_X": starts[:, 1],
            "BoundingBoxMaximum_X": stops[:, 1],
            "BoundingBoxMinimum_Y": starts[:, 0],
            "BoundingBoxMaximum_Y": stops[:, 0],
            "FormFactor": form_factor,
            "Extent": area / box_area,
            "Solidity": area / convex,
            "Compactness": perimeter**2 / np.maximum(4.0 * np.pi * area, 1),
            "EulerNumber": euler,
            "MaximumRadius": maximum,
            "MeanRadius": mean,
            "MedianRadius": median,
            "FilledArea": filled,
        }
        | moment_feature_dict(raw, central, normalized, hu, inertia)
        | {"PerimeterCrofton": crofton}
    )
