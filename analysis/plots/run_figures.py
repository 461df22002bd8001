"""The figures of a run over many fields, written to a folder as PNG files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io.images import load_image
from analysis.io.output import write_figure
from analysis.io.pairing import ImagePair
from analysis.plots.figures import plot_counts, plot_scores, show_segmentation


def write_count_figures(
    pairs: Sequence[ImagePair],
    counts: pd.DataFrame,
    objects: pd.DataFrame,
    labels: Mapping[str, np.ndarray],
    folder: Path,
    method: str,
    image_title: str,
) -> list[Path]:
    """Each field's nuclei drawn over its image, and the counts of all fields.

    Parameters
    ----------
    pairs : sequence of ImagePair
        The fields, in ``ImageNumber`` order.
    counts, objects, labels
        As :func:`analysis.batch.serial.count_nuclei` returns them.
    folder : Path
        Receives ``<well>_f<field>_<method>.png`` per field and
        ``counts_<method>.png``.
    method : str
        The method's name, for the file names.
    image_title : str
        Title of the image panel, e.g. ``"nuclei (channel 1)"``.

    Returns
    -------
    list of Path
        The files written.
    """
    written = []
    for number, pair in enumerate(pairs, start=1):
        nuclei = objects[objects.ImageNumber == number]
        figure = show_segmentation(
            load_image(pair.nuclei),
            labels[pair.name],
            nuclei[["Location_Center_Y", "Location_Center_X"]].to_numpy(),
            title=f"{pair.name}: {len(nuclei)} nuclei, {counts.method[0]}",
            image_title=image_title,
        )
        written.append(write_figure(figure, folder / f"{pair.well}_f{pair.field}_{method}.png"))
    written.append(write_figure(plot_counts([counts]), folder / f"counts_{method}.png"))
    return written


def write_score_figure(table: pd.DataFrame, folder: Path, objects: str) -> Path:
    """The Dice of every field and method, as ``dice_<objects>.png``.

    Parameters
    ----------
    table : DataFrame
        :func:`analysis.batch.serial.validate_segmentation`'s or
        :func:`analysis.batch.serial.validate_cells`'s.
    folder : Path
    objects : str
        ``"nuclei"`` or ``"cells"``.

    Returns
    -------
    Path
    """
    return write_figure(plot_scores(table), folder / f"dice_{objects}.png")
