"""Foreground of a stain by a global threshold: Otsu's or Li's (triangle where Li's fails)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_li, threshold_otsu, threshold_triangle

#: Share of the image above which Li's foreground is taken for the background's noise.
MAX_LI_SHARE = 0.25


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
    the foreground whose blobs :func:`analysis.steps.scale.estimate_diameter`
    measures. In a sparse field (a few nuclei on a large, noisy
    background) Li's iteration can settle in the background's noise and
    mark about half of the image. Where it marks more than
    :data:`MAX_LI_SHARE`, the triangle threshold, made for a small bright
    minority beside one large background peak, is used instead. BBBC008's
    nuclei cover at most 14 % of a field, so its foregrounds are all Li's.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)

    Returns
    -------
    ndarray of bool, shape (rows, cols)
    """
    foreground = image > threshold_li(image)
    if foreground.mean() > MAX_LI_SHARE:
        foreground = image > threshold_triangle(image)
    return foreground
