"""The exported network: the objects StarDist finds with TensorFlow, whole and in tiles, and its checks."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import project_model_copy

from analysis.errors import AnalysisError
from analysis.io import registry
from analysis.io.images import load_image
from analysis.models import onnx_stardist, predict, stardist_model


@pytest.fixture(scope="module")
def onnx_model():
    model = stardist_model.load_model()
    assert isinstance(model.model, onnx_stardist.OnnxStarDist)
    return model


# Probabilities closer than this are equal up to the runtimes' float32 rounding.
TIE = 1e-5


def assert_same_objects(ours, theirs):
    """The same objects: centres, probabilities up to rounding, and pixels.

    StarDist numbers its objects by probability and draws the more probable
    of two overlapping ones on top. Two runtimes may round the network's
    output differently in its last bits (it depends on the processor), so
    two candidates of equal probability may come in either order: their
    numbers swap and the pixels they share may go to the other. Every other
    pixel must carry the same object.
    """
    (labels, details), (expected, expected_details) = ours, theirs
    index = {tuple(point): i for i, point in enumerate(details["points"])}
    assert set(index) == {tuple(point) for point in expected_details["points"]}
    order = np.array([index[tuple(point)] for point in expected_details["points"]], dtype=int)
    np.testing.assert_allclose(details["prob"][order], expected_details["prob"], rtol=0, atol=TIE)
    renumber = np.concatenate([[0], order + 1])  # their object k is our object renumber[k]
    mapped = renumber[expected]
    differ = mapped != labels
    for a, b in set(zip(labels[differ].tolist(), mapped[differ].tolist(), strict=True)):
        assert min(a, b) > 0, "an object's pixels differ from the background's"
        assert abs(details["prob"][a - 1] - details["prob"][b - 1]) <= TIE, (a, b)


@pytest.mark.slow
def test_the_exported_network_finds_the_objects_tensorflow_finds(pairs, onnx_model, keras_model):
    for pair in pairs:
        _, factor = predict.scale_for(onnx_model, load_image(pair.nuclei))
        for scale in (1.0, factor):
            x = predict.normalise_for_network(predict.resample(load_image(pair.nuclei), scale))
            assert_same_objects(
                onnx_model.model.predict_instances(x),
                keras_model.model.predict_instances(x, verbose=False),
            )


@pytest.mark.slow
def test_tiles_are_cut_and_joined_as_stardist_does(pairs, onnx_model, keras_model):
    mosaic = np.block([[load_image(p.nuclei) for p in pairs[i : i + 2]] for i in (0, 6)])
    x = predict.normalise_for_network(mosaic[:1000, :1016])  # sides no multiple of 16: padded
    for tiles in ((2, 2), (3, 1)):
        assert_same_objects(
            onnx_model.model.predict_instances(x, n_tiles=tiles),
            keras_model.model.predict_instances(x, n_tiles=tiles, verbose=False, show_tile_progress=False),
        )


@pytest.mark.slow
def test_export_records_the_weights_and_predicts_as_the_committed_export(tmp_path, pairs, onnx_model):
    folder = project_model_copy(tmp_path / "model", onnx_stardist.ONNX_FILE)
    assert stardist_model.export_model(folder) == folder / onnx_stardist.ONNX_FILE
    exported = stardist_model.load_model(folder)
    assert exported.model.weights_sha256 == registry.sha256(folder / "weights_best.h5")
    assert exported.model.tile_overlap == onnx_model.model.tile_overlap
    x = predict.normalise_for_network(load_image(pairs[0].nuclei))
    assert_same_objects(exported.model.predict_instances(x), onnx_model.model.predict_instances(x))


def test_a_network_exported_from_other_weights_is_refused(tmp_path):
    folder = tmp_path / "model"
    project_model_copy(folder)
    with open(folder / "weights_best.h5", "ab") as weights:
        weights.write(b"\0")
    with pytest.raises(AnalysisError, match=r"model\.onnx: was exported from other weights"):
        stardist_model.load_model(folder)


def test_an_unreadable_network_is_refused(tmp_path):
    folder = tmp_path / "model"
    project_model_copy(folder)
    (folder / onnx_stardist.ONNX_FILE).write_bytes(b"not a network")
    with pytest.raises(AnalysisError, match=r"model\.onnx: cannot load the network"):
        stardist_model.load_model(folder)


def test_thresholds_and_threads(monkeypatch):
    model = onnx_stardist.OnnxStarDist(stardist_model.PROJECT_MODEL, threads=1)
    recorded = json.loads((stardist_model.PROJECT_MODEL / "thresholds.json").read_text())
    assert model.thresholds == (recorded["prob"], recorded["nms"])
    assert model.div_by == 16
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert onnx_stardist.default_threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert onnx_stardist.default_threads() >= 1
    monkeypatch.delattr(onnx_stardist.os, "sched_getaffinity", raising=False)  # as on macOS
    assert onnx_stardist.default_threads() == onnx_stardist.os.cpu_count()


@pytest.mark.slow
def test_counting_with_the_exported_network_never_imports_tensorflow(pairs, tmp_path, network_runs):
    folder = tmp_path / "field"  # one field is enough to load and run the network
    folder.mkdir()
    for path in (pairs[0].nuclei, pairs[0].actin):
        shutil.copy(path, folder / path.name)
    options = ["count", "--images", str(folder), "--out", str(tmp_path / "counts.csv")]
    code = (
        "import sys; from analysis.cli.main import main; "
        f"status = main({options!r}); "
        "sys.exit(status or 10 * ('tensorflow' in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_export_refuses_a_missing_model_and_a_folder_in_the_file_s_place(tmp_path):
    with pytest.raises(AnalysisError, match="model folder does not exist"):
        stardist_model.export_model(tmp_path / "none")
    (tmp_path / "a-file").write_text("weights?")
    with pytest.raises(AnalysisError, match="a-file: is a file, not a model folder"):
        stardist_model.export_model(tmp_path / "a-file")
    folder = project_model_copy(tmp_path / "model", onnx_stardist.ONNX_FILE)
    (folder / onnx_stardist.ONNX_FILE).mkdir()
    code = (
        "import sys; from analysis.models import stardist_model\n"
        f"try: stardist_model.export_model({str(folder)!r})\n"
        "except Exception as error: print(error)\n"
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        f"{folder / onnx_stardist.ONNX_FILE}: is a folder; give a file name",
        "False",
    ]
