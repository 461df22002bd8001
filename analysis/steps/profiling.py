"""CellProfiler's per-object feature families, computed by cp_measure, under CellProfiler's names.

`cp_measure <https://github.com/afermg/cp_measure>`_ holds the measurement
code of CellProfiler's Measure* modules as plain functions. This module runs
the families a profiling pipeline runs and renames their results as
CellProfiler 4.2's ExportToSpreadsheet names them, so that a table from here
and one from CellProfiler line up column by column:

- ``AreaShape``: MeasureObjectSizeShape with its Zernike and advanced
  features and Feret diameters (``AreaShape_Zernike_3_1``);
- ``Intensity``: MeasureObjectIntensity (``Intensity_MedianIntensity_DNA``);
- ``Texture``: MeasureTexture at scale 3 with 256 grey levels
  (``Texture_Contrast_DNA_3_00_256``);
- ``Granularity``: MeasureGranularity, 16 sizes (``Granularity_1_Actin``),
  each stain's openings computed once per field (:mod:`analysis.steps.granularity`);
- ``RadialDistribution``: MeasureObjectIntensityDistribution, 4 scaled
  rings (``RadialDistribution_FracAtD_DNA_1of4``), around the centre
  CellProfiler chooses, each object type's rings found once for its stains
  (:mod:`analysis.steps.radial`);
- ``Correlation``: MeasureColocalization of every pair of stains, in their
  order (``Correlation_Correlation_DNA_Actin``); its RWC and Costes
  coefficients as CellProfiler computes them, over the whole image
  (:mod:`analysis.steps.colocalization`).

One value differs from CellProfiler's on purpose: ``AreaShape_FormFactor``
of an object without perimeter (one or two pixels) is NaN, not infinity.

Texture and Feret diameters run on cp_measure's numba code, which gives the
numbers of its numpy code more than ten times faster; intensity quartiles use
CellProfiler's own percentile rule (cp_measure's ``legacy=True``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, partial
from itertools import combinations

import numpy as np
from centrosome.cpmorphology import color_labels
from skimage.morphology import disk
from skimage.segmentation import relabel_sequential

from analysis.steps.colocalization import (
    costes_colocalization,
    costes_thresholds,
    object_correlations,
    rank_weighted_colocalization,
)
from analysis.steps.granularity import granular_spectrum, granularity, object_weights
from analysis.steps.radial import object_rings, radial_distribution
from analysis.steps.shape import size_shape
from analysis.steps.texture import haralick, quantised
from analysis.steps.zernike import zernike_moments

Columns = dict[str, np.ndarray]
Stains = Mapping[str, np.ndarray]
Scales = Mapping[str, int]


@cache
def _functions() -> dict[str, Callable]:
    """cp_measure's numba functions for the families it computes here, imported on first use.

    Only these two modules are imported (not ``cp_measure.bulk``, whose other
    families would bring scipy.stats along: a third of a second per process).
    """
    from cp_measure.core.numba._feret import get_feret
    from cp_measure.core.numba.measureobjectintensity import get_intensity

    # CellProfiler's percentile rule for the quartiles (cp_measure's legacy).
    return {"intensity": partial(get_intensity, legacy=True), "feret": get_feret}


def _measure(name: str) -> Callable:
    return _functions()[name]


@dataclass
class _Objects:
    """One label image's objects numbered 1..n without gaps, and what the families share of them."""

    given: np.ndarray
    """The label image as the caller passed it (kept, so that its ``id`` names only it)."""
    labels: np.ndarray
    colours: np.ndarray | None = None
    """:func:`centrosome.cpmorphology.color_labels` of ``labels``, once a family needs it."""


def _objects(labels: np.ndarray, shared: dict) -> _Objects:
    """The renumbered objects of a label image, made once per image of a field and kept in ``shared``."""
    key = ("objects", id(labels))
    if key not in shared or shared[key].given is not labels:
        shared[key] = _Objects(labels, relabel_sequential(labels)[0])
    return shared[key]


def _colours(objects: _Objects) -> np.ndarray:
    """The objects coloured so that touching ones differ, found once per label image of a field."""
    if objects.colours is None:
        objects.colours = color_labels(objects.labels)
    return objects.colours


def _area_shape(objects: _Objects, stains: Stains, scales: Scales, shared: dict) -> Columns:
    labels = objects.labels
    columns = size_shape(labels, _colours(objects)) | zernike_moments(labels)
    columns |= _measure("feret")(labels, _any(stains))
    # An object of one or two pixels has no perimeter: its form factor is undefined. NaN, as the
    # small set writes it, where CellProfiler writes infinity (a scaler fitted on single cells fails on it).
    perimeter = columns["Perimeter"]
    columns["FormFactor"] = np.where(perimeter > 0, columns["FormFactor"], np.nan)
    return {f"AreaShape_{name}": value for name, value in columns.items()}


def _intensity(objects: _Objects, stains: Stains, scales: Scales, shared: dict) -> Columns:
    labels = objects.labels
    return {
        f"{name}_{stain}": value
        for stain, image in stains.items()
        for name, value in _measure("intensity")(labels, image).items()
    }


def _texture(objects: _Objects, stains: Stains, scales: Scales, shared: dict) -> Columns:
    columns = {}
    for stain, image in stains.items():
        key = ("quantised", stain)
        if key not in shared:
            shared[key] = quantised(image)
        for name, value in haralick(objects.labels, shared[key]).items():
            feature, _, geometry = name.partition("_")  # "Contrast", "3_00_256"
            columns[f"Texture_{feature}_{stain}_{geometry}"] = value
    return columns


