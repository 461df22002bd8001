"""The project's network in 8-bit integers: its time and the held-out checks.

The exported network (``model.onnx``) is quantized by ONNX Runtime's static
quantization, four ways: weights per output channel, activations calibrated
on the five fitted A24 fields as the network sees them (rescaled to the
model's nucleus diameter, percentile-normalised, cut to one shape), their
ranges taken by min-max, entropy or percentile (99.999), and min-max with
the two output layers (probability and distances) kept in 32 bits. Nothing
is retrained. Then:

1. The network per 512 x 512 image, each variant in turn (interleaved),
   ONNX Runtime on ``--threads`` threads: median over the 12 fields x
   ``--rounds`` rounds, after one warm-up call each.
2. The checks the project model must pass, on the 12 fields with each:
   ``stardist-li`` Dice mean and minimum, fields whose ``stardist`` count is
   within 10 % of the derived instances, and the mean absolute count error
   of the held-out well L15 (and of A24, whose fields were fitted); and,
   on A24 alone, how far each variant's counts are from the 32-bit ones.

    python bench/bench_int8.py [--rounds 5] [--threads 2]

Needs the ``train`` extra (``onnx``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.batch.serial import validate_segmentation
from analysis.io import images, registry
from analysis.models import onnx_stardist, predict, stardist_model

#: The two convolutions that give the probability and the distances.
OUTPUT_LAYERS = ["functional_1/dist_1/BiasAdd", "Conv__368"]


def network_inputs(model: stardist_model.LoadedModel, fields: list[np.ndarray]) -> list[np.ndarray]:
    """Each field as the network receives it: at the model's scale, normalised, all cut to one shape.

    The shape is the smallest field's, cut to sides the network takes
    (``div_by``); the entropy and percentile calibrations pool the
    activations of all inputs, so these must agree.
    """
    resampled = [
        predict.normalise_for_network(predict.resample(field, predict.scale_for(model, field)[1]))
        for field in fields
    ]
    step = model.model.div_by
    rows, cols = (
        min(sides) // step * step for sides in zip(*(image.shape for image in resampled), strict=True)
    )
    return [image[np.newaxis, :rows, :cols, np.newaxis] for image in resampled]


def quantized_copies(folder: Path, calibration: list[np.ndarray], scratch: Path) -> dict[str, Path]:
    """Copies of ``folder`` whose network is quantized to 8 bits, one per variant."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.inputs = iter({"input": x} for x in calibration)

        def get_next(self):
            return next(self.inputs, None)

    variants = {
        "8-bit, min-max": {},
        "8-bit, min-max, output layers 32-bit": {"nodes_to_exclude": OUTPUT_LAYERS},
        "8-bit, entropy": {"calibrate_method": CalibrationMethod.Entropy},
        "8-bit, percentile": {"calibrate_method": CalibrationMethod.Percentile},
    }
    prepared = scratch / "prepared.onnx"
    quant_pre_process(str(folder / onnx_stardist.ONNX_FILE), str(prepared), skip_symbolic_shape=True)
    copies = {}
    for number, (name, options) in enumerate(variants.items()):
        target = scratch / str(number) / folder.name
        shutil.copytree(folder, target)
        quantize_static(
            str(prepared),
            str(target / onnx_stardist.ONNX_FILE),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            **options,
        )
        copies[name] = target
    return copies


def network_times(folders: dict[str, Path], fields: list[np.ndarray], rounds: int, threads: int) -> dict:
    """Median seconds per network call of each folder's ``model.onnx``, the calls interleaved."""
    sessions = {name: onnx_stardist.OnnxStarDist(folder, threads).session for name, folder in folders.items()}
    inputs = [predict.normalise_for_network(field)[np.newaxis, ..., np.newaxis] for field in fields]
    times = {name: [] for name in sessions}
    for session in sessions.values():
        session.run(None, {"input": inputs[0]})
    for _ in range(rounds):
        for x in inputs:
            for name, session in sessions.items():
                start = time.perf_counter()
                session.run(None, {"input": x})
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def checks(scores: pd.DataFrame) -> dict:
    """The held-out checks' figures from ``validate_segmentation``'s table."""
    stardist = scores[scores.method.str.startswith("stardist (")]
    fitted = scores[scores.method.str.startswith("stardist-li (")]
    return {
        "stardist-li Dice mean": round(fitted.dice.mean(), 4),
        "stardist-li Dice min": round(fitted.dice.min(), 4),
        "fields within 10 %": int((stardist.count_error.abs() <= 0.10).sum()),
        "L15 mean absolute count error": round(stardist[stardist.well == "L15"].count_error.abs().mean(), 4),
        "A24 mean absolute count error": round(stardist[stardist.well == "A24"].count_error.abs().mean(), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    pairs = registry.dataset_pairs()
    fields = [images.load_pair(pair)[0] for pair in pairs]
    float_model = stardist_model.load_model(threads=args.threads)
    training = json.loads((stardist_model.PROJECT_MODEL / "training.json").read_text())
    fitted = [
        field
        for pair, field in zip(pairs, fields, strict=True)
        if pair.well == training["train_well"] and pair.field in training["fit_fields"]
    ]
    with tempfile.TemporaryDirectory(prefix="int8-") as scratch:
        folders = {
            "32-bit (model.onnx)": stardist_model.PROJECT_MODEL,
            **quantized_copies(
                stardist_model.PROJECT_MODEL, network_inputs(float_model, fitted), Path(scratch)
            ),
        }
        seconds = network_times(folders, fields, args.rounds, args.threads)
        rows, reference = [], None
        for name, folder in folders.items():
            model = stardist_model.load_model(folder, threads=args.threads)
            scores = validate_segmentation(pairs, ["stardist", "stardist-li"], model)
            counts = scores[scores.method.str.startswith("stardist (")].set_index("image").n_predicted
            reference = counts if reference is None else reference
            a24 = counts.index.str.startswith("A24")
            rows.append(
                {
                    "network": name,
                    "MB": round((folder / onnx_stardist.ONNX_FILE).stat().st_size / 1e6, 2),
                    "ms per 512 x 512": round(1000 * seconds[name], 1),
                    "A24 counts off the 32-bit ones": round(
                        ((counts - reference).abs() / reference)[a24].mean(), 4
                    ),
                    **checks(scores),
                }
            )
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
