"""Training keeps its history: new folders by default, card History appended."""

import pytest
from conftest import interrupt_cli, project_model_copy, run_here

from analysis.models import stardist_model
from analysis.training import retrain, train


def test_history_of_a_card_is_read_back(tmp_path):
    card = tmp_path / "MODEL_CARD.md"
    assert train.previous_history(card) == ""
    card.write_text("# Card\n\n## History\nFirst run.\n\nSecond run.\n\n## Limits\n- some\n")
    assert train.previous_history(card) == "First run.\n\nSecond run."


def test_the_project_card_records_its_two_runs():
    history = train.previous_history(stardist_model.PROJECT_MODEL / "MODEL_CARD.md")
    assert history.startswith("Two runs were made.")
    assert "gamma augmentation" in history


def test_the_network_size_options_reach_the_training(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(retrain, "train_into", lambda folder, settings: asked.append(settings) or folder)
    options = ["--depth", "2", "--filters", "16", "--conv-after", "64", "--grid", "4", "--epochs", "5"]
    result = run_here("train", "--model-dir", tmp_path / "model", *options)
    assert result.returncode == 0, result.stderr
    assert asked == [train.TrainingSettings(depth=2, filters=16, conv_after=64, grid=4, epochs=5)]
    result = run_here("train", "--model-dir", tmp_path / "model", "--filters", "0")
    assert result.returncode == 2
    assert "--filters" in result.stderr


def test_train_refuses_to_overwrite_a_trained_model(tmp_path):
    folder = tmp_path / "model"
    project_model_copy(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = run_here("train", "--model-dir", folder, "--epochs", "1", "--steps", "1")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1
    assert str(folder) in lines[0]
    assert "--overwrite" in lines[0]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_train_refuses_a_folder_with_other_files(tmp_path):
    # The new model replaces its folder whole: other files would be lost.
    (tmp_path / "notes.txt").write_text("mine")
    result = run_here("train", "--model-dir", tmp_path, "--epochs", "1", "--steps", "1")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1
    assert "other files" in lines[0]
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.slow
def test_an_interrupted_retraining_leaves_the_model_as_it_was(tmp_path):
    folder = tmp_path / "model"
    project_model_copy(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    written = (folder / "weights_best.h5").stat().st_mtime_ns

    def weights_saved() -> bool:  # the new model's first checkpoint, wherever it is
        staged = list(tmp_path.glob(".model.*/model/weights_best.h5"))
        return bool(staged) or (folder / "weights_best.h5").stat().st_mtime_ns != written

    result = interrupt_cli(
        "train",
        "--model-dir",
        folder,
        "--overwrite",
        "--epochs",  # a checkpoint after the first step, minutes of work after it
        "3",
        "--steps",
        "1",
        ready=weights_saved,
    )
    assert result.returncode == 143, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "interrupted"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.slow
def test_retraining_in_place_appends_to_the_card_history(tmp_path, monkeypatch, main_here):
    folder = tmp_path / "model"
    project_model_copy(folder)
    earlier = train.previous_history(folder / train.CARD_FILE)

    def trained(settings, model_dir):  # stands in for the training: the project's own weights
        project_model_copy(model_dir, train.CARD_FILE, "model.onnx")
        return {"train_seconds": 1.0}

    monkeypatch.setattr(retrain, "train_model", trained)
    status = main_here(["train", "--model-dir", str(folder), "--overwrite", "--epochs", "1", "--steps", "1"])
    assert status == 0
    history = train.previous_history(folder / train.CARD_FILE)
    assert history.startswith(earlier)
    assert history.endswith("(1 epochs x 1 steps, 1 s).")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    # The new weights' network is exported for prediction without TensorFlow.
    assert stardist_model.load_model(folder).model.weights_sha256 == stardist_model.locate_model(folder)[2]
