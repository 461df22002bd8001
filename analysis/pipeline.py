"""Runs of the analysis steps over many image pairs, each giving one table."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from tqdm.auto import tqdm

from .data import ImagePair, load_pair
from .explore import channel_statistics


def summarise(pairs: Sequence[ImagePair]) -> pd.DataFrame:
    """Per-channel intensity statistics of each image pair.

    Parameters
    ----------
    pairs : sequence of ImagePair

    Returns
    -------
    DataFrame
        One row per pair: ``well``, ``field``, then for each of ``ch1`` and
        ``ch3``: ``min``, ``max``, ``mean``, ``std`` (grey levels) and
        ``saturated`` (fraction of pixels at 255).
    """
    rows = []
    for pair in tqdm(pairs, desc="summary", unit="pair", disable=None):
        nuclei, actin = load_pair(pair)
        row = {"well": pair.well, "field": pair.field}
        for prefix, image in (("ch1", nuclei), ("ch3", actin)):
            row |= {f"{prefix}_{key}": value for key, value in channel_statistics(image).items()}
        rows.append(row)
    return pd.DataFrame(rows)
