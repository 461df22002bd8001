"""Figure builders: each takes computed results and returns a Figure.

No computation happens here beyond what drawing needs. Figures are built
without pyplot, so they are shown exactly once when a notebook cell returns
them, can be saved from any script, and are freed with their last reference. Continuous data use
perceptually uniform, colour-blind-safe maps (magma, viridis, cividis).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps, patheffects
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .explore import LEVELS, Roi

GREY = "grey level (0-255)"


def _subplots(nrows=1, ncols=1, figsize=None, layout="constrained", **kwargs):
    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def _cmap(name: str, n: int):
    return colormaps[name].resampled(n)


def _image_axes(ax, image, title, **kwargs):
    ax.imshow(image, **kwargs)
    ax.set_title(title)
    ax.set_axis_off()


def show_channels(nuclei: np.ndarray, actin: np.ndarray, rgb: np.ndarray) -> Figure:
    """Nuclei, actin and their red/blue composite side by side."""
    fig, axes = _subplots(1, 3, figsize=(10, 3.6))
    _image_axes(axes[0], nuclei, "channel 1: nuclei (Hoechst)", cmap="magma")
    _image_axes(axes[1], actin, "channel 3: actin (phalloidin)", cmap="magma")
    _image_axes(axes[2], rgb, "composite: nuclei red, actin blue")
    return fig


def plot_histograms(counts: Mapping[str, np.ndarray], xlim: tuple[float, float] = (0, LEVELS),
                    log: bool = False, xlabel: str = GREY) -> Figure:
    """One bar histogram per named channel, sharing both axes.

    Parameters
    ----------
    counts : mapping of str to ndarray, shape (bins,)
        Pixel counts per grey level (or per equal-width bin over ``xlim``).
    """
    fig, axes = _subplots(len(counts), 1, sharex=True, sharey=True,
                             figsize=(7, 1.9 * len(counts)), squeeze=False)
    for ax, (name, values) in zip(axes[:, 0], counts.items()):
        edges = np.linspace(0, LEVELS, len(values) + 1)
        ax.stairs(values, edges, fill=True, color="#3b528b")
        ax.set_title(name)
        ax.set_ylabel("pixels")
        ax.set_yscale("log" if log else "linear")
    axes[-1, 0].set_xlim(*xlim)
    axes[-1, 0].set_xlabel(xlabel)
    return fig


def plot_distributions(values: Mapping[str, np.ndarray], bins: int | np.ndarray = 64,
                       xlabel: str = GREY) -> Figure:
    """Histogram of each named array of values, one panel each, shared x axis."""
    fig, axes = _subplots(len(values), 1, figsize=(7, 1.9 * len(values)), sharex=True, squeeze=False)
    for ax, (name, data) in zip(axes[:, 0], values.items()):
        ax.hist(np.ravel(data), bins=bins, color="#3b528b")
        ax.set_title(name)
        ax.set_ylabel("pixels")
        ax.set_yscale("log")
    axes[-1, 0].set_xlabel(xlabel)
    return fig


def compare_images(images: Mapping[str, np.ndarray], **imshow) -> Figure:
    """Several images of the same scene in one row, titled by their keys."""
    fig, axes = _subplots(1, len(images), figsize=(3.6 * len(images), 3.8),
                             squeeze=False)
    for ax, (title, image) in zip(axes[0], images.items()):
        _image_axes(ax, image, title, **imshow)
    return fig


def plot_pixel_pairs(first: np.ndarray, second: np.ndarray, counts: np.ndarray,
                     edges: np.ndarray, density: np.ndarray,
                     labels: tuple[str, str] = ("nuclei", "actin")) -> Figure:
    """Scatter plot, 2-D histogram and kernel density of two channels.

    Parameters
    ----------
    first, second : ndarray of uint8, shape (rows, cols)
    counts, edges : output of :func:`analysis.explore.histogram_2d`
    density : ndarray, shape (256, 256)
        Output of :func:`analysis.explore.gaussian_kde_grid`.
    """
    fig, axes = _subplots(1, 3, figsize=(12, 4))
    distinct = np.unique(np.column_stack([first.ravel(), second.ravel()]), axis=0)
    axes[0].scatter(distinct[:, 0], distinct[:, 1], s=1, color="#21918c", rasterized=True)
    axes[0].set_title("scatter (each distinct pair once)")
    mesh = axes[1].pcolormesh(edges, edges, counts.T, cmap="viridis", vmax=np.percentile(counts, 99))
    fig.colorbar(mesh, ax=axes[1], label="pixels per bin")
    axes[1].set_title("2-D histogram")
    grid = np.arange(LEVELS)
    axes[2].contour(grid, grid, np.log10(density.T + 1e-12), levels=np.linspace(-7, -1, 13), cmap="cividis")
    axes[2].set_title("kernel density (log10 contours)")
    for ax in axes:
        ax.set_xlim(0, LEVELS)
        ax.set_ylim(0, LEVELS)
        ax.set_xlabel(f"{labels[0]}, {GREY}")
        ax.set_ylabel(f"{labels[1]}, {GREY}")
    return fig


def show_rois(image: np.ndarray, rois: Mapping[str, Roi]) -> Figure:
    """An image with named rectangles drawn on it, and each crop beside it."""
    fig, axes = _subplots(1, 1 + len(rois), figsize=(4 + 2.6 * len(rois), 4),
                             width_ratios=[1.6] + [1] * len(rois))
    axes[0].imshow(image)
    axes[0].set_axis_off()
    for (name, roi), colour, ax in zip(rois.items(), ("white", "yellow", "cyan", "orange"), axes[1:]):
        axes[0].add_patch(Rectangle((roi.x - 0.5, roi.y - 0.5), roi.w, roi.h, edgecolor=colour, fill=False, lw=1.5))
        axes[0].annotate(name, (roi.x, roi.y + roi.h + 4), color=colour, fontsize=9, va="top")
        ax.imshow(image[roi.slices])
        ax.set_title(f"{name}: x={roi.x}, y={roi.y}, {roi.w}x{roi.h}", fontsize=9)
        ax.set_axis_off()
    return fig


def plot_roi_histograms(channels: Mapping[str, np.ndarray], rois: Mapping[str, Roi]) -> Figure:
    """Grey-level distributions inside each rectangle against the whole image.

    Densities (fractions of each region's pixels) are shown, so a small
    region and the full image share one axis.
    """
    fig, axes = _subplots(len(channels), 1, figsize=(7, 2.4 * len(channels)),
                             sharex=True, squeeze=False)
    bins = np.arange(0, LEVELS + 8, 8)
    for ax, (name, image) in zip(axes[:, 0], channels.items()):
        ax.hist(image.ravel(), bins=bins, density=True, color="#3b528b", alpha=0.6, label="whole image")
        for (roi_name, roi), colour in zip(rois.items(), ("#5ec962", "#fde725", "#440154")):
            ax.hist(image[roi.slices].ravel(), bins=bins, density=True, histtype="step", lw=2,
                    color=colour, label=roi_name)
        ax.set_yscale("log")
        ax.set_title(name)
        ax.set_ylabel("fraction of pixels per level")
        ax.legend(fontsize=8)
    axes[-1, 0].set_xlabel(GREY)
    return fig


def plot_cluster_maps(maps: Mapping[str, np.ndarray]) -> Figure:
    """Cluster label maps in a grid; colours follow cluster brightness order."""
    n = len(maps)
    cols = min(n, 5)
    rows = int(np.ceil(n / cols))
    fig, axes = _subplots(rows, cols, figsize=(2.6 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (title, labels) in zip(axes.ravel(), maps.items()):
        k = int(labels.max()) + 1
        ax.imshow(labels, cmap=_cmap("viridis", k), vmin=-0.5, vmax=k - 0.5, interpolation="nearest")
        ax.set_title(title, fontsize=9)
    return fig


def plot_cluster_scatter(features: np.ndarray, labels: np.ndarray,
                         names: tuple[str, str] = ("nuclei", "actin")) -> Figure:
    """Pixel pairs coloured by cluster (label 0 = darkest cluster).

    Each distinct (feature, label) row is drawn once: identical pixels
    would only overdraw each other.
    """
    fig, ax = _subplots(figsize=(5, 4.5))
    k = int(labels.max()) + 1
    rows = np.unique(np.column_stack([features, labels]), axis=0)
    points = ax.scatter(rows[:, 0], rows[:, 1], c=rows[:, 2], s=2, cmap=_cmap("viridis", k),
                        vmin=-0.5, vmax=k - 0.5, rasterized=True)
    fig.colorbar(points, ax=ax, label="cluster", ticks=range(k))
    ax.set_xlabel(f"{names[0]}, {GREY}")
    ax.set_ylabel(f"{names[1]}, {GREY}")
    return fig


def plot_cluster_proportions(table: pd.DataFrame) -> Figure:
    """Stacked bars of cluster proportions for each method and k."""
    methods = list(dict.fromkeys(table["method"]))
    fig, axes = _subplots(1, len(methods), figsize=(5 * len(methods), 3.4),
                             sharey=True, squeeze=False)
    for ax, method in zip(axes[0], methods):
        part = table[table.method == method].pivot(index="k", columns="cluster", values="proportion").fillna(0)
        bottom = np.zeros(len(part))
        cmap = _cmap("viridis", part.shape[1])
        for cluster in part.columns:
            ax.bar(part.index, part[cluster], bottom=bottom, color=cmap(cluster), label=f"cluster {cluster}")
            bottom += part[cluster].to_numpy()
        ax.set_title(method)
        ax.set_xlabel("number of clusters k")
    axes[0, 0].set_ylabel("fraction of pixels")
    axes[0, -1].legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    return fig


def random_label_cmap(n: int = 2**12, seed: int = 3) -> ListedColormap:
    """Random bright colours for instance labels, background transparent."""
    rng = np.random.default_rng(seed)
    colours = np.column_stack([rng.uniform(0.3, 1.0, (n, 3)), np.ones(n)])
    colours[0] = (0, 0, 0, 0)
    return ListedColormap(colours)


def show_segmentation(image: np.ndarray, labels: np.ndarray, centroids: np.ndarray | None = None,
                      title: str = "", image_title: str = "") -> Figure:
    """An image, its instance labels overlaid and (optionally) numbered.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
    labels : ndarray of int, shape (rows, cols)
        0 = background.
    centroids : ndarray, shape (n, 2), optional
        (row, col) of each object, numbered 1..n on the right panel.
    title : str
        Title of the overlay panel.
    image_title : str
        Title of the plain image panel (say which channel it shows).

    Returns
    -------
    Figure
    """
    fig, axes = _subplots(1, 2, figsize=(10, 5.2))
    _image_axes(axes[0], image, image_title, cmap="gray")
    axes[1].imshow(image, cmap="gray")
    axes[1].imshow(labels, cmap=random_label_cmap(), alpha=0.5, interpolation="nearest",
                   vmin=0, vmax=2**12 - 1)
    if centroids is not None:
        for number, (row, col) in enumerate(centroids, start=1):
            axes[1].annotate(str(number), (col, row), color="white", fontsize=6.5, ha="center", va="center",
                             path_effects=[patheffects.withStroke(linewidth=1.5, foreground="black")])
    axes[1].set_title(title)
    axes[1].set_axis_off()
    return fig


def plot_counts(tables: Sequence[pd.DataFrame], reference: pd.Series | None = None,
                reference_label: str = "instances derived from the masks") -> Figure:
    """Nuclei per image, one bar group per method.

    Parameters
    ----------
    tables : sequence of DataFrame
        Each with columns ``image``, ``method`` (legend text, model
        included) and ``n_nuclei``.
    reference : Series, optional
        Count per image derived from the hand-corrected masks, drawn as
        black ticks and labelled ``reference_label``.
    reference_label : str
        Legend text of the ticks.
    """
    wide = pd.concat(tables).pivot(index="image", columns="method", values="n_nuclei")
    fig, ax = _subplots(figsize=(9, 3.8))
    width = 0.8 / wide.shape[1]
    x = np.arange(len(wide))
    colours = ("#3b528b", "#5ec962", "#fde725", "#440154")
    for i, (method, colour) in enumerate(zip(wide.columns, colours)):
        ax.bar(x + (i - (wide.shape[1] - 1) / 2) * width, wide[method], width, label=method, color=colour)
    if reference is not None:
        ax.scatter(x, reference.reindex(wide.index), marker="_", s=300, color="black", zorder=3,
                   label=reference_label)
    ax.set_xticks(x, wide.index, rotation=45, ha="right")
    ax.set_ylabel("nuclei per image")
    ax.legend(fontsize=8)
    return fig


def plot_scores(table: pd.DataFrame, score: str = "dice") -> Figure:
    """A per-image score for each method, images on the x axis."""
    wide = table.pivot(index="image", columns="method", values=score)
    fig, ax = _subplots(figsize=(9, 3.4))
    for method, marker in zip(wide.columns, "osD^"):
        ax.plot(np.arange(len(wide)), wide[method], marker=marker, ls="none", label=method)
    ax.set_xticks(np.arange(len(wide)), wide.index, rotation=45, ha="right")
    ax.set_ylabel(f"{score} vs hand-corrected mask")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return fig
