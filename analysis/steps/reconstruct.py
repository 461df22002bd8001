"""Greyscale reconstruction by dilation with 4-connected steps, in numba.

:func:`skimage.morphology.reconstruction` sorts every pixel of the marker
and the mask for each call; MeasureGranularity calls it 16 times per stain.
This is Vincent's hybrid algorithm (1993): a raster scan forward and one
back, then a queue of the pixels whose value can still grow. Reconstruction
takes only maxima and minima of the input values, so any correct algorithm
gives the same array, to the bit (tested against skimage's).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _reconstruct(marker: np.ndarray, mask: np.ndarray) -> np.ndarray:  # pragma: no cover
    rows, cols = mask.shape
    grown = np.minimum(marker, mask)
    for row in range(rows):  # forward: from the pixels above and to the left
        for col in range(cols):
            value = grown[row, col]
            if row > 0:
                value = max(value, grown[row - 1, col])
            if col > 0:
                value = max(value, grown[row, col - 1])
            grown[row, col] = min(value, mask[row, col])
    queue = np.empty(rows * cols * 4 + 1, np.int64)
    head, tail = 0, 0
    for row in range(rows - 1, -1, -1):  # back: from the pixels below and to the right
        for col in range(cols - 1, -1, -1):
            value = grown[row, col]
            if row < rows - 1:
                value = max(value, grown[row + 1, col])
            if col < cols - 1:
                value = max(value, grown[row, col + 1])
            value = min(value, mask[row, col])
            grown[row, col] = value
            below = (
                row < rows - 1 and grown[row + 1, col] < value and grown[row + 1, col] < mask[row + 1, col]
            )
            right = (
                col < cols - 1 and grown[row, col + 1] < value and grown[row, col + 1] < mask[row, col + 1]
            )
            if below or right:
                queue[tail] = row * cols + col
                tail += 1
    while head < tail:  # whatever can still grow, grown from its neighbours
        here = queue[head]
        head += 1
        row, col = here // cols, here % cols
        value = grown[row, col]
        for near_row, near_col in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
            if 0 <= near_row < rows and 0 <= near_col < cols:
                near = grown[near_row, near_col]
                if near < value and near != mask[near_row, near_col]:
                    grown[near_row, near_col] = min(value, mask[near_row, near_col])
                    if tail == queue.size:  # never in practice: a pixel rises at most 4 times per neighbour
                        queue = np.concatenate((queue[head:], np.empty(queue.size, np.int64)))
                        tail -= head
                        head = 0
                    queue[tail] = near_row * cols + near_col
                    tail += 1
    return grown


def reconstruct(marker: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The reconstruction by dilation of ``marker`` under ``mask``, 4-connected.

    Parameters
    ----------
    marker, mask : ndarray of float, shape (rows, cols)
        ``marker`` at or below ``mask`` (where it is above, ``mask`` counts).

    Returns
    -------
    ndarray of float64
        ``skimage.morphology.reconstruction(marker, mask, footprint=disk(1))``.
    """
    return _reconstruct(np.ascontiguousarray(marker, np.float64), np.ascontiguousarray(mask, np.float64))
