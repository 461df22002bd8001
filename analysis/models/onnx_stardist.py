"""StarDist2D predictions with the network in ONNX Runtime, without TensorFlow.

Importing TensorFlow and building the Keras model take about 3 s of every
process that predicts, longer than predicting the twelve BBBC008 fields.
A model folder may therefore hold its network exported to ONNX
(``model.onnx``, written by :func:`export_onnx`): :class:`OnnxStarDist`
runs it in ONNX Runtime (imported in about 0.1 s) and turns its outputs
into objects with StarDist's own functions (the candidates above the
probability threshold, :func:`stardist.nms.non_maximum_suppression_sparse`,
:func:`stardist.geometry.polygons_to_label`), step for step as
``StarDist2D.predict_instances`` does, tiles included. The export records
the SHA-256 of the weights it came from, so a network exported from other
weights is refused (:func:`analysis.models.stardist_model.load_model`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from analysis.io.output import atomic_path

#: The exported network's file in a model folder.
ONNX_FILE = "model.onnx"
#: Candidates closer than this to the image's border (network grid cells) are dropped, as in StarDist.
BORDER = 2
#: ONNX operator set of the export.
OPSET = 17
#: StarDist's thresholds for a model without ``thresholds.json``.
DEFAULT_THRESHOLDS = {"prob": 0.5, "nms": 0.4}


class Thresholds(NamedTuple):
    """Object probability and overlap thresholds, as StarDist2D names them."""

    prob: float
    nms: float


def export_onnx(keras_model, weights_sha256: str, tile_overlap: tuple[int, int], target: Path) -> Path:
    """Write a StarDist2D network to ONNX, with what prediction needs to know.

    Parameters
    ----------
    keras_model : keras.Model
        ``StarDist2D.keras_model``: one input channel, outputs probability
        and ray distances.
    weights_sha256 : str
        SHA-256 of the ``weights_best.h5`` the network was loaded from,
        recorded in the file's metadata.
    tile_overlap : tuple of int
        The network's context in pixels (rows, cols) that a tile needs
        around it (StarDist's receptive field), recorded in the metadata.
    target : Path
        The ``.onnx`` file; replaced only when the export succeeds.

    Returns
    -------
    Path
        ``target``.
    """
    import onnx
    import tensorflow as tf
    import tf2onnx

    signature = (tf.TensorSpec((None, None, None, 1), tf.float32, name="input"),)
    network = tf.function(lambda batch: keras_model(batch, training=False))
    proto, _ = tf2onnx.convert.from_function(network, input_signature=signature, opset=OPSET)
    onnx.helper.set_model_props(
        proto, {"weights_sha256": weights_sha256, "tile_overlap": json.dumps([int(n) for n in tile_overlap])}
    )
    with atomic_path(target) as staging:
        onnx.save(proto, staging)
    return target


def default_threads() -> int:
    """Threads per prediction: ``OMP_NUM_THREADS`` where set (as for the other libraries), else every core.

    ONNX Runtime's own default (0) measured slower here: 0.152 s against
    0.134 s per 512 x 512 image with the two cores named.

    Returns
    -------
    int
        At least 1.
    """
    value = os.environ.get("OMP_NUM_THREADS", "")
    if value.isdecimal() and int(value) > 0:
        return int(value)
    if hasattr(os, "sched_getaffinity"):  # the cores this process may use (Linux)
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # macOS and Windows


def _session(path: Path, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxStarDist:
    """A StarDist2D model whose network runs in ONNX Runtime.

    Parameters
    ----------
    folder : Path
        A model folder with ``config.json``, ``model.onnx`` and optionally
        ``thresholds.json``.
    threads : int
        Threads of one prediction (:func:`default_threads`).

    Attributes
    ----------
    thresholds : Thresholds
    grid : tuple of int
        Rows and columns of image per network output cell.
    div_by : int
        The network's input sides must be multiples of this.
    weights_sha256 : str
        Of the weights the network was exported from.
    tile_overlap : tuple of int
        Context (pixels) a tile needs on each side.
    """

    def __init__(self, folder: Path, threads: int):
        config = json.loads((folder / "config.json").read_text())
        thresholds = folder / "thresholds.json"
        values = json.loads(thresholds.read_text()) if thresholds.is_file() else DEFAULT_THRESHOLDS
        self.thresholds = Thresholds(float(values["prob"]), float(values["nms"]))
        self.grid = tuple(config["grid"])
        self.div_by = config["unet_pool"][0] ** config["unet_n_depth"] * self.grid[0]
        self.session = _session(folder / ONNX_FILE, threads)
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.weights_sha256 = metadata.get("weights_sha256", "")
        self.tile_overlap = tuple(json.loads(metadata.get("tile_overlap", "[0, 0]")))

    def _network(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Object probability (rows/g, cols/g) and ray distances (rows/g, cols/g, rays)."""
        prob, dist = self.session.run(None, {"input": image[np.newaxis, ..., np.newaxis]})
        return prob[0, ..., 0], np.maximum(1e-3, dist[0])

    def _tiles(self, padded: np.ndarray, n_tiles: tuple[int, int]) -> Iterator[tuple]:
        """Each tile's slices on the padded image and on the network's output grid."""
        from csbdeep.internals.predict import tile_iterator

        overlaps = [int(np.ceil(overlap / self.div_by)) for overlap in self.tile_overlap]
        for tile, source, target in tile_iterator(
            padded, n_tiles, block_sizes=(self.div_by,) * 2, n_block_overlaps=overlaps
        ):
            on_grid = [
                (slice(s.start // g, s.stop // g), slice(t.start // g, t.stop // g))
                for s, t, g in zip(source, target, self.grid, strict=True)
            ]
            yield tile, on_grid

    def candidates(
        self, image: np.ndarray, n_tiles: tuple[int, int] = (1, 1)
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every object candidate: the network's output above the probability threshold.

        Parameters
        ----------
        image : ndarray of float32, shape (rows, cols)
            Normalised as for training.
        n_tiles : tuple of int
            Tiles per axis.

        Returns
        -------
        prob : ndarray, shape (n,)
            Each candidate's object probability.
        dist : ndarray, shape (n, rays)
            Its ray distances (pixels).
        point : ndarray of int, shape (n, 2)
            Its (row, col) in pixels, on the network's grid.
        """
        from stardist.nms import _ind_prob_thresh

        padded = np.pad(image, [(0, -side % self.div_by) for side in image.shape], mode="reflect")
        grid_shape = [side // g for side, g in zip(padded.shape, self.grid, strict=True)]
        if n_tiles == (1, 1):  # the whole image, as one tile touching every border
            pieces = [(padded, [(slice(0, n), slice(0, n)) for n in grid_shape])]
        else:
            pieces = self._tiles(padded, n_tiles)
        probs, dists, points = [], [], []
        for tile, on_grid in pieces:
            prob, dist = self._network(tile)
            source = tuple(s for s, _ in on_grid)
            prob, dist = prob[source], dist[source]
            border = [  # only at the image's own borders, not between tiles
                (BORDER if t.start == 0 else -1, BORDER if t.stop == n else -1)
                for (_, t), n in zip(on_grid, grid_shape, strict=True)
            ]
            chosen = _ind_prob_thresh(prob, self.thresholds.prob, b=border)
            offset = np.array([t.start for _, t in on_grid])
            probs.append(prob[chosen])
            dists.append(dist[chosen])
            points.append((np.argwhere(chosen) + offset) * np.array(self.grid))
        prob, dist, point = np.concatenate(probs), np.concatenate(dists), np.concatenate(points)
        inside = np.all(point < np.array(image.shape), axis=1)
        return prob[inside], dist[inside], point[inside]

    def predict_instances(
        self, image: np.ndarray, n_tiles: tuple[int, int] | None = None, verbose: bool = False
    ) -> tuple[np.ndarray, dict]:
        """Objects in a normalised image, as ``StarDist2D.predict_instances`` finds them.

        Parameters
        ----------
        image : ndarray of float32, shape (rows, cols)
            Normalised as for training.
        n_tiles : tuple of int, optional
            Tiles per axis; ``None`` predicts the image whole.
        verbose : bool
            Accepted for StarDist's signature; nothing is printed.

        Returns
        -------
        labels : ndarray of int32, shape (rows, cols)
        details : dict
            ``points`` (n, 2) star centres and ``prob`` (n,), in label order.
        """
        from stardist.geometry import polygons_to_label
        from stardist.nms import non_maximum_suppression_sparse

        prob, dist, point = self.candidates(image, tuple(n_tiles or (1, 1)))
        points, probs, dists, _ = non_maximum_suppression_sparse(
            dist, prob, point, nms_thresh=self.thresholds.nms
        )
        labels = polygons_to_label(dists, points, prob=probs, shape=image.shape)
        return labels, {"points": points, "prob": probs}
