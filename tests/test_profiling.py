"""CellProfiler's feature families and image quality measures, on objects whose answers are known."""

import numpy as np
import pandas as pd
import pytest
from centrosome.cpmorphology import color_labels
from scipy import ndimage as ndi
from skimage.draw import disk

from analysis.batch import per_field
from analysis.errors import AnalysisError
from analysis.steps import agreement, profiling, quality
from analysis.steps.features import object_features

STAINS = ("DNA", "Actin")


def two_discs(first=1, second=2, shape=(96, 96)):
    """Two discs, radius 12 and 9, and two images with texture inside them."""
    labels = np.zeros(shape, np.int32)
    labels[disk((30, 30), 12, shape=shape)] = first
    labels[disk((64, 64), 9, shape=shape)] = second
    rng = np.random.default_rng(1)
    dna = np.where(labels > 0, 0.5, 0.05) + rng.normal(0, 0.02, shape)
    actin = 0.3 * dna + rng.normal(0, 0.02, shape)
    images = {"DNA": np.clip(dna, 0, 1), "Actin": np.clip(actin, 0, 1)}
    return labels, images


def all_families(labels, images):
    columns = {}
    for family in profiling.FAMILIES:
        columns |= profiling.family_features(family, labels, images, dict.fromkeys(images, 255))
    return pd.DataFrame(columns)


def test_columns_are_named_as_cellprofiler_names_them():
    names = {family: profiling.family_columns(family, STAINS) for family in profiling.FAMILIES}
    expected = {
        "AreaShape": [
            "AreaShape_Area",
            "AreaShape_Perimeter",
            "AreaShape_FormFactor",
            "AreaShape_Zernike_3_1",
        ],
        "Intensity": ["Intensity_MedianIntensity_DNA", "Location_CenterMassIntensity_X_Actin"],
        "Texture": ["Texture_Contrast_DNA_3_00_256", "Texture_InfoMeas2_Actin_3_03_256"],
        "Granularity": ["Granularity_1_Actin", "Granularity_16_DNA"],
        "RadialDistribution": [
            "RadialDistribution_FracAtD_DNA_1of4",
            "RadialDistribution_RadialCV_Actin_4of4",
        ],
        "Correlation": [
            "Correlation_Correlation_DNA_Actin",
            "Correlation_K_Actin_DNA",
            "Correlation_Costes_DNA_Actin",
        ],
    }
    for family, columns in expected.items():
        assert set(columns) <= set(names[family]), family
    counts = {family: len(columns) for family, columns in names.items()}
    # Hundreds per compartment: 110 shape, then per stain 21 + 52 + 16 + 12, and 11 per pair.
    assert counts == {
        "AreaShape": 110,
        "Intensity": 42,
        "Texture": 104,
        "Granularity": 32,
        "RadialDistribution": 24,
        "Correlation": 11,
    }


def test_known_answers_on_two_discs():
    labels, images = two_discs()
    table = all_families(labels, images)
    assert len(table) == 2
    assert table.AreaShape_Area.tolist() == [np.sum(labels == 1), np.sum(labels == 2)]
    # A disc is round: form factor near 1, eccentricity near 0.
    assert np.all(table.AreaShape_FormFactor.between(0.85, 1.1))
    assert np.all(table.AreaShape_Eccentricity < 0.2)
    for number in (1, 2):
        inside = images["DNA"][labels == number]
        row = table.iloc[number - 1]
        assert row.Intensity_MeanIntensity_DNA == pytest.approx(inside.mean())
        assert row.Intensity_IntegratedIntensity_DNA == pytest.approx(inside.sum())
        assert row.Correlation_Correlation_DNA_Actin == pytest.approx(
            np.corrcoef(inside, images["Actin"][labels == number])[0, 1]
        )
    # The rings share out all of an object's intensity.
    fractions = table[[f"RadialDistribution_FracAtD_DNA_{ring}of4" for ring in range(1, 5)]].sum(axis=1)
    np.testing.assert_allclose(fractions, 1)


