"""Training keeps its history: new folders by default, card History appended."""

import shutil

from conftest import run_cli

from analysis import segment, train


def test_history_of_a_card_is_read_back(tmp_path):
    card = tmp_path / "MODEL_CARD.md"
    assert train.previous_history(card) == ""
    card.write_text("# Card\n\n## History\nFirst run.\n\nSecond run.\n\n## Limits\n- some\n")
    assert train.previous_history(card) == "First run.\n\nSecond run."


def test_the_project_card_records_its_two_runs():
    history = train.previous_history(segment.PROJECT_MODEL / "MODEL_CARD.md")
    assert history.startswith("Two runs were made.")
    assert "gamma augmentation" in history


def test_train_refuses_to_overwrite_a_trained_model(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(segment.PROJECT_MODEL, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = run_cli("train", "--model-dir", folder, "--epochs", "1", "--steps", "1")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1
    assert str(folder) in lines[0]
    assert "--overwrite" in lines[0]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
