"""Intensity exploration of two-channel images.

Composites, histograms, equalisation, normalisation, pixel-pair densities
and regions of interest.

Every function here is pure: arrays in, arrays or tables out.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from skimage import exposure

#: Number of grey levels of an 8-bit image.
LEVELS = 256


def composite(nuclei: np.ndarray, actin: np.ndarray) -> np.ndarray:
    """RGB composite with nuclei in red and actin in blue.

    Parameters
    ----------
    nuclei, actin : ndarray of uint8, shape (rows, cols)

    Returns
    -------
    ndarray of uint8, shape (rows, cols, 3)
        Green is left at zero.
    """
    rgb = np.zeros(nuclei.shape + (3,), dtype=np.uint8)
    rgb[..., 0] = nuclei
    rgb[..., 2] = actin
    return rgb


def intensity_histogram(image: np.ndarray) -> np.ndarray:
    """Exact count of pixels at each grey level.

    Parameters
    ----------
    image : ndarray of uint8

    Returns
    -------
    ndarray of int64, shape (256,)
        ``counts[v]`` is the number of pixels whose value is ``v``.
    """
    return np.bincount(image.ravel(), minlength=LEVELS).astype(np.int64)


def channel_statistics(image: np.ndarray) -> dict[str, float]:
    """Minimum, maximum, mean, standard deviation and saturated fraction.

    Parameters
    ----------
    image : ndarray of unsigned integers or floats

    Returns
    -------
    dict
        ``min``, ``max``, ``mean``, ``std`` in the image's units and
        ``saturated``, the fraction of pixels at the top of the pixel type
        (255 for 8 bits, 65535 for 16; 12-bit data stored in 16 bits never
        reach it), NaN for floating-point images, which have no top.
    """
    integer = image.dtype.kind in "ui"
    top = np.iinfo(image.dtype).max if integer else None
    return {
        "min": int(image.min()) if integer else float(image.min()),
        "max": int(image.max()) if integer else float(image.max()),
        "mean": float(image.mean()),
        "std": float(image.std()),
        "saturated": float(np.mean(image == top)) if integer else float("nan"),
    }


def equalize_channels(stack: np.ndarray) -> np.ndarray:
    """Histogram-equalise each channel of a stack on its own.

    Parameters
    ----------
    stack : ndarray, shape (rows, cols, channels)

    Returns
    -------
    ndarray of float64, shape (rows, cols, channels)
        Values in [0, 1].
    """
    return np.stack([exposure.equalize_hist(stack[..., c]) for c in range(stack.shape[-1])], axis=-1)


def equalize_whole_stack(stack: np.ndarray) -> np.ndarray:
    """Equalise a stack with one histogram over all of its channels.

    This reproduces calling :func:`skimage.exposure.equalize_hist` on a
    whole RGB array: the empty green channel and the bright nuclei share one
    cumulative distribution, so neither stain is equalised on its own terms.

    Parameters
    ----------
    stack : ndarray, shape (rows, cols, channels)

    Returns
    -------
    ndarray of float64, shape (rows, cols, channels)
    """
    flat = exposure.equalize_hist(stack.reshape(-1, 1))
    return flat.reshape(stack.shape)


def normalise_to_reference(image: np.ndarray, reference: np.ndarray, n_std: float = 1.0) -> np.ndarray:
    """Clip an image to a reference's mean +- n_std standard deviations, then stretch it.

    The clipped values are stretched to 0..255 with OpenCV's min-max
    normalisation.

    Parameters
    ----------
    image : ndarray, shape (rows, cols) or (rows, cols, channels)
        What is normalised. A stack is clipped and stretched as one array, so
        its channels keep their relative brightness.
    reference : ndarray, shape (rows, cols)
        The channel whose statistics (:func:`cv2.meanStdDev`) set the window.
    n_std : float
        Half-width of the window in standard deviations.

    Returns
    -------
    ndarray of uint8, same shape as ``image``
    """
    mean, std = (float(v[0, 0]) for v in cv2.meanStdDev(reference))
    clipped = np.clip(image.astype(np.float32), mean - n_std * std, mean + n_std * std)
    flat = cv2.normalize(clipped.reshape(-1, 1), None, 0, 255, cv2.NORM_MINMAX, cv2.CV_8U)
    return flat.reshape(image.shape)


def pixel_pairs(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Stack two equally shaped channels into one row per pixel.

    Parameters
    ----------
    first, second : ndarray, shape (rows, cols)
        Two channels of one field.

    Returns
    -------
    ndarray, shape (rows * cols, 2)
        Column 0 from ``first``, column 1 from ``second``, in raster order.
    """
    return np.column_stack([first.ravel(), second.ravel()])


