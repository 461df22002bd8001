"""Colocalization as CellProfiler computes it: per object all at once with cp_measure's numbers; RWC
over the pixels of all objects, Costes over the whole image."""

import warnings

import numpy as np
import pytest
from cp_measure.core import measurecolocalization as cp_colocalization
from cp_measure.core.measurecolocalization import bisection_costes, get_correlation_rwc
from scipy import stats
from skimage.draw import disk
from skimage.segmentation import relabel_sequential, watershed

from analysis.steps.colocalization import (
    _Background,
    costes_colocalization,
    costes_thresholds,
    object_correlations,
    pearson,
    rank_weighted_colocalization,
)


def test_rwc_ranks_the_pixels_of_all_objects_together():
    # Two objects of two pixels. Over the four pixels the ranks are 0..3 in the first stain
    # and 3..0 in the second, so R = 4 and the weights are 1/4, 3/4, 3/4, 1/4.
    labels = np.array([[1, 1, 2, 2]])
    first = np.array([[0.2, 0.4, 0.6, 0.8]])
    second = first[:, ::-1]
    one, two = rank_weighted_colocalization(first, second, labels)
    np.testing.assert_allclose(one, [(0.2 / 4 + 0.4 * 3 / 4) / 0.6, (0.6 * 3 / 4 + 0.8 / 4) / 1.4])
    np.testing.assert_allclose(two, [(0.8 / 4 + 0.6 * 3 / 4) / 1.4, (0.4 * 3 / 4 + 0.2 / 4) / 0.6])
    # Ranked within each object, as cp_measure ranks them, every weight would be 1/2.
    np.testing.assert_allclose(get_correlation_rwc(first, second, labels)["Correlation_RWC_1"], [0.5, 0.5])


def test_rwc_of_a_stain_with_itself_is_one():
    labels = np.zeros((40, 40), np.int32)
    labels[disk((12, 12), 8)] = 1
    labels[disk((28, 28), 6)] = 2
    image = np.random.default_rng(0).random(labels.shape)
    for values in rank_weighted_colocalization(image, image, labels):
        np.testing.assert_allclose(values, 1)


def two_cells(shape=(64, 64)):
    """Two discs brighter to the right in one stain, and a stain half as bright plus noise; 8-bit steps."""
    labels = np.zeros(shape, np.int32)
    labels[disk((20, 20), 10, shape=shape)] = 1
    labels[disk((44, 44), 12, shape=shape)] = 2
    rng = np.random.default_rng(3)
    ramp = np.linspace(0, 1, shape[1])[None, :]
    first = np.clip(rng.normal(0.2, 0.05, shape) + 0.5 * ramp * (labels > 0), 0, 1)
    second = np.clip(0.5 * first + rng.normal(0.1, 0.05, shape), 0, 1)
    return labels, np.round(first * 255) / 255, np.round(second * 255) / 255


@pytest.mark.parametrize("order", [1, -1])
def test_costes_thresholds_are_the_whole_images(order):
    labels, *stains = two_cells()
    first, second = stains[::order]
    threshold_one, threshold_two = bisection_costes(None, None, first.ravel(), second.ravel(), 255)
    assert costes_thresholds(first, second, 255) == (threshold_one, threshold_two)
    one, two = costes_colocalization(first, second, labels, (threshold_one, threshold_two))
    assert 0 < threshold_one < 1
    both = (first > threshold_one) & (second > threshold_two)
    for number in (1, 2):
        inside = labels == number
        expected_one = first[inside & both].sum() / first[inside & (first >= threshold_one)].sum()
        expected_two = second[inside & both].sum() / second[inside & (second >= threshold_two)].sum()
        assert (one[number - 1], two[number - 1]) == pytest.approx((expected_one, expected_two))
    if order == -1:  # pixels on the threshold itself count in the whole, not in the share
        assert (first[labels == 1] == threshold_one).sum() > 0


