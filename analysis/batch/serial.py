"""Runs of the analysis steps over many image pairs, each giving one table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from analysis.batch.per_field import (
    BASIC,
    Settings,
    fields_from_pairs,
    find_objects,
    measure_field,
    read_stains,
)
from analysis.io.images import load_image, load_mask, load_pair
from analysis.io.pairing import ImagePair
from analysis.io.registry import foreground_path
from analysis.methods import get_method, method_label, segment_all
from analysis.models.predict import scale_for
from analysis.models.stardist_model import LoadedModel
from analysis.steps.explore import channel_statistics
from analysis.steps.instances import split_touching
from analysis.steps.validate import score


def summarise(pairs: Sequence[ImagePair]) -> pd.DataFrame:
    """Per-channel intensity statistics of each image pair.

    Parameters
    ----------
    pairs : sequence of ImagePair

    Returns
    -------
    DataFrame
        One row per pair: ``well``, ``field``, then for each of ``nuclei`` and
        ``actin``: ``min``, ``max``, ``mean``, ``std`` (grey levels) and
        ``saturated`` (fraction of pixels at 255).
    """
    rows = []
    for pair in tqdm(pairs, desc="summary", unit="pair", disable=None):
        nuclei, actin = load_pair(pair)
        row = {"well": pair.well, "field": pair.field}
        for prefix, image in (("nuclei", nuclei), ("actin", actin)):
            row |= {f"{prefix}_{key}": value for key, value in channel_statistics(image).items()}
        rows.append(row)
    return pd.DataFrame(rows)


def median_area(labels: np.ndarray) -> float:
    """The median object area of a label image, in pixels.

    Parameters
    ----------
    labels : ndarray of int
        Objects 1..n (gaps allowed), 0 = background.

    Returns
    -------
    float
        NaN where there is no object (empty in a CSV): the median of nothing
        is not zero.
    """
    areas = np.bincount(labels.ravel())[1:]
    areas = areas[areas > 0]
    return float(np.median(areas)) if len(areas) else float("nan")


def count_nuclei(
    pairs: Sequence[ImagePair],
    method: str,
    model: LoadedModel | None = None,
    diameter: float | None = None,
    features: Sequence[str] = (BASIC,),
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """Find and count the nuclei of each pair: :func:`measure_field`, one field after another.

    Parameters
    ----------
    pairs : sequence of ImagePair
    method : str
        A name in :data:`analysis.methods.METHODS`.
    model : LoadedModel, optional
        Loaded once by the caller; required for the StarDist methods.
    diameter : float, optional
        Nucleus diameter in pixels for every image; by default each
        image's own estimate (:func:`analysis.models.predict.scale_for`).
    features : sequence of str, optional
        The feature sets of the per-object table
        (:attr:`analysis.batch.per_field.Settings.features`).

    Returns
    -------
    counts : DataFrame
        One row per image: ``image``, ``well``, ``field``, ``method``,
        ``model``, ``nucleus_diameter`` (pixels, estimated or given),
        ``scale`` (the factor StarDist predicted at; 1 for the other
        methods), ``n_nuclei`` and ``median_area`` (pixels; NaN where no
        nucleus was found: the median of nothing is not zero).
    objects : DataFrame
        One row per nucleus: the ``Nuclei`` table of
        :func:`analysis.batch.per_field.measure_field`, fields in order
        (``ImageNumber`` 1, 2, ...), the table ``measure`` writes.
    labels : dict
        Image name to its label image.
    """
    settings = Settings(method=method, diameter=diameter, objects=("Nuclei",), features=tuple(features))
    model_name = model.name if get_method(method).needs_model else ""
    counts, objects, labels = [], [], {}
    fields = fields_from_pairs(pairs, settings)
    for pair, images in tqdm(
        list(zip(pairs, fields, strict=True)), desc=f"count ({method})", unit="image", disable=None
    ):
        result = measure_field(images, settings, model)
        nuclei, image_row = result.tables["Nuclei"], result.tables["Image"].iloc[0]
        labels[pair.name] = result.labels["Nuclei"]
        objects.append(nuclei)
        counts.append(
            {
                "image": pair.name,
                "well": pair.well,
                "field": pair.field,
                "method": method_label(method, model),
                "model": model_name,
                "nucleus_diameter": round(image_row["Math_NucleusDiameter"], 2),
                "scale": round(image_row["Math_PredictionScale"], 4),
                "n_nuclei": len(nuclei),
                "median_area": median_area(result.labels["Nuclei"]),
            }
        )
    return pd.DataFrame(counts), pd.concat(objects, ignore_index=True), labels


def validate_segmentation(
    pairs: Sequence[ImagePair],
    methods: Sequence[str],
    model: LoadedModel | None = None,
    channel: str = "nuclei",
    truth: Mapping[Path, Path] | None = None,
    diameter: float | None = None,
) -> pd.DataFrame:
    """Score each method on each pair against reference foreground masks.

    Parameters
    ----------
    pairs : sequence of ImagePair
    methods : sequence of str
        Names as for :func:`analysis.methods.segment`.
    model : LoadedModel, optional
    channel : {"nuclei", "actin"}
        Which channel is segmented and scored (against its own mask).
    truth : mapping of Path to Path, optional
        Each scored image's mask (:func:`analysis.io.pairing.matching_files`);
        by default BBBC008's hand-corrected masks, found in the manifest.
    diameter : float, optional
        As for :func:`count_nuclei`; only the nuclei channel is rescaled.

    Returns
    -------
    DataFrame
        One row per image and method: ``image``, ``well``, ``field``,
        ``channel``, ``method`` and the scores of
        :func:`analysis.steps.validate.score` (on the actin channel without
        derived instances: ``n_truth_instances`` and ``count_error`` are NaN).
    """
    rows = []
    for pair in tqdm(pairs, desc="validate", unit="image", disable=None):
        path = getattr(pair, channel)
        image = load_image(path)
        mask = load_mask(truth[path] if truth is not None else foreground_path(path), image.shape)
        # The split rule and the scale are made for nuclei: the actin channel is
        # segmented as it is, and its masks give no count to compare.
        nuclei = channel == "nuclei"
        truth_instances = split_touching(mask) if nuclei else None
        factor = scale_for(model, image, diameter)[1] if nuclei else 1.0
        for method, labels in segment_all(image, methods, model, factor).items():
            rows.append(
                {
                    "image": pair.name,
                    "well": pair.well,
                    "field": pair.field,
                    "channel": channel,
                    "method": method_label(method, model),
                }
                | score(labels, mask, truth_instances)
            )
    return pd.DataFrame(rows)


def validate_cells(
    pairs: Sequence[ImagePair],
    model: LoadedModel,
    truth: Mapping[Path, Path] | None = None,
    method: str = "stardist-li",
    diameter: float | None = None,
) -> pd.DataFrame:
    """Score the cells grown from the nuclei against the actin foreground masks.

    Parameters
    ----------
    pairs : sequence of ImagePair
    model : LoadedModel
    truth : mapping of Path to Path, optional
        Each actin image's mask; by default BBBC008's hand-corrected
        channel-3 masks, found in the manifest.
    method : str
        How the nuclei (the cells' seeds) are found.
    diameter : float, optional
        As for :func:`count_nuclei`.

    Returns
    -------
    DataFrame
        One row per image: ``image``, ``well``, ``field``, ``objects``
        (``"cells"``), ``method`` and the scores of
        :func:`analysis.steps.validate.score` (no counts: NaN).
    """
    rows = []
    label = f"cells: propagation from {method_label(method, model)}"
    settings = Settings(method=method, diameter=diameter, objects=("Nuclei", "Cells"))
    fields = fields_from_pairs(pairs, settings)
    for pair, images in tqdm(
        zip(pairs, fields, strict=True), total=len(pairs), desc="validate cells", unit="image", disable=None
    ):
        cells = find_objects(read_stains(images), settings, model)[0]["Cells"]
        mask = load_mask(truth[pair.actin] if truth is not None else foreground_path(pair.actin), cells.shape)
        rows.append(
            {"image": pair.name, "well": pair.well, "field": pair.field, "objects": "cells", "method": label}
            | score(cells, mask)
        )
    return pd.DataFrame(rows)
