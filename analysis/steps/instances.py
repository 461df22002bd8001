"""Instance labels from binary foreground masks."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.measure import label
from skimage.segmentation import relabel_sequential, watershed

#: Gaussian smoothing (pixels) of the distance map before seeds are sought.
SEED_SMOOTHING = 1.0
#: Smallest distance (pixels) between two seeds, i.e. between two nuclei centres.
SEED_MIN_DISTANCE = 3


def split_touching(
    foreground: np.ndarray,
    smoothing: float = SEED_SMOOTHING,
    min_distance: int = SEED_MIN_DISTANCE,
) -> np.ndarray:
    """Split a foreground mask into objects by distance-transform watershed.

    Each connected component is flooded from the local maxima of its
    (smoothed) Euclidean distance map, so touching round objects separate
    along the neck between them.

    Parameters
    ----------
    foreground : ndarray of bool, shape (rows, cols)
        True on objects.
    smoothing : float
        Sigma, in pixels, of the Gaussian applied to the distance map.
    min_distance : int
        Minimum separation, in pixels, of two seeds.

    Returns
    -------
    ndarray of int32, shape (rows, cols)
        0 on background, 1..n on objects.
    """
    components = label(foreground)
    distance = ndi.gaussian_filter(ndi.distance_transform_edt(foreground), smoothing)
    seeds = peak_local_max(distance, min_distance=min_distance, labels=components, exclude_border=False)
    markers = np.zeros(foreground.shape, dtype=np.int32)
    markers[tuple(seeds.T)] = np.arange(1, len(seeds) + 1)
    # A component whose distance map has no strict maximum still gets one seed.
    missing = np.setdiff1d(np.unique(components[foreground]), components[tuple(seeds.T)])
    for component in missing:
        rows, cols = np.nonzero(components == component)
        markers[rows[len(rows) // 2], cols[len(cols) // 2]] = markers.max() + 1
    labels = watershed(-distance, markers, mask=foreground)
    return relabel_sequential(labels)[0].astype(np.int32)
