"""Classical nuclei segmentation, and objects fitted to a stain's own outline.

The baselines need no model: a distance-transform watershed of Otsu's
foreground, and Otsu's or Li's foreground as connected components.
:func:`fit_to_foreground` fits any objects (StarDist's, say) to Li's
foreground. StarDist itself is predicted in :mod:`analysis.models.predict`;
:mod:`analysis.methods` names every method.
"""

from __future__ import annotations

import numpy as np
from skimage.measure import label
from skimage.segmentation import watershed

from analysis.steps.foreground import li_foreground, otsu_foreground
from analysis.steps.instances import split_touching

#: Gaussian sigma (pixels) applied before the Otsu threshold of the baseline.
BASELINE_SMOOTHING = 1.0


def watershed_labels(image: np.ndarray) -> np.ndarray:
    """Classical baseline: Otsu foreground split by distance-transform watershed.

    The recipe of CellProfiler's IdentifyPrimaryObjects and scikit-image's
    watershed example: :func:`otsu_foreground` (sigma 1 px), then
    :func:`analysis.steps.instances.split_touching` (distance map smoothed with
    sigma 1 px, seeds at least 3 px apart).

    Parameters
    ----------
    image : ndarray, shape (rows, cols)

    Returns
    -------
    ndarray of int32, shape (rows, cols)
    """
    return split_touching(otsu_foreground(image, BASELINE_SMOOTHING))


def fit_to_foreground(labels: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Grow or trim each object to the stain's own boundary, keeping the objects apart.

    The foreground is Li's minimum cross-entropy threshold of the raw image
    (the outline convention of BBBC008's hand-corrected masks); each of its
    pixels joins the object it is reached from first when the image is
    flooded from the objects, brightest first (a seeded watershed, as
    CellProfiler grows secondary objects). Object pixels outside the
    foreground are dropped, and so is foreground no object reaches.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects (e.g. StarDist's), 0 = background.
    image : ndarray, shape (rows, cols)
        Raw intensities of the same field.

    Returns
    -------
    ndarray of int32, shape (rows, cols)
        The same object numbers, on the foreground's outline; an object
        wholly outside the foreground disappears.
    """
    return watershed(-image.astype(np.float64), markers=labels, mask=li_foreground(image)).astype(np.int32)


def otsu_labels(image: np.ndarray) -> np.ndarray:
    """Connected components of Otsu's foreground of the raw image.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)

    Returns
    -------
    ndarray of int32, shape (rows, cols)
    """
    return label(otsu_foreground(image)).astype(np.int32)


def li_labels(image: np.ndarray) -> np.ndarray:
    """Connected components of Li's minimum cross-entropy foreground of the raw image.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)

    Returns
    -------
    ndarray of int32, shape (rows, cols)
    """
    return label(li_foreground(image)).astype(np.int32)
