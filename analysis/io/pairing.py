"""Pairing the channel files of each field of view by the metadata in their names.

Images are paired by the well, field and channel parsed from their names,
never by the order a folder lists them in. A microscope may also write all
channels of a field into one file (an OME-TIFF, or a multi-page TIFF with
one channel per page): a naming pattern without a ``channel`` group says
so, and each stain is then a :class:`ChannelPath`, one channel of its file,
chosen by name or by index.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.errors import AnalysisError

#: Channel numbers of the two stains in BBBC008's names.
NUCLEI_CHANNEL = 1
ACTIN_CHANNEL = 3
#: BBBC008's names, ``<plate>_<well>f00d0_slice<field>_channel<channel>.tif``.
BBBC008_PATTERN = (
    r"^(?P<plate>.+)_(?P<well>[A-P]\d{2})f\d{2}d\d_slice(?P<field>\d+)_channel(?P<channel>\d)\.tif$"
)


class ChannelPath(type(Path())):
    """One channel of a multi-channel image file, standing where a one-channel file's path stands.

    It is the file's path (its name, its folder, its bytes for hashing) with
    the chosen channel attached: :func:`analysis.io.images.load_image` reads
    that channel alone. Two of them are equal when file and channel are.

    Parameters
    ----------
    path : str or path-like
        The multi-channel file.
    channel : str
        A channel name (an OME-TIFF's, e.g. ``"DNA"``) or a 0-based index
        (``"0"``); a name is looked for first.
    """

    def __new__(cls, path: str | os.PathLike, channel: str):
        """The path of ``path`` with ``channel`` attached."""
        self = super().__new__(cls, path)
        self.channel = str(channel)
        return self

    def __reduce__(self):
        return type(self), (str(self), self.channel)

    def __eq__(self, other) -> bool:
        return super().__eq__(other) and getattr(other, "channel", None) == self.channel

    def __hash__(self) -> int:
        return hash((super().__hash__(), self.channel))

    def __repr__(self) -> str:
        return f"ChannelPath({str(self)!r}, {self.channel!r})"


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
        Files of the nuclei stain (BBBC008: channel 1, Hoechst) and of the
        actin stain (channel 3, phalloidin).
    plate : str
        Plate name, or ``""`` when the naming pattern has none.
    """

    well: str
    field: int
    nuclei: Path
    actin: Path
    plate: str = ""

    @property
    def name(self) -> str:
        """Short label, e.g. ``"A24 f1"``."""
        return f"{self.well} f{self.field}"


@functools.lru_cache
def compile_pattern(pattern: str = BBBC008_PATTERN) -> re.Pattern:
    """A file-naming pattern, checked for the named groups pairing needs.

    As in CellProfiler's metadata extraction, the pattern is a regular
    expression with named groups: ``well`` is required; ``field`` is
    optional (one field per well when absent), and so is ``plate``.
    ``channel`` names each file's channel; without it, each file holds every
    channel of its field.

    Parameters
    ----------
    pattern : str
        Matched against each file's name (not its folder).

    Returns
    -------
    re.Pattern

    Raises
    ------
    AnalysisError
        If the pattern is not a regular expression or lacks a required group.
    """
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise AnalysisError("pattern", f"not a regular expression ({error})") from None
    if "well" not in regex.groupindex:
        raise AnalysisError("pattern", "has no named group (?P<well>...)")
    return regex


def parse_name(path: str | os.PathLike, pattern: str = BBBC008_PATTERN) -> dict[str, str | int]:
    """The metadata a file's name encodes.

    Parameters
    ----------
    path : str or path-like
        E.g. ``AS_09125_050116000001_A24f00d0_slice1_channel1.tif``.
    pattern : str
        See :func:`compile_pattern`.

    Returns
    -------
    dict
        ``plate`` (str, ``""`` without that group), ``well`` (str),
        ``field`` (int, 1 without that group) and ``channel`` (str, ``""``
        without that group).

    Raises
    ------
    AnalysisError
        If the name does not match the pattern, or its field is not a
        whole number.
    """
    regex = compile_pattern(pattern)
    match = regex.search(Path(path).name)
    if match is None:
        bbbc008 = "<plate>_<well>f00d0_slice<N>_channel<C>.tif"
        explained = bbbc008 if pattern == BBBC008_PATTERN else "the naming pattern"
        raise AnalysisError(path, f"name does not match {explained}")
    found = match.groupdict()
    field = found.get("field")
    if field and not field.isdecimal():
        raise AnalysisError(path, f"field {field!r} is not a whole number; the field group must match digits")
    return {
        "plate": found.get("plate") or "",
        "well": found["well"],
        "field": int(field) if field else 1,
        "channel": found.get("channel") or "",
    }


def _tiff_files(folder: Path) -> list[Path]:
    """The ``*.tif`` and ``*.tiff`` files of a folder, sorted by name; the folder must exist."""
    if not folder.is_dir():
        raise AnalysisError(folder, "is a file, not a folder" if folder.exists() else "folder does not exist")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".tif", ".tiff"))


