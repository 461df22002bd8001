"""Distances inside objects from one seed each: centrosome's propagate, to the bit, all objects at once."""

import numpy as np
from centrosome.cpmorphology import color_labels
from centrosome.propagate import propagate
from scipy import ndimage as ndi
from skimage.segmentation import relabel_sequential, watershed

from analysis.steps.geodesic import distances_from_seeds


def test_one_search_gives_propagates_distances_colour_by_colour():
    rng = np.random.default_rng(2)
    shape = (150, 170)
    markers = np.zeros(shape, np.int32)
    for number, (row, col) in enumerate(rng.integers(0, shape, (50, 2)), start=1):
        markers[row, col] = number
    # Ragged, touching objects, some in several parts.
    labels = relabel_sequential(watershed(rng.random(shape), markers, mask=rng.random(shape) < 0.85))[0]
    labels[10:15, 10:15], labels[12, 12] = 0, 1  # a part of object 1, on its own
    seeds = np.array(
        [np.argwhere(labels == n)[len(np.argwhere(labels == n)) // 2] for n in range(1, labels.max() + 1)]
    )
    ours = distances_from_seeds(labels, seeds[:, 0], seeds[:, 1])
    # CellProfiler's way: the objects of one colour grown together over the whole image.
    centres = np.zeros(shape, np.int32)
    centres[seeds[:, 0], seeds[:, 1]] = labels[seeds[:, 0], seeds[:, 1]]
    colours = color_labels(labels)
    expected, reached = np.full(shape, np.inf), np.zeros(shape, bool)
    for colour in range(1, colours.max() + 1):
        mask = colours == colour
        grown, distance = propagate(np.zeros(shape), centres, mask, 1)
        expected[mask & (grown > 0)] = distance[mask & (grown > 0)]
        reached |= mask & (grown > 0)
    np.testing.assert_array_equal(np.isfinite(ours), reached)
    np.testing.assert_array_equal(ours[reached], expected[reached])
    # Some objects have parts their seed cannot reach: those stay unreached.
    parts = [ndi.label(labels == n, np.ones((3, 3)))[1] for n in range(1, labels.max() + 1)]
    assert max(parts) > 1
    assert (~reached & (labels > 0)).any()
