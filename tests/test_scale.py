"""Nucleus size: the estimate, the model's reference, scale-aware counting."""

import math
import shutil

import numpy as np
import pandas as pd
import pytest
import tifffile
from conftest import assert_clean_failure, project_model_copy, run_here, sparse_field
from skimage.draw import disk
from skimage.transform import rescale

from analysis.errors import AnalysisError
from analysis.io import images
from analysis.models import predict, stardist_model
from analysis.steps import scale
from analysis.training import train


def discs(radius: int, shape=(200, 200), spacing=50) -> np.ndarray:
    image = np.full(shape, 10, np.uint8)
    for row in range(spacing // 2, shape[0], spacing):
        for col in range(spacing // 2, shape[1], spacing):
            image[disk((row, col), radius, shape=shape)] = 200
    return image


@pytest.mark.parametrize("radius", [5, 9, 14])
def test_the_diameter_of_discs_is_found(radius):
    assert scale.estimate_diameter(discs(radius)) == pytest.approx(2 * radius, abs=1)


def test_the_diameter_follows_a_resampling():
    image = discs(7)
    larger = rescale(image.astype(np.float32), 2, preserve_range=True)
    assert scale.estimate_diameter(larger) / scale.estimate_diameter(image) == pytest.approx(2, rel=0.1)


def test_touching_nuclei_count_as_one_nucleus_wide():
    image = np.full((60, 100), 10, np.uint8)
    for col in (30, 46, 62):
        image[disk((30, col), 9)] = 200
    assert scale.estimate_diameter(image) == pytest.approx(18, abs=1)


def test_no_nuclei_no_estimate_and_no_rescaling():
    assert math.isnan(scale.estimate_diameter(np.zeros((50, 50), np.uint8) + np.eye(50, dtype=np.uint8)))
    assert scale.scale_factor(11.8, math.nan) == 1
    assert scale.scale_factor(None, 20) == 1
    assert scale.scale_factor(12, 24) == 0.5


def test_the_project_model_records_its_reference_from_the_training_images(pairs):
    record = stardist_model.load_model().nucleus_diameter
    fitted = [
        images.load_image(p.nuclei) for p in pairs if p.well == "A24" and p.field != train.CHECKPOINT_FIELD
    ]
    assert record == pytest.approx(
        scale.reference_diameter(fitted, train.TrainingSettings.zoom_range), abs=1e-3
    )


def test_a_sparse_field_keeps_its_nuclei_size():
    image, _ = sparse_field()
    assert 11 <= scale.estimate_diameter(image) <= 14  # discs 13 px wide; Li's level alone gave 4 px


def test_scale_file_round_trip(tmp_path):
    assert scale.read_scale(tmp_path) is None
    scale.write_scale(tmp_path, 12.3456, "test")
    assert scale.read_scale(tmp_path) == 12.346


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "holds no nucleus diameter (JSONDecodeError"),
        ('{"source": "x"}', "holds no nucleus diameter (KeyError"),
        ('{"nucleus_diameter": "wide"}', "holds no nucleus diameter (ValueError"),
        ('{"nucleus_diameter": -4}', "nucleus diameter -4.0 is not a positive number"),
    ],
)
def test_a_broken_scale_file_is_named(tmp_path, text, problem):
    (tmp_path / scale.SCALE_FILE).write_text(text)
    with pytest.raises(AnalysisError, match=r"scale\.json") as raised:
        scale.read_scale(tmp_path)
    assert problem in str(raised.value)


@pytest.mark.slow
def test_rescaled_prediction_is_mapped_back_to_the_image(first_pair):
    model = stardist_model.load_model()
    labels, centres = predict.predict_labels(model, first_pair[0], scale=1.3)
    assert labels.shape == first_pair[0].shape
    assert labels.max() == len(centres) > 100
    assert np.array_equal(np.unique(labels), np.arange(labels.max() + 1))
    assert (centres >= 0).all()
    assert (centres < 512).all()
    # Each centre lies in (or beside) its own object.
    rows, cols = np.round(centres).astype(int).clip(0, 511).T
    assert np.mean(labels[rows, cols] == np.arange(1, len(centres) + 1)) > 0.95


@pytest.fixture(scope="module")
def magnified(tmp_path_factory, pairs):
    """Three fields at their own size and resampled to twice the magnification (bilinear)."""
    folders = {"1x": tmp_path_factory.mktemp("native"), "2x": tmp_path_factory.mktemp("twice")}
    for pair in (pairs[0], pairs[6], pairs[7]):
        for path in (pair.nuclei, pair.actin):
            name = path.name.replace("AS_09125", "OWN")  # not the manifest's names: copies
            shutil.copy(path, folders["1x"] / name)
            larger = rescale(images.load_image(path).astype(np.float32), 2, preserve_range=True)
            tifffile.imwrite(folders["2x"] / name, np.round(larger).astype(np.uint8))
    return folders


@pytest.mark.slow
def test_counts_do_not_depend_on_the_magnification(tmp_path, magnified):
    tables = {}
    for name, folder in magnified.items():
        out = tmp_path / f"{name}.csv"
        result = run_here("count", "--images", folder, "--out", out)
        assert result.returncode == 0, result.stderr
        tables[name] = pd.read_csv(out).set_index("image")
    native, twice = tables["1x"], tables["2x"]
    ratio = twice.nucleus_diameter / native.nucleus_diameter
    assert ratio.between(1.8, 2.2).all(), ratio
    assert (twice.scale / native.scale).between(0.45, 0.55).all()
    change = twice.n_nuclei / native.n_nuclei - 1
    assert change.abs().max() <= 0.10, change


@pytest.mark.slow
def test_without_the_rescaling_the_magnified_large_nuclei_are_split(magnified, pairs):
    """What the rescaling prevents: L15's nuclei at twice the size, predicted as they are."""
    model = stardist_model.load_model()
    name = pairs[6].nuclei.name.replace("AS_09125", "OWN")
    native = predict.predict_labels(model, images.load_image(magnified["1x"] / name))[0].max()
    as_is = predict.predict_labels(model, images.load_image(magnified["2x"] / name))[0].max()
    assert as_is > 1.3 * native


@pytest.mark.slow
def test_a_given_diameter_overrides_the_estimate(tmp_path, magnified):
    out = tmp_path / "given.csv"
    result = run_here("count", "--images", magnified["2x"], "--nucleus-diameter", "20", "--out", out)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert table.nucleus_diameter.eq(20).all()
    assert table.scale.eq(round(stardist_model.load_model().nucleus_diameter / 20, 4)).all()


def test_a_diameter_must_be_positive(tmp_path):
    out = tmp_path / "counts.csv"
    assert_clean_failure(
        run_here("count", "--nucleus-diameter", "0", "--out", out), "--nucleus-diameter", out
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "output"), [("count", "counts.csv"), ("validate", "v.csv"), ("measure", "screen")]
)
def test_a_diameter_needs_a_model_with_a_reference(tmp_path, command, output):
    # The three commands that take a model refuse alike, before any field.
    folder = tmp_path / "model"
    project_model_copy(folder)
    (folder / scale.SCALE_FILE).unlink()
    out = tmp_path / output
    result = run_here(command, "--model", folder, "--nucleus-diameter", "12", "--out", out)
    assert_clean_failure(result, str(folder), out)