def pair_channels(
    folder: str | os.PathLike,
    pattern: str = BBBC008_PATTERN,
    nuclei_channel: str | int = NUCLEI_CHANNEL,
    actin_channel: str | int = ACTIN_CHANNEL,
) -> list[ImagePair]:
    """Pair the nuclei and actin images of a folder by plate, well and field.

    Parameters
    ----------
    folder : str or path-like
        Folder of TIFF files (``*.tif``, ``*.tiff``).
    pattern : str
        How names encode plate, well, field and channel (:func:`compile_pattern`).
    nuclei_channel, actin_channel : str or int
        The ``channel`` values of the two stains; files of other channels
        (another stain, say) are left out.

    Returns
    -------
    list of ImagePair
        Sorted by plate, well, then field.

    Raises
    ------
    AnalysisError
        If the two channels are the same, the folder is missing or holds no
        TIFF, a name does not match the pattern, two files claim the same
        field and channel, a channel role occurs in no name, or a field lacks
        one of its two channels.
    """
    folder = Path(folder)
    files = _tiff_files(folder)
    if not files:
        raise AnalysisError(folder, "folder holds no .tif image")
    if str(nuclei_channel) == str(actin_channel):
        raise AnalysisError(
            "actin_channel", f"is the nuclei channel too ({actin_channel}); the stains must differ"
        )
    if "channel" not in compile_pattern(pattern).groupindex:
        return _fields_of_files(files, pattern, nuclei_channel, actin_channel)
    roles = {str(nuclei_channel): "nuclei", str(actin_channel): "actin"}
    channels: dict[tuple[str, str, int], dict[str, Path]] = {}
    seen = set()
    for path in files:
        meta = parse_name(path, pattern)
        seen.add(meta["channel"])
        role = roles.get(meta["channel"])
        if role is None:
            continue
        field = channels.setdefault((meta["plate"], meta["well"], meta["field"]), {})
        if role in field:
            raise AnalysisError(path, f"same plate, well, field and channel as {field[role].name}")
        field[role] = path
    for channel, role in roles.items():
        if channel not in seen:
            present = ", ".join(sorted(seen))
            raise AnalysisError(
                folder, f"no file name has channel {channel} (--{role}-channel); channels found: {present}"
            )
    pairs = []
    for (plate, well, field), found in sorted(channels.items()):
        for role, channel in (("nuclei", nuclei_channel), ("actin", actin_channel)):
            if role not in found:
                (only,) = found.values()
                raise AnalysisError(only, f"has no channel {channel} partner in {folder}")
        pairs.append(ImagePair(well, field, found["nuclei"], found["actin"], plate))
    return pairs


def _fields_of_files(
    files: list[Path], pattern: str, nuclei_channel: str | int, actin_channel: str | int
) -> list[ImagePair]:
    """One field per multi-channel file; its stains are channels of it."""
    fields: dict[tuple[str, str, int], Path] = {}
    for path in files:
        meta = parse_name(path, pattern)
        key = (meta["plate"], meta["well"], meta["field"])
        if key in fields:
            raise AnalysisError(
                path,
                f"same plate, well and field as {fields[key].name} (without a channel group in "
                "the pattern, each file is a field holding all its channels)",
            )
        fields[key] = path
    return [
        ImagePair(well, field, ChannelPath(path, nuclei_channel), ChannelPath(path, actin_channel), plate)
        for (plate, well, field), path in sorted(fields.items())
    ]


def matching_files(
    folder: str | os.PathLike,
    pairs: list[ImagePair],
    role: str,
    channel: str | int,
    pattern: str = BBBC008_PATTERN,
    what: str = "mask",
) -> dict[Path, Path]:
    """Find each field's file of one channel in a folder named by the same pattern.

    Used for reference masks (``--truth``) and for further stains of a
    field (``measure --stain``).

    Parameters
    ----------
    folder : str or path-like
        Folder of TIFFs.
    pairs : list of ImagePair
        The fields.
    role : {"nuclei", "actin"}
        Which image of each pair the found file belongs to (the key of the
        result).
    channel : str or int
        The ``channel`` value of the files sought (ignored when the pattern
        has no ``channel`` group: then each field has one file there).
    pattern : str
        See :func:`compile_pattern`; files are matched on plate, well and field.
    what : str
        What the files are, for the error message (``"mask"``, or e.g.
        ``"channel 1 image"`` when a further stain is looked up).

    Returns
    -------
    dict
        Path of each pair's ``role`` image to the matching file's path.

    Raises
    ------
    AnalysisError
        If the folder is missing, a file's name does not match the pattern,
        or a field has no file of that channel.
    """
    folder = Path(folder)
    masks = {}
    for path in _tiff_files(folder):
        meta = parse_name(path, pattern)
        if meta["channel"] in (str(channel), ""):
            masks[meta["plate"], meta["well"], meta["field"]] = path
    found = {}
    for pair in pairs:
        image = getattr(pair, role)
        mask = masks.get((pair.plate, pair.well, pair.field))
        if mask is None:
            raise AnalysisError(image, f"no {what} of the same plate, well and field in {folder}")
        found[image] = mask
    return found


def stain_files(
    folder: str | os.PathLike, pairs: list[ImagePair], channel: str | int, pattern: str = BBBC008_PATTERN
) -> dict[Path, Path]:
    """Each field's image of one further stain.

    Parameters
    ----------
    folder : str or path-like
        The folder the pairs were found in.
    pairs : list of ImagePair
    channel : str or int
        The further stain's channel.
    pattern : str
        The pairs' naming pattern (:func:`compile_pattern`).

    Returns
    -------
    dict
        Each pair's nuclei image to the stain's image: the channel of the
        same file where each file holds a field's channels
        (:class:`ChannelPath`), else the file of that channel in the folder
        (:func:`matching_files`).

    Raises
    ------
    AnalysisError
        As :func:`matching_files` does.
    """
    if pairs and isinstance(pairs[0].nuclei, ChannelPath):
        return {pair.nuclei: ChannelPath(pair.nuclei, channel) for pair in pairs}
    return matching_files(folder, pairs, "nuclei", channel, pattern, what=f"channel {channel} image")


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
