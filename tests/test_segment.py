"""Segmentation: StarDist inference at the nuclei's scale, the baselines, counts."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from conftest import assert_clean_failure, run_here
from skimage.draw import disk
from skimage.measure import label

from analysis.io import images, registry
from analysis.models import predict, stardist_model, store
from analysis.steps import segment


@pytest.fixture(scope="module")
def model():
    return stardist_model.load_model()


@pytest.mark.slow
def test_inference_is_deterministic(model, first_pair):
    first, centres = predict.predict_labels(model, first_pair[0])
    model.recent.clear()  # predicted afresh, not recalled
    second, _ = predict.predict_labels(model, first_pair[0])
    np.testing.assert_array_equal(first, second)
    assert first.shape == (512, 512)
    assert len(centres) > 100


class CountingNetwork:
    """Stands in for StarDist2D: objects are the bright blobs; calls are counted."""

    def __init__(self):
        self.thresholds = (0.5, 0.4)
        self.calls = 0

    def predict_instances(self, image, n_tiles=None, verbose=False):
        self.calls += 1
        labels = label(image > 0.5)
        return labels, {"points": np.zeros((labels.max(), 2))}


def test_an_image_just_predicted_is_recalled_not_predicted_again(monkeypatch):
    network = CountingNetwork()
    model = stardist_model.LoadedModel(network, "counting", Path("."), "0")
    image = np.zeros((64, 64), np.uint8)
    image[4:12, 4:12] = 200
    first, _ = predict.predict_labels(model, image)
    first[:] = 7  # the caller's array is its own
    again, _ = predict.predict_labels(model, image)
    assert network.calls == 1
    assert again.max() == 1
    image[30:40, 30:40] = 200  # other pixels
    assert predict.predict_labels(model, image)[0].max() == 2
    network.thresholds = (0.6, 0.4)  # other thresholds
    predict.predict_labels(model, image)
    predict.predict_labels(model, image, scale=2.0)  # another scale
    predict.predict_labels(model, image, tile_size=32)  # other tiles
    assert network.calls == 5
    monkeypatch.setattr(predict, "RECENT_BYTES", 2 * first.nbytes)
    predict.predict_labels(model, np.fliplr(image))  # the oldest are dropped to make room
    assert network.calls == 6
    assert sum(kept.nbytes for kept, _ in model.recent.values()) <= 2 * first.nbytes
    predict.predict_labels(model, np.fliplr(image))
    assert network.calls == 6


def test_a_prediction_store_is_shared_by_models_and_keyed_by_everything(tmp_path):
    image = np.zeros((64, 64), np.uint8)
    image[4:12, 4:12] = 200
    network = CountingNetwork()
    writer = stardist_model.LoadedModel(network, "counting", Path("."), "weights-a", store=tmp_path / "store")
    first, centres = predict.predict_labels(writer, image, scale=2.0)
    assert network.calls == 1
    assert len(list((tmp_path / "store").glob("*.npz"))) == 1
    # Another process's model: nothing recalled in memory, the store answers.
    other = CountingNetwork()
    reader = stardist_model.LoadedModel(other, "counting", Path("."), "weights-a", store=tmp_path / "store")
    again, again_centres = predict.predict_labels(reader, image, scale=2.0)
    assert other.calls == 0
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(centres, again_centres)
    # Other weights, scale, thresholds or pixels are predicted, not recalled.
    stranger = stardist_model.LoadedModel(other, "counting", Path("."), "weights-b", store=tmp_path / "store")
    predict.predict_labels(stranger, image, scale=2.0)
    predict.predict_labels(reader, image)
    other.thresholds = (0.6, 0.4)
    predict.predict_labels(reader, image)
    predict.predict_labels(reader, np.fliplr(image))
    assert other.calls == 4
    # An unreadable entry is predicted again and replaced.
    for entry in (tmp_path / "store").glob("*.npz"):
        entry.write_bytes(b"not a prediction")
    fresh = stardist_model.LoadedModel(
        CountingNetwork(), "counting", Path("."), "weights-a", store=tmp_path / "store"
    )
    np.testing.assert_array_equal(predict.predict_labels(fresh, image, scale=2.0)[0], first)
    assert fresh.model.calls == 1
    assert store.read_prediction(tmp_path / "store", "missing") is None


def test_load_model_takes_its_store_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(store.STORE_ENV, str(tmp_path))
    assert stardist_model.load_model().store == tmp_path
    monkeypatch.delenv(store.STORE_ENV)
    assert stardist_model.load_model().store is None


def test_watershed_baseline_finds_synthetic_nuclei():
    image = np.full((64, 64), 10, np.uint8)
    for centre in ((16, 16), (16, 44), (46, 30)):
        image[disk(centre, 7)] = 200
    labels = segment.watershed_labels(image)
    assert labels.max() == 3


@pytest.mark.parametrize("case", ["missing folder", "corrupt weights", "unknown method"])
def test_count_rejects_bad_input(tmp_path, case):
    out = tmp_path / "out" / "counts.csv"
    args = ["count", "--out", out]
    if case == "missing folder":
        args += ["--model", tmp_path / "no-such-model"]
        culprit, problem = "no-such-model", "does not exist"
    elif case == "corrupt weights":
        broken = tmp_path / "broken"
        broken.mkdir()
        shutil.copy(stardist_model.PROJECT_MODEL / "config.json", broken)
        (broken / "weights_best.h5").write_bytes(b"\x89HDF\r\n garbage")
        args += ["--model", broken]
        culprit, problem = "weights_best.h5", "cannot load"
    else:
        args += ["--method", "cellpose"]
        culprit, problem = "cellpose", "unknown method"
    result = run_here(*args)
    assert_clean_failure(result, culprit, out)
    assert problem in result.stderr
    assert not (tmp_path / "out" / "counts_objects.csv").exists()


@pytest.fixture(scope="module")
def counts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("counts")
    tables = {}
    for method in ("stardist", "watershed"):
        out = folder / f"{method}.csv"
        figures = ["--figures", folder / "figures"] if method == "stardist" else []
        result = run_here("count", "--method", method, "--out", out, *figures)
        assert result.returncode == 0, result.stderr
        tables[method] = (pd.read_csv(out), pd.read_csv(folder / f"{method}_objects.csv"))
    return tables, folder


@pytest.mark.slow
def test_count_tables_agree(counts):
    tables, folder = counts
    for per_image, objects in tables.values():
        assert len(per_image) == 12
        per_field = objects.groupby("ImageNumber").size().reindex(range(1, 13), fill_value=0)
        assert per_field.tolist() == per_image.n_nuclei.tolist()
        assert (objects.Metadata_Well + " f" + objects.Metadata_Site.astype(str)).isin(per_image.image).all()
    figures = sorted(path.name for path in (folder / "figures").iterdir())
    assert figures == sorted(
        [f"{well}_f{field}_stardist.png" for well in ("A24", "L15") for field in range(1, 7)]
        + ["counts_stardist.png"]
    )
    assert tables["stardist"][0]["model"].eq("project").all()
    assert tables["stardist"][0]["method"].eq("stardist (project)").all()


@pytest.mark.slow
def test_counts_per_image(counts, dataframe_regression):
    tables, _ = counts
    merged = tables["stardist"][0][["image", "n_nuclei", "median_area"]].merge(
        tables["watershed"][0][["image", "n_nuclei", "median_area"]],
        on="image",
        suffixes=("_stardist", "_watershed"),
    )
    # Exact: counts are integers (compared exactly) and median areas are
    # whole or half pixels, so any change in either is a real change.
    dataframe_regression.check(merged, default_tolerance={"atol": 0, "rtol": 0})


@pytest.mark.slow
def test_example_human_is_counted_through_a_naming_pattern(tmp_path):
    """CellProfiler's ExampleHuman field: other names, channels 0 (DNA), 1 (pH3) and 2 (actin)."""
    folder = registry.mirror_dir().parent / "cellprofiler_examplehuman" / "images"
    out = tmp_path / "counts.csv"
    pattern = r"^(?P<plate>.+)_(?P<well>[A-P]\d{2})f00d(?P<channel>\d)\.tif$"
    result = run_here(
        "count",
        "--images",
        folder,
        "--pattern",
        pattern,
        "--nuclei-channel",
        "0",
        "--actin-channel",
        "2",
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr
    counts = pd.read_csv(out)
    assert counts[["image", "well", "field"]].values.tolist() == [["D03 f1", "D03", 1]]
    # A whole field of HT29 nuclei, more crowded than BBBC008's A24 f1 (168).
    assert 250 < counts.n_nuclei.item() < 400
    objects = pd.read_csv(tmp_path / "counts_objects.csv")
    assert len(objects) == counts.n_nuclei.item()


def test_naming_options_without_a_folder_are_refused(tmp_path):
    out = tmp_path / "counts.csv"
    result = run_here("count", "--nuclei-channel", "0", "--out", out)
    assert_clean_failure(result, "--pattern", out)
    assert "--images" in result.stderr


@pytest.fixture(scope="module")
def bit_depth_copies(tmp_path_factory, pairs):
    """Two fields (one per well) as 8-bit, 16-bit (x 257) and float (/ 255) copies under a new name."""
    folders = {}
    for kind, convert in {
        "uint8": lambda a: a,
        "uint16": lambda a: a.astype(np.uint16) * 257,
        "float32": lambda a: a.astype(np.float32) / 255,
    }.items():
        folder = tmp_path_factory.mktemp(kind)
        for pair in (pairs[0], pairs[6]):
            for path in (pair.nuclei, pair.actin):
                tifffile.imwrite(
                    folder / path.name.replace("AS_09125", "OWN"), convert(images.load_image(path))
                )
        folders[kind] = folder
    return folders


@pytest.mark.slow
@pytest.mark.parametrize("method", ["stardist", "watershed"])
def test_sixteen_bit_and_float_give_the_counts_of_the_8_bit_originals(tmp_path, bit_depth_copies, method):
    counts = {}
    for kind, folder in bit_depth_copies.items():
        out = tmp_path / f"{kind}.csv"
        result = run_here("count", "--images", folder, "--method", method, "--out", out)
        assert result.returncode == 0, result.stderr
        counts[kind] = pd.read_csv(out)[["image", "n_nuclei", "median_area"]]
    pd.testing.assert_frame_equal(counts["uint16"], counts["uint8"])
    pd.testing.assert_frame_equal(counts["float32"], counts["uint8"])


def test_n_tiles_follow_the_image_size():
    assert predict.n_tiles((512, 512)) == (1, 1)
    assert predict.n_tiles((2048, 2049)) == (1, 2)
    assert predict.n_tiles((5000, 300), tile_size=1024) == (5, 1)


@pytest.mark.slow
def test_tiled_prediction_matches_the_whole_image(model, pairs):
    """A 1024 x 1024 mosaic of four fields, predicted whole and in 2 x 2 tiles."""
    fields = [images.load_image(pairs[i].nuclei) for i in (0, 1, 6, 7)]
    mosaic = np.block([[fields[0], fields[1]], [fields[2], fields[3]]])
    whole, _ = predict.predict_labels(model, mosaic)
    tiled, _ = predict.predict_labels(model, mosaic, tile_size=512)
    assert predict.n_tiles(mosaic.shape, 512) == (2, 2)
    overlap = np.logical_and(whole > 0, tiled > 0).sum()
    assert 2 * overlap / ((whole > 0).sum() + (tiled > 0).sum()) > 0.999
    assert tiled.max() == whole.max()


def test_fitting_to_the_foreground_keeps_objects_apart_and_follows_the_stain():
    image = np.zeros((40, 60), np.uint8)
    image[disk((20, 18), 10)] = 200
    image[disk((20, 38), 10)] = 150
    seeds = np.zeros(image.shape, np.int32)
    seeds[disk((20, 18), 4)] = 1  # too small: grows to the stain
    seeds[18:23, 30:48] = 2  # too long: trimmed to the stain
    seeds[2, 2] = 3  # on the background: disappears
    fitted = segment.fit_to_foreground(seeds, image)
    assert set(np.unique(fitted)) == {0, 1, 2}
    np.testing.assert_array_equal(fitted > 0, image > 0)
    assert (fitted[image == 200] == 1).all()
    assert (fitted[image == 150] == 2).all()
