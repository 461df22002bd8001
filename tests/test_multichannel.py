"""Fields written as one multi-channel file (OME-TIFF, or a TIFF with one channel per page), read by bioio."""

import shutil

import numpy as np
import pandas as pd
import pytest
import tifffile
from conftest import assert_clean_failure, run_here

from analysis.batch import screen
from analysis.errors import AnalysisError
from analysis.io import images, pairing, registry

OME_PATTERN = r"^(?P<well>[A-P]\d{2})_s(?P<field>\d+)\.ome\.tiff$"
OWN = "OWN_050116000001_{well}f00d0_slice{field}_channel{channel}.tif"
CHANNELS = ["Phalloidin", "PH3", "Hoechst"]


def write_ome(path, planes, names=CHANNELS, axes="CYX"):
    tifffile.imwrite(path, planes, metadata={"axes": axes, "Channel": {"Name": names}}, ome=True)
    return path


@pytest.fixture(scope="module")
def two_fields(pairs, tmp_path_factory):
    """Two BBBC008 fields twice: one OME-TIFF each (channels Phalloidin, PH3, Hoechst), and separate files."""
    root = tmp_path_factory.mktemp("multichannel")
    ome, separate, masks = root / "ome", root / "separate", root / "masks"
    separate_masks = root / "separate-masks"
    for folder in (ome, separate, masks, separate_masks):
        folder.mkdir()
    for pair in pairs[:2]:
        nuclei, actin = images.load_pair(pair)
        marker = np.zeros_like(nuclei)  # a third channel, never used
        write_ome(ome / f"{pair.well}_s{pair.field}.ome.tiff", np.stack([actin, marker, nuclei]))
        for channel, path in (("1", pair.nuclei), ("3", pair.actin)):
            shutil.copy(path, separate / OWN.format(well=pair.well, field=pair.field, channel=channel))
        mask = registry.foreground_path(pair.nuclei)
        shutil.copy(mask, masks / f"{pair.well}_s{pair.field}.ome.tiff")
        shutil.copy(mask, separate_masks / OWN.format(well=pair.well, field=pair.field, channel="1"))
    return {"ome": ome, "separate": separate, "masks": masks, "separate-masks": separate_masks}


def ome_options(folder):
    return [
        "--images",
        folder,
        "--pattern",
        OME_PATTERN,
        "--nuclei-channel",
        "Hoechst",
        "--actin-channel",
        "Phalloidin",
    ]


def test_a_channel_is_found_by_name_or_index(tmp_path):
    planes = np.arange(3 * 8 * 10, dtype=np.uint16).reshape(3, 8, 10)
    path = write_ome(tmp_path / "a.ome.tiff", planes)
    np.testing.assert_array_equal(images.load_image(pairing.ChannelPath(path, "Hoechst")), planes[2])
    np.testing.assert_array_equal(images.load_image(pairing.ChannelPath(path, "1")), planes[1])
    # A plain TIFF of three pages holds one channel per page.
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, planes, photometric="minisblack")
    np.testing.assert_array_equal(images.load_image(pairing.ChannelPath(stack, "2")), planes[2])


@pytest.mark.parametrize(
    ("write", "channel", "problem"),
    [
        (
            lambda p: write_ome(p, np.zeros((3, 8, 8), np.uint8)),
            "GFP",
            "no channel 'GFP'; channels: Phalloidin, PH3, Hoechst",
        ),
        (
            lambda p: write_ome(p, np.zeros((2, 3, 8, 8), np.uint8), axes="ZCYX"),
            "Hoechst",
            "holds 2 planes (a 3-D stack); one 2-D image per channel is expected",
        ),
        (lambda p: p.write_bytes(b"not an image at all"), "Hoechst", "not an image bioio can read"),
    ],
)
def test_bad_multichannel_files_are_one_line(tmp_path, write, channel, problem):
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "B02_s1.ome.tiff")
    out = tmp_path / "out" / "summary.csv"
    options = ["--pattern", OME_PATTERN, "--nuclei-channel", channel, "--actin-channel", "Phalloidin"]
    before = (folder / "B02_s1.ome.tiff").read_bytes()
    result = run_here("summary", "--images", folder, *options, "--out", out)
    assert_clean_failure(result, "B02_s1.ome.tiff", out)
    assert problem in result.stderr
    assert (folder / "B02_s1.ome.tiff").read_bytes() == before


def test_two_files_of_one_field_are_refused(tmp_path):
    for name in ("B02_s1.ome.tiff", "B02_s01.ome.tiff"):
        write_ome(tmp_path / name, np.zeros((3, 8, 8), np.uint8))
    with pytest.raises(AnalysisError, match="same plate, well and field as"):
        pairing.pair_channels(tmp_path, OME_PATTERN, "Hoechst", "Phalloidin")


@pytest.mark.slow
def test_count_and_validate_give_the_numbers_of_separate_files(two_fields, tmp_path):
    ome, separate = ome_options(two_fields["ome"]), ["--images", two_fields["separate"]]
    for command, extra, truth, rows in (
        ("count", [], {}, 2),
        ("validate", ["--methods", "otsu", "stardist-li"], {"ome": "masks", "separate": "separate-masks"}, 4),
    ):
        tables = {}
        for kind, options in (("ome", ome), ("separate", separate)):
            if truth:
                options = [*options, "--truth", two_fields[truth[kind]]]
            out = tmp_path / f"{command}-{kind}.csv"
            result = run_here(command, *options, *extra, "--out", out)
            assert result.returncode == 0, result.stderr
            tables[kind] = pd.read_csv(out)
        assert len(tables["ome"]) == rows  # two fields, one row per method
        pd.testing.assert_frame_equal(tables["ome"], tables["separate"])


@pytest.mark.slow
def test_measure_names_the_stains_after_the_channels(two_fields, running_scheduler, tmp_path):
    features = ["--features", "basic,ImageQuality", "--scheduler", running_scheduler]
    ome, separate = tmp_path / "ome", tmp_path / "separate"
    result = run_here(
        "measure", *ome_options(two_fields["ome"]), "--stain", "PH3=PH3", *features, "--out", ome
    )
    assert result.returncode == 0, result.stderr
    stains = ["--nuclei-stain", "Hoechst", "--actin-stain", "Phalloidin"]
    result = run_here("measure", "--images", two_fields["separate"], *stains, *features, "--out", separate)
    assert result.returncode == 0, result.stderr
    one, two = screen.read_tables(ome), screen.read_tables(separate)
    # The channels' names are the stains' names.
    assert {"Intensity_MeanIntensity_Hoechst", "Intensity_MeanIntensity_PH3"} <= set(one["Nuclei"])
    for name, table in two.items():
        columns = [c for c in table if not c.startswith(("FileName_", "Metadata_Plate"))]
        pd.testing.assert_frame_equal(one[name][columns], table[columns])
