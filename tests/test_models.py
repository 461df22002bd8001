"""StarDist models: the project's, the published one refused when altered or offline, TF kept quiet."""

import gc

import numpy as np
import pytest
from conftest import project_model_copy

from analysis.errors import AnalysisError
from analysis.io import registry
from analysis.models import stardist_model


@pytest.mark.slow
def test_project_model_is_the_committed_one():
    model = stardist_model.load_model()
    assert model.name == "project"
    assert model.folder == stardist_model.PROJECT_MODEL
    assert model.weights_sha256 == registry.sha256(stardist_model.PROJECT_MODEL / "weights_best.h5")


@pytest.mark.slow
def test_published_folder_with_other_weights_is_refused(tmp_path):
    fake = tmp_path / stardist_model.PUBLISHED
    project_model_copy(fake)
    with pytest.raises(AnalysisError, match="is not the published"):
        stardist_model.load_model(fake)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(stardist_model.PUBLISHED_ENV, str(fake))
        with pytest.raises(AnalysisError, match="is not the published"):
            stardist_model.load_model(stardist_model.PUBLISHED)


@pytest.mark.parametrize("settings", ["config.json", "thresholds.json", "scale.json"])
def test_a_model_with_a_broken_settings_file_is_refused_before_loading(tmp_path, settings):
    folder = tmp_path / "model"
    project_model_copy(folder)
    (folder / settings).write_text('{"n_dim": 2')
    with pytest.raises(AnalysisError, match=settings.replace(".", r"\.")):
        stardist_model.locate_model(folder)


@pytest.mark.slow
def test_published_model_offline_fails_fast(tmp_path, monkeypatch):
    from csbdeep.models.pretrained import _MODELS
    from stardist.models import StarDist2D

    monkeypatch.delenv(stardist_model.PUBLISHED_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    details = dict(_MODELS[StarDist2D][stardist_model.PUBLISHED])
    # A loopback port nobody listens on: refused at once, nothing leaves the machine.
    monkeypatch.setitem(
        _MODELS[StarDist2D],
        stardist_model.PUBLISHED,
        details | {"url": "http://127.0.0.1:9/python_2D_versatile_fluo.zip"},
    )
    with pytest.raises(AnalysisError, match=stardist_model.PUBLISHED_ENV):
        stardist_model.load_model(stardist_model.PUBLISHED)


def test_long_lived_objects_are_frozen_and_the_collector_restored():
    assert gc.isenabled()
    before = gc.get_freeze_count()
    with stardist_model.long_lived():
        assert not gc.isenabled()
        kept = [[] for _ in range(1000)]  # containers the collector tracks
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(kept)
    gc.disable()
    try:
        with stardist_model.long_lived():
            pass
        assert not gc.isenabled()  # a paused collector stays paused
    finally:
        gc.enable()


@pytest.mark.slow
def test_the_direct_call_predicts_what_keras_predict_does(keras_model):
    keras_model = keras_model.model.keras_model
    rng = np.random.default_rng(0)
    for shape in ((1, 64, 96, 1), (1, 128, 64, 1)):  # two sizes: the trace is generalised
        batch = rng.random(shape, dtype=np.float32)
        direct = keras_model.predict(batch)
        through_keras = type(keras_model).predict(keras_model, batch, verbose=0)
        assert len(direct) == len(through_keras) == 2
        for ours, theirs in zip(direct, through_keras, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
