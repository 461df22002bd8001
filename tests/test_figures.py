"""Figures show every series they are given, and say what they show."""

import numpy as np
import pandas as pd

from analysis import explore, figures


def scores(methods):
    return pd.DataFrame(
        [{"image": f"A24 f{i}", "method": m, "dice": 0.5 + i / 20} for m in methods for i in range(1, 4)]
    )


def test_every_method_has_its_series_in_the_score_plot():
    methods = ["li", "otsu", "stardist (project)", "stardist-li (project)", "watershed", "sixth"]
    ax = figures.plot_scores(scores(methods)).axes[0]
    assert [line.get_label() for line in ax.get_lines()] == sorted(methods)
    assert all(len(line.get_xdata()) == 3 for line in ax.get_lines())


def test_every_method_has_its_bars_in_the_count_plot():
    tables = [
        pd.DataFrame({"image": ["A24 f1", "A24 f2"], "method": m, "n_nuclei": [10, 20]})
        for m in ("a", "b", "c", "d", "e")
    ]
    ax = figures.plot_counts(tables, pd.Series({"A24 f1": 11, "A24 f2": 19})).axes[0]
    assert len(ax.patches) == 10
    assert ax.get_legend() is not None


def test_segmentation_panels_are_titled_by_the_caller():
    labels = np.zeros((20, 20), np.int32)
    labels[5:10, 5:10] = 1
    fig = figures.show_segmentation(
        np.ones((20, 20)), labels, np.array([[7, 7]]), title="1 nucleus", image_title="actin (channel 3)"
    )
    assert [ax.get_title() for ax in fig.axes] == ["actin (channel 3)", "1 nucleus"]
    assert [text.get_text() for text in fig.axes[1].texts] == ["1"]


def test_the_scatter_draws_each_distinct_pixel_pair_once():
    first = np.array([[0, 0, 255], [3, 3, 0]], np.uint8)
    second = np.array([[5, 5, 1], [0, 0, 5]], np.uint8)
    counts, edges = explore.histogram_2d(first, second)
    density = np.full((256, 256), 1e-6)
    density[100:150, 100:150] = 1e-2
    fig = figures.plot_pixel_pairs(first, second, counts, edges, density)
    np.testing.assert_array_equal(fig.axes[0].collections[0].get_offsets(), [[0, 5], [3, 0], [255, 1]])
