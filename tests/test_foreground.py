"""Thresholded foregrounds of a stain."""

import numpy as np
from conftest import sparse_field
from skimage.filters import threshold_li

from analysis.io import images
from analysis.steps import foreground


def _two_level_image():
    rng = np.random.default_rng(0)
    image = rng.normal(20, 3, (64, 64))
    image[10:30, 10:30] += 150  # one bright object
    return np.clip(image, 0, 255).astype(np.uint8)


def test_both_thresholds_find_a_bright_object():
    image = _two_level_image()
    objects = np.zeros(image.shape, bool)
    objects[10:30, 10:30] = True
    np.testing.assert_array_equal(foreground.otsu_foreground(image), objects)
    np.testing.assert_array_equal(foreground.li_foreground(image), objects)


def test_smoothing_drops_a_single_hot_pixel():
    image = _two_level_image()
    image[50, 50] = 255
    assert foreground.otsu_foreground(image)[50, 50]
    smoothed = foreground.otsu_foreground(image, smoothing=1.0)
    assert not smoothed[50, 50]
    assert smoothed[20, 20]


def test_li_is_strictly_above_its_level():
    # A dark field with a ramp of brighter pixels: Li marks a minority of it.
    image = np.concatenate(
        [np.zeros((28, 256), np.uint8), np.arange(256, dtype=np.uint8)[None, :].repeat(4, 0)]
    )
    found = foreground.li_foreground(image)
    level = image[found].min()
    assert not found[image < level].any()
    assert found[image >= level].all()
    assert 0 < found.mean() < 1


def test_li_settled_in_the_noise_gives_way_to_the_triangle():
    image, discs = sparse_field()
    assert (image > threshold_li(image)).mean() > foreground.MAX_LI_SHARE  # Li's level in the noise
    found = foreground.li_foreground(image)
    assert found[discs].all()
    assert found.mean() < 2 * discs.mean()


def test_li_keeps_the_dim_edges_that_otsu_drops(pairs):
    """On every BBBC008 nuclei image Li's level is the lower one, and Li's own (no fallback)."""
    for pair in pairs:
        image = images.load_image(pair.nuclei)
        li = foreground.li_foreground(image)
        np.testing.assert_array_equal(li, image > threshold_li(image), err_msg=pair.name)
        otsu = foreground.otsu_foreground(image)
        assert not (otsu & ~li).any(), pair.name
        assert li.sum() > 1.2 * otsu.sum(), pair.name
