"""How well two tables of per-object features agree, feature by feature.

Written to check this package's measurements against CellProfiler's on the
same objects, it compares any two tables that share key columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: The agreement a feature must reach: Pearson r at least this ...
MIN_R = 0.99
#: ... and a median relative difference at most this.
MAX_DIFFERENCE = 0.01
#: Differences smaller than this are rounding (a moment that is zero by definition, say) and count as none.
ROUNDING = 1e-9
#: Values this close, relatively, are equal: a table written with seven significant digits.
DIGITS = 1e-6


def relative_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|a - b| / max(|a|, |b|)``, element by element; 0 where ``|a - b|`` is rounding.

    Parameters
    ----------
    a, b : ndarray of float

    Returns
    -------
    ndarray of float
        Between 0 and 2, symmetric in ``a`` and ``b``; 0 where the two
        differ by less than :data:`ROUNDING`.
    """
    difference = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(difference > ROUNDING, difference / scale, 0.0)


def feature_agreement(
    ours: pd.DataFrame,
    reference: pd.DataFrame,
    keys: Sequence[str] = ("ImageNumber", "ObjectNumber"),
    min_r: float = MIN_R,
    max_difference: float = MAX_DIFFERENCE,
) -> pd.DataFrame:
    """Pearson r and median relative difference of every feature both tables hold.

    Parameters
    ----------
    ours, reference : DataFrame
        One row per object; the objects are matched on ``keys``.
    keys : sequence of str
    min_r, max_difference : float
        The target (:data:`MIN_R`, :data:`MAX_DIFFERENCE`).

    Returns
    -------
    DataFrame
        One row per shared feature, in ``ours``' column order: ``feature``,
        ``objects`` (finite on both sides), ``r`` over those objects (1 where
        the two sides differ by rounding only, :data:`ROUNDING` or
        :data:`DIGITS`; NaN where
        one side is constant and the other is not), ``median_difference``
        (:func:`relative_difference`), ``nan_mismatch`` (objects NaN on one
        side only, reported apart) and ``meets``: r and difference within
        the target; a feature NaN for every object on both sides meets it
        too (both say it is undefined).

    Raises
    ------
    ValueError
        If an object of ``reference`` is missing from ``ours``.
    """
    keys = list(keys)
    merged = reference.copy().merge(
        ours.copy(), on=keys, how="left", suffixes=("_reference", ""), indicator=True
    )
    if (merged["_merge"] != "both").any():
        raise ValueError(f"{int((merged['_merge'] != 'both').sum())} reference objects have no match")
    rows = []
    for feature in [c for c in ours.columns if c in reference.columns and c not in keys]:
        a = merged[feature].to_numpy(dtype=np.float64)
        b = merged[f"{feature}_reference"].to_numpy(dtype=np.float64)
        finite = np.isfinite(a) & np.isfinite(b)
        mismatch = int((np.isnan(a) != np.isnan(b)).sum())
        a, b = a[finite], b[finite]
        if not finite.any():
            r, difference = np.nan, np.nan
        else:
            difference = float(np.median(relative_difference(a, b)))
            if np.allclose(a, b, rtol=DIGITS, atol=ROUNDING):
                r = 1.0
            elif np.ptp(a) == 0 or np.ptp(b) == 0:
                r = np.nan
            else:
                r = float(np.corrcoef(a, b)[0, 1])
        undefined_on_both = not finite.any() and mismatch == 0
        meets = undefined_on_both or bool(r >= min_r and difference <= max_difference)
        rows.append(
            {
                "feature": feature,
                "objects": int(finite.sum()),
                "r": r,
                "median_difference": difference,
                "nan_mismatch": mismatch,
                "meets": bool(meets),
            }
        )
    return pd.DataFrame(rows)
