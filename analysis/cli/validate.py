"""``validate``: segmentations scored against reference foreground masks."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.cli.options import (
    MODEL_HELP,
    add_diameter_option,
    add_image_options,
    check_diameter,
    check_outputs,
    image_pairs,
)
from analysis.errors import AnalysisError
from analysis.methods import METHODS

#: The methods compared by default: every one.
VALIDATE_METHODS = list(METHODS)


def add_arguments(command: argparse.ArgumentParser) -> None:
    """Add the command's options and what runs it to its parser.

    Parameters
    ----------
    command : argparse.ArgumentParser
        The sub-command's parser.
    """
    add_image_options(command)
    command.add_argument(
        "--methods",
        nargs="+",
        default=VALIDATE_METHODS,
        metavar="METHOD",
        help=f"nuclei methods to compare (default: {' '.join(VALIDATE_METHODS)})",
    )
    command.add_argument(
        "--objects",
        choices=("nuclei", "cells"),
        default="nuclei",
        help="nuclei (default) against the nuclei masks, or cells grown from them against the actin masks",
    )
    command.add_argument("--model", help=MODEL_HELP)
    command.add_argument(
        "--channel",
        choices=("nuclei", "actin"),
        default="nuclei",
        help="stain the nuclei methods are run on (default nuclei; actin is Exercise 9)",
    )
    add_diameter_option(command)
    command.add_argument(
        "--truth", type=Path, help="folder of reference masks named by the same pattern (default: BBBC008's)"
    )
    command.add_argument(
        "--out",
        type=Path,
        required=True,
        help="per-image CSV; the per-well summary goes to <out>_by_well.csv",
    )
    command.add_argument(
        "--figures", type=Path, help="folder for a plot of the Dice per field and method (dice_<objects>.png)"
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Score methods against the hand-corrected masks; write per-image and per-well CSVs (and a plot).

    Parameters
    ----------
    args : argparse.Namespace
    """
    from analysis.batch.serial import validate_cells, validate_segmentation
    from analysis.io.output import write_csv
    from analysis.io.pairing import matching_files
    from analysis.methods import needs_model
    from analysis.models.stardist_model import load_model
    from analysis.steps.validate import summarise_by_well

    by_well_out = check_outputs(args, "_by_well")
    pairs = image_pairs(args)
    truth = None
    if args.truth and args.objects == "nuclei":
        channel = args.nuclei_channel if args.channel == "nuclei" else args.actin_channel
        truth = matching_files(args.truth, pairs, args.channel, channel, args.pattern)
    if args.objects == "cells":
        if args.channel != "nuclei" or args.methods != VALIDATE_METHODS:
            raise AnalysisError(
                "--objects", "cells are grown from stardist-li nuclei; --channel and --methods do not apply"
            )
        model = load_model(args.model)
        check_diameter(args, model.folder)
        if args.truth:
            truth = matching_files(args.truth, pairs, "actin", args.actin_channel, args.pattern)
        table = validate_cells(pairs, model, truth=truth, diameter=args.nucleus_diameter)
    else:
        model = load_model(args.model) if needs_model(args.methods) else None
        check_diameter(args, model.folder if model else None)
        table = validate_segmentation(
            pairs, args.methods, model, channel=args.channel, truth=truth, diameter=args.nucleus_diameter
        )
    if args.figures:
        from analysis.plots.run_figures import write_score_figure

        write_score_figure(table, args.figures, args.objects)
    write_csv(summarise_by_well(table), by_well_out)
    print(write_csv(table, args.out))
