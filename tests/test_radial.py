"""Radial distribution: CellProfiler's centres, ties included; cp_measure's numbers from rings found once."""

import numpy as np
import pytest
from centrosome.cpmorphology import distance_to_edge
from cp_measure.core import measureobjectintensitydistribution as cp_radial
from scipy import ndimage as ndi
from skimage.draw import disk

from analysis.steps.radial import cellprofiler_centres, object_rings, radial_distribution


def squares_with_tied_centres():
    """25 squares of even side: each has two to four points equally far from its edge."""
    labels = np.zeros((60, 60), np.int32)
    for number, (row, col) in enumerate(np.ndindex(5, 5), start=1):
        side = 4 + (number % 4) * 2
        labels[12 * row + 1 : 12 * row + 1 + side, 12 * col + 1 : 12 * col + 1 + side] = number
    return labels


def stains(shape, seed=2):
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape)
    return {"DNA": rng.random(shape), "Actin": 0.2 + 0.5 * np.sin(rows / 5) ** 2 * np.cos(cols / 7) ** 2}


def test_centres_break_ties_as_cellprofiler_does():
    labels = squares_with_tied_centres()
    distance = distance_to_edge(labels)
    index = np.arange(1, 26)
    centres = np.stack(cellprofiler_centres(distance, labels, 25), axis=1)
    # CellProfiler's own call, with the introsort of the NumPy it ships.
    expected = ndi.maximum_position(distance.astype(np.longdouble), labels, index)
    np.testing.assert_array_equal(centres, expected)
    # The ties matter: the first tied point in row order is another for most squares.
    first = [np.argwhere((labels == n) & (distance == distance[labels == n].max()))[0] for n in index]
    assert (centres != first).any(axis=1).sum() > 10


def assert_same_columns(ours, expected):
    assert list(ours) == list(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(ours[name], values, rtol=1e-9, atol=1e-12, err_msg=name)


# cp_measure divides by the pixel count of empty wedges and says so; the masked mean leaves them out.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")


def test_rings_around_cellprofilers_centres_give_cp_measures_numbers(monkeypatch):
    labels = squares_with_tied_centres()
    labels[30:42, 1:30] = 26  # a bar touching three squares: the rings are grown colour by colour
    rings = object_rings(labels)
    # cp_measure's function around the same centres is the reference.
    monkeypatch.setattr(cp_radial, "_maximum_position_of_labels", cellprofiler_centres)
    for image in stains(labels.shape).values():
        assert_same_columns(
            radial_distribution(rings, image), cp_radial.get_radial_distribution(labels, image)
        )


def test_where_no_centre_ties_cp_measures_own_function_agrees():
    labels = np.zeros((80, 80), np.int32)
    for number, (centre, radius) in enumerate([((20, 20), 11), ((55, 30), 15), ((30, 60), 7)], start=1):
        labels[disk(centre, radius)] = number
    rings = object_rings(labels)
    for image in stains(labels.shape, seed=5).values():
        ours = radial_distribution(rings, image)
        assert_same_columns(ours, cp_radial.get_radial_distribution(labels, image))
    # Each object's intensity is shared out among its rings.
    fractions = sum(ours[f"RadialDistribution_FracAtD_{ring}of4"] for ring in range(1, 5))
    np.testing.assert_allclose(fractions, 1)


def test_an_object_without_intensity_has_no_fractions():
    labels = np.zeros((30, 30), np.int32)
    labels[disk((15, 15), 9)] = 1
    dark = np.zeros(labels.shape)
    columns = radial_distribution(object_rings(labels), dark)
    assert np.isnan(columns["RadialDistribution_FracAtD_1of4"]).all()
    assert_same_columns(columns, cp_radial.get_radial_distribution(labels, dark))