def _radial_distribution(objects: _Objects, stains: Stains, scales: Scales, shared: dict) -> Columns:
    labels = objects.labels
    rings = object_rings(labels, _colours(objects))
    columns = {}
    for stain, image in stains.items():
        for name, value in radial_distribution(rings, image).items():
            family, feature, ring = name.split("_")  # RadialDistribution, FracAtD, 1of4
            columns[f"{family}_{feature}_{stain}_{ring}"] = value
    return columns


def _granularity(objects: _Objects, stains: Stains, scales: Scales, shared: dict) -> Columns:
    labels = objects.labels
    columns, weights = {}, None
    for stain, image in stains.items():
        key = ("granular_spectrum", stain)
        if key not in shared:
            shared[key] = granular_spectrum(image)
        spectrum = shared[key]
        if weights is None and spectrum is not None:  # the objects' weights serve every stain
            weights = object_weights(labels, spectrum[1].shape)
        values = granularity(spectrum, labels, weights)
        columns |= {f"{name}_{stain}": value for name, value in values.items()}
    return columns


def _correlation(objects: _Objects, stains: Stains, scales: Scales, shared: dict) -> Columns:
    labels = objects.labels
    columns = {}
    for first, second in combinations(stains, 2):
        pair = (stains[first], stains[second], labels)
        ab, ba = f"{first}_{second}", f"{second}_{first}"
        values = object_correlations(*pair)
        columns[f"Correlation_Correlation_{ab}"] = values["Correlation_Pearson"]
        columns[f"Correlation_Slope_{ab}"] = values["Correlation_Slope"]
        columns[f"Correlation_Overlap_{ab}"] = values["Correlation_Overlap"]
        for kind in ("K", "Manders"):
            columns[f"Correlation_{kind}_{ab}"] = values[f"Correlation_{kind}_1"]
            columns[f"Correlation_{kind}_{ba}"] = values[f"Correlation_{kind}_2"]
        key = ("costes_thresholds", first, second)
        if key not in shared:
            shared[key] = costes_thresholds(stains[first], stains[second], max(scales[first], scales[second]))
        for kind, (one, two) in (
            ("RWC", rank_weighted_colocalization(*pair)),
            ("Costes", costes_colocalization(*pair, shared[key])),
        ):
            columns[f"Correlation_{kind}_{ab}"], columns[f"Correlation_{kind}_{ba}"] = one, two
    return columns


def _any(stains: Stains) -> np.ndarray:
    return next(iter(stains.values()))


FAMILIES: dict[str, Callable[..., Columns]] = {
    "AreaShape": _area_shape,
    "Intensity": _intensity,
    "Texture": _texture,
    "Granularity": _granularity,
    "RadialDistribution": _radial_distribution,
    "Correlation": _correlation,
}
"""Family name to the function computing its columns; every family by default."""


def costes_scale(image: np.ndarray) -> int:
    """The grid Costes' thresholds are searched on: the largest value of the image's pixel type.

    Parameters
    ----------
    image : ndarray
        In its own pixel type.

    Returns
    -------
    int
        255 for 8-bit, 65535 for 16-bit and for floating point.
    """
    return int(np.iinfo(image.dtype if image.dtype.kind == "u" else np.uint16).max)


@cache
def family_columns(family: str, stains: tuple[str, ...]) -> tuple[str, ...]:
    """The column names of a family for these stains, in order.

    Parameters
    ----------
    family : str
        A key of :data:`FAMILIES`.
    stains : tuple of str

    Returns
    -------
    tuple of str
        What :func:`family_features` names, found by measuring one small
        disc: a field without objects still gets its columns.
    """
    disc = disk(8)
    labels = np.pad(disc, 4).astype(np.int32)
    rng = np.random.default_rng(0)
    images = {stain: rng.random(labels.shape) for stain in stains}
    return tuple(family_features(family, labels, images, dict.fromkeys(stains, 255)))


def family_features(
    family: str,
    labels: np.ndarray,
    stains: Stains,
    scales: Scales,
    shared: dict | None = None,
) -> Columns:
    """One feature family of every object, under CellProfiler's column names.

    Parameters
    ----------
    family : str
        A key of :data:`FAMILIES`.
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n (gaps allowed), 0 = background; without objects, every
        column is empty.
    stains : mapping
        Stain name to its image on 0..1 (:func:`analysis.steps.features.to_unit`).
    scales : mapping
        Stain name to its :func:`costes_scale`.
    shared : dict, optional
        What the stains' images alone decide (each stain's granular
        spectrum, each pair's Costes thresholds) and what a label image
        alone decides (its objects renumbered without gaps, their colouring),
        kept here by the first call that needs it and read by the next: pass
        one dict for the families and object types of a field, a new one for
        the next field. Without it, nothing is kept.

    Returns
    -------
    dict
        Column name to one value per object, objects in label order. A
        feature undefined for an object (the correlation of a flat object,
        say) is NaN there, as in CellProfiler.
    """
    shared = {} if shared is None else shared
    objects = _objects(labels, shared)
    if not objects.labels.any():
        return dict.fromkeys(family_columns(family, tuple(stains)), np.empty(0))
    with warnings.catch_warnings():
        # cp_measure warns for every undefined value; the NaN says it in the table.
        warnings.simplefilter("ignore", RuntimeWarning)
        columns = FAMILIES[family](objects, stains, scales, shared)
    return {name: np.asarray(value, dtype=np.float64) for name, value in columns.items()}
