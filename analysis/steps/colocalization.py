"""Rank-weighted and Costes colocalization of objects, as CellProfiler 4.2 computes them.

CellProfiler's MeasureColocalization measures these two per object, but not
from each object's pixels alone, as cp_measure does:

- **RWC** (rank-weighted colocalization) ranks the pixels of all objects of
  the image together, and weighs each object's pixels by how far apart their
  two ranks are in that common ranking;
- **Costes** searches one pair of thresholds on the whole image, every pixel
  of the field, and counts each object's pixels above them; so the search
  (:func:`costes_thresholds`) is done once per field and pair of stains.

The functions here follow CellProfiler; the threshold search itself is
cp_measure's ``bisection_costes`` (CellProfiler's "Faster" search).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

MANDERS_SHARE = 0.15
"""A pixel counts for RWC at this share of its object's brightest pixel or above (CellProfiler: 15 %)."""


def _per_object(objects: np.ndarray, values: np.ndarray, where: np.ndarray, count: int) -> np.ndarray:
    """The sum of ``values`` over each object 1..count, of the pixels ``where`` is true."""
    return np.bincount(objects[where], weights=values[where], minlength=count + 1)[1:]


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``; NaN where both are 0, as in CellProfiler."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return numerator / denominator


def rank_weighted_colocalization(
    first: np.ndarray, second: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """RWC of two images in every object, the pixels of all objects ranked together.

    Parameters
    ----------
    first, second : ndarray of float, shape (rows, cols)
        The two stains on 0..1.
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background.

    Returns
    -------
    first_rwc, second_rwc : ndarray of float, shape (n,)
        ``Correlation_RWC_first_second`` and ``Correlation_RWC_second_first``:
        of each object's intensity at or above :data:`MANDERS_SHARE` of its
        maximum, the share that lies where the other stain is at or above it
        too, each pixel weighed by ``(R - |rank1 - rank2|) / R``, where the
        ranks are dense ranks of the values over the pixels of all objects and
        ``R`` is the largest rank + 1. 0 for every object where no pixel of
        the image is above both shares.
    """
    count = int(labels.max())
    if count == 0:
        return np.zeros(0), np.zeros(0)
    inside = labels > 0
    objects, one, two = labels[inside], first[inside], second[inside]
    index = np.arange(1, count + 1)
    bright_one = one >= MANDERS_SHARE * np.asarray(ndi.maximum(one, objects, index))[objects - 1]
    bright_two = two >= MANDERS_SHARE * np.asarray(ndi.maximum(two, objects, index))[objects - 1]
    both = bright_one & bright_two
    if not both.any():
        return np.zeros(count), np.zeros(count)
    rank_one = np.unique(one, return_inverse=True)[1]
    rank_two = np.unique(two, return_inverse=True)[1]
    size = max(rank_one.max(), rank_two.max()) + 1
    weight = (size - np.abs(rank_one - rank_two)) / size
    return (
        _ratio(_per_object(objects, one * weight, both, count), _per_object(objects, one, bright_one, count)),
        _ratio(_per_object(objects, two * weight, both, count), _per_object(objects, two, bright_two, count)),
    )


def costes_thresholds(first: np.ndarray, second: np.ndarray, scale: int) -> tuple[float, float]:
    """Costes' thresholds of two whole images, by cp_measure's search (CellProfiler's "Faster").

    Parameters
    ----------
    first, second : ndarray of float, shape (rows, cols)
        The two stains on 0..1, the whole field.
    scale : int
        The grid the thresholds are searched on
        (:func:`analysis.steps.profiling.costes_scale`).

    Returns
    -------
    first_threshold, second_threshold : float
        NaN where the search finds none (cp_measure warns why).
    """
    from cp_measure.core.measurecolocalization import bisection_costes

    return bisection_costes(None, None, first.ravel(), second.ravel(), scale)


def costes_colocalization(
    first: np.ndarray, second: np.ndarray, labels: np.ndarray, thresholds: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Manders' coefficients of every object above Costes' thresholds of the whole image.

    Parameters
    ----------
    first, second : ndarray of float, shape (rows, cols)
        The two stains on 0..1, the whole field.
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background.
    thresholds : tuple of float
        :func:`costes_thresholds` of the two images.

    Returns
    -------
    first_costes, second_costes : ndarray of float, shape (n,)
        ``Correlation_Costes_first_second`` and
        ``Correlation_Costes_second_first``: of each object's intensity at or
        above the image's threshold for that stain, the share that lies where
        both stains are above theirs. NaN for every object without
        thresholds.
    """
    count = int(labels.max())
    threshold_one, threshold_two = thresholds
    if count == 0:
        return np.zeros(0), np.zeros(0)
    if not (np.isfinite(threshold_one) and np.isfinite(threshold_two)):
        return np.full(count, np.nan), np.full(count, np.nan)
    inside = labels > 0
    objects, one, two = labels[inside], first[inside], second[inside]
    both = (one > threshold_one) & (two > threshold_two)
    if not both.any():
        return np.zeros(count), np.zeros(count)
    return (
        _ratio(
            _per_object(objects, one, both, count), _per_object(objects, one, one >= threshold_one, count)
        ),
        _ratio(
            _per_object(objects, two, both, count), _per_object(objects, two, two >= threshold_two, count)
        ),
    )
