"""Pairing the channel files of each field of view by the metadata in their names.

Images are paired by the well, field and channel parsed from their names,
never by the order a folder lists them in.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import AnalysisError

#: Channel numbers of the two stains used here.
NUCLEI_CHANNEL = 1
ACTIN_CHANNEL = 3

_NAME = re.compile(
    r"^(?P<plate>.+)_(?P<well>[A-P]\d{2})f\d{2}d\d_slice(?P<field>\d+)"
    r"_channel(?P<channel>\d)\.tif$"
)


@dataclass(frozen=True)
class ImagePair:
    """The two channels of one field of view.

    Attributes
    ----------
    well : str
        Well name, e.g. ``"A24"``.
    field : int
        Field of view ("slice") number, 1-based.
    nuclei, actin : Path
        Files of channel 1 (Hoechst) and channel 3 (phalloidin).
    """

    well: str
    field: int
    nuclei: Path
    actin: Path

    @property
    def name(self) -> str:
        """Short label, e.g. ``"A24 f1"``."""
        return f"{self.well} f{self.field}"


def parse_name(path: str | os.PathLike) -> tuple[str, int, int]:
    """Well, field and channel encoded in a BBBC008 file name.

    Parameters
    ----------
    path : str or path-like
        E.g. ``AS_09125_050116000001_A24f00d0_slice1_channel1.tif``.

    Returns
    -------
    well : str
    field : int
    channel : int

    Raises
    ------
    AnalysisError
        If the name does not follow the BBBC008 pattern.
    """
    match = _NAME.match(Path(path).name)
    if match is None:
        raise AnalysisError(path, "name does not follow <plate>_<well>f00d0_slice<N>_channel<C>.tif")
    return match["well"], int(match["field"]), int(match["channel"])


def pair_channels(folder: str | os.PathLike) -> list[ImagePair]:
    """Pair the nuclei and actin images of a folder by well and field.

    Parameters
    ----------
    folder : str or path-like
        Folder of ``*_channel1.tif`` and ``*_channel3.tif`` files.

    Returns
    -------
    list of ImagePair
        Sorted by well, then field.

    Raises
    ------
    AnalysisError
        If the folder is missing or holds no TIFF, a name cannot be parsed, a
        channel is neither 1 nor 3, or a channel lacks its partner.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise AnalysisError(folder, "folder does not exist")
    files = sorted(folder.glob("*.tif"))
    if not files:
        raise AnalysisError(folder, "folder holds no .tif image")
    channels: dict[tuple[str, int], dict[int, Path]] = {}
    for path in files:
        well, field, channel = parse_name(path)
        if channel not in (NUCLEI_CHANNEL, ACTIN_CHANNEL):
            raise AnalysisError(path, f"channel {channel} is neither 1 (nuclei) nor 3 (actin)")
        channels.setdefault((well, field), {})[channel] = path
    pairs = []
    for (well, field), found in sorted(channels.items()):
        for wanted in (NUCLEI_CHANNEL, ACTIN_CHANNEL):
            if wanted not in found:
                (only,) = found.values()
                raise AnalysisError(only, f"has no channel {wanted} partner in {folder}")
        pairs.append(ImagePair(well, field, found[NUCLEI_CHANNEL], found[ACTIN_CHANNEL]))
    return pairs


def pairs_table(pairs: list[ImagePair]) -> pd.DataFrame:
    """One row per pair: its short name and the two file names.

    Parameters
    ----------
    pairs : list of ImagePair

    Returns
    -------
    DataFrame
    """
    return pd.DataFrame(
        [
            {"pair": p.name, "channel 1 (nuclei)": p.nuclei.name, "channel 3 (actin)": p.actin.name}
            for p in pairs
        ]
    )
