"""Access to the BBBC008 images and their hand-corrected foreground masks.

This is the only module that touches the files of the data set. Every file is
named in ``data/manifest.csv`` with its size, SHA-256 and the official archive
that holds it. A file is resolved, in this order, from

1. the cache (``data/cache``, or ``$BBBC008_CACHE``), when its hash matches;
2. a read-only local mirror (``$BBBC008_MIRROR``, by default
   ``../shared/data/bbbc008`` beside the project), copied into the cache after
   its hash is checked;
3. the official archive, downloaded with :mod:`pooch` and unpacked.

Images are paired by the well, field and channel parsed from their names,
never by the order a folder lists them in.
"""

from __future__ import annotations

import csv
import functools
import os
import re
import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pooch
import tifffile
from tqdm.auto import tqdm

from .errors import AnalysisError
from .output import atomic_path

_PACKAGED = files("analysis") / "project"
#: Whether this is an installed package (the project's files shipped inside it)
#: rather than a source checkout.
INSTALLED = _PACKAGED.is_dir()
#: The lesson, manifest and model: the checkout, or their copy in the package.
PROJECT_ROOT = Path(str(_PACKAGED)) if INSTALLED else Path(__file__).resolve().parents[1]
MANIFEST = PROJECT_ROOT / "data" / "manifest.csv"
#: Where an installed package keeps downloaded data and executed pages.
USER_CACHE = Path(pooch.os_cache("bbbc008-lesson"))

#: Channel numbers of the two stains used here.
NUCLEI_CHANNEL = 1
ACTIN_CHANNEL = 3

_NAME = re.compile(
    r"^(?P<plate>.+)_(?P<well>[A-P]\d{2})f\d{2}d\d_slice(?P<field>\d+)"
    r"_channel(?P<channel>\d)\.tif$"
)


@dataclass(frozen=True)
class ManifestEntry:
    """One file of the data set as the manifest describes it."""

    kind: str  # "images" or "foreground"
    file: str
    size: int
    sha256: str
    url: str
    member: str


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


def read_manifest(path: Path = MANIFEST) -> list[ManifestEntry]:
    """Read the data manifest.

    Parameters
    ----------
    path : Path
        CSV file with columns ``kind, file, size, sha256, url, member``.

    Returns
    -------
    list of ManifestEntry
        In file order.
    """
    with open(path, newline="") as handle:
        return [
            ManifestEntry(
                row["kind"],
                row["file"],
                int(row["size"]),
                row["sha256"],
                row["url"],
                row["member"],
            )
            for row in csv.DictReader(handle)
        ]


def sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    str
        64 lower-case hex digits (:func:`pooch.file_hash`).
    """
    return pooch.file_hash(str(path), alg="sha256")


def mirror_dir() -> Path | None:
    """The local read-only mirror, or None when there is none.

    ``$BBBC008_MIRROR`` wins; otherwise ``../shared/data/bbbc008`` beside the
    project is used when it exists.
    """
    configured = os.environ.get("BBBC008_MIRROR")
    if configured:
        return Path(configured)
    default = PROJECT_ROOT.parent / "shared" / "data" / "bbbc008"
    return default if default.is_dir() else None


def cache_dir() -> Path:
    """Where verified files are kept.

    Returns
    -------
    Path
        ``$BBBC008_CACHE``; else ``data/cache`` in a checkout, or the user's
        cache folder (:data:`USER_CACHE`) for an installed package.
    """
    default = USER_CACHE / "data" if INSTALLED else PROJECT_ROOT / "data" / "cache"
    return Path(os.environ.get("BBBC008_CACHE", default))


def _download_member(entry: ManifestEntry) -> Path:
    """Fetch the official archive (once) with pooch and unpack one member of it."""
    archives = cache_dir() / "archives"
    try:
        (member,) = pooch.retrieve(
            entry.url,
            known_hash=None,
            path=archives,
            progressbar=True,
            downloader=pooch.HTTPDownloader(timeout=30),
            processor=pooch.Unzip(members=[entry.member]),
        )
    except Exception as error:  # requests' and urllib's errors alike
        raise AnalysisError(
            entry.url,
            f"cannot download ({type(error).__name__}); offline, point "
            "BBBC008_MIRROR at a folder holding images/ and foreground/",
        ) from None
    return Path(member)


def fetch(entry: ManifestEntry) -> Path:
    """Path of a verified copy of one manifest file.

    Parameters
    ----------
    entry : ManifestEntry
        The file to resolve.

    Returns
    -------
    Path
        The cached file, whose SHA-256 equals the manifest's.

    Raises
    ------
    AnalysisError
        If the mirror's copy has another hash, or the file is neither cached,
        mirrored nor downloadable.
    """
    target = cache_dir() / entry.kind / entry.file
    if target.is_file() and sha256(target) == entry.sha256:
        return target
    mirror = mirror_dir()
    source = mirror / entry.kind / entry.file if mirror else None
    if source is not None and source.is_file():
        if sha256(source) != entry.sha256:
            raise AnalysisError(source, "SHA-256 differs from data/manifest.csv")
    else:
        source = _download_member(entry)
        if sha256(source) != entry.sha256:
            raise AnalysisError(entry.url, f"{entry.member} has the wrong SHA-256")
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return target


def fetch_all(kind: str = "images") -> Path:
    """Resolve every manifest file of one kind and return their folder.

    Parameters
    ----------
    kind : {"images", "foreground"}
        Which half of the data set.

    Returns
    -------
    Path
        Folder holding the 24 verified files.
    """
    entries = [e for e in read_manifest() if e.kind == kind]
    for entry in tqdm(entries, desc=f"verify {kind}", unit="file", leave=False, disable=None):
        fetch(entry)
    return cache_dir() / kind


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


@functools.cache
def _manifest_hashes() -> dict[str, frozenset[str]]:
    """File name -> the SHA-256 values the manifest gives it (read once)."""
    hashes: dict[str, set[str]] = {}
    for entry in read_manifest():
        hashes.setdefault(entry.file, set()).add(entry.sha256)
    return {name: frozenset(values) for name, values in hashes.items()}


def check_known_hash(path: Path) -> None:
    """Fail if a file named in the manifest has another content.

    Files the manifest does not name (a user's own images) pass unchecked.

    Raises
    ------
    AnalysisError
        If the name is in the manifest and the SHA-256 is none of its entries'.
    """
    known = _manifest_hashes().get(path.name)
    if known and sha256(path) not in known:
        raise AnalysisError(path, "SHA-256 differs from data/manifest.csv")


def _read_page(path: Path) -> tuple[np.ndarray, int]:
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            return page.asarray(), int(page.photometric)
    except FileNotFoundError:
        raise AnalysisError(path, "file does not exist") from None
    except Exception as error:
        raise AnalysisError(path, f"not a readable TIFF image ({error})") from None


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read one 8-bit single-channel image.

    Parameters
    ----------
    path : str or path-like
        TIFF file.

    Returns
    -------
    ndarray of uint8, shape (rows, cols)
        Pixel intensities, 0..255.

    Raises
    ------
    AnalysisError
        If the file is unreadable, truncated, not 2-D, not 8-bit, or a
        manifest file with the wrong SHA-256.
    """
    path = Path(path)
    check_known_hash(path)
    array, _ = _read_page(path)
    if array.ndim != 2:
        raise AnalysisError(path, f"expected one channel, got an array of shape {array.shape}")
    if array.dtype != np.uint8:
        raise AnalysisError(path, f"expected 8-bit pixels, got {array.dtype}")
    return array


def load_pair(pair: ImagePair) -> tuple[np.ndarray, np.ndarray]:
    """Read both channels of a pair and check that their shapes agree.

    Returns
    -------
    nuclei, actin : ndarray of uint8, shape (rows, cols)
    """
    nuclei = load_image(pair.nuclei)
    actin = load_image(pair.actin)
    if nuclei.shape != actin.shape:
        raise AnalysisError(pair.actin, f"shape {actin.shape} differs from {pair.nuclei.name} {nuclei.shape}")
    return nuclei, actin


def load_mask(path: str | os.PathLike) -> np.ndarray:
    """Read a hand-corrected foreground mask with True = foreground.

    The BBBC008 masks are stored with photometric interpretation
    MINISWHITE, so their raw bits are 1 on the background. The stored
    interpretation is honoured here, whatever it is.

    Returns
    -------
    ndarray of bool, shape (rows, cols)
    """
    path = Path(path)
    check_known_hash(path)
    array, photometric = _read_page(path)
    if array.ndim != 2:
        raise AnalysisError(path, f"expected a 2-D mask, got shape {array.shape}")
    foreground = array.astype(bool)
    if photometric == tifffile.PHOTOMETRIC.MINISWHITE:
        foreground = ~foreground
    return foreground


def dataset_pairs() -> list[ImagePair]:
    """The 12 verified BBBC008 image pairs, sorted by well and field."""
    return pair_channels(fetch_all("images"))


def foreground_path(image: Path) -> Path:
    """Verified foreground mask of the image with the same file name.

    Parameters
    ----------
    image : Path
        A BBBC008 image.

    Returns
    -------
    Path
        The mask, fetched and checked like every data file.

    Raises
    ------
    AnalysisError
        If the manifest knows no mask of that name.
    """
    entries = [e for e in read_manifest() if e.kind == "foreground" and e.file == image.name]
    if not entries:
        raise AnalysisError(image, "no hand-corrected mask of this name in data/manifest.csv")
    return fetch(entries[0])


def pairs_table(pairs: list[ImagePair]) -> pd.DataFrame:
    """One row per pair: its short name and the two file names."""
    return pd.DataFrame(
        [
            {"pair": p.name, "channel 1 (nuclei)": p.nuclei.name, "channel 3 (actin)": p.actin.name}
            for p in pairs
        ]
    )
