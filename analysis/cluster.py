"""Pixel clustering on two-channel intensity features."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

#: Seed of every clustering model (the lesson's value).
RANDOM_STATE = 12345
METHODS = ("gmm", "kmeans")


def fit_labels(features: np.ndarray, n_clusters: int, method: str = "gmm") -> np.ndarray:
    """Cluster feature rows and number the clusters by increasing mean.

    Clusters are ordered by the mean of their feature vectors' sum, so label
    0 is always the darkest cluster (background) whatever order the model
    found them in.

    Parameters
    ----------
    features : ndarray, shape (n_pixels, n_features)
    n_clusters : int
    method : {"gmm", "kmeans"}
        :class:`~sklearn.mixture.GaussianMixture` or
        :class:`~sklearn.cluster.KMeans`, both seeded with ``RANDOM_STATE``.

    Returns
    -------
    ndarray of int64, shape (n_pixels,)
        Labels 0..n_clusters-1.
    """
    data = features.astype(np.float64)
    if method == "gmm":
        model = GaussianMixture(n_components=n_clusters, random_state=RANDOM_STATE)
    elif method == "kmeans":
        model = KMeans(n_clusters=n_clusters, random_state=RANDOM_STATE, n_init=10)
    else:
        raise ValueError(f"unknown clustering method {method!r}; choose from {METHODS}")
    raw = model.fit_predict(data)
    brightness = data.sum(axis=1)
    means = np.array([brightness[raw == k].mean() if np.any(raw == k) else np.inf
                      for k in range(n_clusters)])
    rank = np.empty(n_clusters, dtype=np.int64)
    rank[np.argsort(means, kind="stable")] = np.arange(n_clusters)
    return rank[raw]


def label_image(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Put per-pixel labels back into image shape.

    Parameters
    ----------
    labels : ndarray, shape (rows * cols,)
        One label per pixel in raster order (every pixel was clustered).
    shape : tuple of int
        ``(rows, cols)``.

    Returns
    -------
    ndarray, shape (rows, cols)
    """
    if labels.size != shape[0] * shape[1]:
        raise ValueError(f"{labels.size} labels cannot fill an image of shape {shape}")
    return labels.reshape(shape)


def proportions(labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """Fraction of pixels in each cluster.

    Returns
    -------
    ndarray of float64, shape (n_clusters,)
        Sums to 1.
    """
    return np.bincount(labels.ravel(), minlength=n_clusters) / labels.size


def cluster_sweep(
    features: np.ndarray, ks=range(2, 7), methods=METHODS
) -> dict[tuple[str, int], np.ndarray]:
    """Cluster the same features with several methods and cluster counts.

    Parameters
    ----------
    features : ndarray, shape (n_pixels, n_features)
    ks : iterable of int
    methods : iterable of str

    Returns
    -------
    dict
        ``(method, k)`` to the labels of :func:`fit_labels`.
    """
    return {(m, k): fit_labels(features, k, m) for m in methods for k in ks}


def cluster_table(features: np.ndarray, sweep: dict[tuple[str, int], np.ndarray]) -> pd.DataFrame:
    """Proportion and mean features of every cluster of a sweep.

    Parameters
    ----------
    features : ndarray, shape (n_pixels, 2)
        Columns: nuclei and actin intensity.
    sweep : dict
        Output of :func:`cluster_sweep`.

    Returns
    -------
    DataFrame
        One row per method, k and cluster: ``proportion`` and the cluster's
        mean ``nuclei`` and ``actin`` intensity (grey levels).
    """
    rows = []
    for (method, k), labels in sweep.items():
        for cluster, share in enumerate(proportions(labels, k)):
            members = features[labels == cluster]
            rows.append({
                "method": method, "k": k, "cluster": cluster, "proportion": float(share),
                "nuclei": float(members[:, 0].mean()), "actin": float(members[:, 1].mean()),
            })
    return pd.DataFrame(rows)
