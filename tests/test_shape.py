"""Size and shape of every object at once: cp_measure's (regionprops') numbers, odd objects included."""

import warnings

import numpy as np
import pytest
from centrosome.cpmorphology import color_labels, distance_to_edge
from cp_measure.core.measureobjectsizeshape import get_sizeshape
from scipy import ndimage as ndi
from skimage.draw import disk
from skimage.measure import euler_number, perimeter_crofton
from skimage.segmentation import relabel_sequential, watershed

from analysis.steps.shape import edge_distances, object_parts, pattern_histograms, size_shape


def odd_objects():
    """One pixel, a line, a diagonal, an L, a ring, a ring with an object in its hole, two parts,
    a ring open at one corner, a ring and a pixel, objects touching each other and the image's edges."""
    labels = np.zeros((40, 60), np.int32)
    labels[2, 2] = 1
    labels[5, 2:12] = 2
    labels[np.arange(8, 16), np.arange(2, 10)] = 3
    labels[18:30, 2:4], labels[28:30, 2:12] = 4, 4
    labels[2:12, 15:25], labels[4:10, 17:23] = 5, 0
    labels[14:26, 15:27], labels[16:24, 17:25] = 6, 7
    labels[28:32, 15:18], labels[34:38, 20:24] = 8, 8
    labels[2:10, 30:38], labels[3:9, 31:37] = 9, 0
    labels[3, 31] = 9  # the hole now touches the ring's corner only diagonally
    labels[0:6, 50:60], labels[6:12, 50:60] = 10, 11
    labels[30:40, 40:52] = 12
    labels[disk((20, 42), 6)] = 13
    labels[disk((20, 53), 5)] = 14
    labels[30:36, 2:8], labels[32:34, 4:6], labels[38, 2] = 15, 0, 15  # a ring and a pixel: Euler 1
    return labels


def crowded_field(shape=(120, 150), seed=1):
    """Many touching objects of ragged outline, some with holes, grown from random seeds."""
    rng = np.random.default_rng(seed)
    markers = np.zeros(shape, np.int32)
    for number, (row, col) in enumerate(rng.integers(0, shape, (60, 2)), start=1):
        markers[row, col] = number
    return relabel_sequential(watershed(rng.random(shape), markers, mask=rng.random(shape) < 0.9))[0]


@pytest.mark.parametrize("labels", [odd_objects(), crowded_field()], ids=["odd", "crowded"])
def test_all_objects_at_once_give_cp_measures_sizes_and_shapes(labels):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the form factor of a pixel
        expected = get_sizeshape(labels, None)
        ours = size_shape(labels)
    assert list(ours) == list(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(ours[name], values, rtol=1e-9, atol=1e-12, err_msg=name)


def test_each_objects_patterns_give_its_euler_number_and_crofton_perimeter():
    labels = odd_objects()
    histograms = pattern_histograms(labels)
    euler = np.zeros(16, int)
    euler[[6, 14]], euler[8] = -1, 1  # skimage's weights for 8-connected objects
    crofton = size_shape(labels)["PerimeterCrofton"]
    for number, box in enumerate(ndi.find_objects(labels), start=1):
        mask = labels[box] == number
        windows = ndi.binary_dilation(np.pad(mask, 1), np.ones((2, 2)))  # every 2 x 2 window holding it
        assert histograms[number - 1].sum() == np.count_nonzero(windows)
        assert euler_number(mask, 2) == histograms[number - 1] @ euler
        assert perimeter_crofton(mask, 4) == crofton[number - 1]


def test_edge_distances_are_each_objects_own_distance_transform():
    labels = crowded_field()
    colours = color_labels(labels)
    padded = edge_distances(colours)
    for number, box in enumerate(ndi.find_objects(labels), start=1):
        mask = labels[box] == number
        alone = ndi.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
        np.testing.assert_array_equal(padded[box][mask], alone[mask])
    # Without the padding, beyond the image is no edge: centrosome's distances, to the bit.
    np.testing.assert_array_equal(edge_distances(colours, outside_is_edge=False), distance_to_edge(labels))


def test_parts_are_counted_per_object():
    labels = odd_objects()
    parts = object_parts(labels, color_labels(labels))
    assert parts[8 - 1] == parts[15 - 1] == 2
    assert (np.delete(parts, [8 - 1, 15 - 1]) == 1).all()
