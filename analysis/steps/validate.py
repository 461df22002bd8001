"""Agreement of a segmentation with the hand-corrected foreground masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage.measure import label


def dice(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Sørensen-Dice coefficient of two boolean masks, 2|A∩B| / (|A| + |B|).

    Returns 1.0 when both masks are empty.

    Parameters
    ----------
    predicted, truth : ndarray of bool

    Returns
    -------
    float
    """
    total = predicted.sum() + truth.sum()
    return 1.0 if total == 0 else float(2 * np.logical_and(predicted, truth).sum() / total)


def iou(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union (Jaccard index) of two boolean masks.

    Returns 1.0 when both masks are empty.

    Parameters
    ----------
    predicted, truth : ndarray of bool

    Returns
    -------
    float
    """
    union = np.logical_or(predicted, truth).sum()
    return 1.0 if union == 0 else float(np.logical_and(predicted, truth).sum() / union)


def score(
    labels: np.ndarray, truth: np.ndarray, truth_instances: np.ndarray | None = None
) -> dict[str, float]:
    """Foreground overlap and object counts of one segmentation.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Predicted objects, 0 = background.
    truth : ndarray of bool, shape (rows, cols)
        Ground-truth foreground.
    truth_instances : ndarray of int, shape (rows, cols), optional
        Ground-truth foreground split into objects
        (:func:`analysis.steps.instances.split_touching`); without it (cells,
        whose masks the split rule does not fit) there is no count to
        compare and ``n_truth_instances`` and ``count_error`` are NaN.

    Returns
    -------
    dict
        ``dice``, ``iou``, ``area_ratio`` (predicted / true foreground area),
        ``n_predicted``, ``n_outside_mask`` (predicted objects with no pixel
        in the mask), ``n_truth_components`` (connected components of the
        mask), ``n_truth_instances`` and ``count_error`` (relative to the
        instances). ``area_ratio`` and ``count_error`` are NaN for an empty
        mask, where no ratio exists.
    """
    predicted = labels > 0
    n_predicted = int(len(np.unique(labels[predicted])))
    n_touching = int(len(np.unique(labels[predicted & truth])))
    n_instances = int(truth_instances.max()) if truth_instances is not None else 0
    return {
        "dice": dice(predicted, truth),
        "iou": iou(predicted, truth),
        "area_ratio": float(predicted.sum() / truth.sum()) if truth.any() else float("nan"),
        "n_predicted": n_predicted,
        "n_outside_mask": n_predicted - n_touching,
        "n_truth_components": int(label(truth).max()),
        "n_truth_instances": n_instances if truth_instances is not None else float("nan"),
        "count_error": (n_predicted - n_instances) / n_instances if n_instances else float("nan"),
    }


def summarise_by_well(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and range of the scores per well and method.

    Parameters
    ----------
    table : DataFrame
        Rows from :func:`score` with ``well`` and ``method`` columns.

    Returns
    -------
    DataFrame
        One row per well and method: mean, min and max Dice, mean IoU and
        mean absolute count error.
    """
    grouped = table.groupby(["well", "method"], sort=True)
    return pd.DataFrame(
        {
            "images": grouped.size(),
            "dice_mean": grouped["dice"].mean(),
            "dice_min": grouped["dice"].min(),
            "dice_max": grouped["dice"].max(),
            "iou_mean": grouped["iou"].mean(),
            "abs_count_error_mean": grouped["count_error"].apply(lambda e: e.abs().mean()),
        }
    ).reset_index()
