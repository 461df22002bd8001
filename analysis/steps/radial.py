"""CellProfiler's radial distribution of intensity: each object's rings found once for every stain.

MeasureObjectIntensityDistribution divides each object into 4 rings around
its centre, scaled to the object (a pixel's ring is its distance from the
centre over that distance plus its distance to the edge), and each ring into
8 wedges; it reports per ring the share of the object's intensity
(``FracAtD``), that share over the ring's share of the pixels
(``MeanFrac``) and the coefficient of variation of the wedges' mean
intensities (``RadialCV``).

The rings depend on the objects alone, so :func:`object_rings` finds them
once per object type and :func:`radial_distribution` measures any stain in
them; cp_measure's ``get_radial_distribution`` finds them again for every
stain. The centre is CellProfiler's, ties included
(:func:`cellprofiler_centres`), and the numbers are CellProfiler's
(tested against cp_measure's function with that centre, and against
CellProfiler 4.2.8 on the 12 BBBC008 fields).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from centrosome.cpmorphology import color_labels

from analysis.steps.geodesic import distances_from_seeds
from analysis.steps.shape import edge_distances

RINGS = 4
"""Rings per object, from the centre (1) to the edge (4)."""
WEDGES = 8
"""Wedges per ring: which side of the centre in rows and in columns, and which of the two is farther."""


def cellprofiler_centres(
    distance: np.ndarray, labels: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each object's point farthest from its edge, ties broken as CellProfiler 4.2 breaks them.

    CellProfiler's MeasureObjectIntensityDistribution calls
    ``scipy.ndimage.maximum_position`` once for all objects. SciPy sorts every
    pixel's value with NumPy's quicksort, which is not stable, and of an
    object's tied points keeps the one the sort puts last (SciPy issue
    25279). CellProfiler 4.2.8 runs NumPy 1.23, whose quicksort is an
    introsort; NumPy 2 sorts 64-bit floats with vector instructions where the
    processor has them, but still sorts extended-precision floats with that
    introsort. Sorting the distances as ``np.longdouble`` therefore orders
    the ties as CellProfiler does, on any processor: this gives its centre
    for all 4,936 objects of the 12 BBBC008 fields, where the first tied
    point in row order (cp_measure's choice) gives it for 3,797.

    Parameters
    ----------
    distance : ndarray of float, shape (rows, cols)
        Each pixel's distance to its object's edge.
    labels : ndarray of int, shape (rows, cols)
        Objects 1..count without gaps, 0 = background.
    count : int
        The number of objects.

    Returns
    -------
    rows, cols : ndarray of int
        The centre of objects 1..count, in label order.
    """
    order = np.argsort(distance.ravel().astype(np.longdouble), kind="quicksort")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    last = np.full(count + 1, -1, dtype=np.intp)
    np.maximum.at(last, labels.ravel(), rank)
    return np.unravel_index(order[last[1:]], labels.shape)


@dataclass(frozen=True)
class ObjectRings:
    """Where each pixel of the objects lies: its object, ring and wedge (:func:`object_rings`)."""

    count: int
    """Objects 1..count."""
    inside: np.ndarray
    """Boolean image: the pixels reached from a centre (every object pixel, in practice)."""
    objects: np.ndarray
    """Object index 0..count-1 of each pixel of ``inside``, in row order."""
    rings: np.ndarray
    """Ring 0..RINGS-1 of each such pixel (RINGS at the very edge, counted in no ring)."""
    wedges: np.ndarray
    """Wedge 0..WEDGES-1 of each such pixel."""


