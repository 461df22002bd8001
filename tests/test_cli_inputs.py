"""The command line: each option explained; bad input and interrupts end in one line, nothing written."""

import shutil
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import tifffile
from conftest import after, assert_clean_failure, interrupt_cli, run_here

from analysis.batch import serial
from analysis.cli import main as cli
from analysis.io import registry

NAME = "AS_09125_050116000001_{well}f00d0_slice{field}_channel{channel}.tif"


def synthetic(folder, well="B02", field=1, channel=1, array=None):
    """Write a small valid image with a name outside the manifest."""
    path = folder / NAME.format(well=well, field=field, channel=channel)
    tifffile.imwrite(path, np.full((32, 32), 7, np.uint8) if array is None else array)
    return path


def good_pair(folder):
    return synthetic(folder, channel=1), synthetic(folder, channel=3)


def snapshot(folder):
    return {p.name: registry.sha256(p) for p in folder.iterdir()}


def check(folder, culprit, tmp_path):
    before = snapshot(folder) if folder.exists() else None
    out = tmp_path / "out" / "summary.csv"
    result = run_here("summary", "--images", folder, "--out", out)
    assert_clean_failure(result, culprit, out)
    if before is not None:
        assert snapshot(folder) == before
    return result.stderr


def test_good_synthetic_pair_is_summarised(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    out = tmp_path / "summary.csv"
    result = run_here("summary", "--images", folder, "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_text().splitlines()[1].startswith("B02,1,7,7,7.0,0.0,0.0,7,7")


def test_missing_folder(tmp_path):
    assert "does not exist" in check(tmp_path / "nowhere", "nowhere", tmp_path)


def test_a_file_where_the_folder_should_be(tmp_path):
    given = tmp_path / "in"
    given.write_text("not a folder")
    out = tmp_path / "out" / "summary.csv"
    result = run_here("summary", "--images", given, "--out", out)
    assert_clean_failure(result, "in: is a file, not a folder", out)
    assert given.read_text() == "not a folder"


def test_empty_folder(tmp_path):
    (tmp_path / "in").mkdir()
    assert "no .tif" in check(tmp_path / "in", "in", tmp_path)


def test_nuclei_without_actin(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    lonely = synthetic(folder, field=2, channel=1)
    assert "no channel 3" in check(folder, lonely.name, tmp_path)


def test_truncated_tiff(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    nuclei, _ = good_pair(folder)
    payload = nuclei.read_bytes()
    nuclei.write_bytes(payload[: len(payload) // 2])
    assert "not a readable TIFF" in check(folder, nuclei.name, tmp_path)


def test_text_file_named_tif(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _, actin = good_pair(folder)
    actin.write_text("this is not an image\n")
    assert "not a readable TIFF" in check(folder, actin.name, tmp_path)


def test_unsupported_pixel_type(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    path = synthetic(folder, channel=1, array=np.full((32, 32), 700, np.int32))
    assert "pixel type int32 is not supported" in check(folder, path.name, tmp_path)


def test_image_with_nan(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    array = np.ones((32, 32), np.float32)
    array[3, 4] = np.nan
    path = synthetic(folder, channel=3, array=array)
    assert "NaN" in check(folder, path.name, tmp_path)


def test_sixteen_bit_pair_is_summarised(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    synthetic(folder, channel=1, array=np.full((32, 32), 700, np.uint16))
    synthetic(folder, channel=3, array=np.full((32, 32), 65535, np.uint16))
    out = tmp_path / "summary.csv"
    result = run_here("summary", "--images", folder, "--out", out)
    assert result.returncode == 0, result.stderr
    row = out.read_text().splitlines()[1].split(",")
    assert row[2:4] == ["700", "700"]
    assert row[-1] == "1.0"


def test_rgb_image(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    path = synthetic(folder, channel=3, array=np.zeros((32, 32, 3), np.uint8))
    assert "one channel" in check(folder, path.name, tmp_path)


def test_channels_of_different_shapes(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    path = synthetic(folder, channel=3, array=np.zeros((16, 32), np.uint8))
    assert "differs" in check(folder, path.name, tmp_path)


def test_unknown_file_name(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    stray = folder / "holiday.tif"
    stray.write_bytes(b"")
    assert "does not match" in check(folder, stray.name, tmp_path)


def test_manifest_file_with_other_content(tmp_path, pairs):
    folder = tmp_path / "in"
    folder.mkdir()
    for path in (pairs[0].nuclei, pairs[0].actin):
        shutil.copy(path, folder / path.name)
    tampered = folder / pairs[0].actin.name
    image = tifffile.imread(tampered)
    image[0, 0] ^= 1
    tifffile.imwrite(tampered, image)
    assert "SHA-256 differs" in check(folder, tampered.name, tmp_path)


def test_out_that_is_a_folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    out = tmp_path / "existing"
    out.mkdir()
    result = run_here("summary", "--images", folder, "--out", out)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1
    assert str(out) in lines[0]
    assert "is a folder" in lines[0]
    assert list(out.iterdir()) == []
    assert not list(tmp_path.glob(".existing*"))


def test_out_below_a_file(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a folder")
    result = run_here("summary", "--images", folder, "--out", blocker / "sub" / "summary.csv")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1
    assert str(blocker) in lines[0]
    assert "is a file" in lines[0]
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("command", "figures"),
    [
        (["count", "--method", "otsu"], "out.csv"),
        (["count", "--method", "otsu"], "out_objects.csv/plots"),
        (["validate", "--methods", "otsu"], "out_by_well.csv"),
    ],
)
def test_figures_where_a_table_goes(tmp_path, command, figures):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    out = tmp_path / "out.csv"
    result = run_here(*command, "--images", folder, "--out", out, "--figures", tmp_path / figures)
    assert_clean_failure(result, figures, out)
    assert "would be made where the table" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


@pytest.mark.slow
def test_published_model_offline_is_one_line(tmp_path):
    # Every request goes to a loopback proxy nobody listens on: refused at once, nothing leaves the machine.
    proxy = "http://127.0.0.1:9"
    env = {"https_proxy": proxy, "http_proxy": proxy, "no_proxy": "", "KERAS_HOME": str(tmp_path / "keras")}
    out = tmp_path / "counts.csv"
    result = run_here(
        "count", "--model", "2D_versatile_fluo", "--out", out, env=env | {"STARDIST_VERSATILE_FLUO": ""}
    )
    assert_clean_failure(result, "2D_versatile_fluo: cannot download the published weights", out)
    assert "STARDIST_VERSATILE_FLUO" in result.stderr
    assert result.stdout == ""


def test_validate_images_without_known_masks(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    out = tmp_path / "out" / "validation.csv"
    result = run_here("validate", "--images", folder, "--methods", "otsu", "--out", out)
    assert_clean_failure(result, "B02f00d0_slice1_channel1.tif", out)
    assert "no mask of this name in data/manifest.csv (own masks: --truth)" in result.stderr


@pytest.mark.parametrize("command", ["report", "measure"])
def test_an_output_folder_that_is_a_file(tmp_path, command):
    out = tmp_path / "out"
    out.write_text("a file")
    result = run_here(command, "--out", out)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: {out}: is a file, not a folder"]
    assert out.read_text() == "a file"


@pytest.mark.slow
def test_terminated_count_writes_nothing(tmp_path, pairs):
    # Eight copies of the twelve fields under other plate names, each turned
    # another way so that none is recalled from an earlier prediction: the
    # count is still predicting when the signal comes, however fast the machine.
    folder = tmp_path / "in"
    folder.mkdir()
    for copy in range(8):
        for pair in pairs:
            for path in (pair.nuclei, pair.actin):
                turned = np.rot90(tifffile.imread(path), k=copy % 4)
                turned = turned[:, ::-1] if copy > 3 else turned
                tifffile.imwrite(folder / path.name.replace("AS_09125", f"COPY{copy}"), turned)
    out = tmp_path / "out" / "counts.csv"
    result = interrupt_cli("count", "--images", folder, "--out", out, ready=after(6))
    assert result.returncode == 143, result.stderr
    assert result.stderr.strip() == "interrupted"
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


@pytest.mark.parametrize("stop", [KeyboardInterrupt, cli.Terminated], ids=["SIGINT", "SIGTERM"])
def test_interrupt_while_starting(monkeypatch, capsys, main_here, stop):
    # The parser imports the analysis modules, which takes seconds on a busy
    # machine: an interrupt then ends the run like any other, without a traceback.
    def importing(_commands):
        raise stop

    monkeypatch.setattr(cli, "build_parser", importing)
    try:
        status = main_here(["summary"])
    except KeyboardInterrupt:
        pytest.fail("the interrupt escaped main")
    assert status == 128 + (signal.SIGTERM if stop is cli.Terminated else signal.SIGINT)
    assert capsys.readouterr().err == "interrupted\n"


def test_an_interrupt_a_c_extension_replaced_or_returned_over_ends_the_same(monkeypatch, capsys, main_here):
    # StarDist's non-maximum suppression runs Python code: a signal's handler
    # may raise there, and Python reports the result as a SystemError.
    def suppressing(_commands):
        try:
            raise cli.Terminated
        except cli.Terminated as stop:
            raise SystemError("c_non_max_suppression_inds returned a result with an exception set") from stop

    monkeypatch.setattr(cli, "build_parser", suppressing)
    assert main_here(["summary"]) == 143
    assert capsys.readouterr().err == "interrupted\n"

    def replacing(_commands):  # what StarDist's suppression does when it sees the signal first
        try:
            signal.raise_signal(signal.SIGTERM)
        except KeyboardInterrupt:
            raise KeyboardInterrupt("interrupted") from None

    monkeypatch.setattr(cli, "build_parser", replacing)
    assert main_here(["summary"]) == 143
    assert capsys.readouterr().err == "interrupted\n"

    def failing(_commands):
        raise SystemError("a fault of its own")

    monkeypatch.setattr(cli, "build_parser", failing)
    with pytest.raises(SystemError, match="of its own"):
        main_here(["summary"])


def test_ctrl_c_is_raised_as_its_own_type(monkeypatch, capsys, main_here):
    # A plain KeyboardInterrupt that escapes code run by PyRun_String (as some
    # libraries do while imported) makes Python end by SIGINT at exit,
    # whatever status main returned; main's own subclass does not.
    seen = []

    def starting(_commands):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt as stop:
            seen.append(type(stop))
            raise

    monkeypatch.setattr(cli, "build_parser", starting)
    status = main_here(["summary"])
    assert seen == [cli.Interrupted]
    assert status == 130
    assert capsys.readouterr().err == "interrupted\n"


def naming(tmp_path, *options):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    before = snapshot(folder)
    out = tmp_path / "out" / "summary.csv"
    result = run_here("summary", "--images", folder, *options, "--out", out)
    assert snapshot(folder) == before
    return result, out


def test_pattern_that_matches_nothing(tmp_path):
    result, out = naming(tmp_path, "--pattern", r"^(?P<well>X\d\d)_(?P<channel>\d)\.tif$")
    assert_clean_failure(result, "B02f00d0_slice1_channel1.tif", out)
    assert "does not match the naming pattern" in result.stderr


def test_pattern_without_a_channel_group_reads_channels_inside_each_file(tmp_path):
    # Each file is then a field holding its channels: two files claim one field.
    result, out = naming(tmp_path, "--pattern", r"^.+_(?P<well>[A-P]\d{2})f.*\.tif$")
    assert_clean_failure(result, "_channel3.tif", out)
    assert "same plate, well and field as AS_09125_050116000001_B02f00d0_slice1_channel1.tif" in result.stderr
    assert "without a channel group in the pattern, each file is a field" in result.stderr


def test_channel_role_not_present(tmp_path):
    result, out = naming(tmp_path, "--actin-channel", "2")
    assert_clean_failure(result, "in", out)
    assert "no file name has channel 2 (--actin-channel)" in result.stderr


def test_validate_with_own_masks_scores_like_the_manifest(tmp_path, pairs):
    own_images, own_masks = tmp_path / "images", tmp_path / "masks"
    own_images.mkdir()
    own_masks.mkdir()
    for pair in (pairs[0], pairs[6]):
        for path in (pair.nuclei, pair.actin):
            shutil.copy(path, own_images / path.name.replace("AS_09125", "OWN"))
            shutil.copy(registry.foreground_path(path), own_masks / path.name.replace("AS_09125", "OWN"))
    reference = serial.validate_segmentation([pairs[0], pairs[6]], ["otsu", "li"])
    out = tmp_path / "out" / "validation.csv"
    result = run_here(
        "validate",
        "--images",
        own_images,
        "--truth",
        own_masks,
        "--methods",
        "otsu",
        "li",
        "--out",
        out,
        "--figures",
        tmp_path / "figures",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "figures" / "dice_nuclei.png").read_bytes().startswith(b"\x89PNG")
    scored = pd.read_csv(out)
    np.testing.assert_allclose(scored.dice, reference.dice, rtol=1e-12)
    assert scored.n_truth_instances.tolist() == reference.n_truth_instances.tolist()


@pytest.mark.parametrize("objects", ["nuclei", "cells"])
def test_validate_with_a_mask_of_another_size(tmp_path, objects):
    folder, masks = tmp_path / "in", tmp_path / "masks"
    folder.mkdir()
    masks.mkdir()
    for image in good_pair(folder):
        tifffile.imwrite(masks / image.name, np.ones((16, 16), np.uint8))
    out = tmp_path / "out" / "validation.csv"
    options = ["--methods", "otsu"] if objects == "nuclei" else ["--objects", "cells"]
    result = run_here("validate", "--images", folder, "--truth", masks, *options, "--out", out)
    assert_clean_failure(result, "masks/", out)
    assert "mask of shape (16, 16) does not fit its image of shape (32, 32)" in result.stderr


def test_report_on_images_checks_the_naming_first(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good_pair(folder)
    site = tmp_path / "site"
    result = run_here("report", "--images", folder, "--actin-channel", "2", "--out", site)
    assert_clean_failure(result, "in", site)
    assert "no file name has channel 2 (--actin-channel)" in result.stderr


def test_report_truth_needs_images(tmp_path):
    site = tmp_path / "site"
    assert_clean_failure(run_here("report", "--truth", tmp_path, "--out", site), "--truth", site)


def test_report_truth_without_masks_for_the_images(tmp_path):
    folder, masks = tmp_path / "in", tmp_path / "masks"
    folder.mkdir()
    masks.mkdir()
    good_pair(folder)
    site = tmp_path / "site"
    result = run_here("report", "--images", folder, "--truth", masks, "--out", site)
    assert_clean_failure(result, "channel1.tif", site)
    assert "no mask" in result.stderr


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["count", "--nucleus-diameter", "abc"], "'abc' is not a positive number"),
        (["count", "--nucleus-diameter", "inf"], "'inf' is not a positive number"),
        (["measure", "--workers", "0"], "'0' is not a positive whole number"),
        (["measure", "--workers", "two"], "'two' is not a positive whole number"),
        (["measure", "--workers", "²"], "'²' is not a positive whole number"),
        (["measure", "--workers", "-3"], "'-3' is not a positive whole number"),
        (["train", "--epochs", "0"], "'0' is not a positive whole number"),
        (["train", "--steps", "-1"], "'-1' is not a positive whole number"),
    ],
)
def test_bad_numbers_are_one_line(tmp_path, options, problem):
    out = tmp_path / "out.csv"
    result = run_here(*options, "--out", out)
    assert_clean_failure(result, problem, out)
    assert result.returncode == 2


def test_report_naming_options_need_images(tmp_path):
    site = tmp_path / "site"
    assert_clean_failure(run_here("report", "--nuclei-channel", "0", "--out", site), "--pattern", site)


@pytest.mark.parametrize("argv", [["--help"], ["report", "--help"], ["fetch", "--help"]])
def test_a_command_imports_only_what_it_needs(argv):
    # The parser imports the module of the command that runs, not the others'
    # (which bring the measurements and the network's runtime with them).
    code = (
        "import sys; from analysis.cli.main import main\n"
        f"try: main({argv!r})\n"
        "except SystemExit: pass\n"
        f"print(sorted(m for m in sys.modules if m.removeprefix('analysis.cli.') in {[*cli.COMMANDS]}))\n"
        "print('analysis.batch.per_field' in sys.modules, 'onnxruntime' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    *_, modules, heavy = result.stdout.splitlines()
    assert modules == str([f"analysis.cli.{word}" for word in argv[:-1]])
    assert heavy == "False False"


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_each_command_s_help_opens_with_what_it_does(command):
    result = run_here(command, "--help")
    assert result.returncode == 0
    assert cli.COMMANDS[command] in " ".join(result.stdout.split())


def test_every_option_says_what_it_does():
    parser = cli.build_parser()
    (commands,) = [action for action in parser._actions if action.dest == "command"]
    for name, command in commands.choices.items():
        for action in command._actions:
            assert action.help, f"{name} {'/'.join(action.option_strings)} has no help"


@pytest.mark.parametrize("command", ["summary", "count", "validate", "measure"])
def test_the_pattern_help_says_what_the_readme_says(command):
    # Which named groups --pattern needs: the help and the README say the same.
    help_text = " ".join(run_here(command, "--help").stdout.split())
    readme = " ".join((registry.PROJECT_ROOT / "README.md").read_text().split())
    assert "well (required), channel, field and plate (optional" in help_text
    assert "(`well` required; `channel`, `field` and `plate` optional" in readme
