"""Training of the project's own StarDist2D nuclei model.

The model learns from the channel-1 images of well A24 only. Its targets are
instance labels derived from the hand-corrected foreground masks by
:func:`analysis.steps.instances.split_touching`. Well L15 is never seen during
training, checkpoint selection or threshold optimisation; it is kept for the
held-out evaluation.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from analysis.io.images import load_image, load_mask
from analysis.io.registry import dataset_pairs, foreground_path
from analysis.models.predict import normalise_for_network
from analysis.models.stardist_model import PROJECT_MODEL, import_tensorflow
from analysis.steps.instances import split_touching
from analysis.steps.scale import SCALE_FILE, reference_diameter, write_scale

TRAIN_WELL = "A24"
#: The model card's file name in a model folder.
CARD_FILE = "MODEL_CARD.md"
#: Field of the training well whose loss picks the best checkpoint.
CHECKPOINT_FIELD = 6


@dataclass(frozen=True)
class TrainingSettings:
    """Settings of one training run: the network's size and the schedule.

    ``depth``, ``filters`` and ``conv_after`` are StarDist's
    ``unet_n_depth``, ``unet_n_filter_base`` and ``net_conv_after_unet``;
    ``grid`` is the output grid's step in pixels (both axes). The
    published ``2D_versatile_fluo`` network is depth 3, 32 filters,
    128 channels, grid 2.
    """

    depth: int = 3
    filters: int = 32
    conv_after: int = 128
    grid: int = 2
    epochs: int = 60
    steps_per_epoch: int = 50
    batch_size: int = 4
    patch_size: int = 256
    learning_rate: float = 3e-4
    zoom_range: tuple[float, float] = (0.7, 2.0)
    gamma_range: tuple[float, float] = (0.5, 2.0)
    seed: int = 12345


def training_data(well: str = TRAIN_WELL) -> tuple[list[np.ndarray], list[np.ndarray], list[int]]:
    """Normalised channel-1 images, their instance labels and field numbers.

    Parameters
    ----------
    well : str

    Returns
    -------
    images : list of ndarray of float32, shape (512, 512)
    labels : list of ndarray of int32, shape (512, 512)
    fields : list of int
    """
    images, labels, fields = [], [], []
    for pair in dataset_pairs():
        if pair.well != well:
            continue
        images.append(normalise_for_network(load_image(pair.nuclei)))
        labels.append(split_touching(load_mask(foreground_path(pair.nuclei))))
        fields.append(pair.field)
    return images, labels, fields


def _fit_to(array: np.ndarray, shape: tuple[int, int], rng: np.random.Generator, fill) -> tuple:
    """Random crop (or constant pad) of ``array`` to ``shape``; returns slices too."""
    pads = [(0, max(0, s - a)) for a, s in zip(array.shape, shape, strict=True)]
    padded = np.pad(array, pads, constant_values=fill)
    starts = [rng.integers(0, p - s + 1) for p, s in zip(padded.shape, shape, strict=True)]
    return tuple(slice(o, o + s) for o, s in zip(starts, shape, strict=True)), padded


def make_augmenter(zoom_range: tuple[float, float], gamma_range: tuple[float, float], seed: int):
    """Augmentation for StarDist's ``train(augmenter=...)``.

    Random 90-degree rotation, flips, a gamma curve (exponent drawn
    log-uniformly from ``gamma_range``, so the contrast between nucleus and
    rim varies), intensity scale (0.6-2x) and shift (+-0.2), and an isotropic
    zoom drawn log-uniformly from ``zoom_range`` (nuclei of well L15 are about
    twice the area of A24's).

    Parameters
    ----------
    zoom_range, gamma_range : tuple of float
    seed : int

    Returns
    -------
    callable
        ``(image, labels) -> (image, labels)``.
    """
    rng = np.random.default_rng(seed)

    def augment(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        factor = float(np.exp(rng.uniform(*np.log(zoom_range))))
        zx = ndi.zoom(x, factor, order=1)
        zy = ndi.zoom(y, factor, order=0)
        window, zx = _fit_to(zx, x.shape, rng, fill=float(np.percentile(x, 5)))
        _, zy = _fit_to(zy, y.shape, rng, fill=0)
        x, y = zx[window], zy[window]
        turns = int(rng.integers(4))
        x, y = np.rot90(x, turns), np.rot90(y, turns)
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        gamma = float(np.exp(rng.uniform(*np.log(gamma_range))))
        x = np.clip(x, 0, None) ** gamma * rng.uniform(0.6, 2.0) + rng.uniform(-0.2, 0.2)
        return np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(y)

    return augment


def train_model(settings: TrainingSettings = TrainingSettings(), model_dir: Path = PROJECT_MODEL) -> dict:
    """Train StarDist2D on well A24 and optimise its thresholds on A24.

    Parameters
    ----------
    settings : TrainingSettings
    model_dir : Path
        Output folder; ``config.json``, ``thresholds.json`` and
        ``weights_best.h5`` are written there.

    Returns
    -------
    dict
        Training record: settings, seconds, parameters, thresholds.
    """
    import_tensorflow()  # first: its start-up notices silenced
    import keras
    from stardist.models import Config2D, StarDist2D

    keras.utils.set_random_seed(settings.seed)
    images, labels, fields = training_data()
    held = [i for i, f in enumerate(fields) if f == CHECKPOINT_FIELD]
    fit = [i for i, f in enumerate(fields) if f != CHECKPOINT_FIELD]
    config = Config2D(
        n_rays=32,
        grid=(settings.grid, settings.grid),
        n_channel_in=1,
        unet_n_depth=settings.depth,
        unet_n_filter_base=settings.filters,
        net_conv_after_unet=settings.conv_after,
        train_patch_size=(settings.patch_size, settings.patch_size),
        train_batch_size=settings.batch_size,
        train_epochs=settings.epochs,
        train_steps_per_epoch=settings.steps_per_epoch,
        train_learning_rate=settings.learning_rate,
        train_tensorboard=False,
    )
    model = StarDist2D(config, name=model_dir.name, basedir=str(model_dir.parent))
    start = time.perf_counter()
    with warnings.catch_warnings():
        # StarDist passes a generator of shuffled batches with shuffle=True, which Keras ignores.
        warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed", category=UserWarning)
        history = model.train(
            [images[i] for i in fit],
            [labels[i] for i in fit],
            validation_data=([images[i] for i in held], [labels[i] for i in held]),
            augmenter=make_augmenter(settings.zoom_range, settings.gamma_range, settings.seed),
            epochs=settings.epochs,
            steps_per_epoch=settings.steps_per_epoch,
        )
    seconds = time.perf_counter() - start
    model.optimize_thresholds(images, labels)
    record = {
        "train_well": TRAIN_WELL,
        "fit_fields": [fields[i] for i in fit],
        "checkpoint_field": CHECKPOINT_FIELD,
        "settings": settings.__dict__
        | {"zoom_range": list(settings.zoom_range), "gamma_range": list(settings.gamma_range)},
        "train_seconds": round(seconds, 1),
        "parameters": int(model.keras_model.count_params()),
        "checkpoint_loss": round(float(min(history.history["val_loss"])), 6),
        "thresholds": {"prob": float(model.thresholds.prob), "nms": float(model.thresholds.nms)},
    }
    (model_dir / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    record_scale(model_dir, record["fit_fields"], settings.zoom_range)
    return record


def record_scale(model_dir: Path, fields: list[int], zoom_range: tuple[float, float]) -> Path:
    """Write the model's reference nucleus diameter (:mod:`analysis.steps.scale`).

    Parameters
    ----------
    model_dir : Path
    fields : list of int
        The training well's fields the network was fitted on.
    zoom_range : tuple of float
        The training augmentation's zoom range.

    Returns
    -------
    Path
        The ``scale.json`` written.
    """
    raw = [load_image(p.nuclei) for p in dataset_pairs() if p.well == TRAIN_WELL and p.field in fields]
    source = (
        f"median estimated diameter of {TRAIN_WELL} fields {fields} (channel 1) "
        f"x sqrt({zoom_range[0]} x {zoom_range[1]}), the centre of the training zoom range"
    )
    return write_scale(model_dir, reference_diameter(raw, zoom_range), source)


def previous_history(card: Path) -> str:
    """The History section of an existing model card ("" when there is none).

    Parameters
    ----------
    card : Path
        A ``MODEL_CARD.md``, which may not exist.

    Returns
    -------
    str
        The section's text without its heading, stripped.
    """
    if not card.is_file():
        return ""
    match = re.search(r"^## History\n(.*?)(?=^## |\Z)", card.read_text(), re.MULTILINE | re.DOTALL)
    return match.group(1).strip() if match else ""


def write_model_card(model_dir: Path = PROJECT_MODEL, history: str = "") -> Path:
    """Evaluate a trained model on both wells and write ``MODEL_CARD.md``.

    The History section keeps whatever the folder's previous card recorded
    and appends ``history`` below it; it is never replaced.

    Parameters
    ----------
    model_dir : Path
        Folder with ``config.json``, ``thresholds.json``, ``weights_best.h5``
        and the ``training.json`` record of :func:`train_model`.
    history : str
        What this run adds to the record (e.g. a dated line on the run).

    Returns
    -------
    Path
        The card.
    """
    from analysis.batch.serial import validate_segmentation
    from analysis.io.registry import sha256
    from analysis.methods import METHODS
    from analysis.models.stardist_model import load_model
    from analysis.steps.validate import summarise_by_well

    record = json.loads((model_dir / "training.json").read_text())
    config = json.loads((model_dir / "config.json").read_text())
    scale = json.loads((model_dir / SCALE_FILE).read_text())
    model = load_model(model_dir)
    scores = validate_segmentation(dataset_pairs(), list(METHODS), model)
    scores.to_csv(model_dir / "validation.csv", index=False)
    by_well = summarise_by_well(scores)
    weights = model_dir / "weights_best.h5"
    settings = record["settings"]
    published = (
        "the published `2D_versatile_fluo` configuration"
        if (
            config["unet_n_depth"],
            config["unet_n_filter_base"],
            config["net_conv_after_unet"],
            config["grid"],
        )
        == (3, 32, 128, [2, 2])
        else "smaller than the published `2D_versatile_fluo` network: "
        "depth 3, 32 filters, 128 channels, grid (2, 2)"
    )
    recorded = "\n\n".join(
        part for part in (previous_history(model_dir / CARD_FILE), history.strip()) if part
    )
    columns = [
        "image",
        "method",
        "dice",
        "iou",
        "area_ratio",
        "n_predicted",
        "n_truth_instances",
        "count_error",
    ]
    card = f"""# Model card: `{model_dir.name}`

A StarDist2D model for Hoechst-stained nuclei in BBBC008 (HT29 cells, 512 x 512,
8-bit), trained by this project on CPU with `python -m analysis train`.

## Model
- Architecture: StarDist2D, U-Net backbone (depth {config["unet_n_depth"]},
  {config["unet_n_filter_base"]} base filters, {config["unet_n_conv_per_depth"]} convolutions per level),
  {config["net_conv_after_unet"]} channels after the U-Net, {config["n_rays"]} rays,
  grid {tuple(config["grid"])} ({published}).
- Parameters: {record["parameters"]:,}.
- Weights: `weights_best.h5`, {weights.stat().st_size:,} bytes, SHA-256 `{sha256(weights)}`.
- Network for prediction: `model.onnx`, the same network exported to ONNX by
  `python -m analysis export` (it records the weights' SHA-256), run by ONNX Runtime
  without TensorFlow. The figures below were computed with it.
- Thresholds (optimised on all six A24 fields): prob {record["thresholds"]["prob"]:.6f},
  NMS {record["thresholds"]["nms"]:.2f}.
- Input: channel 1, percentile-normalised (1st -> 0, 99.8th -> 1) per image.
- Scale: `scale.json` records the reference nucleus diameter, {scale["nucleus_diameter"]} px:
  {scale["source"]}. Before prediction each image is resampled by the reference over its
  own nucleus diameter (estimated by `analysis.steps.scale.estimate_diameter`: twice the
  median, over the blobs of Li's threshold, of the largest distance to the background;
  or given with `--nucleus-diameter`), and the labels are mapped back to its grid.

## Data and labels
- Training: BBBC008 well {record["train_well"]}, channel 1, fields {record["fit_fields"]}; field
  {record["checkpoint_field"]} chose the checkpoint (lowest validation loss). Well L15 was not used
  for training, checkpoint choice or thresholds.
- Targets: instance labels from the hand-corrected foreground masks (MINISWHITE TIFFs
  read with foreground = True), split into nuclei by a distance-transform watershed
  (`analysis.steps.instances.split_touching`: Euclidean distance map smoothed with a Gaussian
  of sigma 1 px, seeds at its local maxima at least 3 px apart, one seed for any
  component without a maximum, watershed of the negated map inside the mask).
- Licence of the data: CC BY-NC-SA 3.0 (see `data/README.md`).

## Training
- {settings["epochs"]} epochs x {settings["steps_per_epoch"]} steps, batch {settings["batch_size"]},
  patches {settings["patch_size"]} x {settings["patch_size"]}, Adam learning rate {settings["learning_rate"]},
  seed {settings["seed"]}, TensorBoard off.
- Augmentation: 90-degree rotations, flips, gamma {settings["gamma_range"]} (log-uniform),
  intensity scale 0.6-2 and shift +-0.2, isotropic zoom {settings["zoom_range"]} (log-uniform).
- Time: {record["train_seconds"]:.0f} s on 2 CPU cores (tensorflow-cpu), thresholds extra.

## Evaluation against the hand-corrected foreground masks (channel 1)

Dice and IoU of the predicted foreground; counts against the instances derived
from the masks by the rule above; StarDist at the model's scale. `stardist-li` is
StarDist's nuclei fitted to Li's foreground (`analysis.steps.segment.fit_to_foreground`);
`otsu` and `li` are plain thresholds of the raw image; `watershed` is the classical
baseline (Otsu after a 1 px Gaussian, then the same watershed split).

{by_well.to_markdown(index=False, floatfmt=".3f")}

Per image:

{scores[columns].to_markdown(index=False, floatfmt=".3f")}

## History
{recorded}

## Limits
- Two wells of one plate, one microscope: other stains, magnifications or cell
  lines need checking against their own reference data. The rescaling makes the
  counts follow the nuclei's size in pixels, not the magnification itself; nuclei
  much smaller or larger than HT29's at BBBC008's scale are a change of shape as well
  as of size, which it cannot undo.
- The reference instance counts are derived from the foreground masks by a rule,
  not counted by a person; the same rule made the training targets, which
  favours this model and the watershed baseline when counts are compared.
"""
    target = model_dir / CARD_FILE
    target.write_text(card)
    return target
