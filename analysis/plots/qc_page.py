"""A screen's quality-control page: plate maps, flagged fields, per-well distributions, failures.

``measure`` writes it as ``qc.html`` beside its tables: one file, figures
embedded (:mod:`analysis.site.standalone`), readable offline.
"""

from __future__ import annotations

import io
import math
import string
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.io.images import load_image
from analysis.site import standalone
from analysis.steps.quality import flag_fields

#: Flagged fields shown as thumbnails at most (all are listed in the table).
MAX_THUMBNAILS = 24
#: Plates per row of the plate maps.
PLATES_PER_ROW = 6
DPI = 100


def png(figure: Figure) -> bytes:
    """A figure encoded as PNG.

    Parameters
    ----------
    figure : Figure

    Returns
    -------
    bytes
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def plate_layout(wells: pd.Series) -> tuple[int, int]:
    """Rows and columns of the smallest standard plate holding these wells.

    Parameters
    ----------
    wells : Series of str
        Well names such as ``"A24"``.

    Returns
    -------
    tuple of int
        ``(8, 12)`` for a 96-well plate, else ``(16, 24)`` (384 wells).
    """
    rows = wells.str[0].map(string.ascii_uppercase.index)
    columns = wells.str[1:].astype(int)
    return (8, 12) if rows.max() < 8 and columns.max() <= 12 else (16, 24)


def plate_maps(per_well: pd.DataFrame, column: str, label: str) -> Figure:
    """Every plate's wells coloured by their value, plates side by side; wells without a value grey.

    The plates are tiled into one image (drawn at once however many there
    are), each under its name, rows A, B, ... from the top and columns 1, 2,
    ... from the left.

    Parameters
    ----------
    per_well : DataFrame
        ``Metadata_Plate``, ``Metadata_Well`` and ``column``, one row per well.
    column : str
    label : str
        The colour bar's label.

    Returns
    -------
    Figure
    """
    rows, columns = plate_layout(per_well.Metadata_Well)
    plates = sorted(per_well.Metadata_Plate.unique())
    across = min(len(plates), PLATES_PER_ROW)
    down = math.ceil(len(plates) / across)
    tile_rows, tile_columns = rows + 2, columns + 1  # a gap below and to the right of each plate
    mosaic = np.full((down * tile_rows, across * tile_columns), np.nan)
    plate_area = np.zeros(mosaic.shape, bool)
    where = {plate: divmod(index, across) for index, plate in enumerate(plates)}
    for plate, (down_at, across_at) in where.items():
        top, left = down_at * tile_rows + 1, across_at * tile_columns
        plate_area[top : top + rows, left : left + columns] = True
        wells = per_well[per_well.Metadata_Plate == plate]
        for well, value in zip(wells.Metadata_Well, wells[column], strict=True):
            mosaic[top + string.ascii_uppercase.index(well[0]), left + int(well[1:]) - 1] = value
    # As tall as the tiles drawn at the width left beside the colour bar: no blank band above or below.
    width = min(12, 2.6 * across + 1.4)
    height = (width - 1.4) * mosaic.shape[0] / mosaic.shape[1] + 0.6
    figure = Figure(figsize=(width, height), layout="constrained")
    ax = figure.subplots()
    shown = np.ma.masked_invalid(np.where(plate_area, mosaic, np.nan))
    colours = ax.imshow(shown, cmap="viridis", interpolation="nearest", aspect="equal")
    # Wells without a value are grey; the gaps between plates stay white.
    ax.imshow(
        np.where(plate_area & np.isnan(mosaic), 1.0, np.nan), cmap="Greys", vmin=0, vmax=4, aspect="equal"
    )
    for plate, (down_at, across_at) in where.items():
        name = plate if len(plate) <= 22 else f"…{plate[-21:]}"
        ax.text(across_at * tile_columns, down_at * tile_rows + 0.4, name, fontsize=7, va="bottom")
    if len(plates) == 1:
        step = 1 if rows == 8 else 3
        ax.set_xticks(range(0, columns, step), [str(c + 1) for c in range(0, columns, step)], fontsize=6)
        ax.set_yticks(range(1, rows + 1, step), list(string.ascii_uppercase[:rows:step]), fontsize=6)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    figure.colorbar(colours, ax=ax, label=label, shrink=0.8)
    return figure


def well_distributions(objects: pd.DataFrame, column: str, label: str) -> Figure:
    """Each well's spread of one per-object feature: median, quartiles, 5th and 95th percentiles.

    Drawn as three collections (a bar from the 5th to the 95th percentile,
    a thicker one between the quartiles, a tick at the median), so a
    screen of hundreds of wells draws as fast as a plate of two.

    Parameters
    ----------
    objects : DataFrame
        ``Metadata_Plate``, ``Metadata_Well`` and ``column``, one row per object.
    column, label : str

    Returns
    -------
    Figure
    """
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    spread = (
        objects.groupby(["Metadata_Plate", "Metadata_Well"], sort=True)[column].quantile(levels).unstack()
    )
    one_plate = objects.Metadata_Plate.nunique() == 1
    names = [well if one_plate else f"{plate} {well}" for plate, well in spread.index]
    x = np.arange(len(spread))
    figure = Figure(figsize=(min(16, max(6, 0.3 * len(x) + 2)), 3.4), layout="constrained")
    ax = figure.subplots()
    ax.vlines(x, spread[0.05], spread[0.95], colors="#4c72b0", linewidth=1)
    ax.vlines(x, spread[0.25], spread[0.75], colors="#4c72b0", linewidth=5)
    ax.scatter(x, spread[0.5], marker="_", s=60, color="#dd8452", zorder=3)
    if len(x) <= 48:
        ax.set_xticks(x, names, rotation=90 if len(x) > 8 else 0, fontsize=7)
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"{len(x)} wells, by plate and well")
    ax.set_ylabel(label)
    return figure


def thumbnail(image: np.ndarray, title: str) -> Figure:
    """A small view of a field, stretched between its 1st and 99.5th percentiles.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
    title : str

    Returns
    -------
    Figure
    """
    figure = Figure(figsize=(2, 2.2), layout="constrained")
    ax = figure.subplots()
    low, high = np.percentile(image, [1, 99.5])
    ax.imshow(image, cmap="gray", vmin=low, vmax=max(high, low + 1e-9))
    ax.set_title(title, fontsize=7)
    ax.set_axis_off()
    return figure


def distributions(nuclei_stain: str) -> list[tuple[str, str]]:
    """The per-object features whose spread per well the page shows.

    Parameters
    ----------
    nuclei_stain : str

    Returns
    -------
    list of tuple
        ``(object type, column)``: nuclear area, nuclear mean intensity of
        the nuclei stain, cell area.
    """
    return [
        ("Nuclei", "AreaShape_Area"),
        ("Nuclei", f"Intensity_MeanIntensity_{nuclei_stain}"),
        ("Cells", "AreaShape_Area"),
    ]


def columns_needed(nuclei_stain: str, feature: str) -> dict[str, list[str] | None]:
    """The columns of each table the page reads: the Image table whole, a few of the others.

    Parameters
    ----------
    nuclei_stain, feature : str
        As for :func:`qc_page`.

    Returns
    -------
    dict
        Table name to columns (None: all), for
        :func:`analysis.batch.screen.read_tables`.
    """
    needed: dict[str, list[str] | None] = {"Image": None}
    for name in ("Nuclei", "Cells", "Cytoplasm"):
        needed[name] = ["Metadata_Plate", "Metadata_Well"]
    for name, column in [*distributions(nuclei_stain), tuple(feature.partition("_")[::2])]:
        if name in needed:
            needed[name].append(column)
    return needed


def _number(count: int, noun: str) -> str:
    """``"1 well"``, ``"3 wells"``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _per_well(table: pd.DataFrame, column: str, how: str) -> pd.DataFrame:
    return table.groupby(["Metadata_Plate", "Metadata_Well"], as_index=False)[column].agg(how)


