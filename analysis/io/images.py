"""Reading images and foreground masks from TIFF files, checked against the manifest."""

from __future__ import annotations

import functools
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import tifffile

from analysis.errors import AnalysisError, first_line
from analysis.io.pairing import ChannelPath, ImagePair
from analysis.io.registry import read_manifest, sha256

# tifffile and bioio log what they cannot parse; every read error becomes one AnalysisError instead.
for _logger in ("tifffile", "bioio"):
    logging.getLogger(_logger).setLevel(logging.CRITICAL)


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

    Parameters
    ----------
    path : Path

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


#: Pixel types read as they are: 8-bit, 12- or 16-bit (stored in 16) and floating point.
PIXEL_TYPES = (np.uint8, np.uint16, np.float32, np.float64)


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read one single-plane image, keeping its pixel type.

    What each step does with the type: the lesson's intensity exploration
    (histograms per grey level, equalisation, OpenCV normalisation to 0..255)
    is written for 8-bit images; counting, segmentation and validation
    normalise each image by its percentiles first (StarDist, 1st and 99.8th)
    or threshold it on its own range (Otsu, Li), so 16-bit or floating-point
    images give the same objects as their 8-bit originals.

    Parameters
    ----------
    path : str or path-like
        TIFF file.

    Returns
    -------
    ndarray, shape (rows, cols)
        ``uint8``, ``uint16``, ``float32`` or ``float64`` intensities.

    Raises
    ------
    AnalysisError
        If the file is unreadable, truncated, not a single plane (a stack or
        RGB), of another pixel type, holds non-finite values, or is a
        manifest file with the wrong SHA-256.
    """
    if isinstance(path, ChannelPath):
        array = read_channel(path)
    else:
        path = Path(path)
        check_known_hash(path)
        array, _ = _read_page(path)
    if array.ndim != 2:
        raise AnalysisError(path, f"expected one channel, got an array of shape {array.shape}")
    if array.dtype.type not in PIXEL_TYPES:
        raise AnalysisError(
            path, f"pixel type {array.dtype} is not supported (8- or 16-bit unsigned, or float)"
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise AnalysisError(path, "holds NaN or infinite values")
    return array


def read_channel(path: ChannelPath) -> np.ndarray:
    """One channel of a multi-channel file, read by bioio.

    An OME-TIFF (``*.ome.tif``, ``*.ome.tiff``, read by bioio-ome-tiff)
    has channels found by their names or by index; another TIFF (read by
    bioio-tifffile) of several pages, which bioio sees as planes along Z,
    holds one channel per page, found by index.

    Parameters
    ----------
    path : ChannelPath

    Returns
    -------
    ndarray, shape (rows, cols)
        The channel in the file's pixel type.

    Raises
    ------
    AnalysisError
        If bioio cannot read the file, the channel is not in it, or the
        file holds more than one plane per channel (a Z stack, a time
        series, colour samples).
    """
    import bioio_ome_tiff
    import bioio_tifffile
    from bioio import BioImage

    ome = path.name.lower().endswith((".ome.tif", ".ome.tiff"))
    try:
        with warnings.catch_warnings():  # the readers' own deprecation notices are not the user's concern
            warnings.simplefilter("ignore")
            image = BioImage(path, reader=bioio_ome_tiff.Reader if ome else bioio_tifffile.Reader)
            dims = image.dims
            names = [str(name) for name in image.channel_names]
    except FileNotFoundError:
        raise AnalysisError(path, "file does not exist") from None
    except Exception as error:
        sentence = first_line(error).split(". ")[0]  # bioio's message goes on with advice about plug-ins
        raise AnalysisError(path, f"not an image bioio can read ({sentence[:120]})") from None
    pages = dims.C == 1 and dims.Z > 1 and not ome
    count = dims.Z if pages else dims.C
    if pages:
        names = [str(index) for index in range(count)]
    for axis, what in (("T", "time points"), ("Z", "planes (a 3-D stack)"), ("S", "colour samples")):
        size = getattr(dims, axis, 1)
        if size > 1 and not (pages and axis == "Z"):
            raise AnalysisError(path, f"holds {size} {what}; one 2-D image per channel is expected")
    if path.channel in names:
        index = names.index(path.channel)
    elif path.channel.isdecimal() and int(path.channel) < count:
        index = int(path.channel)
    else:
        raise AnalysisError(path, f"no channel {path.channel!r}; channels: {', '.join(names)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(
                image.get_image_data("YX", T=0, C=0 if pages else index, Z=index if pages else 0)
            )
    except Exception as error:
        raise AnalysisError(
            path, f"channel {path.channel!r} cannot be read ({type(error).__name__})"
        ) from None


def load_pair(pair: ImagePair) -> tuple[np.ndarray, np.ndarray]:
    """Read both channels of a pair and check that their shapes agree.

    Parameters
    ----------
    pair : ImagePair

    Returns
    -------
    nuclei, actin : ndarray of uint8, shape (rows, cols)
    """
    nuclei = load_image(pair.nuclei)
    actin = load_image(pair.actin)
    if nuclei.shape != actin.shape:
        raise AnalysisError(pair.actin, f"shape {actin.shape} differs from {pair.nuclei.name} {nuclei.shape}")
    return nuclei, actin


def load_mask(path: str | os.PathLike, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Read a hand-corrected foreground mask with True = foreground.

    The BBBC008 masks are stored with photometric interpretation
    MINISWHITE, so their raw bits are 1 on the background. The stored
    interpretation is honoured here, whatever it is. Any non-zero value is
    foreground, so a label image serves as a mask too.

    Parameters
    ----------
    path : str or path-like
        TIFF file.
    shape : tuple of int, optional
        The shape of the image the mask belongs to.

    Returns
    -------
    ndarray of bool, shape (rows, cols)

    Raises
    ------
    AnalysisError
        If the file is not a 2-D image, or not of ``shape``.
    """
    path = Path(path)
    check_known_hash(path)
    array, photometric = _read_page(path)
    if array.ndim != 2:
        raise AnalysisError(path, f"expected a 2-D mask, got shape {array.shape}")
    if shape is not None and array.shape != tuple(shape):
        raise AnalysisError(
            path, f"mask of shape {array.shape} does not fit its image of shape {tuple(shape)}"
        )
    foreground = array.astype(bool)
    if photometric == tifffile.PHOTOMETRIC.MINISWHITE:
        foreground = ~foreground
    return foreground
