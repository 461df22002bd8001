"""Haralick texture from crops cut once: cp_measure's numbers."""

import numpy as np
import pytest
from cp_measure.core.numba.measuretexture import get_texture
from test_shape import crowded_field, odd_objects

from analysis.steps.texture import GRAY_LEVELS, SCALE, haralick, quantised


@pytest.mark.parametrize("labels", [odd_objects(), crowded_field()], ids=["odd", "crowded"])
def test_crops_cut_once_give_cp_measures_texture(labels):
    rng = np.random.default_rng(6)
    image = np.clip(rng.normal(0.4, 0.2, labels.shape), 0, 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # objects too thin for a pair 3 pixels apart
        expected = get_texture(labels, image, scale=SCALE, gray_levels=GRAY_LEVELS)
        ours = haralick(labels, quantised(image))
    assert list(ours) == list(expected)
    assert len(ours) == 52
    for name, values in expected.items():
        np.testing.assert_array_equal(ours[name], values, err_msg=name)