def object_rings(labels: np.ndarray, colours: np.ndarray | None = None) -> ObjectRings:
    """The rings and wedges of every object, from its centre to its edge.

    Every object is grown from its centre at once, each inside itself
    (:func:`analysis.steps.geodesic.distances_from_seeds`): the distances
    CellProfiler's growth gives, one colour of objects at a time.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background.
    colours : ndarray of int, optional
        :func:`centrosome.cpmorphology.color_labels` of ``labels``, if
        already found.

    Returns
    -------
    ObjectRings
    """
    count = int(labels.max())
    to_edge = edge_distances(color_labels(labels) if colours is None else colours, outside_is_edge=False)
    centre_rows, centre_cols = cellprofiler_centres(to_edge, labels, count)
    # Only the numbers that hold an object have a centre to grow from.
    present = np.bincount(labels.ravel(), minlength=count + 1)[1:] > 0
    from_centre = distances_from_seeds(labels, centre_rows[present], centre_cols[present])
    inside = np.isfinite(from_centre)
    objects = labels[inside] - 1
    scaled = from_centre[inside] / (from_centre[inside] + to_edge[inside] + 0.001)
    rings = np.minimum((scaled * RINGS).astype(int), RINGS)
    rows, cols = np.nonzero(inside)
    drow, dcol = rows - centre_rows[objects], cols - centre_cols[objects]
    wedges = (drow > 0) + 2 * (dcol > 0) + 4 * (np.abs(drow) > np.abs(dcol))
    return ObjectRings(count, inside, objects, rings, wedges)


def radial_distribution(rings: ObjectRings, image: np.ndarray) -> dict[str, np.ndarray]:
    """``FracAtD``, ``MeanFrac`` and ``RadialCV`` of each ring of every object, for one stain.

    Parameters
    ----------
    rings : ObjectRings
        :func:`object_rings` of the objects.
    image : ndarray of float, shape (rows, cols)
        The stain on 0..1.

    Returns
    -------
    dict
        ``RadialDistribution_FracAtD_1of4`` ... ``RadialDistribution_RadialCV_4of4``
        (CellProfiler's names without the stain) to one value per object.
        NaN where the object's intensity is 0.
    """
    values = image[rings.inside]
    count = rings.count
    cells = rings.objects * (RINGS + 1) + rings.rings  # each pixel's object and ring, then its wedge
    intensity = np.bincount(cells, weights=values, minlength=count * (RINGS + 1)).reshape(count, -1)
    pixels = np.bincount(cells, minlength=count * (RINGS + 1)).reshape(count, -1)
    wedge_cells = cells * WEDGES + rings.wedges
    wedge_sums = np.bincount(wedge_cells, weights=values, minlength=count * (RINGS + 1) * WEDGES)
    wedge_pixels = np.bincount(wedge_cells, minlength=count * (RINGS + 1) * WEDGES)
    wedge_sums, wedge_pixels = (
        table.reshape(count, RINGS + 1, WEDGES) for table in (wedge_sums, wedge_pixels)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = intensity / intensity.sum(axis=1, keepdims=True)
        mean_fraction = fraction / (pixels / pixels.sum(axis=1, keepdims=True) + np.finfo(float).eps)
        columns = {}
        for ring in range(RINGS):
            # The coefficient of variation of the mean intensities of the ring's wedges that hold
            # pixels (a standard deviation over n), 0 for a ring without any: CellProfiler's masked
            # arrays, step for step.
            held = wedge_pixels[:, ring] > 0
            wedges = held.sum(axis=1)
            means = np.where(held, wedge_sums[:, ring] / wedge_pixels[:, ring], 0.0)
            mean = means.sum(axis=1) / wedges
            apart = np.where(held, means - mean[:, np.newaxis], 0.0)
            spread = np.sqrt((apart * apart).sum(axis=1) / wedges)
            # As CellProfiler's masked arrays divide: by a mean of 0 the spread stays as it is.
            cv = np.where(wedges > 0, np.divide(spread, mean, out=spread.copy(), where=mean != 0), 0.0)
            name = f"{ring + 1}of{RINGS}"
            columns[f"RadialDistribution_FracAtD_{name}"] = fraction[:, ring]
            columns[f"RadialDistribution_MeanFrac_{name}"] = mean_fraction[:, ring]
            columns[f"RadialDistribution_RadialCV_{name}"] = cv
    return columns
