"""Cells and cytoplasm grown from the nuclei on the actin stain.

One cell per nucleus: each nucleus is grown over the actin foreground by
CellProfiler's *propagation* (Jones, Carpenter and Golland 2005, through its
C implementation in ``centrosome``), which weighs image distance
(intensity changes along the path) against plain distance with a
regularisation ``lambda``. The cytoplasm is the cell without its nucleus.
Cells, nuclei and cytoplasm share their object numbers.
"""

from __future__ import annotations

import numpy as np
from centrosome.propagate import propagate
from scipy import ndimage as ndi
from skimage.filters import threshold_triangle

#: Gaussian sigma (pixels) applied to the actin image before its threshold.
ACTIN_SMOOTHING = 1.0
#: Propagation's regularisation, CellProfiler's default, on images scaled to 0..1.
REGULARIZATION = 0.05


def actin_foreground(actin: np.ndarray, nuclei: np.ndarray, smoothing: float = ACTIN_SMOOTHING) -> np.ndarray:
    """Where cells are: the actin stain above its triangle threshold, and the nuclei.

    The triangle threshold (Zack et al. 1977) of the smoothed image sits at
    the foot of the background peak, so it keeps the dim cytoplasm far from
    the bright cortex; Otsu's threshold, balanced between classes, loses it.

    Parameters
    ----------
    actin : ndarray, shape (rows, cols)
        Raw intensities of the actin stain.
    nuclei : ndarray of int, shape (rows, cols)
        Nucleus labels; every nucleus is inside a cell.
    smoothing : float
        Gaussian sigma in pixels.

    Returns
    -------
    ndarray of bool, shape (rows, cols)
    """
    smooth = ndi.gaussian_filter(actin.astype(np.float64), smoothing)
    return (smooth > threshold_triangle(smooth)) | (nuclei > 0)


def scaled(image: np.ndarray) -> np.ndarray:
    """An image mapped linearly to 0..1 (its minimum to 0, its maximum to 1).

    Parameters
    ----------
    image : ndarray

    Returns
    -------
    ndarray of float64
        All zeros for a constant image.
    """
    low, high = float(image.min()), float(image.max())
    return (image.astype(np.float64) - low) / (high - low) if high > low else np.zeros(image.shape)


def grow_cells(nuclei: np.ndarray, actin: np.ndarray, regularization: float = REGULARIZATION) -> np.ndarray:
    """One cell per nucleus, grown by propagation over the actin foreground.

    Parameters
    ----------
    nuclei : ndarray of int, shape (rows, cols)
        Nucleus labels 1..n, 0 = background.
    actin : ndarray, shape (rows, cols)
        Raw intensities of the actin stain.
    regularization : float
        Propagation's lambda: small values follow the image's edges, large
        values approach a plain distance (Voronoi) split.

    Returns
    -------
    ndarray of int32, shape (rows, cols)
        Cell ``k`` holds nucleus ``k``; foreground that no nucleus reaches
        (a blob without a nucleus) stays 0.
    """
    if not nuclei.any():
        return np.zeros(nuclei.shape, np.int32)
    mask = actin_foreground(actin, nuclei)
    cells, _ = propagate(scaled(actin), nuclei.astype(np.int32), mask, regularization)
    return cells.astype(np.int32)


def cytoplasm(cells: np.ndarray, nuclei: np.ndarray) -> np.ndarray:
    """Each cell without its nucleus.

    Parameters
    ----------
    cells, nuclei : ndarray of int, shape (rows, cols)
        Labels sharing their numbers (:func:`grow_cells`).

    Returns
    -------
    ndarray of int32, shape (rows, cols)
        Cytoplasm ``k`` belongs to cell ``k``; a cell that is all nucleus
        has none.
    """
    return np.where(nuclei > 0, 0, cells).astype(np.int32)
