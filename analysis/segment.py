"""Nuclei segmentation: StarDist at the nuclei's own scale, and classical baselines.

StarDist predicts with a model from :mod:`analysis.models`, after the image
is resampled to the model's reference nucleus diameter
(:mod:`analysis.scale`); a loaded model recalls its latest predictions. The
baselines need no model: a distance-transform watershed of Otsu's
foreground, and Otsu's or Li's foreground split into touching nuclei
(:mod:`analysis.instances`). :func:`segment` runs any of them by name.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from skimage.measure import label, regionprops_table
from skimage.segmentation import relabel_sequential, watershed
from skimage.transform import rescale, resize

from .errors import AnalysisError
from .foreground import li_foreground, otsu_foreground
from .instances import split_touching
from .models import LoadedModel
from .scale import estimate_diameter, scale_factor

#: Images larger than this (pixels, either side) are predicted in tiles.
TILE_SIZE = 2048
METHODS = ("stardist", "stardist-li", "watershed", "otsu", "li")
#: Gaussian sigma (pixels) applied before the Otsu threshold of the baseline.
BASELINE_SMOOTHING = 1.0
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
    ``model.recent``.

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
    labels, centres = _predict(model, image, scale, tile_size)
    model.recent[key] = labels.copy(), centres.copy()
    while sum(kept.nbytes for kept, _ in model.recent.values()) > RECENT_BYTES:
        del model.recent[next(iter(model.recent))]
    return labels, centres


def _predict(
    model: LoadedModel, image: np.ndarray, scale: float, tile_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict_labels` without the memory of recent predictions."""
    resampled = image if scale == 1 else rescale(image.astype(np.float32), scale, anti_aliasing=scale < 1)
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
        estimated by :func:`analysis.scale.estimate_diameter`.

    Returns
    -------
    diameter : float
    factor : float
        See :func:`analysis.scale.scale_factor`.
    """
    diameter = estimate_diameter(image) if diameter is None else float(diameter)
    return diameter, scale_factor(model.nucleus_diameter if model else None, diameter)


def watershed_labels(image: np.ndarray) -> np.ndarray:
    """Classical baseline: Otsu foreground split by distance-transform watershed.

    The recipe of CellProfiler's IdentifyPrimaryObjects and scikit-image's
    watershed example: :func:`otsu_foreground` (sigma 1 px), then
    :func:`analysis.instances.split_touching` (distance map smoothed with
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


def segment_all(
    image: np.ndarray, methods: Sequence[str], model: LoadedModel | None = None, scale: float = 1.0
) -> dict[str, np.ndarray]:
    """Instance labels of one image by each of several methods.

    StarDist runs at most once: ``"stardist-li"`` fits the same prediction
    that ``"stardist"`` returns.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
    methods : sequence of str
        Names as for :func:`segment`.
    model : LoadedModel, optional
        Required for the StarDist methods.
    scale : float
        Resampling factor for StarDist (:func:`predict_labels`); the
        threshold methods work at the image's own scale.

    Returns
    -------
    dict
        Method name to its ``int32`` label image.

    Raises
    ------
    AnalysisError
        For an unknown method name.
    """
    found: dict[str, np.ndarray] = {}
    stardist = None
    for method in methods:
        if method in ("stardist", "stardist-li"):
            if stardist is None:
                stardist = predict_labels(model, image, scale)[0]
            found[method] = stardist if method == "stardist" else fit_to_foreground(stardist, image)
        elif method == "watershed":
            found[method] = watershed_labels(image)
        elif method == "otsu":
            found[method] = label(otsu_foreground(image)).astype(np.int32)
        elif method == "li":
            found[method] = label(li_foreground(image)).astype(np.int32)
        else:
            raise AnalysisError(method, f"unknown method; choose from {', '.join(METHODS)}")
    return found


def segment(
    image: np.ndarray, method: str, model: LoadedModel | None = None, scale: float = 1.0
) -> np.ndarray:
    """Instance labels of one image by the named method.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
    method : {"stardist", "stardist-li", "watershed", "otsu", "li"}
        ``"stardist-li"`` is StarDist's nuclei fitted to Li's foreground
        (:func:`fit_to_foreground`). ``"otsu"`` and ``"li"`` are plain
        thresholds of the raw image
        (Otsu's, and Li's minimum cross-entropy), their connected
        components taken as objects (references for the validation).
    model : LoadedModel, optional
        Required for ``"stardist"`` and ``"stardist-li"``.
    scale : float
        See :func:`segment_all`.

    Returns
    -------
    ndarray of int32, shape (rows, cols)
    """
    return segment_all(image, [method], model, scale)[method]


def method_label(method: str, model: LoadedModel | None) -> str:
    """How a method is named next to its counts, e.g. ``"stardist (project)"``.

    Parameters
    ----------
    method : str
    model : LoadedModel, optional

    Returns
    -------
    str
    """
    return f"{method} ({model.name})" if method.startswith("stardist") else method


def object_table(labels: np.ndarray, nuclei: np.ndarray, actin: np.ndarray) -> pd.DataFrame:
    """Per-object measurements, like CellProfiler's per-object export.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
    nuclei, actin : ndarray, shape (rows, cols)
        The intensities measured.

    Returns
    -------
    DataFrame
        One row per label: ``label``, ``centroid_row``, ``centroid_col``
        (pixels), ``area`` (pixels), ``mean_nuclei`` and ``mean_actin`` (grey
        levels).
    """
    props = regionprops_table(
        labels,
        intensity_image=np.stack([nuclei, actin], axis=-1),
        properties=("label", "centroid", "area", "intensity_mean"),
    )
    return pd.DataFrame(
        {
            "label": props["label"],
            "centroid_row": props["centroid-0"],
            "centroid_col": props["centroid-1"],
            "area": props["area"].astype(int),
            "mean_nuclei": props["intensity_mean-0"],
            "mean_actin": props["intensity_mean-1"],
        }
    )
