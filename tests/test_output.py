"""Atomic writers: a result appears whole or not at all."""

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from analysis.io import output


def test_a_folder_replaces_the_old_one_whole(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with output.atomic_folder(target) as staged:
        assert staged.name == "model"
        assert staged.parent != tmp_path
        staged.mkdir()
        (staged / "new.txt").write_text("new")
        assert (target / "old.txt").read_text() == "old"  # untouched while the block runs
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_failed_block_leaves_the_old_folder_and_nothing_else(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")

    def interrupted_while_writing():
        with output.atomic_folder(target) as staged:
            staged.mkdir()
            (staged / "half.txt").write_text("half")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_while_writing()
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_new_folder_appears_only_at_the_end(tmp_path):
    target = tmp_path / "deeper" / "model"
    with output.atomic_folder(target) as staged:
        staged.mkdir()
        (staged / "new.txt").write_text("new")
        assert not target.exists()
    assert (target / "new.txt").read_text() == "new"


def test_a_figure_is_written_whole_or_not_at_all(tmp_path):
    figure = Figure(figsize=(1, 1))
    figure.subplots().plot([0, 1])
    written = output.write_figure(figure, tmp_path / "plots" / "line.png")
    assert written.read_bytes().startswith(b"\x89PNG")

    def fails_half_way(path, **_options):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError("disk full")

    figure.savefig = fails_half_way
    with pytest.raises(OSError, match="disk full"):
        output.write_figure(figure, tmp_path / "plots" / "broken.png")
    assert [p.name for p in (tmp_path / "plots").iterdir()] == ["line.png"]