def qc_page(
    tables: Mapping[str, pd.DataFrame],
    failures: pd.DataFrame,
    nuclei_files: Mapping[int, Path],
    nuclei_stain: str,
    feature: str,
) -> str:
    """The HTML of a run's quality-control page.

    Parameters
    ----------
    tables : mapping
        ``"Image"`` and the object tables, as ``measure`` writes them.
    failures : DataFrame
        ``field``, ``image_number``, ``reason``: the fields that failed.
    nuclei_files : mapping
        ``ImageNumber`` to the field's nuclei stain file (for thumbnails).
    nuclei_stain : str
    feature : str
        The second plate map's feature as ``Compartment_Feature``, e.g.
        ``"Cells_AreaShape_Area"`` (the median of each well's objects).

    Returns
    -------
    str
    """
    image = tables["Image"].sort_values("ImageNumber").reset_index(drop=True)
    flags = flag_fields(image, nuclei_stain)
    objects = ", ".join(f"{len(tables[name]):,} {name.lower()}" for name in tables if name != "Image")
    blocks = [
        standalone.paragraph(
            f"{_number(len(image), 'field')} measured in {_number(image.Metadata_Well.nunique(), 'well')} "
            f"of {_number(image.Metadata_Plate.nunique(), 'plate')}: {objects}. "
            f"{_number(len(failures), 'field')} failed. Flagged by image quality: "
            f"{int(flags.blurred.sum())} blurred, {int(flags.saturated.sum())} saturated, "
            f"{int(flags['empty'].sum())} empty."
        ),
        standalone.heading("Plate map: nuclei per field"),
    ]
    counts = _per_well(image, "Count_Nuclei", "mean")
    blocks.append(
        standalone.figure(
            png(plate_maps(counts, "Count_Nuclei", "nuclei per field (well mean)")),
            "Plate maps, each well coloured by its mean number of nuclei per field",
        )
    )
    compartment, _, column = feature.partition("_")
    blocks.append(standalone.heading(f"Plate map: {feature}"))
    if compartment in tables and column in tables[compartment]:
        medians = _per_well(tables[compartment], column, "median")
        blocks.append(
            standalone.figure(
                png(plate_maps(medians, column, "well median")),
                f"Plate maps, each well coloured by the median {feature} of its objects",
            )
        )
    else:
        blocks.append(standalone.paragraph(f"{feature} was not measured in this run.", note=True))
    blocks += _flagged(image, flags, nuclei_files)
    blocks.append(standalone.heading("Per-well distributions"))
    for name, column in distributions(nuclei_stain):
        if name in tables and column in tables[name] and len(tables[name]):
            blocks.append(
                standalone.figure(
                    png(well_distributions(tables[name], column, f"{name} {column}")),
                    f"{name} {column} per well: median, quartiles, 5th and 95th percentiles",
                )
            )
    blocks.append(standalone.heading("Failed fields"))
    if len(failures):
        blocks.append(standalone.table(failures[["field", "image_number", "reason"]]))
    else:
        blocks.append(standalone.paragraph("None: every field was measured."))
    return standalone.page("Quality control of the run", blocks)


