"""StarDist models: found, verified and loaded, with TensorFlow kept quiet.

:func:`load_model` is the one entry point used by the command line, the
report and the tests. A model is named by

- ``"project"`` (default): the StarDist2D model trained by this project on
  well A24, kept in ``models/stardist_bbbc008_a24``;
- ``"2D_versatile_fluo"``: StarDist's published model, from the folder in
  ``$STARDIST_VERSATILE_FLUO`` or else through StarDist's own download
  cache (``from_pretrained``); its ``weights_best.h5`` must have the
  published SHA-256;
- a path to any StarDist2D model folder (``config.json``,
  ``weights_best.h5``, optional ``thresholds.json``). A folder named
  ``2D_versatile_fluo`` is checked like the published model.

A folder that also holds its network exported to ONNX (``model.onnx``,
:func:`export_model`) is predicted with ONNX Runtime and never imports
TensorFlow (:mod:`analysis.models.onnx_stardist`); the project's model does.

Predicting with a loaded model at the nuclei's scale is :mod:`analysis.models.predict`'s job.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import AnalysisError, first_line
from analysis.io.output import check_target
from analysis.io.registry import PROJECT_ROOT, sha256
from analysis.models.onnx_stardist import ONNX_FILE, OnnxStarDist, default_threads, export_onnx
from analysis.models.store import STORE_ENV
from analysis.steps.scale import read_scale

#: Folder of the project's trained model.
PROJECT_MODEL = PROJECT_ROOT / "models" / "stardist_bbbc008_a24"
PUBLISHED = "2D_versatile_fluo"
PUBLISHED_SHA256 = "42202bd269c8106782316f1a2c75afb3f5ffa65e525c2e155ee0ced3a95da349"
PUBLISHED_ENV = "STARDIST_VERSATILE_FLUO"


@contextlib.contextmanager
def quiet_native_stderr():
    """Send file descriptor 2 to /dev/null for a while.

    TensorFlow's C++ start-up notices (oneDNN, CPU features) bypass Python's
    logging and would otherwise reach every user's terminal.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextlib.contextmanager
def long_lived():
    """Make the objects created inside the block permanent for the garbage collector.

    Importing TensorFlow and building a model create some hundred thousand
    objects that live as long as the process. Python's cyclic garbage
    collector would scan them again and again: while they are created
    (about 1 s of a 4 s import here) and once more when the process exits
    (about 1.2 s). The collector is paused inside the block, and on leaving
    it everything alive is moved to the permanent generation
    (:func:`gc.freeze`), which later collections skip. Objects are still
    freed as soon as nothing refers to them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def import_tensorflow():
    """TensorFlow, imported with its start-up notices silenced and its objects long-lived.

    Returns
    -------
    module
        ``tensorflow``.

    Raises
    ------
    AnalysisError
        If TensorFlow is not installed (the core install predicts with
        ONNX Runtime only).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with quiet_native_stderr(), long_lived():
            import tensorflow
    except ModuleNotFoundError as missing:
        if missing.name != "tensorflow":  # installed, but something it needs is not: its own message
            raise
        raise AnalysisError(
            "tensorflow",
            "not installed: training, exporting and models without model.onnx need it "
            "(pip install 'bbbc008-lesson[train]')",
        ) from None
    return tensorflow


def _stardist2d():
    """The StarDist2D class, imported as :func:`import_tensorflow` imports TensorFlow."""
    import_tensorflow()
    with quiet_native_stderr(), long_lived():
        from stardist.models import StarDist2D
    return StarDist2D


