import numpy as np
import pandas as pd
import pytest
from scipy.stats import gaussian_kde

from analysis.io import images
from analysis.steps import explore

LESSON_ROI = explore.Roi(450, 10, 60, 50)


def test_composite_places_stains_in_red_and_blue(first_pair):
    nuclei, actin = first_pair
    rgb = explore.composite(nuclei, actin)
    assert rgb.shape == (512, 512, 3)
    assert rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[..., 0], nuclei)
    np.testing.assert_array_equal(rgb[..., 2], actin)
    assert not rgb[..., 1].any()


def test_histogram_counts_every_pixel_once():
    image = np.array([[0, 0, 255], [3, 3, 3]], dtype=np.uint8)
    counts = explore.intensity_histogram(image)
    assert counts.shape == (256,)
    assert counts[0] == 2
    assert counts[3] == 3
    assert counts[255] == 1
    assert counts.sum() == image.size


def test_histogram_has_a_bin_per_level_even_for_a_dark_image():
    counts = explore.intensity_histogram(np.array([[0, 1, 1]], dtype=np.uint8))
    assert counts.shape == (256,)
    assert counts[:3].tolist() == [1, 2, 0]
    assert not counts[3:].any()


def test_histograms_of_all_images(pairs, num_regression):
    columns = {}
    for pair in pairs:
        for channel, image in zip(("ch1", "ch3"), images.load_pair(pair), strict=True):
            counts = explore.intensity_histogram(image)
            assert counts.sum() == 512 * 512
            columns[f"{pair.well}_f{pair.field}_{channel}"] = counts
    num_regression.check(columns)


def test_whole_stack_equalisation_loses_contrast(first_pair):
    nuclei, actin = first_pair
    per_channel = explore.equalize_channels(np.stack(first_pair, axis=-1))
    whole = explore.equalize_whole_stack(explore.composite(nuclei, actin))
    # The empty green channel takes a third of the shared histogram ...
    np.testing.assert_allclose(whole[..., 1], 1 / 3)
    # ... so both stains are squeezed into [1/3, 1] and lose contrast.
    for c_own, c_rgb in ((0, 0), (1, 2)):
        assert whole[..., c_rgb].min() > 1 / 3
        assert whole[..., c_rgb].std() < 0.75 * per_channel[..., c_own].std()


def test_each_channel_is_equalised_on_its_own(first_pair):
    nuclei, actin = first_pair
    together = explore.equalize_channels(np.stack([nuclei, actin], axis=-1))
    other = explore.equalize_channels(np.stack([nuclei, np.zeros_like(actin)], axis=-1))
    np.testing.assert_array_equal(together[..., 0], other[..., 0])  # the partner does not matter
    np.testing.assert_array_equal(together[..., 1], explore.equalize_channels(actin[..., None])[..., 0])


def equalisation_rows(first_pair):
    nuclei, actin = first_pair
    variants = {
        "per_channel": explore.equalize_channels(np.stack(first_pair, axis=-1)),
        "whole_stack": explore.equalize_whole_stack(explore.composite(nuclei, actin))[..., [0, 2]],
    }
    rows = []
    for variant, result in variants.items():
        for c, name in enumerate(("nuclei", "actin")):
            values = result[..., c]
            rows.append(
                {
                    "variant": variant,
                    "channel": name,
                    "mean": values.mean(),
                    "std": values.std(),
                    "p05": np.percentile(values, 5),
                    "p95": np.percentile(values, 95),
                }
            )
    return pd.DataFrame(rows)


def test_equalisation_statistics(first_pair, dataframe_regression):
    dataframe_regression.check(equalisation_rows(first_pair))


def test_normalisation_uses_reference_window():
    reference = np.array([[0, 10], [20, 30]], dtype=np.uint8)  # mean 15, std ~11.18
    image = np.array([[0, 15], [100, 5]], dtype=np.uint8)
    out = explore.normalise_to_reference(image, reference)
    assert out.dtype == np.uint8
    # 0 clips to 3.82 (-> 0), 100 clips to 26.18 (-> 255), 15 sits in the middle.
    np.testing.assert_array_equal(out, [[0, 128], [255, 13]])


def test_normalisation_statistics(first_pair, dataframe_regression):
    nuclei, actin = first_pair
    stack = np.stack(first_pair, axis=-1)
    variants = {
        "actin_vs_nuclei": explore.normalise_to_reference(actin, nuclei),
        "pair_vs_nuclei": explore.normalise_to_reference(stack, nuclei),
        "pair_vs_actin": explore.normalise_to_reference(stack, actin),
    }
    rows = []
    for name, result in variants.items():
        channels = [result] if result.ndim == 2 else [result[..., 0], result[..., 1]]
        for c, values in enumerate(channels):
            rows.append({"variant": name, "channel": c} | explore.channel_statistics(values))
    dataframe_regression.check(pd.DataFrame(rows))


def test_binned_kde_equals_scipy_kde(first_pair):
    nuclei, actin = first_pair
    grid = explore.gaussian_kde_grid(nuclei, actin)
    reference = gaussian_kde(explore.pixel_pairs(nuclei, actin).T.astype(float))
    points = np.array([[10, 10], [12, 14], [30, 12], [80, 20], [200, 40], [255, 122]])
    np.testing.assert_allclose(grid[points[:, 0], points[:, 1]], reference(points.T), rtol=1e-6, atol=1e-12)


def test_histogram_2d_bins_cover_the_grey_levels():
    first = np.array([0, 5, 6, 255, 255], dtype=np.uint8)
    second = np.array([0, 0, 0, 250, 255], dtype=np.uint8)
    counts, edges = explore.histogram_2d(first, second, bins=50)  # bins 5.12 levels wide
    assert counts.shape == (50, 50)
    assert edges[0] == 0
    assert edges[-1] == 256
    assert counts[0, 0] == 2
    assert counts[1, 0] == 1
    assert counts[49, 48] == 1
    assert counts[49, 49] == 1


def test_crop_rejects_rectangles_outside_the_image(first_pair):
    with pytest.raises(ValueError, match="does not lie inside"):
        explore.crop(first_pair[0], explore.Roi(480, 0, 60, 50))


def test_brightest_roi_finds_the_bright_square():
    image = np.zeros((40, 50), np.uint8)
    image[30:40, 0:12] = 200
    assert explore.brightest_roi(image, 12, 10) == explore.Roi(0, 30, 12, 10)


def test_roi_statistics(first_pair, dataframe_regression):
    nuclei, actin = first_pair
    channels = {"nuclei": nuclei, "actin": actin}
    empty = explore.roi_statistics(channels, LESSON_ROI)
    with_cells = explore.roi_statistics(channels, explore.brightest_roi(nuclei, 60, 50))
    table = pd.concat([empty.assign(roi="lesson"), with_cells.assign(roi="brightest")])
    # The lesson's corner holds no nucleus; the brightest window does.
    assert empty.query("channel == 'nuclei' and region == 'roi'")["max"].item() < 40
    assert with_cells.query("channel == 'nuclei' and region == 'roi'")["max"].item() > 200
    dataframe_regression.check(table.reset_index(drop=True))


def test_brightest_roi_can_slide_along_a_band():
    image = np.zeros((40, 50), np.uint8)
    image[30:40, 0:12] = 200
    image[5:15, 20:32] = 100
    assert explore.brightest_roi(image, 12, 10, top=5) == explore.Roi(20, 5, 12, 10)
