"""Pixel clustering on two-channel intensity features."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

#: Seed of every clustering model and of the pixel sample (the lesson's value).
RANDOM_STATE = 12345
METHODS = ("gmm", "kmeans")
#: Pixels drawn at random to fit each model; every pixel is then assigned.
FIT_SAMPLE = 20_000


def fit_sample(n_pixels: int, size: int = FIT_SAMPLE, seed: int = RANDOM_STATE) -> np.ndarray:
    """Row indices of the pixels a clustering model is fitted on.

    Parameters
    ----------
    n_pixels : int
        Number of feature rows.
    size : int
        How many rows to draw (all rows when there are fewer).
    seed : int
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    ndarray of int64, shape (min(size, n_pixels),)
        Distinct indices, drawn without replacement, in draw order.
    """
    rng = np.random.default_rng(seed)
    return rng.choice(n_pixels, size=min(size, n_pixels), replace=False)


def make_model(method: str, n_clusters: int) -> GaussianMixture | KMeans:
    """An unfitted, seeded clustering model.

    Parameters
    ----------
    method : {"gmm", "kmeans"}
        :class:`~sklearn.mixture.GaussianMixture` or
        :class:`~sklearn.cluster.KMeans` (``n_init=10``).
    n_clusters : int

    Returns
    -------
    GaussianMixture or KMeans
    """
    if method == "gmm":
        return GaussianMixture(n_components=n_clusters, random_state=RANDOM_STATE)
    if method == "kmeans":
        return KMeans(n_clusters=n_clusters, random_state=RANDOM_STATE, n_init=10)
    raise ValueError(f"unknown clustering method {method!r}; choose from {METHODS}")


def fit_labels(features: np.ndarray, n_clusters: int, method: str = "gmm") -> np.ndarray:
    """Cluster feature rows and number the clusters by increasing brightness.

    The model is fitted on a fixed-seed sample of :data:`FIT_SAMPLE` rows
    (:func:`fit_sample`) and then assigns every row. Clusters are numbered
    by the sum of their centre's coordinates (``means_`` or
    ``cluster_centers_``), so label 0 is always the darkest cluster
    (background) whatever order the model found them in.

    Parameters
    ----------
    features : ndarray, shape (n_pixels, n_features)
    n_clusters : int
    method : {"gmm", "kmeans"}
        See :func:`make_model`.

    Returns
    -------
    ndarray of int64, shape (n_pixels,)
        Labels 0..n_clusters-1.
    """
    data = np.asarray(features, dtype=np.float64)
    model = make_model(method, n_clusters)
    model.fit(data[fit_sample(len(data))])
    centres = model.means_ if method == "gmm" else model.cluster_centers_
    rank = np.argsort(np.argsort(centres.sum(axis=1), kind="stable"))
    return rank[model.predict(data)]


def proportions(labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """Fraction of pixels in each cluster.

    Parameters
    ----------
    labels : ndarray of int
        Cluster labels 0..n_clusters-1.
    n_clusters : int

    Returns
    -------
    ndarray of float64, shape (n_clusters,)
        Sums to 1.
    """
    return np.bincount(labels.ravel(), minlength=n_clusters) / labels.size


def cluster_table(features: np.ndarray, sweep: dict[tuple[str, int], np.ndarray]) -> pd.DataFrame:
    """Proportion and mean features of every cluster of several clusterings.

    Parameters
    ----------
    features : ndarray, shape (n_pixels, 2)
        Columns: nuclei and actin intensity.
    sweep : dict
        ``(method, k)`` to the labels of every pixel (:func:`fit_labels`),
        clusters numbered 0..k-1.

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
            rows.append(
                {
                    "method": method,
                    "k": k,
                    "cluster": cluster,
                    "proportion": float(share),
                    "nuclei": float(members[:, 0].mean()),
                    "actin": float(members[:, 1].mean()),
                }
            )
    return pd.DataFrame(rows)