@dataclass
class LoadedModel:
    """A ready StarDist2D model and where it came from.

    Attributes
    ----------
    model : stardist.models.StarDist2D or analysis.models.onnx_stardist.OnnxStarDist
        Either predicts with ``predict_instances`` and has ``thresholds``.
    name : str
        ``"project"``, ``"2D_versatile_fluo"`` or the folder's name.
    folder : Path
    weights_sha256 : str
    nucleus_diameter : float or None
        The reference diameter (pixels) recorded in the folder's
        ``scale.json`` (:mod:`analysis.steps.scale`); ``None`` when there is none,
        and images are then predicted at their own scale.
    recent : dict
        The latest predictions (:func:`analysis.models.predict.predict_labels`), at
        most :data:`analysis.models.predict.RECENT_BYTES` of labels, oldest dropped first.
    store : Path or None
        Folder of predictions shared between processes
        (:mod:`analysis.models.store`), from ``$ANALYSIS_PREDICTION_STORE``.
    """

    model: object
    name: str
    folder: Path
    weights_sha256: str
    nucleus_diameter: float | None = None
    recent: dict = field(default_factory=dict, repr=False, compare=False)
    store: Path | None = field(default=None, compare=False)


def _published_folder() -> Path:
    configured = os.environ.get(PUBLISHED_ENV)
    if configured:
        return Path(configured)
    StarDist2D = _stardist2d()  # first: csbdeep would import TensorFlow unsilenced
    from csbdeep.models.pretrained import get_model_folder

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras prints "Downloading data from ..."
            return Path(get_model_folder(StarDist2D, PUBLISHED))
    except Exception as error:
        raise AnalysisError(
            PUBLISHED,
            f"cannot download the published weights ({first_line(error)}); offline, "
            f"unpack python_2D_versatile_fluo.zip and set {PUBLISHED_ENV} to its folder, "
            "or pass --model FOLDER",
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def locate_model(spec: str | os.PathLike | None = None) -> tuple[Path, str, str]:
    """Resolve and verify a model's folder without loading it (no TensorFlow).

    Parameters
    ----------
    spec : str or path-like, optional
        ``"project"`` (default), ``"2D_versatile_fluo"`` or a model folder.

    Returns
    -------
    folder : Path
    name : str
    weights_sha256 : str

    Raises
    ------
    AnalysisError
        If the folder or its files are missing, a settings file is not
        valid JSON (``config.json``, ``thresholds.json``, ``scale.json``),
        the published weights have another SHA-256, or the published model
        is neither given nor downloadable.
    """
    spec = "project" if spec is None else str(spec)
    if spec == "project":
        folder, name = PROJECT_MODEL, "project"
    elif spec == PUBLISHED:
        folder, name = _published_folder(), PUBLISHED
    else:
        folder = Path(spec)
        name = folder.name
    if not folder.is_dir():
        raise AnalysisError(
            folder, "is a file, not a model folder" if folder.exists() else "model folder does not exist"
        )
    for required in ("config.json", "weights_best.h5"):
        if not (folder / required).is_file():
            raise AnalysisError(folder, f"model folder has no {required}")
    for settings in ("config.json", "thresholds.json"):  # named here, not as a failed load later
        path = folder / settings
        if path.is_file():
            try:
                json.loads(path.read_text())
            except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
                raise AnalysisError(path, f"is not valid JSON ({error})") from None
    read_scale(folder)
    weights = folder / "weights_best.h5"
    digest = sha256(weights)
    if (name == PUBLISHED or folder.name == PUBLISHED) and digest != PUBLISHED_SHA256:
        raise AnalysisError(
            weights, f"SHA-256 {digest[:12]}... is not the published {PUBLISHED_SHA256[:12]}..."
        )
    return folder, name, digest


def predict_directly(keras_model) -> None:
    """Let a Keras model's ``predict`` call the model itself, compiled once.

    StarDist predicts through Keras's ``Model.predict``, which builds an
    input pipeline and callbacks on every call: for the one image (or tile)
    StarDist passes at a time, that cost a third or more of the prediction
    time here (0.26-0.35 s against 0.17-0.18 s per 512 x 512 image).
    Keras's documentation advises calling the model directly for inputs
    that fit in one batch; this replaces the ``predict`` of this one
    model object by such a call (a ``tf.function`` whose traces are
    generalised across image sizes), returning the same arrays.

    Parameters
    ----------
    keras_model : keras.Model
        Changed in place; other models are untouched.
    """
    tf = import_tensorflow()
    call = tf.function(lambda batch: keras_model(batch, training=False), reduce_retracing=True)

    def predict(batch, **_keras_options):
        """The model's outputs for one batch, as NumPy arrays (Keras's options do not apply)."""
        return [output.numpy() for output in call(tf.convert_to_tensor(batch))]

    keras_model.predict = predict


def load_model(spec: str | os.PathLike | None = None, threads: int | None = None) -> LoadedModel:
    """Resolve, verify and load a StarDist2D model.

    Parameters
    ----------
    spec : str or path-like, optional
        ``"project"`` (default), ``"2D_versatile_fluo"`` or a model folder.
    threads : int, optional
        Threads of one prediction. By default an exported network uses
        :func:`analysis.models.onnx_stardist.default_threads`, and TensorFlow its
        own setting (``TF_NUM_INTRAOP_THREADS``); a number given for a model
        without ``model.onnx`` must come before TensorFlow's first use in
        the process.

    Returns
    -------
    LoadedModel
        Its ``store`` is the folder named by ``$ANALYSIS_PREDICTION_STORE``
        (:mod:`analysis.models.store`), if set.

    Raises
    ------
    AnalysisError
        As :func:`locate_model`, if the weights cannot be loaded, or if the
        folder's ``model.onnx`` cannot be read or was exported from other
        weights.
    """
    folder, name, digest = locate_model(spec)
    if (folder / ONNX_FILE).is_file():
        model = _onnx_model(folder, digest, default_threads() if threads is None else threads)
    else:
        model = _keras_model(folder, threads)
    store = os.environ.get(STORE_ENV)
    return LoadedModel(model, name, folder, digest, read_scale(folder), store=Path(store) if store else None)


def _onnx_model(folder: Path, digest: str, threads: int) -> OnnxStarDist:
    path = folder / ONNX_FILE
    try:
        model = OnnxStarDist(folder, threads)
    except Exception as error:  # ONNX Runtime raises its own error types for unreadable files
        raise AnalysisError(path, f"cannot load the network ({first_line(error)})") from None
    if model.weights_sha256 != digest:
        raise AnalysisError(
            path,
            "was exported from other weights than weights_best.h5; "
            f"export it again: python -m analysis export {folder}",
        )
    return model


def _keras_model(folder: Path, threads: int | None = None):
    StarDist2D = _stardist2d()
    if threads is not None:
        tf = import_tensorflow()
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    try:
        # StarDist narrates loading on stdout, TensorFlow on the native stderr.
        with contextlib.redirect_stdout(io.StringIO()), quiet_native_stderr(), long_lived():
            model = StarDist2D(None, name=folder.name, basedir=str(folder.parent))
    except Exception as error:
        # The settings files parsed in locate_model: what fails here is the weights or their fit.
        raise AnalysisError(
            folder / "weights_best.h5", f"cannot load the model ({type(error).__name__}: {error})"
        ) from None
    model.basedir = None  # read-only: never write into the model folder
    predict_directly(model.keras_model)
    return model


def export_model(folder: str | os.PathLike) -> Path:
    """Export a model folder's network to ONNX, beside its weights.

    Later loads of the folder (:func:`load_model`) then predict without
    TensorFlow.

    Parameters
    ----------
    folder : path-like
        A StarDist2D model folder (see :func:`locate_model`).

    Returns
    -------
    Path
        The written ``model.onnx``.

    Raises
    ------
    AnalysisError
        As :func:`locate_model`, if the weights cannot be loaded, or if
        ``model.onnx`` cannot be written there (a folder of that name).
    """
    folder, _, digest = locate_model(folder)
    check_target(folder / ONNX_FILE)  # before TensorFlow's start-up
    model = _keras_model(folder)
    overlap = tuple(model._axes_tile_overlap("YX"))  # the receptive field, measured by StarDist
    with quiet_native_stderr():
        return export_onnx(model.keras_model, digest, overlap, folder / ONNX_FILE)