def test_a_uniform_object_has_no_texture_and_correlates_with_itself():
    labels = np.zeros((64, 64), np.int32)
    labels[disk((32, 32), 14)] = 1
    flat = np.where(labels > 0, 0.6, 0.0)
    columns = profiling.family_features("Texture", labels, {"DNA": flat}, {"DNA": 255})
    assert columns["Texture_Contrast_DNA_3_00_256"][0] == 0
    assert columns["Texture_AngularSecondMoment_DNA_3_00_256"][0] == pytest.approx(1)
    labels, images = two_discs()
    same = {"DNA": images["DNA"], "Copy": images["DNA"]}
    pair = profiling.family_features("Correlation", labels, same, dict.fromkeys(same, 255))
    np.testing.assert_allclose(pair["Correlation_Correlation_DNA_Copy"], 1)


def test_label_gaps_do_not_change_the_values():
    gapped = all_families(*two_discs(first=5, second=9))
    dense = all_families(*two_discs())
    pd.testing.assert_frame_equal(gapped, dense)


def test_a_field_without_objects_keeps_every_column():
    _, images = two_discs()
    empty = np.zeros((96, 96), np.int32)
    for family in profiling.FAMILIES:
        columns = profiling.family_features(family, empty, images, dict.fromkeys(images, 255))
        assert tuple(columns) == profiling.family_columns(family, STAINS)
        assert all(len(values) == 0 for values in columns.values())


def test_families_and_basic_share_the_object_rows_and_the_values_of_their_common_columns():
    labels, images = two_discs(first=3, second=7)
    labels[90, 5] = 1  # one pixel, and two side by side: neither has a perimeter
    labels[90, 20:22] = 2
    labels[80:86, 80:86] = 4
    raw = {name: (image * 255).astype(np.uint8) for name, image in images.items()}
    unit = {name: image / 255 for name, image in raw.items()}
    scales = {name: profiling.costes_scale(image) for name, image in raw.items()}
    full = per_field.measure_objects(labels, unit, scales, per_field.FEATURES)
    basic = per_field.measure_objects(labels, unit, scales, (per_field.BASIC,))
    pd.testing.assert_frame_equal(basic, object_features(labels, unit))
    assert full.ObjectNumber.tolist() == [1, 2, 3, 4, 7]
    assert len(full.columns) == 3 + 323
    assert basic.AreaShape_Perimeter.tolist()[:2] == [0, 0]
    for table in (full, basic):  # undefined: NaN in both, where CellProfiler writes infinity
        assert table.AreaShape_FormFactor[:2].isna().all()
        assert np.isfinite(table.AreaShape_FormFactor[2:]).all()
    pd.testing.assert_frame_equal(full[basic.columns], basic, check_dtype=False, rtol=1e-12)


@pytest.mark.parametrize(
    ("features", "problem"),
    [
        (("Textures",), "unknown feature set 'Textures'"),
        (("basic", "Texture"), "'basic' combines with 'ImageQuality' only"),
    ],
)
def test_feature_sets_are_checked(features, problem):
    with pytest.raises(AnalysisError, match=problem):
        per_field.check_stains(per_field.Settings(features=features))


def test_a_mitotic_index_needs_intensities():
    settings = per_field.Settings(features=("Texture",), mitotic_stain="DNA")
    with pytest.raises(AnalysisError, match="needs the 'basic' or 'Intensity' features"):
        per_field.check_stains(settings)


def test_quality_measures_of_a_known_field():
    image = np.full((64, 64), 0.25)
    image[:4, :5] = 1.0  # 20 saturated pixels
    measures = quality.image_quality(image, "DNA")
    assert measures["ImageQuality_PercentMaximal_DNA"] == pytest.approx(100 * 20 / 64**2)
    assert measures["ImageQuality_PercentMinimal_DNA"] == pytest.approx(100 * (64**2 - 20) / 64**2)
    assert measures["ImageQuality_FocusScore_DNA"] == pytest.approx(image.var() / image.mean())
    assert measures["ImageQuality_TotalArea_DNA"] == 64**2
    assert measures["ImageQuality_MedianIntensity_DNA"] == 0.25
    assert measures["ImageQuality_MADIntensity_DNA"] == 0
    flat = quality.image_quality(np.zeros((64, 64)), "DNA")
    assert flat["ImageQuality_FocusScore_DNA"] == 0
    assert flat["ImageQuality_PowerLogLogSlope_DNA"] == 0


