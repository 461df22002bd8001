"""Options shared by several commands, and the checks made on them before any work."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.errors import AnalysisError
from analysis.io.pairing import ACTIN_CHANNEL, BBBC008_PATTERN, NUCLEI_CHANNEL, ImagePair

NAMING_DEFAULTS = {
    "pattern": BBBC008_PATTERN,
    "nuclei_channel": str(NUCLEI_CHANNEL),
    "actin_channel": str(ACTIN_CHANNEL),
}
MODEL_HELP = "project (default), 2D_versatile_fluo or a model folder"


def add_image_options(command: argparse.ArgumentParser) -> None:
    """``--images``, ``--pattern`` and the two stains' channels.

    Parameters
    ----------
    command : argparse.ArgumentParser
    """
    command.add_argument("--images", type=Path, help="folder of TIFF images (default: BBBC008)")
    command.add_argument(
        "--pattern",
        default=NAMING_DEFAULTS["pattern"],
        help="regular expression matched against each file name, with named groups: well "
        "(required), channel, field and plate (optional; without channel each file is a "
        "whole field holding its channels) (default: BBBC008's)",
    )
    for role in ("nuclei", "actin"):
        default = NAMING_DEFAULTS[f"{role}_channel"]
        command.add_argument(
            f"--{role}-channel",
            default=default,
            help=f"channel value of the {role} stain (default {default})",
        )


def image_pairs(args: argparse.Namespace) -> list[ImagePair]:
    """The fields named by the image options: a folder's, or BBBC008's.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    list of ImagePair
    """
    from analysis.io.pairing import pair_channels
    from analysis.io.registry import dataset_pairs

    if args.images:
        return pair_channels(args.images, args.pattern, args.nuclei_channel, args.actin_channel)
    refuse_naming_without_images(args)
    return dataset_pairs()


def refuse_naming_without_images(args: argparse.Namespace) -> None:
    """Naming options change nothing without ``--images``: refuse them.

    Parameters
    ----------
    args : argparse.Namespace
    """
    if any(getattr(args, name) != default for name, default in NAMING_DEFAULTS.items()):
        raise AnalysisError("--pattern", "naming options apply to a folder given with --images")


def positive(text: str) -> float:
    """A positive finite number, for ``type=``.

    Parameters
    ----------
    text : str

    Returns
    -------
    float
    """
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def whole(text: str) -> int:
    """A positive whole number, for ``type=``.

    Parameters
    ----------
    text : str

    Returns
    -------
    int
    """
    try:
        value = int(text)
    except ValueError:  # 'two', '²', '1.5'
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def add_diameter_option(command: argparse.ArgumentParser) -> None:
    """``--nucleus-diameter``.

    Parameters
    ----------
    command : argparse.ArgumentParser
    """
    command.add_argument(
        "--nucleus-diameter",
        type=positive,
        metavar="PIXELS",
        help="typical nucleus diameter of every image; StarDist rescales the images "
        "to the model's reference diameter (default: estimated per image)",
    )


def add_features_option(command: argparse.ArgumentParser, default: tuple[str, ...]) -> None:
    """``--features``: the feature sets measured, comma-separated.

    Parameters
    ----------
    command : argparse.ArgumentParser
    default : tuple of str
    """
    from analysis.batch.per_field import BASIC, FEATURES

    command.add_argument(
        "--features",
        type=lambda text: tuple(part.strip() for part in text.split(",") if part.strip()),
        default=default,
        metavar="SET[,SET...]",
        help=f"feature sets measured: {BASIC} (six shape features, four intensities per stain) "
        f"or any of {', '.join(FEATURES)} (CellProfiler's families and the image quality "
        f"measures); default {','.join(default)}",
    )


def check_diameter(args: argparse.Namespace, model_folder: Path | None) -> None:
    """Refuse ``--nucleus-diameter`` for a model without a reference diameter.

    ``count``, ``validate`` and ``measure`` refuse it alike, before any field.

    Parameters
    ----------
    args : argparse.Namespace
    model_folder : Path or None
        The folder of the model the method uses; None for a method without one.
    """
    from analysis.steps.scale import read_scale

    if args.nucleus_diameter and model_folder is not None and read_scale(model_folder) is None:
        raise AnalysisError(
            model_folder,
            "records no reference nucleus diameter (scale.json), so --nucleus-diameter cannot apply",
        )


def check_outputs(args: argparse.Namespace, side_table: str) -> Path:
    """Refuse the output files and the ``--figures`` folder (where given) before any work.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options (``out``, ``figures``).
    side_table : str
        What the second table's name adds to ``--out``'s stem, e.g. ``_objects``.

    Returns
    -------
    Path
        The second table's file, beside ``--out``.

    Raises
    ------
    AnalysisError
        If a file cannot be written where named, or ``--figures`` would be
        one of the output files or a folder below one.
    """
    from analysis.io.output import check_target

    side = args.out.with_name(f"{args.out.stem}{side_table}.csv")
    for table in (args.out, side):
        check_target(table)
    if args.figures:
        check_target(args.figures, folder=True)
        figures = args.figures.resolve()
        for table in (args.out, side):
            if table.resolve() in (figures, *figures.parents):
                raise AnalysisError(args.figures, f"would be made where the table {table} is written")
    return side
