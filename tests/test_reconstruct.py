"""Greyscale reconstruction in numba: skimage's arrays, to the bit."""

import numpy as np
import pytest
from skimage.morphology import disk, erosion, reconstruction

from analysis.steps.reconstruct import reconstruct


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (7, 1), (64, 80)])
def test_reconstruction_equals_skimages(shape):
    rng = np.random.default_rng(sum(shape))
    rows, cols = np.indices(shape)
    mask = np.round(rng.random(shape) * 40) / 40 + np.sin(rows / 6) * np.cos(cols / 9)  # ties and plateaus
    marker = mask
    for _ in range(4):
        marker = erosion(marker, disk(1))
        np.testing.assert_array_equal(
            reconstruct(marker, mask), reconstruction(marker, mask, footprint=disk(1))
        )


def test_a_single_seed_floods_its_plateau_only():
    mask = np.zeros((9, 9))
    mask[1:4, 1:8], mask[6:8, 1:8] = 0.5, 0.7
    marker = np.zeros_like(mask)
    marker[2, 2] = 1.0  # above the mask: the mask counts
    grown = reconstruct(marker, mask)
    np.testing.assert_array_equal(grown, np.where(mask == 0.5, 0.5, 0.0))
