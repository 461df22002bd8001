"""CellProfiler's Haralick texture of every object: cp_measure's numba kernel, each stain quantised once.

cp_measure's ``get_texture`` quantises the stain to 8 bits and asks
:func:`skimage.measure.regionprops` for each object's crop, then runs its
numba kernel (13 Haralick features of the co-occurrences at one distance, in
4 directions) on each crop. Here the stain is quantised once per field and
each crop is cut directly from the objects' boxes (:func:`scipy.ndimage.find_objects`):
the same 8-bit crops, zero outside the object, given to the same kernel, so
the numbers are cp_measure's (tested).
"""

from __future__ import annotations

import numpy as np
from cp_measure.core.measuretexture import _pack
from cp_measure.core.numba._texture import DELTAS_2D, haralick_object
from scipy import ndimage as ndi
from skimage.util import img_as_ubyte

SCALE = 3
"""Distance in pixels between the two pixels of Haralick's co-occurrences (CellProfiler's default)."""
GRAY_LEVELS = 256
"""Grey levels the image is quantised to (CellProfiler's default, 8 bits)."""


def quantised(image: np.ndarray) -> np.ndarray:
    """A stain on 0..1 in 8 bits, as cp_measure (and CellProfiler) quantise it for texture.

    Parameters
    ----------
    image : ndarray of float, shape (rows, cols)

    Returns
    -------
    ndarray of uint8
    """
    return img_as_ubyte(image)


def haralick(labels: np.ndarray, levels: np.ndarray) -> dict[str, np.ndarray]:
    """The 13 Haralick features in 4 directions of every object, as cp_measure's ``get_texture``.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background, at least one object.
    levels : ndarray of uint8, shape (rows, cols)
        :func:`quantised` of the stain.

    Returns
    -------
    dict
        cp_measure's names (``Contrast_3_00_256`` ...) to one value per object.
    """
    offsets = np.ascontiguousarray(SCALE * DELTAS_2D)
    boxes = ndi.find_objects(labels)
    features = np.empty((len(DELTAS_2D), 13, len(boxes)))
    for index, box in enumerate(boxes):
        crop = np.where(labels[box] == index + 1, levels[box], 0).astype(np.uint8)
        features[:, :, index] = haralick_object(crop[np.newaxis], offsets)
    return _pack(features, SCALE, GRAY_LEVELS)
