"""Reading images and masks: the lesson's loader facts and the masks' polarity."""

import numpy as np
import pytest

from analysis.errors import AnalysisError
from analysis.io import images, registry

# Printed in the lesson for channel 1 of A24 field 1, rows and columns 10..19.
LESSON_BLOCK = np.array(
    [
        [128, 150, 137, 100, 53, 27, 18, 14, 12, 10],
        [155, 177, 172, 136, 73, 38, 21, 15, 11, 11],
        [140, 146, 154, 144, 96, 50, 24, 15, 13, 11],
        [133, 144, 139, 122, 95, 55, 26, 15, 13, 11],
        [114, 117, 122, 103, 78, 46, 22, 14, 11, 10],
        [79, 87, 97, 78, 54, 32, 18, 12, 11, 12],
        [48, 54, 53, 46, 27, 20, 14, 12, 10, 11],
        [20, 22, 23, 20, 15, 13, 13, 11, 11, 11],
        [17, 16, 15, 14, 13, 11, 11, 11, 10, 12],
        [12, 14, 14, 13, 14, 12, 12, 12, 11, 11],
    ]
)


def test_loader_facts_from_the_lesson(pairs, first_pair):
    nuclei, actin = first_pair
    assert nuclei.max() == 255
    assert actin.max() == 122
    np.testing.assert_array_equal(nuclei[10:20, 10:20], LESSON_BLOCK)
    for pair in pairs:
        for image in images.load_pair(pair):
            assert image.shape == (512, 512)
            assert image.dtype == np.uint8


def test_mask_polarity_is_foreground_true(pairs):
    import tifffile

    path = registry.foreground_path(pairs[0].nuclei)
    raw = tifffile.imread(path)
    mask = images.load_mask(path)
    assert raw.mean() > 0.5 > mask.mean()
    np.testing.assert_array_equal(mask, ~raw.astype(bool))


def test_a_label_image_is_a_mask_of_its_image_shape(tmp_path):
    import tifffile

    path = tmp_path / "labels.tif"
    tifffile.imwrite(path, np.array([[0, 3], [7, 0]], np.uint16))
    np.testing.assert_array_equal(images.load_mask(path, (2, 2)), [[False, True], [True, False]])
    with pytest.raises(
        AnalysisError, match=r"mask of shape \(2, 2\) does not fit its image of shape \(2, 3\)"
    ):
        images.load_mask(path, (2, 3))


def test_nuclei_masks_cover_bright_pixels(pairs):
    for pair in pairs:
        nuclei = images.load_image(pair.nuclei)
        mask = images.load_mask(registry.foreground_path(pair.nuclei))
        assert 0.01 <= mask.mean() <= 0.15, pair.name
        assert nuclei[mask].mean() > 3 * nuclei[~mask].mean(), pair.name
