"""Image quality measures of a whole field, under CellProfiler's names.

A screen is screened by these before its objects are trusted: a blurred
field has a steep power spectrum (``PowerLogLogSlope`` far below that of its
neighbours) and a low ``FocusScore``; a saturated one has many pixels at the
maximum (``PercentMaximal``); an empty one has little intensity. The
definitions are those of CellProfiler 4.2's MeasureImageQuality on an
unmasked image. Its ``LocalFocusScore``, its Haralick ``Correlation`` at
chosen scales and its automatic thresholds are not computed here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def radial_power_spectrum(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Fourier power of a field summed over rings of spatial frequency.

    Parameters
    ----------
    image : ndarray of float, shape (rows, cols)

    Returns
    -------
    radii : ndarray of int
        Ring numbers 2, 3, ... up to an eighth of the shorter side (the
        zero frequency and the highest ones, where edges dominate, left out).
    power : ndarray of float
        The summed squared magnitude of each ring.

    Notes
    -----
    A frequency's ring is ``floor(sqrt(u**2 + v**2)) + 1``, with ``u`` the
    smaller of its row index and that index counted from the last row
    (``v`` likewise for columns): CellProfiler's rings, whose ``n - 1 - i``
    is one off the usual FFT frequency ``n - i``. It is kept so the slope is
    CellProfiler's.
    """
    rows, cols = image.shape
    u = np.minimum(np.arange(rows), rows - 1 - np.arange(rows))
    v = np.minimum(np.arange(cols), cols - 1 - np.arange(cols))
    rings = np.floor(np.sqrt(u[:, None] ** 2 + v[None, :] ** 2)).astype(np.intp) + 1
    power = np.abs(np.fft.fft2(image - image.mean())) ** 2
    radii = np.arange(2, int(np.floor(min(rows, cols) / 8)))
    sums = np.bincount(rings.ravel(), weights=power.ravel(), minlength=radii[-1] + 1 if len(radii) else 0)
    return radii, sums[radii]


def power_log_log_slope(image: np.ndarray) -> float:
    """Slope of the log radial power spectrum against log spatial frequency.

    Parameters
    ----------
    image : ndarray of float, shape (rows, cols)

    Returns
    -------
    float
        The least-squares slope over the rings of
        :func:`radial_power_spectrum` with power; 0 for a flat field or one
        too small for two rings, as CellProfiler reports them. Blur removes
        high frequencies and makes the slope more negative.
    """
    radii, power = radial_power_spectrum(image)
    kept = power > 0
    if np.ptp(image) == 0 or kept.sum() < 2:
        return 0.0
    slope, _intercept = np.polyfit(np.log(radii[kept]), np.log(power[kept]), 1)
    return float(slope)


def image_quality(image: np.ndarray, stain: str) -> dict[str, float]:
    """CellProfiler's quality measures of one stain's field.

    Parameters
    ----------
    image : ndarray of float, shape (rows, cols)
        The field on 0..1 (:func:`analysis.steps.features.to_unit`).
    stain : str
        Names the columns.

    Returns
    -------
    dict
        ``ImageQuality_<measure>_<stain>``: ``FocusScore`` (the variance
        divided by the mean; 0 for a black field), ``PowerLogLogSlope``,
        ``PercentMaximal`` and ``PercentMinimal`` (percent of pixels at the
        field's maximum and minimum), and the field's ``TotalArea`` (pixels),
        ``TotalIntensity``, ``MeanIntensity``, ``MedianIntensity``,
        ``StdIntensity``, ``MADIntensity``, ``MinIntensity`` and
        ``MaxIntensity``.
    """
    mean = float(image.mean())
    median = float(np.median(image))
    measures = {
        "FocusScore": float(image.var() / mean) if mean > 0 else 0.0,
        "PowerLogLogSlope": power_log_log_slope(image),
        "PercentMaximal": 100.0 * float(np.mean(image == image.max())),
        "PercentMinimal": 100.0 * float(np.mean(image == image.min())),
        "TotalArea": float(image.size),
        "TotalIntensity": float(image.sum()),
        "MeanIntensity": mean,
        "MedianIntensity": median,
        "StdIntensity": float(image.std()),
        "MADIntensity": float(np.median(np.abs(image - median))),
        "MinIntensity": float(image.min()),
        "MaxIntensity": float(image.max()),
    }
    return {f"ImageQuality_{name}_{stain}": value for name, value in measures.items()}


#: A field is saturated when more than this percent of a stain's pixels sit at its maximum.
SATURATED_PERCENT = 1.0
#: A field is blurred when its nuclei stain's slope lies this many robust deviations below the run's median.
BLUR_DEVIATIONS = 3.0
#: Fewest fields for the run's median slope to be a reference.
BLUR_MIN_FIELDS = 5


def flag_fields(image: pd.DataFrame, nuclei_stain: str) -> pd.DataFrame:
    """Which fields of a run look blurred, saturated or empty.

    Parameters
    ----------
    image : DataFrame
        One row per field: ``Count_Nuclei`` and, when measured, the
        ``ImageQuality_`` columns of :func:`image_quality`.
    nuclei_stain : str
        The stain whose power spectrum judges focus.

    Returns
    -------
    DataFrame
        Boolean columns ``blurred``, ``saturated`` and ``empty`` in the rows'
        order, and ``reason``, their explanation in words ("" where none).
        *Blurred*: ``PowerLogLogSlope`` more than :data:`BLUR_DEVIATIONS`
        scaled median absolute deviations below the run's median (needs
        :data:`BLUR_MIN_FIELDS` fields). *Saturated*: more than
        :data:`SATURATED_PERCENT` % of some stain's pixels at its maximum.
        *Empty*: no nucleus found. Without quality measures, only *empty*.
    """
    flags = pd.DataFrame(
        {"blurred": False, "saturated": False, "empty": image["Count_Nuclei"] == 0}, index=image.index
    )
    reasons = [np.where(flags["empty"], "no nucleus found", "")]
    slope_column = f"ImageQuality_PowerLogLogSlope_{nuclei_stain}"
    if slope_column in image and len(image) >= BLUR_MIN_FIELDS:
        slope = image[slope_column]
        limit = slope.median() - BLUR_DEVIATIONS * 1.4826 * (slope - slope.median()).abs().median()
        flags["blurred"] = slope < limit
        words = [f"power spectrum slope {value:.2f} < {limit:.2f}" for value in slope]
        reasons.append(np.where(flags.blurred, words, ""))
    for column in [c for c in image if c.startswith("ImageQuality_PercentMaximal_")]:
        saturated = image[column] > SATURATED_PERCENT
        flags["saturated"] |= saturated
        stain = column.removeprefix("ImageQuality_PercentMaximal_")
        words = [f"{value:.1f} % of {stain} pixels at the maximum" for value in image[column]]
        reasons.append(np.where(saturated, words, ""))
    flags["reason"] = ["; ".join(text for text in row if text) for row in zip(*reasons, strict=True)]
    return flags
