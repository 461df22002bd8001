"""One field, from its files to its tables: the one function every run calls.

Three object types share their object numbers: ``Nuclei`` (found by a
method of :mod:`analysis.methods`), ``Cells`` (grown from them on the actin
stain, :mod:`analysis.steps.cells`) and ``Cytoplasm`` (cell minus nucleus);
an ``Image`` table has one row per field. Column names follow
CellProfiler's ExportToSpreadsheet (``ImageNumber``, ``ObjectNumber``,
``Metadata_Well``, ``AreaShape_Area``, ``Intensity_MeanIntensity_DNA``,
``Parent_Nuclei`` ...), so tools written for CellProfiler's output
(pycytominer, cytominer) read them; :func:`single_cell_table` joins them into
one row per cell with the compartment prefixes those tools expect
(``Nuclei_AreaShape_Area``).

``count`` runs :func:`measure_field` over the fields one after the other,
for the nuclei only; ``measure`` runs it on dask for all three objects
(:mod:`analysis.batch.screen`). Given the same feature sets
(:attr:`Settings.features`), both write the same ``Nuclei`` table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from skimage.segmentation import relabel_sequential

from analysis.errors import AnalysisError
from analysis.io.images import load_image
from analysis.io.pairing import ImagePair
from analysis.methods import get_method, segment
from analysis.models.predict import scale_for
from analysis.models.stardist_model import LoadedModel
from analysis.steps.cells import REGULARIZATION, cytoplasm, grow_cells
from analysis.steps.features import mitotic, object_features, object_locations, to_unit
from analysis.steps.profiling import FAMILIES, costes_scale, family_features
from analysis.steps.quality import image_quality

OBJECTS = ("Nuclei", "Cells", "Cytoplasm")
METADATA = ("Metadata_Plate", "Metadata_Well", "Metadata_Site")
BASIC = "basic"
"""The small feature set: six shape features and four intensities per stain (scikit-image)."""
QUALITY = "ImageQuality"
"""The Image table's quality measures (:mod:`analysis.steps.quality`)."""
FEATURES = (*FAMILIES, QUALITY)
"""Every feature set but :data:`BASIC`: CellProfiler's families, what ``measure`` computes by default."""


@dataclass(frozen=True)
class FieldImages:
    """The files of one field and where it sits in the screen.

    Attributes
    ----------
    image_number : int
        1-based, CellProfiler's ``ImageNumber``.
    plate, well : str
    site : int
        The field of view in its well (``Metadata_Site``).
    stains : dict
        Stain name to file; holds at least the nuclei and actin stains.
    """

    image_number: int
    plate: str
    well: str
    site: int
    stains: dict[str, Path] = field(hash=False)

    @property
    def name(self) -> str:
        """A name for files and messages, e.g. ``"P1_A24_s1"``."""
        return "_".join(part for part in (self.plate, self.well, f"s{self.site}") if part)


@dataclass(frozen=True)
class Settings:
    """How a field is measured; part of every result's key.

    Attributes
    ----------
    nuclei_stain, actin_stain : str
        Names of the two stains the objects are found in.
    method : str
        Nuclei method (:data:`analysis.methods.METHODS`).
    diameter : float or None
        Nucleus diameter in pixels for every field; None estimates it per field.
    regularization : float
        Propagation's lambda (:func:`analysis.steps.cells.grow_cells`).
    mitotic_stain : str or None
        A stain marking mitotic nuclei (phospho-histone H3, say); when given,
        each nucleus is classified and the Image table gets a mitotic index.
    objects : tuple of str
        The object types found and measured: ``("Nuclei",)``, or all of
        :data:`OBJECTS`.
    features : tuple of str
        What is measured: feature families of
        :data:`analysis.steps.profiling.FAMILIES` and :data:`QUALITY`, or
        :data:`BASIC` (with :data:`QUALITY` or alone).
    """

    nuclei_stain: str = "DNA"
    actin_stain: str = "Actin"
    method: str = "stardist-li"
    diameter: float | None = None
    regularization: float = REGULARIZATION
    mitotic_stain: str | None = None
    objects: tuple[str, ...] = OBJECTS
    features: tuple[str, ...] = FEATURES


@dataclass
class FieldResult:
    """What :func:`measure_field` found in one field.

    Attributes
    ----------
    tables : dict
        ``"Image"`` and one table per object type, in CellProfiler's layout.
    labels : dict
        Object type to its label image (objects 1..n, 0 = background).
    """

    tables: dict[str, pd.DataFrame]
    labels: dict[str, np.ndarray]