def test_costes_without_a_threshold_is_undefined_for_every_object():
    labels, first, _ = two_cells()
    # A second stain constant over the image: no regression line, no threshold.
    with pytest.warns(RuntimeWarning, match="Undefined Costes"):
        thresholds = costes_thresholds(first, np.full(first.shape, 0.5), 255)
    one, two = costes_colocalization(first, np.full(first.shape, 0.5), labels, thresholds)
    assert len(one) == 2
    assert np.isnan([*one, *two]).all()


def test_no_objects_no_values():
    empty = np.zeros((8, 8), np.int32)
    image = np.random.default_rng(1).random(empty.shape)
    for values in (
        *rank_weighted_colocalization(image, image, empty),
        *costes_colocalization(image, image, empty, (0.5, 0.5)),
    ):
        assert values.shape == (0,)


def touching_cells(shape=(90, 110), seed=5):
    """Touching objects grown from random seeds, one of a single pixel, one flat in both stains."""
    rng = np.random.default_rng(seed)
    markers = np.zeros(shape, np.int32)
    for number, (row, col) in enumerate(rng.integers(5, [shape[0] - 5, shape[1] - 5], (14, 2)), start=1):
        markers[row, col] = number
    labels = relabel_sequential(watershed(rng.random(shape), markers, mask=rng.random(shape) < 0.93))[0]
    labels[labels == 3] = 0
    labels[2, 2] = 3  # one pixel: no correlation
    first = rng.random(shape)
    second = 0.5 * first + 0.3 * rng.random(shape)
    flat = labels == 5
    first[flat], second[flat] = 0.4, 0.7
    return labels, np.round(first * 255) / 255, np.round(second * 255) / 255


@pytest.mark.parametrize("field", [two_cells, touching_cells])
def test_every_object_at_once_gives_cp_measures_per_object_values(field):
    labels, first, second = field()
    ours = object_correlations(first, second, labels)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy.cov of one pixel
        expected = (
            cp_colocalization.get_correlation_pearson(first, second, labels)
            | cp_colocalization.get_correlation_manders_fold(first, second, labels)
            | cp_colocalization.get_correlation_overlap(first, second, labels)
        )
    assert set(ours) == set(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(ours[name], values, rtol=1e-9, atol=1e-12, err_msg=name)
    if field is touching_cells:
        assert np.isnan(ours["Correlation_Pearson"][[2, 4]]).all()  # one pixel, flat


def test_the_background_correlation_is_scipys_to_the_bit():
    rng = np.random.default_rng(7)
    for size in (3, 10, 1000, 100_000):
        first = rng.random(size)
        second = 0.3 * first + rng.random(size)
        assert pearson(first, second) == stats.pearsonr(first, second)[0]


@pytest.mark.parametrize("scale", [255, 4095, 65535])
@pytest.mark.parametrize("on_the_grid", [True, False], ids=["counted", "pixels"])
def test_costes_search_takes_cp_measures_steps_on_either_grid(scale, on_the_grid):
    # On the grid every pixel is k / scale, and the search counts pairs of values; off it, pixels.
    labels, first, second = touching_cells()
    if on_the_grid:
        first, second = (np.round(stain * scale) / scale for stain in (first, second))
    else:
        first = np.clip(first + np.random.default_rng(1).normal(0, 1e-4, first.shape), 0, 1)
    expected = bisection_costes(None, None, first.ravel(), second.ravel(), scale)
    assert np.isfinite(expected).all()
    assert costes_thresholds(first, second, scale) == expected


def test_an_uncorrelated_background_is_measured_in_floating_point_as_cellprofiler_does():
    # Four values in every combination: the counted r is exactly 0, whose sign only the floating-point
    # arithmetic CellProfiler uses can give; the counts hand it over to the pixels.
    rng = np.random.default_rng(2)
    pairs = np.array([(a, b) for a in (10, 20, 30, 40) for b in (5, 50, 90, 200)] * 9)
    shuffled = rng.permutation(pairs)
    first, second = (shuffled[:, index].reshape(12, 12) / 255 for index in (0, 1))
    background = _Background(first.ravel(), second.ravel(), 255)
    assert background.counted
    expected = pearson(first.ravel(), second.ravel())
    assert background.correlation(1.0, 1.0) == expected
    assert -1e-12 < expected < 0  # rounding's sign: a step of the search goes the other way
