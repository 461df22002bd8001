"""Zernike moments of every object in one pass: cp_measure's numbers but for rounding."""

import warnings

import numpy as np
import pytest
from cp_measure.core.measureobjectsizeshape import get_zernike
from test_shape import crowded_field, odd_objects

from analysis.steps.zernike import zernike_moments


@pytest.mark.parametrize("labels", [odd_objects(), crowded_field()], ids=["odd", "crowded"])
def test_one_pass_gives_cp_measures_moments(labels):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the circle of one pixel has no area
        expected = get_zernike(labels, None)
    ours = zernike_moments(labels)
    assert list(ours) == list(expected)
    assert len(ours) == 30
    for name, values in expected.items():
        np.testing.assert_allclose(ours[name], values, rtol=1e-9, atol=1e-12, err_msg=name)
    # Only an object of one pixel has a circle without area, and no moments.
    single = np.bincount(labels.ravel())[1:] == 1
    assert single.any()
    np.testing.assert_array_equal(np.isnan(ours["Zernike_0_0"]), single)