def fields_from_pairs(
    pairs: Sequence[ImagePair],
    settings: Settings = Settings(),
    further: Mapping[str, Mapping[Path, Path]] | None = None,
) -> list[FieldImages]:
    """The fields of paired channel files, numbered from 1 in their order.

    Parameters
    ----------
    pairs : sequence of ImagePair
    settings : Settings
        Names the two stains.
    further : mapping, optional
        Further stain name to each field's file of it, keyed by the field's
        nuclei file (:func:`analysis.io.pairing.matching_files`).

    Returns
    -------
    list of FieldImages
    """
    further = further or {}
    return [
        FieldImages(
            number,
            pair.plate,
            pair.well,
            pair.field,
            {settings.nuclei_stain: pair.nuclei, settings.actin_stain: pair.actin}
            | {name: files[pair.nuclei] for name, files in further.items()},
        )
        for number, pair in enumerate(pairs, start=1)
    ]


def check_stains(settings: Settings, further: Sequence[str] = ()) -> None:
    """Refuse stain names that cannot name columns, repeat, or are unknown.

    Parameters
    ----------
    settings : Settings
    further : sequence of str
        Names of the stains measured besides the two.

    Raises
    ------
    AnalysisError
        Naming the option at fault.
    """
    unknown = [name for name in settings.features if name not in (BASIC, *FEATURES)]
    if unknown:
        raise AnalysisError(
            "features", f"unknown feature set {unknown[0]!r}; choose from {', '.join((BASIC, *FEATURES))}"
        )
    if BASIC in settings.features and set(settings.features) - {BASIC, QUALITY}:
        raise AnalysisError("features", f"{BASIC!r} combines with {QUALITY!r} only")
    if settings.mitotic_stain and not {BASIC, "Intensity"} & set(settings.features):
        raise AnalysisError("mitotic_stain", f"needs the {BASIC!r} or 'Intensity' features")
    names = [settings.nuclei_stain, settings.actin_stain, *further]
    for name in names:
        if not name.isidentifier():
            raise AnalysisError("stain", f"{name!r} is not a stain name (letters, digits, underscores)")
    if len(set(names)) != len(names):
        raise AnalysisError("stain", f"stain names must differ: {', '.join(names)}")
    if settings.mitotic_stain and settings.mitotic_stain not in names:
        raise AnalysisError(
            "mitotic_stain", f"unknown stain {settings.mitotic_stain!r}; stains: {', '.join(names)}"
        )


def read_stains(images: FieldImages) -> dict[str, np.ndarray]:
    """Every stain of a field, read once, in one shape.

    Parameters
    ----------
    images : FieldImages

    Returns
    -------
    dict
        Stain name to its image, in its own pixel type.

    Raises
    ------
    AnalysisError
        If a file cannot be read, or its shape differs from the first stain's.
    """
    raw = {name: load_image(path) for name, path in images.stains.items()}
    (first, first_image), *others = raw.items()
    for name, image in others:
        if image.shape != first_image.shape:
            raise AnalysisError(
                images.stains[name],
                f"shape {image.shape} differs from {images.stains[first].name} {first_image.shape}",
            )
    return raw


def find_objects(
    raw: Mapping[str, np.ndarray], settings: Settings, model: LoadedModel | None
) -> tuple[dict[str, np.ndarray], float, float]:
    """The label images of a field's objects, without measuring them.

    Parameters
    ----------
    raw : mapping
        Stain name to its image (:func:`read_stains`).
    settings : Settings
        Its ``objects`` say which object types are found.
    model : LoadedModel or None
        Required for the methods that need one.

    Returns
    -------
    labels : dict
        Object type to its label image; nuclei numbered 1..n, each cell and
        cytoplasm with its nucleus's number.
    diameter : float
        The nucleus diameter in pixels, estimated or given.
    factor : float
        The factor the nuclei stain was predicted at (1 without a model).
    """
    nuclei_image = raw[settings.nuclei_stain]
    with_model = get_method(settings.method).needs_model
    diameter, factor = scale_for(model if with_model else None, nuclei_image, settings.diameter)
    nuclei = relabel_sequential(segment(nuclei_image, settings.method, model, factor))[0].astype(np.int32)
    labels = {"Nuclei": nuclei}
    if "Cells" in settings.objects:
        labels["Cells"] = grow_cells(nuclei, raw[settings.actin_stain], settings.regularization)
    if "Cytoplasm" in settings.objects:
        labels["Cytoplasm"] = cytoplasm(labels["Cells"], nuclei)
    return labels, diameter, factor


