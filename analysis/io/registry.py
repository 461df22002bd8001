"""Access to the BBBC008 images and their hand-corrected foreground masks.

This is the only module that touches the files of the data set. Every file is
named in ``data/manifest.csv`` with its size, SHA-256 and the official archive
that holds it. A file is resolved, in this order, from

1. the cache (``data/cache``, or ``$BBBC008_CACHE``), when its hash matches;
2. a read-only local mirror (``$BBBC008_MIRROR``, by default
   ``../shared/data/bbbc008`` beside the project), copied into the cache after
   its hash is checked;
3. the official archive, downloaded with :mod:`pooch` and unpacked.

Pairing lives in :mod:`analysis.io.pairing`, reading in :mod:`analysis.io.images`.
"""

from __future__ import annotations

import csv
import functools
import logging
import os
import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pooch
from tqdm.auto import tqdm

from analysis.errors import AnalysisError
from analysis.io.output import atomic_path
from analysis.io.pairing import ImagePair, pair_channels

_PACKAGED = files("analysis") / "project"
#: Whether this is an installed package (the project's files shipped inside it)
#: rather than a source checkout.
INSTALLED = _PACKAGED.is_dir()
#: The lesson, manifest and model: the checkout, or their copy in the package.
PROJECT_ROOT = Path(str(_PACKAGED)) if INSTALLED else Path(__file__).resolve().parents[2]
MANIFEST = PROJECT_ROOT / "data" / "manifest.csv"
#: Where an installed package keeps downloaded data and executed pages.
USER_CACHE = Path(pooch.os_cache("bbbc008-lesson"))


@dataclass(frozen=True)
class ManifestEntry:
    """One file of the data set as the manifest describes it."""

    kind: str  # "images" or "foreground"
    file: str
    size: int
    sha256: str
    url: str
    member: str


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
    """SHA-256 of a file, read once per version of the file in a process.

    Every layer asks this function (fetching, reading an image, a screen's
    result keys), and a file whose size and modification time have not
    changed since its last hash is not read again.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    str
        64 lower-case hex digits (:func:`pooch.file_hash`).
    """
    status = os.stat(path)
    return _file_hash(os.path.realpath(path), status.st_size, status.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _file_hash(path: str, size: int, mtime_ns: int) -> str:
    return pooch.file_hash(path, alg="sha256")


def mirror_dir() -> Path | None:
    """The local read-only mirror, or None when there is none.

    ``$BBBC008_MIRROR`` wins; otherwise ``../shared/data/bbbc008`` beside the
    project is used when it exists.

    Returns
    -------
    Path or None
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
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # pooch's "Downloading data from" line: the progress bar shows it
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
    finally:
        logger.setLevel(level)
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


def dataset_pairs() -> list[ImagePair]:
    """The 12 verified BBBC008 image pairs, sorted by well and field.

    Returns
    -------
    list of ImagePair
        Checked against the manifest (fetched when needed).
    """
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
        raise AnalysisError(image, "no mask of this name in data/manifest.csv (own masks: --truth)")
    return fetch(entries[0])
