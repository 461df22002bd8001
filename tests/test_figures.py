"""Figures show every series they are given, and say what they show."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from analysis.io.output import FIGURE_FILE_DPI
from analysis.plots import figures
from analysis.steps import explore


def scores(methods):
    return pd.DataFrame(
        [{"image": f"A24 f{i}", "method": m, "dice": 0.5 + i / 20} for m in methods for i in range(1, 4)]
    )


def test_every_method_has_its_series_in_the_score_plot():
    methods = ["li", "otsu", "stardist (project)", "stardist-li (project)", "watershed", "sixth"]
    ax = figures.plot_scores(scores(methods)).axes[0]
    assert [line.get_label() for line in ax.get_lines()] == sorted(methods)
    assert all(len(line.get_xdata()) == 3 for line in ax.get_lines())
    assert ax.get_ylim()[0] == 0 < 1 < ax.get_ylim()[1]  # a perfect score's marker is not cut in half
    assert ax.get_yticks().max() == 1


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


@pytest.mark.parametrize("shape", [(512, 512), (1024, 1344), (1344, 1024)])
def test_the_segmentation_titles_lie_inside_the_figure_as_saved(shape):
    """Drawn at the resolution of ``count --figures``'s files: a square field, a wide and a tall one."""
    image, labels = np.ones(shape), np.zeros(shape, np.int32)
    fig = figures.show_segmentation(image, labels, title="A24 f1: 172 nuclei", image_title="nuclei")
    fig.set_dpi(FIGURE_FILE_DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    for ax in fig.axes:
        title = ax.title.get_window_extent(canvas.get_renderer())
        assert 0 <= title.x0 < title.x1 <= fig.bbox.x1
        assert 0 <= title.y0 < title.y1 <= fig.bbox.y1
        assert title.y0 >= ax.get_window_extent().y1  # above its image, not over it


def overlay_centre(image, labels):
    """The RGB the overlay panel shows at its centre."""
    fig = figures.show_segmentation(image, labels)
    FigureCanvasAgg(fig).draw()
    box = fig.axes[1].get_window_extent()
    row, col = int(fig.bbox.height - (box.y0 + box.y1) / 2), int((box.x0 + box.x1) / 2)
    return np.asarray(fig.canvas.buffer_rgba())[row, col, :3].astype(int)


def test_the_stain_shows_through_the_objects():
    labels = np.zeros((40, 40), np.int32)
    labels[5:35, 5:35] = 1
    dark, bright = np.zeros((40, 40)), np.ones((40, 40))
    dark[0, 0], bright[0, 0] = 1, 0  # the same grey scale for both
    assert (overlay_centre(bright, labels) - overlay_centre(dark, labels)).min() > 100


def test_numbers_only_where_they_leave_the_objects_visible():
    labels = np.kron(np.arange(1, 101).reshape(10, 10), np.ones((4, 4), np.int32))
    centres = np.argwhere(np.ones((10, 10))) * 4 + 1.5
    dense = figures.show_segmentation(np.ones((40, 40)), labels, centres)
    sparse = figures.show_segmentation(np.ones((40, 40)), labels, centres, max_numbered=100)
    assert len(dense.axes[1].texts) == 0
    assert [text.get_text() for text in sparse.axes[1].texts] == [str(n) for n in range(1, 101)]


def test_the_scatter_draws_each_distinct_pixel_pair_once():
    first = np.array([[0, 0, 255], [3, 3, 0]], np.uint8)
    second = np.array([[5, 5, 1], [0, 0, 5]], np.uint8)
    counts, edges = explore.histogram_2d(first, second)
    density = np.full((256, 256), 1e-6)
    density[100:150, 100:150] = 1e-2
    fig = figures.plot_pixel_pairs(first, second, counts, edges, density)
    np.testing.assert_array_equal(fig.axes[0].collections[0].get_offsets(), [[0, 5], [3, 0], [255, 1]])
