"""Distances inside objects along 8-connected paths, from one seed per object, all objects at once.

CellProfiler grows each object's rings from its centre with centrosome's
``propagate`` on a flat image: a step to a neighbour beside costs 1, one to a
diagonal neighbour the square root of 2, and a pixel's distance is the least
sum over the paths from the centre that stay in its object. centrosome runs
that search over the whole image once per colour of a colouring in which
touching objects differ. Here one search (Dijkstra's, in numba) grows every
object from its own seed at once, a step never leaving its object.

The distances are the same floating-point numbers: a pixel's distance is
the least of its neighbours' distances plus their step, each sum rounded,
and those equations have one solution, whatever order a search settles the
pixels in (tested against ``propagate``).
"""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit

_DIAGONAL = np.sqrt(2.0)


@njit(cache=True)
def _grow(labels: np.ndarray, seed_rows: np.ndarray, seed_cols: np.ndarray) -> np.ndarray:  # pragma: no cover
    rows, cols = labels.shape
    distance = np.full((rows, cols), np.inf)
    queue = [(0.0, np.int64(0), np.int64(0))]
    queue.pop()
    for seed in range(seed_rows.size):
        distance[seed_rows[seed], seed_cols[seed]] = 0.0
        queue.append((0.0, seed_rows[seed], seed_cols[seed]))
    heapq.heapify(queue)
    while queue:
        here, row, col = heapq.heappop(queue)
        if here > distance[row, col]:
            continue
        label = labels[row, col]
        for step_row in (-1, 0, 1):
            for step_col in (-1, 0, 1):
                near_row, near_col = row + step_row, col + step_col
                if (step_row == 0 and step_col == 0) or not (0 <= near_row < rows and 0 <= near_col < cols):
                    continue
                if labels[near_row, near_col] != label:
                    continue
                there = here + (_DIAGONAL if step_row != 0 and step_col != 0 else 1.0)
                if there < distance[near_row, near_col]:
                    distance[near_row, near_col] = there
                    heapq.heappush(queue, (there, near_row, near_col))
    return distance


def distances_from_seeds(labels: np.ndarray, seed_rows: np.ndarray, seed_cols: np.ndarray) -> np.ndarray:
    """Each object pixel's distance from its object's seed, along paths inside the object.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Objects, 0 = background.
    seed_rows, seed_cols : ndarray of int
        One seed pixel per object, each inside its object.

    Returns
    -------
    ndarray of float64, shape (rows, cols)
        Infinity where no path from a seed reaches (the background, and
        parts of an object apart from its seed's).
    """
    return _grow(
        np.ascontiguousarray(labels, dtype=np.int64),
        np.asarray(seed_rows, dtype=np.int64),
        np.asarray(seed_cols, dtype=np.int64),
    )