def test_blur_makes_the_power_spectrum_steeper():
    rng = np.random.default_rng(0)
    sharp = ndi.gaussian_filter(rng.random((256, 256)), 1)
    blurred = ndi.gaussian_filter(sharp, 3)
    assert quality.power_log_log_slope(blurred) < quality.power_log_log_slope(sharp) - 1
    # Rings from 2 (the zero frequency left out) to an eighth of the side.
    radii, power = quality.radial_power_spectrum(sharp)
    assert radii[0] == 2
    assert radii[-1] == 256 // 8 - 1
    assert len(power) == len(radii)


def test_agreement_of_two_feature_tables():
    rng = np.random.default_rng(0)
    keys = {"ImageNumber": np.repeat([1, 2], 50), "ObjectNumber": np.tile(np.arange(1, 51), 2)}
    values = rng.normal(10, 2, 100)
    reference = pd.DataFrame(
        keys | {"Same": values, "Noisy": values, "Zero": 0.0, "Undefined": np.nan, "Holes": values}
    )
    ours = reference.assign(
        Noisy=values + rng.normal(0, 1, 100),
        Zero=rng.normal(0, 1e-13, 100),  # zero by definition, rounding on our side
        Holes=np.where(np.arange(100) < 3, np.nan, values),
    )
    table = agreement.feature_agreement(ours.iloc[::-1], reference).set_index("feature")
    assert table.meets.to_dict() == {
        "Same": True,
        "Noisy": False,
        "Zero": True,
        "Undefined": True,
        "Holes": True,
    }
    assert table.r["Same"] == pytest.approx(1)
    assert table.median_difference["Noisy"] > 0.01
    assert table.nan_mismatch.to_dict() == {"Same": 0, "Noisy": 0, "Zero": 0, "Undefined": 0, "Holes": 3}
    assert table.objects["Holes"] == 97
    with pytest.raises(ValueError, match="1 reference objects have no match"):
        agreement.feature_agreement(ours.iloc[1:], reference)


def test_costes_searches_the_grid_of_the_pixel_type():
    assert profiling.costes_scale(np.zeros(2, np.uint8)) == 255
    assert profiling.costes_scale(np.zeros(2, np.uint16)) == 65535
    assert profiling.costes_scale(np.zeros(2, np.float32)) == 65535


def test_a_field_keeps_each_pairs_costes_thresholds_for_its_next_object_type():
    labels, images = two_discs()
    shared = {}
    scales = dict.fromkeys(images, 255)
    found = profiling.family_features("Correlation", labels, images, scales, shared)
    assert [key for key in shared if key[0] != "objects"] == [("costes_thresholds", "DNA", "Actin")]
    # What is kept is what is read: thresholds above every pixel leave no object anything above them.
    shared[("costes_thresholds", "DNA", "Actin")] = (2.0, 2.0)
    planted = profiling.family_features("Correlation", labels, images, scales, shared)
    assert (planted["Correlation_Costes_DNA_Actin"] == 0).all()
    assert (found["Correlation_Costes_DNA_Actin"] > 0).all()


def test_the_families_of_a_label_image_renumber_and_colour_it_once(monkeypatch):
    labels, images = two_discs()
    labels = np.where(labels == 1, 5, labels)  # a gap: 2 and 5
    scales = dict.fromkeys(images, 255)
    alone = {
        family: profiling.family_features(family, labels, images, scales) for family in profiling.FAMILIES
    }
    coloured = []
    monkeypatch.setattr(
        profiling, "color_labels", lambda objects: coloured.append(1) or color_labels(objects)
    )
    shared = {}
    for family, expected in alone.items():
        together = profiling.family_features(family, labels, images, scales, shared)
        for name, values in expected.items():
            np.testing.assert_array_equal(together[name], values, err_msg=name)
    assert coloured == [1]  # the shape and the rings share it
    assert len([key for key in shared if key[0] == "objects"]) == 1
    # Another label image, even with the same objects, is renumbered on its own.
    profiling.family_features("AreaShape", labels.copy(), images, scales, shared)
    assert len([key for key in shared if key[0] == "objects"]) == 2
