"""Cells grown from nuclei on the actin stain, and the per-object features."""

import numpy as np
import pandas as pd
import pytest
from skimage.draw import disk
from skimage.measure import regionprops_table

from analysis.batch import per_field
from analysis.steps import cells, features


@pytest.fixture
def two_cells():
    """Two nuclei, each inside its own bright actin blob; the blobs touch."""
    actin = np.full((60, 100), 5, np.uint8)
    actin[disk((30, 30), 22, shape=actin.shape)] = 120
    actin[disk((30, 68), 20, shape=actin.shape)] = 90
    actin[disk((5, 95), 3, shape=actin.shape)] = 120  # a blob without a nucleus
    nuclei = np.zeros(actin.shape, np.int32)
    nuclei[disk((30, 30), 6)] = 1
    nuclei[disk((30, 68), 6)] = 2
    return nuclei, actin


def test_each_nucleus_grows_into_its_own_blob(two_cells):
    nuclei, actin = two_cells
    grown = cells.grow_cells(nuclei, actin)
    assert set(np.unique(grown)) == {0, 1, 2}
    assert (grown[nuclei == 1] == 1).all()
    assert (grown[nuclei == 2] == 2).all()
    # The brighter blob's pixels go to its own nucleus, not to the nearer-by-distance one.
    assert (grown[30, 8:45] == 1).all()
    assert (grown[30, 55:86] == 2).all()
    assert grown[5, 95] == 0  # no nucleus, no cell
    assert not grown[56:].any()  # background, beyond the threshold's 1-pixel smoothing


def test_cytoplasm_is_the_cell_without_its_nucleus(two_cells):
    nuclei, actin = two_cells
    grown = cells.grow_cells(nuclei, actin)
    rest = cells.cytoplasm(grown, nuclei)
    assert not rest[nuclei > 0].any()
    np.testing.assert_array_equal(rest[(nuclei == 0)], grown[nuclei == 0])


def test_no_nuclei_no_cells():
    assert not cells.grow_cells(np.zeros((20, 20), np.int32), np.ones((20, 20), np.uint8)).any()


def test_scaled_maps_the_range_to_unit():
    np.testing.assert_allclose(cells.scaled(np.array([[10, 20], [30, 10]])), [[0, 0.5], [1, 0]])
    assert not cells.scaled(np.full((3, 3), 7)).any()


def test_intensities_are_on_the_pixel_types_scale():
    assert features.to_unit(np.array([255], np.uint8)).item() == 1
    assert features.to_unit(np.array([65535], np.uint16)).item() == 1
    assert features.to_unit(np.array([0.25], np.float32)).item() == 0.25


def test_object_features_are_regionprops_measurements():
    rng = np.random.default_rng(7)
    labels = np.zeros((120, 140), np.int32)
    for number in rng.choice(np.arange(1, 400), size=25, replace=False):  # numbers with gaps
        row, col = rng.integers(8, 112), rng.integers(8, 132)
        labels[disk((row, col), rng.integers(2, 9), shape=labels.shape)] = number
    labels[3, 3:9] = 401  # a line: eccentricity 1, no minor axis
    labels[116, 136] = 402  # one pixel: no axes at all
    stains = {"DNA": rng.random(labels.shape), "Actin": rng.random(labels.shape) ** 2}
    table = features.object_features(labels, stains)
    props = regionprops_table(
        labels,
        intensity_image=np.stack(list(stains.values()), axis=-1),
        properties=("label", "centroid", "area", "perimeter", "eccentricity", "solidity")
        + ("axis_major_length", "axis_minor_length", "intensity_mean", "intensity_std", "intensity_max"),
    )
    assert table.ObjectNumber.tolist() == props["label"].tolist()
    assert table.ObjectNumber.dtype == props["label"].dtype
    expected = {
        "Location_Center_X": props["centroid-1"],
        "Location_Center_Y": props["centroid-0"],
        "AreaShape_Area": props["area"],
        "AreaShape_Perimeter": props["perimeter"],
        "AreaShape_Eccentricity": props["eccentricity"],
        "AreaShape_Solidity": props["solidity"],
        "AreaShape_MajorAxisLength": props["axis_major_length"],
        "AreaShape_MinorAxisLength": props["axis_minor_length"],
    }
    for index, name in enumerate(stains):
        expected[f"Intensity_MeanIntensity_{name}"] = props[f"intensity_mean-{index}"]
        expected[f"Intensity_StdIntensity_{name}"] = props[f"intensity_std-{index}"]
        expected[f"Intensity_MaxIntensity_{name}"] = props[f"intensity_max-{index}"]
    for column, values in expected.items():
        np.testing.assert_allclose(table[column], values, rtol=1e-9, atol=1e-9, err_msg=column)
    assert table.AreaShape_Eccentricity.iloc[-2:].tolist() == pytest.approx([1, 0])
    pd.testing.assert_frame_equal(
        features.object_locations(labels), table[["ObjectNumber", "Location_Center_X", "Location_Center_Y"]]
    )


