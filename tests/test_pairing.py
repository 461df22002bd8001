"""Pairing channel files into fields by the metadata in their names."""

from pathlib import Path

import pytest

from analysis.errors import AnalysisError
from analysis.io import pairing


def test_pairs_are_matched_by_name(pairs):
    assert [(p.well, p.field) for p in pairs] == [(w, f) for w in ("A24", "L15") for f in range(1, 7)]
    for pair in pairs:
        plate = "AS_09125_050116000001"
        assert pairing.parse_name(pair.nuclei) == {
            "plate": plate,
            "well": pair.well,
            "field": pair.field,
            "channel": "1",
        }
        assert pairing.parse_name(pair.actin)["channel"] == "3"


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


EXAMPLE_HUMAN = r"^(?P<plate>.+)_(?P<well>[A-P]\d{2})f00d(?P<channel>\d)\.tif$"


def touch(folder, *names):
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")
    return folder


def test_pattern_without_field_gives_one_field_per_well(tmp_path):
    folder = touch(
        tmp_path / "in",
        "P1_D03f00d0.tif",
        "P1_D03f00d1.tif",
        "P1_D03f00d2.tif",
        "P1_E04f00d0.tif",
        "P1_E04f00d2.tif",
    )
    found = pairing.pair_channels(folder, EXAMPLE_HUMAN, nuclei_channel=0, actin_channel=2)
    assert [(p.plate, p.well, p.field, p.nuclei.name, p.actin.name) for p in found] == [
        ("P1", "D03", 1, "P1_D03f00d0.tif", "P1_D03f00d2.tif"),
        ("P1", "E04", 1, "P1_E04f00d0.tif", "P1_E04f00d2.tif"),
    ]


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"(?P<channel>\d)\.tif", r"has no named group \(\?P<well>"),
        (r"(?P<well>[", "not a regular expression"),
    ],
)
def test_patterns_missing_a_group_are_refused(tmp_path, pattern, problem):
    with pytest.raises(AnalysisError, match=problem):
        pairing.pair_channels(touch(tmp_path / "in", "a.tif"), pattern)


def test_name_that_does_not_match_is_named(tmp_path):
    folder = touch(tmp_path / "in", "P1_D03f00d0.tif", "notes.tif")
    with pytest.raises(AnalysisError, match=r"notes\.tif: name does not match the naming pattern"):
        pairing.pair_channels(folder, EXAMPLE_HUMAN, 0, 2)


def test_duplicate_field_and_channel_is_refused(tmp_path):
    pattern = r"^(?P<well>[A-P]\d{2})_(?P<channel>\d)(_copy)?\.tif$"
    folder = touch(tmp_path / "in", "D03_0.tif", "D03_0_copy.tif", "D03_2.tif")
    with pytest.raises(
        AnalysisError, match=r"D03_0_copy\.tif: same plate, well, field and channel as D03_0\.tif"
    ):
        pairing.pair_channels(folder, pattern, 0, 2)


def test_channel_role_missing_from_every_name(tmp_path):
    folder = touch(tmp_path / "in", "P1_D03f00d0.tif", "P1_D03f00d2.tif")
    with pytest.raises(
        AnalysisError, match=r"no file name has channel 5 \(--actin-channel\); channels found: 0, 2$"
    ):
        pairing.pair_channels(folder, EXAMPLE_HUMAN, 0, 5)


def test_a_field_that_is_not_a_number_is_refused(tmp_path):
    folder = touch(tmp_path / "in", "D03_sA_0.tif", "D03_sA_2.tif")
    with pytest.raises(AnalysisError, match=r"D03_sA_0\.tif: field 'A' is not a whole number"):
        pairing.pair_channels(folder, r"^(?P<well>[A-P]\d{2})_s(?P<field>\w+)_(?P<channel>\d)\.tif$", 0, 2)


def test_one_channel_for_both_stains_is_refused(tmp_path):
    folder = touch(tmp_path / "in", "P1_D03f00d0.tif", "P1_D03f00d2.tif")
    with pytest.raises(AnalysisError, match=r"actin_channel: is the nuclei channel too \(0\)"):
        pairing.pair_channels(folder, EXAMPLE_HUMAN, 0, "0")


def test_files_of_a_channel_are_matched_by_plate_well_and_field(tmp_path):
    images = touch(
        tmp_path / "images", "P1_D03f00d0.tif", "P1_D03f00d2.tif", "P1_E04f00d0.tif", "P1_E04f00d2.tif"
    )
    masks = touch(tmp_path / "masks", "P1_E04f00d0.tif", "P1_D03f00d0.tif", "P1_D03f00d2.tif")
    found = pairing.pair_channels(images, EXAMPLE_HUMAN, 0, 2)
    truth = pairing.matching_files(masks, found, "nuclei", 0, EXAMPLE_HUMAN)
    assert {image.name: mask.parent.name + "/" + mask.name for image, mask in truth.items()} == {
        "P1_D03f00d0.tif": "masks/P1_D03f00d0.tif",
        "P1_E04f00d0.tif": "masks/P1_E04f00d0.tif",
    }
    with pytest.raises(AnalysisError, match=r"P1_E04f00d2\.tif: no mask of the same plate, well and field"):
        pairing.matching_files(masks, found, "actin", 2, EXAMPLE_HUMAN)
