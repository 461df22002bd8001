"""Foreground of a stain by a global threshold: Otsu's or Li's."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_li, threshold_otsu


def otsu_foreground(image: np.ndarray, smoothing: float = 0.0) -> np.ndarray:
    """Foreground by Otsu's threshold, optionally after Gaussian smoothing.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
    smoothing : float
        Gaussian sigma in pixels; 0 thresholds the raw image (plain Otsu).

    Returns
    -------
    ndarray of bool, shape (rows, cols)
    """
    values = ndi.gaussian_filter(image.astype(np.float64), smoothing) if smoothing > 0 else image
    return values > threshold_otsu(values)


def li_foreground(image: np.ndarray) -> np.ndarray:
    """Foreground by Li's minimum cross-entropy threshold of the raw image.

    The outline convention of BBBC008's hand-corrected nuclei masks, and
    the foreground whose blobs :func:`analysis.scale.estimate_diameter`
    measures.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)

    Returns
    -------
    ndarray of bool, shape (rows, cols)
    """
    return image > threshold_li(image)