@pytest.fixture
def awkward():
    """Objects whose outlines are easy to get wrong, numbered with gaps."""
    rng = np.random.default_rng(3)
    labels = np.zeros((90, 120), np.int32)
    labels[5, 5] = 1  # one pixel
    labels[10, 3:30] = 2  # a row
    labels[15:40, 3] = 3  # a column
    labels[np.arange(20, 35), np.arange(10, 25)] = 4  # a diagonal, corners touching
    labels[45:60, 5:8] = labels[57:60, 5:25] = 5  # an L
    labels[disk((70, 30), 12, shape=labels.shape)] = 7  # a ring: its hole is in the hull
    labels[disk((70, 30), 6, shape=labels.shape)] = 0
    labels[5:9, 60:64] = labels[20:23, 80:84] = 9  # two parts, one object
    labels[80:, 100:] = 11  # at the image's corner
    labels[50:80, 70:110][rng.random((30, 40)) < 0.3] = 12  # ragged
    labels[40:50, 40:60] = 13  # two objects that touch
    labels[45:55, 50:70] = 14
    return labels


@pytest.mark.parametrize(("ours", "theirs"), [("convex_areas", "area_convex"), ("perimeters", "perimeter")])
def test_outline_measures_are_regionprops_values(awkward, ours, theirs):
    expected = regionprops_table(awkward, properties=("label", theirs))[theirs]
    np.testing.assert_array_equal(getattr(features, ours)(awkward), expected)


def test_object_features_of_a_disc_and_a_square():
    labels = np.zeros((80, 80), np.int32)
    labels[disk((20, 20), 12)] = 1
    labels[50:70, 40:60] = 3
    stain = np.zeros(labels.shape)
    stain[labels == 1] = 0.5
    stain[labels == 3] = 0.25
    table = features.object_features(labels, {"DNA": stain})
    assert table.ObjectNumber.tolist() == [1, 3]
    disc, square = table.iloc[0], table.iloc[1]
    assert (disc.Location_Center_X, disc.Location_Center_Y) == pytest.approx((20, 20))
    assert (square.Location_Center_X, square.Location_Center_Y) == pytest.approx((49.5, 59.5))
    assert disc.AreaShape_FormFactor == pytest.approx(1, abs=0.1)
    # A square is less round than a disc; skimage's perimeter of pixel corners
    # runs short of 4 x 20, so its form factor lies above the ideal pi / 4.
    assert np.pi / 4 < square.AreaShape_FormFactor < 0.9
    assert square.AreaShape_Area == 400
    assert square.Intensity_IntegratedIntensity_DNA == pytest.approx(100)
    assert disc.Intensity_MeanIntensity_DNA == pytest.approx(0.5)
    assert disc.Intensity_StdIntensity_DNA == pytest.approx(0)


def test_mitotic_nuclei_are_those_above_the_markers_otsu_level():
    marker = np.random.default_rng(0).uniform(0.02, 0.06, (20, 20))  # background
    marker[:3] = 0.8  # a bright nucleus
    flags = features.mitotic(np.array([0.05, 0.7, 0.04]), marker)
    assert flags.tolist() == [False, True, False]


def test_single_cell_table_prefixes_each_compartment():
    def table(objects, extra=None):
        frame = pd.DataFrame(
            {
                "ImageNumber": 1,
                "ObjectNumber": objects,
                "Metadata_Well": "A01",
                "AreaShape_Area": [10.0 * o for o in objects],
            }
        )
        return frame.assign(**(extra or {}))

    tables = {
        "Nuclei": table([1, 2]),
        "Cells": table([1, 2], {"Parent_Nuclei": [1, 2]}),
        "Cytoplasm": table([2], {"Parent_Nuclei": [2], "Parent_Cells": [2]}),
    }
    merged = per_field.single_cell_table(tables)
    assert merged.columns.tolist() == [
        "ImageNumber",
        "ObjectNumber",
        "Metadata_Well",
        "Cells_AreaShape_Area",
        "Nuclei_AreaShape_Area",
        "Cytoplasm_AreaShape_Area",
    ]
    assert merged.Cytoplasm_AreaShape_Area.isna().tolist() == [True, False]
