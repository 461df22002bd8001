"""Pairing channel files into fields by the metadata in their names."""

from pathlib import Path

import pytest

from analysis import pairing
from analysis.errors import AnalysisError


def test_pairs_are_matched_by_name(pairs):
    assert [(p.well, p.field) for p in pairs] == [(w, f) for w in ("A24", "L15") for f in range(1, 7)]
    for pair in pairs:
        assert pairing.parse_name(pair.nuclei) == (pair.well, pair.field, 1)
        assert pairing.parse_name(pair.actin) == (pair.well, pair.field, 3)


def test_pairing_ignores_listing_order(tmp_path, pairs, monkeypatch):
    for pair in pairs:
        for path in (pair.nuclei, pair.actin):
            (tmp_path / path.name).symlink_to(path)
    listing = sorted(tmp_path.glob("*.tif"), reverse=True)
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter(listing))
    assert [(p.well, p.field, p.nuclei.name, p.actin.name) for p in pairing.pair_channels(tmp_path)] == [
        (p.well, p.field, p.nuclei.name, p.actin.name) for p in pairs
    ]
    # Without one actin file, positional pairing would shift every later pair;
    # pairing by name reports the orphan instead.
    (tmp_path / pairs[2].actin.name).unlink()
    listing.remove(tmp_path / pairs[2].actin.name)
    with pytest.raises(AnalysisError, match=f"{pairs[2].nuclei.name}.*no channel 3"):
        pairing.pair_channels(tmp_path)