def histogram_2d(first: np.ndarray, second: np.ndarray, bins: int = 50) -> tuple:
    """Joint histogram of two 8-bit channels over 0..255.

    Parameters
    ----------
    first, second : ndarray of uint8, shape (rows, cols)
    bins : int
        Bins per axis over 0..256.

    Returns
    -------
    counts : ndarray of float64, shape (bins, bins)
        Rows follow ``first``, columns ``second``.
    edges : ndarray, shape (bins + 1,)
        Common bin edges in grey levels.
    """
    edges = np.linspace(0, LEVELS, bins + 1)
    counts, _, _ = np.histogram2d(first.ravel(), second.ravel(), bins=[edges, edges])
    return counts, edges


def gaussian_kde_grid(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of two 8-bit channels on the 256 x 256 grid.

    For integer-valued data a kernel density estimate evaluated on the
    integer grid equals the joint histogram with unit bins convolved with
    the kernel, which is what is computed here (by FFT). The kernel is the
    one :class:`scipy.stats.gaussian_kde` and :func:`seaborn.kdeplot` use:
    the data covariance scaled by Scott's factor ``n ** (-1 / 6)``.

    Parameters
    ----------
    first, second : ndarray of uint8, same shape

    Returns
    -------
    ndarray of float64, shape (256, 256)
        Density per unit grey level squared; rows follow ``first``.
    """
    from scipy.signal import fftconvolve  # here: scipy.signal takes 0.5 s to import

    pairs = pixel_pairs(first, second).astype(np.float64)
    n = len(pairs)
    covariance = np.cov(pairs, rowvar=False) * n ** (-2.0 / 6.0)
    counts = np.zeros((LEVELS, LEVELS))
    np.add.at(counts, (pairs[:, 0].astype(int), pairs[:, 1].astype(int)), 1.0)
    offsets = np.arange(-(LEVELS - 1), LEVELS)
    du, dv = np.meshgrid(offsets, offsets, indexing="ij")
    inverse = np.linalg.inv(covariance)
    quad = inverse[0, 0] * du**2 + 2 * inverse[0, 1] * du * dv + inverse[1, 1] * dv**2
    kernel = np.exp(-0.5 * quad) / (2 * np.pi * np.sqrt(np.linalg.det(covariance)))
    density = fftconvolve(counts, kernel, mode="valid") / n
    return np.clip(density, 0.0, None)


class Roi(NamedTuple):
    """A rectangle in pixels: top-left corner (x = column, y = row), width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """Row and column slices selecting the rectangle."""
        return slice(self.y, self.y + self.h), slice(self.x, self.x + self.w)


def crop(image: np.ndarray, roi: Roi) -> np.ndarray:
    """The part of an image (2-D or a stack) inside a rectangle.

    Parameters
    ----------
    image : ndarray, shape (rows, cols) or (rows, cols, channels)
    roi : Roi

    Returns
    -------
    ndarray
        A view of ``image``, ``roi.h`` rows by ``roi.w`` columns.

    Raises
    ------
    ValueError
        If the rectangle is empty or leaves the image.
    """
    rows, cols = image.shape[:2]
    if roi.w <= 0 or roi.h <= 0 or roi.x < 0 or roi.y < 0 or roi.x + roi.w > cols or roi.y + roi.h > rows:
        raise ValueError(f"{roi} does not lie inside an image of {rows} x {cols} pixels")
    return image[roi.slices]


def brightest_roi(image: np.ndarray, w: int, h: int, top: int | None = None) -> Roi:
    """The w x h rectangle with the highest mean intensity.

    Used to place a region over cells without hand-picking coordinates.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
    w, h : int
        Width and height in pixels.
    top : int, optional
        Keep the rectangle's top row here and search only along that band
        (slide it sideways); by default search everywhere.

    Returns
    -------
    Roi
        The first such rectangle in raster order when there are ties.
    """
    means = ndi.uniform_filter(image.astype(np.float64), size=(h, w), mode="constant")
    # uniform_filter centres the window on (row, col); shift to top-left corners
    # and keep only windows that lie fully inside the image.
    corners = means[h // 2 : image.shape[0] - (h - 1 - h // 2), w // 2 : image.shape[1] - (w - 1 - w // 2)]
    if top is not None:
        corners = corners[top : top + 1]
    row, col = np.unravel_index(np.argmax(corners), corners.shape)
    return Roi(int(col), int(row) + (top or 0), w, h)


def roi_statistics(channels: dict[str, np.ndarray], roi: Roi) -> pd.DataFrame:
    """Intensity statistics of each channel inside a rectangle and overall.

    Parameters
    ----------
    channels : dict of str to ndarray of uint8, shape (rows, cols)
    roi : Roi

    Returns
    -------
    DataFrame
        One row per channel and region (``roi`` or ``image``): pixels, min,
        max, mean, std (grey levels) and saturated fraction.
    """
    rows = []
    for name, image in channels.items():
        for region, values in (("roi", crop(image, roi)), ("image", image)):
            stats = channel_statistics(values)
            rows.append({"channel": name, "region": region, "pixels": int(values.size)} | stats)
    return pd.DataFrame(rows)
