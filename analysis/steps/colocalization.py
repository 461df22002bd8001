"""CellProfiler 4.2's colocalization of two stains in every object, all objects at once.

Pearson's correlation and slope, Manders' coefficients and the overlap
coefficients of each object come from its own pixels
(:func:`object_correlations`): cp_measure computes them object by object
(``numpy.corrcoef`` and sums over each object's pixels); here they are sums
over all objects' pixels together, grouped by object, with the same
definitions. Two more are not measured from each object's pixels alone:

- **RWC** (rank-weighted colocalization) ranks the pixels of all objects of
  the image together, and weighs each object's pixels by how far apart their
  two ranks are in that common ranking;
- **Costes** searches one pair of thresholds on the whole image, every pixel
  of the field, and counts each object's pixels above them; so the search
  (:func:`costes_thresholds`) is done once per field and pair of stains.

The functions here follow CellProfiler; the threshold search is
CellProfiler's "Faster" search as cp_measure's ``bisection_costes`` makes it,
with the background's correlation computed as :func:`scipy.stats.pearsonr`
computes it, without its p-value (:func:`pearson`).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import ndimage as ndi

MANDERS_SHARE = 0.15
"""A pixel counts for RWC at this share of its object's brightest pixel or above (CellProfiler: 15 %)."""
_NEAR_ZERO = 1e-6
"""Below this |r|, Costes' search computes the background's correlation in floating point, as
CellProfiler does: so close to 0 its rounding could give the other sign."""


def _per_object(objects: np.ndarray, values: np.ndarray, where: np.ndarray | None, count: int) -> np.ndarray:
    """The sum of ``values`` over each object 1..count, of the pixels ``where`` is true (all: None)."""
    if where is None:
        return np.bincount(objects, weights=values, minlength=count + 1)[1:]
    return np.bincount(objects[where], weights=values[where], minlength=count + 1)[1:]


