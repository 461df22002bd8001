"""An on-disk store of StarDist predictions that several processes share.

The lesson's pages run in kernels of their own, and several of them predict
the same fields at the same scale (a page that validates, rescales and grows
cells, another that counts). When ``$ANALYSIS_PREDICTION_STORE`` names a
folder, :func:`analysis.models.stardist_model.load_model` gives the model
that folder, and :func:`analysis.models.predict.predict_labels` keeps each
prediction there under a key of everything it depends on: the image's
pixels, the weights' SHA-256, the network's runtime (ONNX Runtime or
TensorFlow), the scale, the tiling, the thresholds, and the source of the
modules that predict (:mod:`analysis.io.sources`). A stored prediction is thus returned only for the
same input to the same code; an unreadable entry is predicted again.
"""

from __future__ import annotations

import functools
import hashlib
import zipfile
from pathlib import Path

import numpy as np

from analysis.io import sources
from analysis.io.output import atomic_path

#: Environment variable naming the store's folder; unset, nothing is stored.
STORE_ENV = "ANALYSIS_PREDICTION_STORE"


@functools.cache
def code_digest() -> str:
    """SHA-256 over StarDist's version and the source of this package's code that predicts.

    Returns
    -------
    str
        :func:`analysis.io.sources.code_digest` of :mod:`analysis.models.predict`
        (and so of every module of this package it imports), with StarDist's version.
    """
    import stardist

    return hashlib.sha256(
        f"{stardist.__version__}:{sources.code_digest(__package__ + '.predict')}".encode()
    ).hexdigest()


def prediction_key(model_digest: str, runtime: str, inputs: tuple) -> str:
    """The name a prediction is stored under.

    Parameters
    ----------
    model_digest : str
        SHA-256 of the model's weights.
    runtime : str
        What runs the network (e.g. the model class's name): runtimes may
        number equal objects differently.
    inputs : tuple
        Everything else the labels depend on: the pixels' digest, shape and
        type, the scale, tiling and thresholds (the key of a loaded model's
        recent predictions); its ``repr`` is hashed.

    Returns
    -------
    str
        A hexadecimal digest.
    """
    digest = hashlib.blake2b(digest_size=20)
    for part in (model_digest, runtime, code_digest(), repr(inputs)):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def read_prediction(folder: Path, key: str) -> tuple[np.ndarray, np.ndarray] | None:
    """A stored prediction, or None when there is none or it cannot be read.

    Parameters
    ----------
    folder : Path
    key : str
        From :func:`prediction_key`.

    Returns
    -------
    tuple of ndarray or None
        ``(labels, centres)`` as :func:`analysis.models.predict.predict_labels` returns them.
    """
    path = folder / f"{key}.npz"
    try:
        with np.load(path) as stored:
            return stored["labels"], stored["centres"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def write_prediction(folder: Path, key: str, labels: np.ndarray, centres: np.ndarray) -> None:
    """Store a prediction; the entry appears whole or not at all.

    Parameters
    ----------
    folder : Path
        Created when missing.
    key : str
    labels, centres : ndarray
    """
    with atomic_path(folder / f"{key}.npz") as staging, staging.open("wb") as handle:
        np.savez_compressed(handle, labels=labels, centres=centres)
