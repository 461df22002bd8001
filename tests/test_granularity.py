"""Granularity from one spectrum per stain: cp_measure's numbers, the openings computed once."""

import numpy as np
from cp_measure.core.measuregranularity import get_granularity
from skimage.draw import disk

from analysis.steps import profiling
from analysis.steps.granularity import SPECTRUM_LENGTH, granular_spectrum, granularity


def speckled_field(shape=(250, 301)):
    """Nuclei-like discs with bright specks of several sizes on an uneven background; three object types."""
    rng = np.random.default_rng(4)
    rows, cols = np.indices(shape)
    image = 0.1 + 0.1 * cols / shape[1] + rng.normal(0, 0.01, shape)
    nuclei, cells = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    for number, (row, col) in enumerate([(60, 70), (150, 200), (190, 80)], start=1):
        cells[np.hypot(rows - row, cols - col) < 40] = number
        nuclei[disk((row, col), 25, shape=shape)] = number
        image[disk((row, col), 25, shape=shape)] += 0.3
        for _ in range(6):
            centre = (row + rng.integers(-18, 18), col + rng.integers(-18, 18))
            image[disk(centre, rng.integers(1, 5), shape=shape)] += 0.3
    cells = np.zeros(shape, np.int32)
    for number in (1, 2, 3):
        cells[np.hypot(*(np.argwhere(nuclei == number).mean(axis=0)[:, None, None] - [rows, cols])) < 40] = (
            number
        )
    cytoplasm = np.where(nuclei > 0, 0, cells)
    return np.clip(image, 0, 1), {"Nuclei": nuclei, "Cells": cells, "Cytoplasm": cytoplasm}


def test_one_spectrum_gives_cp_measures_granularity_for_every_object_type():
    image, objects = speckled_field()
    spectrum = granular_spectrum(image)
    assert len(spectrum) == SPECTRUM_LENGTH + 1
    for labels in objects.values():
        expected = get_granularity(labels, image)
        ours = granularity(spectrum, labels)
        assert list(ours) == list(expected)
        for name, values in expected.items():
            np.testing.assert_allclose(ours[name], values, rtol=1e-9, atol=1e-9, err_msg=name)
    # The specks make a spectrum, not only its first size.
    assert np.ptp(granularity(spectrum, objects["Nuclei"])["Granularity_3"]) > 0


def test_a_field_keeps_each_stains_spectrum_for_its_next_object_type():
    image, objects = speckled_field()
    shared = {}
    first = profiling.family_features("Granularity", objects["Nuclei"], {"DNA": image}, {"DNA": 255}, shared)
    assert [key for key in shared if key[0] != "objects"] == [("granular_spectrum", "DNA")]
    # What is kept is what is read: a planted spectrum whose first opening takes everything
    # away gives 100 % at size 1 and nothing after it.
    small = shared[("granular_spectrum", "DNA")][1].shape
    shared[("granular_spectrum", "DNA")] = [image] + [np.zeros(small)] * SPECTRUM_LENGTH
    planted = profiling.family_features("Granularity", objects["Cells"], {"DNA": image}, {"DNA": 255}, shared)
    np.testing.assert_allclose(planted.pop("Granularity_1_DNA"), 100)
    assert all((values == 0).all() for values in planted.values())
    alone = profiling.family_features("Granularity", objects["Cells"], {"DNA": image}, {"DNA": 255})
    assert any((values != 0).any() for values in alone.values())
    assert len(first["Granularity_1_DNA"]) == 3


def test_too_small_to_subsample_is_undefined():
    labels = np.ones((6, 6), np.int32)
    assert granular_spectrum(np.full((6, 6), 0.5)) is None
    assert np.isnan(granularity(None, labels)["Granularity_16"]).all()