def _bright(values: np.ndarray, objects: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels at or above :data:`MANDERS_SHARE` of their object's brightest, and each object's brightest."""
    brightest = np.asarray(ndi.maximum(values, objects, np.arange(1, count + 1)), dtype=float)
    return values >= MANDERS_SHARE * brightest[objects - 1], brightest


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``; NaN where both are 0, as in CellProfiler."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return numerator / denominator


def object_correlations(first: np.ndarray, second: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Pearson's correlation and slope, Manders' and the overlap coefficients of every object.

    Parameters
    ----------
    first, second : ndarray of float, shape (rows, cols)
        The two stains on 0..1.
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background, at least one object.

    Returns
    -------
    dict
        One value per object under cp_measure's names:
        ``Correlation_Pearson`` and ``Correlation_Slope`` (of the second
        stain on the first), ``Correlation_Manders_1`` and ``_2`` (of each
        stain's intensity at or above :data:`MANDERS_SHARE` of its maximum in
        the object, the share where the other is at or above it too),
        ``Correlation_Overlap``, ``Correlation_K_1`` and ``_2`` (over those
        pixels where both are). Manders' and the overlap coefficients are 0
        for an object without such pixels; the correlation of an object with
        one pixel, or a stain flat over it, is NaN (cp_measure's
        ``numpy.corrcoef`` may instead give +-1 for a flat stain whose mean it
        cannot represent exactly).
    """
    count = int(labels.max())
    inside = labels > 0
    objects, one, two = labels[inside], first[inside], second[inside]
    index = np.arange(1, count + 1)
    pixels = np.bincount(objects, minlength=count + 1)[1:]
    bright_one, top_one = _bright(one, objects, count)
    bright_two, top_two = _bright(two, objects, count)
    # A stain flat over an object lies exactly on its mean (a sum of n equal values over n may not).
    flat_one = (top_one == np.asarray(ndi.minimum(one, objects, index)))[objects - 1]
    flat_two = (top_two == np.asarray(ndi.minimum(two, objects, index)))[objects - 1]
    apart_one = np.where(flat_one, 0.0, one - (_per_object(objects, one, None, count) / pixels)[objects - 1])
    apart_two = np.where(flat_two, 0.0, two - (_per_object(objects, two, None, count) / pixels)[objects - 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        # numpy.corrcoef's and numpy.cov's steps: the covariances over n - 1, then r.
        covariance = _per_object(objects, apart_one * apart_two, None, count) / (pixels - 1)
        variance_one = _per_object(objects, apart_one * apart_one, None, count) / (pixels - 1)
        variance_two = _per_object(objects, apart_two * apart_two, None, count) / (pixels - 1)
        pearson = np.clip(covariance / np.sqrt(variance_one) / np.sqrt(variance_two), -1, 1)
        slope = covariance / variance_one
    both = bright_one & bright_two
    some = np.bincount(objects[both], minlength=count + 1)[1:] > 0
    squares_one = _per_object(objects, one * one, both, count)
    squares_two = _per_object(objects, two * two, both, count)
    product = _per_object(objects, one * two, both, count)
    columns = {
        "Correlation_Manders_1": _ratio(
            _per_object(objects, one, both, count), _per_object(objects, one, bright_one, count)
        ),
        "Correlation_Manders_2": _ratio(
            _per_object(objects, two, both, count), _per_object(objects, two, bright_two, count)
        ),
        "Correlation_Overlap": _ratio(product, np.sqrt(squares_one * squares_two)),
        "Correlation_K_1": _ratio(product, squares_one),
        "Correlation_K_2": _ratio(product, squares_two),
    }
    return {"Correlation_Pearson": pearson, "Correlation_Slope": slope} | {
        name: np.where(some, values, 0.0) for name, values in columns.items()
    }


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
    bright_one, bright_two = _bright(one, objects, count)[0], _bright(two, objects, count)[0]
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


def pearson(first: np.ndarray, second: np.ndarray) -> float:
    """Pearson's correlation of two pixel lists, with the arithmetic of :func:`scipy.stats.pearsonr`.

    Parameters
    ----------
    first, second : ndarray of float, shape (n,)
        At least two pixels, neither list constant.

    Returns
    -------
    float
        Equal to ``scipy.stats.pearsonr(first, second)[0]`` (tested), without
        its p-value, which Costes' search does not read.
    """
    apart = [values - values.mean() for values in (first, second)]
    largest = [np.abs(values).max() for values in apart]
    norms = [top * np.linalg.norm(values / top, axis=-1) for values, top in zip(apart, largest, strict=True)]
    return float(np.clip(np.vecdot(apart[0] / norms[0], apart[1] / norms[1]), -1.0, 1.0))


class _Background:
    """The correlation of the pixels below a pair of thresholds, asked for at each step of the search.

    Where both stains take only the values k / scale (every image of an
    integer pixel type, on 0..1), the pixels are counted once per pair of
    values, and each step sums those counts: the sign of the correlation
    comes exactly from whole numbers. Where that correlation is nearly 0
    (|r| < :data:`_NEAR_ZERO`), or a stain takes other values, it is computed
    from the pixels themselves, as :func:`scipy.stats.pearsonr` computes it.
    The search reads only whether it is defined and its sign, so both ways
    give it the same answer.
    """

    def __init__(self, first: np.ndarray, second: np.ndarray, scale: int):
        self.first, self.second = first, second
        levels = [np.rint(values * scale) for values in (first, second)]
        self.counted = all(
            ((level >= 0) & (level <= scale) & (level / scale == values)).all()
            for level, values in zip(levels, (first, second), strict=True)
        )
        if not self.counted:
            return
        one, two = (level.astype(np.int64) for level in levels)
        pairs = one * (scale + 1) + two
        if scale < 2048:  # every pair of values fits in a table of counts
            counts = np.bincount(pairs, minlength=(scale + 1) ** 2)
            present = np.flatnonzero(counts)
            counts = counts[present]
        else:
            present, counts = np.unique(pairs, return_counts=True)
        self.one, self.two, self.counts = present // (scale + 1), present % (scale + 1), counts
        self.value_one, self.value_two = self.one / scale, self.two / scale

    def correlation(self, threshold_one: float, threshold_two: float) -> float:
        """Pearson's r below either threshold (or its sign); NaN for fewer than 3 pixels or a flat stain."""
        if not self.counted:
            return self._from_pixels(threshold_one, threshold_two)
        below = (self.value_one < threshold_one) | (self.value_two < threshold_two)
        counts, one, two = self.counts[below], self.one[below], self.two[below]
        pixels = int(counts.sum())
        if pixels < 3 or one.min() == one.max() or two.min() == two.max():
            return np.nan
        sum_one, sum_two = int(counts @ one), int(counts @ two)
        covariance = pixels * int(counts @ (one * two)) - sum_one * sum_two
        spread_one = pixels * int(counts @ (one * one)) - sum_one * sum_one
        spread_two = pixels * int(counts @ (two * two)) - sum_two * sum_two
        exact = covariance / np.sqrt(float(spread_one) * float(spread_two))
        return exact if abs(exact) >= _NEAR_ZERO else self._from_pixels(threshold_one, threshold_two)

    def _from_pixels(self, threshold_one: float, threshold_two: float) -> float:
        below = (self.first < threshold_one) | (self.second < threshold_two)
        if np.count_nonzero(below) < 3:
            return np.nan
        one, two = self.first[below], self.second[below]
        if np.ptp(one) == 0 or np.ptp(two) == 0:
            return np.nan
        return pearson(one, two)


def _undefined(reason: str) -> tuple[float, float]:
    warnings.warn(f"Undefined Costes result: {reason}", RuntimeWarning, stacklevel=3)
    return np.nan, np.nan


def costes_thresholds(first: np.ndarray, second: np.ndarray, scale: int) -> tuple[float, float]:
    """Costes' thresholds of two whole images, by CellProfiler's "Faster" search.

    The pixels where either stain is above 0 give a regression line of the
    second stain on the first (orthogonal least squares). Candidate
    thresholds on the first stain's grid of ``scale`` steps, and the
    second's on that line, are searched for the largest at which the pixels
    below either threshold still correlate (r >= 0): each step tries the
    candidate a sixth of the window below its top (the window's middle once
    it is six steps or narrower), as cp_measure's ``bisection_costes``
    searches, step for step.

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
        NaN where the search finds none (with a RuntimeWarning that says why).
    """
    one, two = first.ravel().astype(float), second.ravel().astype(float)
    lit = (one > 0) | (two > 0)
    if not (np.isfinite(one).all() and np.isfinite(two).all()):
        return _undefined("a stain is not finite")
    if np.count_nonzero(lit) < 3:
        return _undefined("fewer than three nonzero paired pixels")
    if np.ptp(one[lit]) == 0 or np.ptp(two[lit]) == 0:
        return _undefined("constant channel in the regression subset")
    lit_one, lit_two = one[lit], two[lit]
    variance_one, variance_two = np.var(lit_one, ddof=1), np.var(lit_two, ddof=1)
    covariance = 0.5 * (np.var(lit_one + lit_two, ddof=1) - (variance_one + variance_two))
    if abs(covariance) <= 8 * np.finfo(float).eps * max(variance_one, variance_two):
        return _undefined("zero or ill-conditioned covariance")
    spread = variance_two - variance_one
    slope = (spread + np.sqrt(spread * spread + 4 * (covariance * covariance))) / (2 * covariance)
    offset = np.mean(lit_two) - slope * np.mean(lit_one)
    if not (np.isfinite(slope) and np.isfinite(offset)):
        return _undefined("non-finite regression")
    background = _Background(one, two, scale)
    left, right = 1, scale
    middle, last, valid = (right - left) // (6 / 5) + left, 0, None
    for step in range(257):
        if middle == last:
            break
        if step == 256:
            return _undefined("bisection did not converge")
        threshold = middle / scale
        correlation = background.correlation(threshold, slope * threshold + offset)
        if not np.isfinite(correlation) or correlation < 0:
            left = middle - 1
        else:
            right, valid = middle + 1, middle
        last = middle
        middle = (right - left) // (6 / 5 if right - left > 6 else 2) + left
    if valid is None:
        return _undefined("no finite nonnegative background correlation found")
    threshold_one = (valid - 1) / scale
    threshold_two = slope * threshold_one + offset
    if not np.isfinite(background.correlation(threshold_one, threshold_two)):
        return _undefined("chosen background subset has undefined correlation")
    return float(threshold_one), float(threshold_two)


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
