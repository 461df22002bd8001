"""Figure builders: each takes computed results and returns a Figure.

No computation happens here beyond what drawing needs. Figures are built
without pyplot, so they are shown exactly once when a notebook cell returns
them, can be saved from any script, and are freed with their last reference. Continuous data use
perceptually uniform, colour-blind-safe maps (magma, viridis, cividis).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from skimage.segmentation import find_boundaries

from analysis.steps.explore import LEVELS

GREY = "grey level (0-255)"
#: Most objects :func:`show_segmentation` numbers.
MAX_NUMBERED = 80


def _subplots(nrows=1, ncols=1, figsize=None, layout="constrained", **kwargs):
    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def _image_axes(ax, image, title, **kwargs):
    ax.imshow(image, **kwargs)
    ax.set_title(title)
    ax.set_axis_off()


def plot_pixel_pairs(
    first: np.ndarray,
    second: np.ndarray,
    counts: np.ndarray,
    edges: np.ndarray,
    density: np.ndarray,
    labels: tuple[str, str] = ("nuclei", "actin"),
) -> Figure:
    """Scatter plot, 2-D histogram and kernel density of two channels.

    Parameters
    ----------
    first, second : ndarray of uint8, shape (rows, cols)
    counts, edges : output of :func:`analysis.steps.explore.histogram_2d`
    density : ndarray, shape (256, 256)
        Output of :func:`analysis.steps.explore.gaussian_kde_grid`.
    labels : tuple of str
        Names of the two channels, for the axes.

    Returns
    -------
    Figure
    """
    fig, axes = _subplots(1, 3, figsize=(12, 4))
    # Each pair of grey levels as one number: the distinct pairs are the non-empty bins.
    present = np.flatnonzero(
        np.bincount((first.astype(np.intp) * LEVELS + second).ravel(), minlength=LEVELS**2)
    )
    distinct = np.column_stack(np.divmod(present, LEVELS))
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


def random_label_cmap(n: int = 2**12, seed: int = 3) -> ListedColormap:
    """Random bright colours for instance labels, background transparent.

    Parameters
    ----------
    n : int
        Number of colours; label ``k`` gets colour ``k % n``.
    seed : int
        Seed of the colours.

    Returns
    -------
    ListedColormap
        Colour 0 (background) fully transparent.
    """
    rng = np.random.default_rng(seed)
    colours = np.column_stack([rng.uniform(0.3, 1.0, (n, 3)), np.ones(n)])
    colours[0] = (0, 0, 0, 0)
    return ListedColormap(colours)


def show_segmentation(
    image: np.ndarray,
    labels: np.ndarray,
    centroids: np.ndarray | None = None,
    title: str = "",
    image_title: str = "",
    max_numbered: int = MAX_NUMBERED,
) -> Figure:
    """An image, and beside it the same image with each object shaded, outlined and numbered.

    Each object is filled with a translucent colour and outlined in the same
    colour, so the stain stays visible under it. Numbers are drawn only up to
    ``max_numbered`` objects: in a denser field they would cover the objects
    they name (the caller's title can give the count).

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
    max_numbered : int
        Most objects that are numbered.

    Returns
    -------
    Figure
    """
    # Fixed margins rather than a layout engine: the engine drew the figure twice per save and
    # left a square field's titles partly outside it. The top margin holds a title's line.
    width, height, title_in = 10, 5.2, 0.45
    margins = {"left": 0.01, "right": 0.99, "bottom": 0.01, "top": 1 - title_in / height, "wspace": 0.04}
    fig, axes = _subplots(1, 2, figsize=(width, height), layout=None, gridspec_kw=margins)
    _image_axes(axes[0], image, image_title, cmap="gray")
    axes[1].imshow(image, cmap="gray")
    colours = {"cmap": random_label_cmap(), "interpolation": "nearest", "vmin": 0, "vmax": 2**12 - 1}
    axes[1].imshow(labels, alpha=np.where(labels > 0, 0.3, 0.0), **colours)
    axes[1].imshow(np.where(find_boundaries(labels, mode="inner"), labels, 0), **colours)
    if centroids is not None and len(centroids) <= max_numbered:
        for number, (row, col) in enumerate(centroids, start=1):
            axes[1].annotate(
                str(number),
                (col, row),
                color="white",
                fontsize=6,
                ha="center",
                va="center",
                path_effects=[patheffects.withStroke(linewidth=1.5, foreground="black")],
            )
    axes[1].set_title(title)
    axes[1].set_axis_off()
    return fig


def plot_counts(
    tables: Sequence[pd.DataFrame],
    reference: pd.Series | None = None,
    reference_label: str = "instances derived from the masks",
) -> Figure:
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

    Returns
    -------
    Figure
    """
    wide = pd.concat(tables).pivot(index="image", columns="method", values="n_nuclei")
    fig, ax = _subplots(figsize=(9, 3.8))
    width = 0.8 / wide.shape[1]
    x = np.arange(len(wide))
    colours = ("#3b528b", "#5ec962", "#fde725", "#440154")
    for i, (method, colour) in enumerate(zip(wide.columns, itertools.cycle(colours))):
        ax.bar(x + (i - (wide.shape[1] - 1) / 2) * width, wide[method], width, label=method, color=colour)
    if reference is not None:
        ax.scatter(
            x,
            reference.reindex(wide.index),
            marker="_",
            s=300,
            color="black",
            zorder=3,
            label=reference_label,
        )
    ax.set_xticks(x, wide.index, rotation=45, ha="right")
    ax.set_ylabel("nuclei per image")
    ax.legend(fontsize=8)
    return fig


def plot_scores(table: pd.DataFrame, score: str = "dice") -> Figure:
    """A per-image score for each method, images on the x axis.

    Parameters
    ----------
    table : DataFrame
        Rows of :func:`analysis.batch.serial.validate_segmentation`.
    score : str
        The column drawn.

    Returns
    -------
    Figure
    """
    wide = table.pivot(index="image", columns="method", values=score)
    fig, ax = _subplots(figsize=(9, 3.4))
    for method, marker in zip(wide.columns, itertools.cycle("osD^v")):
        ax.plot(np.arange(len(wide)), wide[method], marker=marker, ls="none", label=method)
    ax.set_xticks(np.arange(len(wide)), wide.index, rotation=45, ha="right")
    ax.set_ylabel(f"{score} vs hand-corrected mask")
    ax.set_ylim(0, 1.02)  # room above 1 for a perfect score's whole marker
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.legend(fontsize=8)
    return fig
