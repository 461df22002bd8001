"""CellProfiler's granularity, each stain's spectrum computed once for every object type.

MeasureGranularity removes a stain's background, then opens the image 16
times with growing size (erosion, then reconstruction) and reports, per
object, how much of its mean intensity each opening takes away. Only that
last step depends on the objects. cp_measure's ``get_granularity`` takes one
label image, so a field's nuclei, cells and cytoplasm would compute the same
openings three times; here :func:`granular_spectrum` computes them once per
stain and :func:`granularity` reads any object type's means from them,
through weights found once per object type (:func:`object_weights`). The
steps and settings are CellProfiler's defaults, as cp_measure runs them, and
the numbers are cp_measure's (tested). The openings are eroded with OpenCV
and reconstructed by :func:`analysis.steps.reconstruct.reconstruct`, each
under the opening before it (which holds it): the same arrays as skimage's
erosions and reconstructions give, four times sooner.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage as ndi
from scipy import sparse
from skimage.morphology import dilation, disk, erosion

from analysis.steps.reconstruct import reconstruct

SUBSAMPLE = 0.25
"""The image is opened at this fraction of its size."""
BACKGROUND_SUBSAMPLE = 0.25
"""The background is estimated at this fraction of the subsampled size."""
BACKGROUND_RADIUS = 10
"""Radius of the disc that opens the background away."""
SPECTRUM_LENGTH = 16
"""Openings, sizes 1 to 16 (``Granularity_1`` to ``Granularity_16``)."""
_CROSS = disk(1).astype(np.uint8)


def _grid(shape: tuple[int, ...], scale: np.ndarray) -> np.ndarray:
    """Row and column coordinates of a ``shape`` grid, each axis multiplied by its ``scale``."""
    grid = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    return grid * np.asarray(scale, dtype=float).reshape(2, 1, 1)


def granular_spectrum(image: np.ndarray) -> list[np.ndarray] | None:
    """A stain's image and its openings by reconstruction, at the subsampled size.

    Parameters
    ----------
    image : ndarray of float, shape (rows, cols)
        The stain on 0..1, the whole field.

    Returns
    -------
    list of ndarray or None
        ``image`` itself, then the subsampled, background-free image opened
        with discs of radius 1, 2, ... :data:`SPECTRUM_LENGTH`; None if the
        image is too small to subsample.
    """
    full = np.array(image.shape)
    small = (full * SUBSAMPLE).astype(int)
    if (small < 2).any():
        return None
    pixels = ndi.map_coordinates(image, _grid(tuple(small), [1 / SUBSAMPLE] * 2), order=1)
    back_shape = small * BACKGROUND_SUBSAMPLE
    # As CellProfiler's grid np.mgrid[0:back_shape]: ceil(back_shape) points along each axis.
    back_points = tuple(np.ceil(back_shape).astype(int))
    back = ndi.map_coordinates(pixels, _grid(back_points, [1 / BACKGROUND_SUBSAMPLE] * 2), order=1)
    back = dilation(erosion(back, disk(BACKGROUND_RADIUS)), disk(BACKGROUND_RADIUS))
    back = ndi.map_coordinates(back, _grid(tuple(small), (back_shape - 1) / (small - 1)), order=1)
    pixels = np.maximum(pixels - back, 0)
    spectrum, eroded, opened = [image], pixels, pixels
    for _ in range(SPECTRUM_LENGTH):
        eroded = cv2.erode(eroded, _CROSS)
        # Each opening lies under the last: reconstructed under it, it is what it is under the pixels.
        opened = reconstruct(eroded, opened)
        spectrum.append(opened)
    return spectrum


def _axis(full: int, small: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``full`` points spread over ``small`` ones: each point's two neighbours, the upper's weight."""
    coordinate = np.arange(full) * ((small - 1) / (full - 1))
    lower = np.minimum(np.floor(coordinate).astype(int), small - 1)
    return lower, np.minimum(lower + 1, small - 1), coordinate - lower


def object_weights(labels: np.ndarray, small_shape: tuple[int, int]) -> sparse.csr_array:
    """Each object's mean of a subsampled image brought back to full size, as weights of its pixels.

    CellProfiler brings each opening back to the objects' size by bilinear
    interpolation and averages it over each object. Both steps are linear,
    so an object's mean is a weighted sum of the subsampled pixels; the
    weights depend on the objects alone and serve every stain and opening.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background.
    small_shape : tuple of int
        The subsampled size (an opening's shape).

    Returns
    -------
    scipy.sparse.csr_array, shape (n, small rows * small cols)
        Row ``k``: the weights whose sum with an opening's pixels is object
        ``k + 1``'s mean.
    """
    count = int(labels.max())
    rows, cols = np.nonzero(labels)
    objects = labels[rows, cols] - 1
    row_low, row_high, row_up = (part[rows] for part in _axis(labels.shape[0], small_shape[0]))
    col_low, col_high, col_up = (part[cols] for part in _axis(labels.shape[1], small_shape[1]))
    corners = [
        (row * small_shape[1] + col, row_weight * col_weight)
        for row, row_weight in ((row_low, 1 - row_up), (row_high, row_up))
        for col, col_weight in ((col_low, 1 - col_up), (col_high, col_up))
    ]
    where = np.concatenate([index for index, _ in corners])
    weight = np.concatenate([value for _, value in corners])
    weight /= np.tile(np.bincount(objects, minlength=count)[objects], 4)
    shape = (count, small_shape[0] * small_shape[1])
    return sparse.csr_array((weight, (np.tile(objects, 4), where)), shape=shape)


def granularity(
    spectrum: list[np.ndarray] | None, labels: np.ndarray, weights: sparse.csr_array | None = None
) -> dict[str, np.ndarray]:
    """``Granularity_1`` .. ``Granularity_16`` of every object, from its stain's spectrum.

    Parameters
    ----------
    spectrum : list of ndarray or None
        :func:`granular_spectrum` of the stain.
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background.
    weights : scipy.sparse.csr_array, optional
        :func:`object_weights` of ``labels``, if already found (they serve
        every stain of the field).

    Returns
    -------
    dict
        ``Granularity_k`` to one value per object: the share, in percent of
        the object's mean intensity, that the opening of size ``k`` takes
        away beyond the opening of size ``k - 1``. NaN without a spectrum.
    """
    count = int(labels.max())
    names = [f"Granularity_{size}" for size in range(1, SPECTRUM_LENGTH + 1)]
    if spectrum is None:
        return {name: np.full(count, np.nan) for name in names}
    image, *openings = spectrum
    if weights is None:
        weights = object_weights(labels, openings[0].shape)
    flat = labels.ravel()
    pixels = np.bincount(flat, minlength=count + 1)[1:]
    means = [np.bincount(flat, weights=image.ravel(), minlength=count + 1)[1:] / pixels]
    means += [weights @ opening.ravel() for opening in openings]
    start = np.maximum(means[0], np.finfo(float).eps)
    steps = zip(names, means[:-1], means[1:], strict=True)
    return {name: (before - after) * 100 / start for name, before, after in steps}
