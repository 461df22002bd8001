"""Zernike shape moments of every object, in one numba pass over the objects' pixels.

MeasureObjectSizeShape describes each object's shape by its Zernike
moments up to order 9 (30 of them), inside the object's minimum enclosing
circle: cp_measure evaluates every polynomial over all objects' pixels as
whole arrays, one array operation per term. Here each pixel's polynomials
are evaluated where it is read, with the same operations in the same order
(Horner's scheme on the squared radius, powers of ``y + ix`` by repeated
products, a pixel outside the unit circle counting 0) and summed per object
in the same pixel order: the moments are cp_measure's but for rounding
(within 1e-12 of each other on the 12 BBBC008 fields; tested). The
enclosing circles are centrosome's, as cp_measure takes them.
"""

from __future__ import annotations

import numpy as np
from centrosome import zernike
from numba import njit

ORDER = 9
"""Moments of orders 0 to 9: ``Zernike_0_0`` ... ``Zernike_9_9``."""


@njit(cache=True, error_model="numpy")  # a one-pixel object: 0 / 0, NaN as in numpy
def _sums(
    labels: np.ndarray, centres: np.ndarray, radii: np.ndarray, indexes: np.ndarray, table: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    count, moments = len(radii), len(indexes)
    real, imaginary = np.zeros((count, moments)), np.zeros((count, moments))
    highest = indexes[:, 1].max()
    powers = np.empty(highest + 1, np.complex128)
    rows, cols = labels.shape
    for row in range(rows):
        for col in range(cols):
            label = labels[row, col]
            if label == 0:
                continue
            index = label - 1
            y = (row - centres[index, 0]) / radii[index]
            x = (col - centres[index, 1]) / radii[index]
            square = x * x + y * y
            z = complex(y, x)
            power = z
            for m in range(1, highest + 1):
                powers[m] = power
                power = power * z
            for moment in range(moments):
                n, m = indexes[moment, 0], indexes[moment, 1]
                value = 0.0
                for term in range((n - m) // 2 + 1):
                    value = value * square
                    value = value + table[moment, term]
                if square > 1:
                    value = 0.0
                if m == 0:
                    real[index, moment] += value
                else:
                    product = complex(value, 0.0) * powers[m]
                    real[index, moment] += product.real
                    imaginary[index, moment] += product.imag
    return real, imaginary


def zernike_moments(labels: np.ndarray) -> dict[str, np.ndarray]:
    """``Zernike_n_m`` of every object: the magnitude of each moment over the circle's area.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects 1..n without gaps, 0 = background, at least one object.

    Returns
    -------
    dict
        ``Zernike_0_0`` ... ``Zernike_9_9`` (CellProfiler's names without
        ``AreaShape_``), one value per object.
    """
    indexes = zernike.get_zernike_indexes(ORDER + 1)
    count = int(labels.max())
    centres, radii = zernike.minimum_enclosing_circle(labels, np.arange(1, count + 1))
    radii = np.asarray(radii, dtype=float)
    table = zernike.construct_zernike_lookuptable(indexes)
    real, imaginary = _sums(
        np.ascontiguousarray(labels, dtype=np.int64),
        np.ascontiguousarray(centres, dtype=float),
        radii,
        np.ascontiguousarray(indexes, dtype=np.int64),
        np.ascontiguousarray(table, dtype=float),
    )
    with np.errstate(divide="ignore", invalid="ignore"):  # a one-pixel object: its circle has no area
        score = np.sqrt(real**2 + imaginary**2) / (np.pi * radii * radii)[:, np.newaxis]
    return {f"Zernike_{n}_{m}": score[:, moment] for moment, (n, m) in enumerate(indexes)}