def measure_objects(
    labels: np.ndarray,
    unit: Mapping[str, np.ndarray],
    scales: Mapping[str, int],
    features: Sequence[str],
    shared: dict | None = None,
) -> pd.DataFrame:
    """The chosen features of one object type, one row per object.

    Parameters
    ----------
    labels : ndarray of int
        Objects 1..n (gaps allowed), 0 = background.
    unit : mapping
        Stain name to its image on 0..1.
    scales : mapping
        Stain name to its :func:`analysis.steps.profiling.costes_scale`.
    features : sequence of str
        Feature sets (:attr:`Settings.features`).
    shared : dict, optional
        Kept between the object types of one field
        (:func:`analysis.steps.profiling.family_features`).

    Returns
    -------
    DataFrame
        ``ObjectNumber``, ``Location_Center_X`` and ``_Y``, then the
        features, objects in label order.
    """
    if BASIC in features:
        return object_features(labels, unit)
    table = object_locations(labels)
    columns = {}
    for family in FAMILIES:
        if family in features:
            columns |= family_features(family, labels, unit, scales, shared)
    return pd.concat([table, pd.DataFrame(columns, index=table.index)], axis=1)


def measure_field(images: FieldImages, settings: Settings, model: LoadedModel | None) -> FieldResult:
    """Find the objects of one field and measure them.

    Parameters
    ----------
    images : FieldImages
    settings : Settings
    model : LoadedModel or None
        Required for the methods that need one.

    Returns
    -------
    FieldResult
        Tables in CellProfiler's layout, objects in object-number order;
        the ``Image`` row also gives ``Math_NucleusDiameter`` (pixels,
        estimated or given) and ``Math_PredictionScale`` (1 without a model).
    """
    raw = read_stains(images)
    labels, diameter, factor = find_objects(raw, settings, model)
    unit = {name: to_unit(image) for name, image in raw.items()}
    scales = {name: costes_scale(image) for name, image in raw.items()}
    metadata = dict(zip(METADATA, (images.plate, images.well, images.site), strict=True))
    tables, shared = {}, {}
    for name, objects in labels.items():
        table = measure_objects(objects, unit, scales, settings.features, shared)
        table.insert(0, "ImageNumber", images.image_number)
        for position, (key, value) in enumerate(metadata.items(), start=2):
            table.insert(position, key, value)
        if name != "Nuclei":
            table["Parent_Nuclei"] = table["ObjectNumber"]
        if name == "Cytoplasm":
            table["Parent_Cells"] = table["ObjectNumber"]
        tables[name] = table
    image_row = {"ImageNumber": images.image_number} | metadata
    image_row |= {f"FileName_{name}": path.name for name, path in images.stains.items()}
    image_row |= {f"Count_{name}": len(tables[name]) for name in labels}
    image_row |= {f"Intensity_TotalIntensity_{name}": float(unit[name].sum()) for name in unit}
    image_row |= {f"Intensity_MeanIntensity_{name}": float(unit[name].mean()) for name in unit}
    image_row |= {"Math_NucleusDiameter": diameter, "Math_PredictionScale": factor}
    if QUALITY in settings.features:
        for name, image in unit.items():
            image_row |= image_quality(image, name)
    if settings.mitotic_stain:
        marker = settings.mitotic_stain
        flags = mitotic(tables["Nuclei"][f"Intensity_MeanIntensity_{marker}"].to_numpy(), unit[marker])
        tables["Nuclei"][f"Classify_Mitotic_{marker}"] = flags.astype(np.int8)
        image_row[f"Count_MitoticNuclei_{marker}"] = int(flags.sum())
        image_row[f"Math_MitoticIndex_{marker}"] = float(flags.mean()) if len(flags) else float("nan")
    tables["Image"] = pd.DataFrame([image_row])
    return FieldResult(tables, labels)


def single_cell_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per cell with its nucleus's and cytoplasm's features beside its own.

    Parameters
    ----------
    tables : dict
        ``"Nuclei"``, ``"Cells"``, ``"Cytoplasm"`` as :func:`measure_field`
        gives them (or concatenated over fields).

    Returns
    -------
    DataFrame
        ``Metadata_`` columns, ``ImageNumber``, ``ObjectNumber``, then every
        feature prefixed by its compartment (``Cells_AreaShape_Area``,
        ``Nuclei_Intensity_MeanIntensity_DNA`` ...), the layout pycytominer
        and cytominer read. A cell without cytoplasm has NaN there.
    """
    keys = ["ImageNumber", "ObjectNumber"]
    metadata = [c for c in tables["Cells"].columns if c.startswith("Metadata_")]
    merged = tables["Cells"][[*keys, *metadata]]
    for name in ("Cells", "Nuclei", "Cytoplasm"):
        features = tables[name].drop(columns=metadata + [c for c in tables[name] if c.startswith("Parent_")])
        features = features.rename(columns={c: f"{name}_{c}" for c in features.columns if c not in keys})
        merged = merged.merge(features, on=keys, how="left")
    return merged
