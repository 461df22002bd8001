"""StarDist predictions at the nuclei's own scale.

Before the network sees an image, it is resampled so that its nuclei have
the model's reference diameter (:mod:`analysis.steps.scale`), and the labels
are mapped back to its grid; large images are predicted in tiles. A loaded
model recalls its latest predictions, so the same input is not predicted
twice, nor, with a prediction store, by another process.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from skimage.segmentation import relabel_sequential
from skimage.transform import rescale, resize

from analysis.models.stardist_model import LoadedModel
from analysis.models.store import prediction_key, read_prediction, write_prediction
from analysis.steps.scale import estimate_diameter, scale_factor

#: Images larger than this (pixels, either side) are predicted in tiles.
TILE_SIZE = 2048
#: Bytes of recent predictions a loaded model keeps (:func:`predict_labels`).
RECENT_BYTES = 64 * 2**20


def normalise_for_network(image: np.ndarray) -> np.ndarray:
    """Percentile normalisation used for training and prediction.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)

    Returns
    -------
    ndarray of float32, shape (rows, cols)
        1st percentile mapped to 0 and 99.8th to 1 (values may exceed [0, 1]).
    """
    from csbdeep.utils import normalize

    return normalize(image, 1, 99.8, axis=(0, 1)).astype(np.float32)


def n_tiles(shape: tuple[int, int], tile_size: int = TILE_SIZE) -> tuple[int, int]:
    """How many tiles per axis StarDist predicts an image of ``shape`` in.

    Parameters
    ----------
    shape : tuple of int
        ``(rows, cols)``.
    tile_size : int
        Longest tile side in pixels; smaller images are predicted whole.

    Returns
    -------
    tuple of int
        ``(1, 1)`` up to ``tile_size`` on both sides.
    """
    return tuple(max(1, math.ceil(side / tile_size)) for side in shape)


def predict_labels(
    model: LoadedModel, image: np.ndarray, scale: float = 1.0, tile_size: int = TILE_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """StarDist instance segmentation of one image.

    With ``scale`` other than 1 the image is first resampled by that factor
    (bilinear, smoothed when shrinking), predicted, and the labels are mapped
    back to the original grid (nearest neighbour). Images larger than
    ``tile_size`` on a side are predicted tile by tile (StarDist's
    ``n_tiles``, each tile with the network's context around it), so memory
    stays bounded; the objects are then chosen on the whole image. An
    image the model has just predicted (same pixels, scale, tiles and
    thresholds) is not predicted again: its result is kept in
    ``model.recent``, and in ``model.store`` when the model has a store
    (:mod:`analysis.models.store`), where other processes find it too.

    Parameters
    ----------
    model : LoadedModel
    image : ndarray, shape (rows, cols)
        Raw intensities of any supported pixel type; percentile-normalised
        here as in training.
    scale : float
        Resampling factor, e.g. from :func:`scale_for`.
    tile_size : int
        See :func:`n_tiles`.

    Returns
    -------
    labels : ndarray of int32, shape (rows, cols)
        0 = background, 1..n = objects.
    centres : ndarray of float, shape (n, 2)
        (row, col) of each object's star centre on the original grid, in
        label order.
    """
    pixels = np.ascontiguousarray(image)
    key = (
        hashlib.blake2b(pixels).hexdigest(),
        pixels.shape,
        pixels.dtype.str,
        scale,
        tile_size,
        tuple(model.model.thresholds),
    )
    if key in model.recent:
        labels, centres = model.recent[key]
        return labels.copy(), centres.copy()
    stored = None
    if model.store is not None:
        name = prediction_key(model.weights_sha256, type(model.model).__name__, key)  # pixels hashed once
        stored = read_prediction(model.store, name)
    if stored is not None:
        labels, centres = stored
    else:
        labels, centres = _predict(model, image, scale, tile_size)
        if model.store is not None:
            write_prediction(model.store, name, labels, centres)
    model.recent[key] = labels.copy(), centres.copy()
    while sum(kept.nbytes for kept, _ in model.recent.values()) > RECENT_BYTES:
        del model.recent[next(iter(model.recent))]
    return labels, centres


def resample(image: np.ndarray, scale: float) -> np.ndarray:
    """An image resampled by ``scale`` as :func:`predict_labels` resamples it.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
    scale : float
        Resampling factor; 1 returns ``image`` itself.

    Returns
    -------
    ndarray
        Bilinear, smoothed first when shrinking; float32 unless ``scale`` is 1.
    """
    return image if scale == 1 else rescale(image.astype(np.float32), scale, anti_aliasing=scale < 1)


def _predict(
    model: LoadedModel, image: np.ndarray, scale: float, tile_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict_labels` without the memory of recent predictions."""
    resampled = resample(image, scale)
    tiles = n_tiles(resampled.shape, tile_size)
    labels, details = model.model.predict_instances(
        normalise_for_network(resampled), n_tiles=tiles if tiles != (1, 1) else None, verbose=False
    )
    centres = np.asarray(details["points"], dtype=float).reshape(-1, 2)
    if scale == 1:
        return labels.astype(np.int32), centres
    back = resize(labels, image.shape, order=0, preserve_range=True, anti_aliasing=False)
    back, forward, _ = relabel_sequential(back.astype(np.int32))
    kept = forward[np.arange(1, len(centres) + 1)] > 0  # objects too small to survive the mapping go
    return back, centres[kept] / scale


def scale_for(
    model: LoadedModel | None, image: np.ndarray, diameter: float | None = None
) -> tuple[float, float]:
    """An image's nucleus diameter and the factor the model predicts it at.

    Parameters
    ----------
    model : LoadedModel or None
        Without a model or its reference diameter the factor is 1.
    image : ndarray, shape (rows, cols)
        Raw intensities of the nuclei stain.
    diameter : float, optional
        Typical nucleus diameter in pixels, when known; by default
        estimated by :func:`analysis.steps.scale.estimate_diameter`.

    Returns
    -------
    diameter : float
    factor : float
        See :func:`analysis.steps.scale.scale_factor`.
    """
    diameter = estimate_diameter(image) if diameter is None else float(diameter)
    return diameter, scale_factor(model.nucleus_diameter if model else None, diameter)