def _flagged(image: pd.DataFrame, flags: pd.DataFrame, nuclei_files: Mapping[int, Path]) -> list[str]:
    blocks = [standalone.heading("Fields flagged by image quality")]
    if not any(column.startswith("ImageQuality_") for column in image):
        blocks.append(
            standalone.paragraph(
                "Only empty fields can be flagged: this run did not measure ImageQuality.", note=True
            )
        )
    flagged = image[flags.reason != ""]
    if not len(flagged):
        return [*blocks, standalone.paragraph("None.")]
    listed = flagged[["ImageNumber", "Metadata_Plate", "Metadata_Well", "Metadata_Site"]].assign(
        reason=flags.reason[flagged.index]
    )
    blocks.append(standalone.table(listed))
    shown = []
    for number, well, site in (
        flagged[["ImageNumber", "Metadata_Well", "Metadata_Site"]]
        .head(MAX_THUMBNAILS)
        .itertuples(index=False)
    ):
        title = f"{number}: {well} site {site}"
        shown.append(
            standalone.figure(png(thumbnail(load_image(nuclei_files[number]), title)), f"Field {title}")
        )
    blocks.append(standalone.gallery(shown))
    if len(flagged) > MAX_THUMBNAILS:
        blocks.append(
            standalone.paragraph(f"The first {MAX_THUMBNAILS} of {len(flagged)} are shown.", note=True)
        )
    return blocks
