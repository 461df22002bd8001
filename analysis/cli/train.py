"""``train``: the project's StarDist model trained on well A24."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.cli.options import whole
from analysis.training.train import TrainingSettings


def add_arguments(command: argparse.ArgumentParser) -> None:
    """Add the command's options and what runs it to its parser.

    Parameters
    ----------
    command : argparse.ArgumentParser
        The sub-command's parser.
    """
    command.add_argument(
        "--epochs",
        type=whole,
        default=TrainingSettings.epochs,
        help=f"training epochs (default {TrainingSettings.epochs})",
    )
    command.add_argument(
        "--steps",
        type=whole,
        default=TrainingSettings.steps_per_epoch,
        help=f"steps per epoch (default {TrainingSettings.steps_per_epoch})",
    )
    for flag, field, what in (
        ("--depth", "depth", "U-Net depth"),
        ("--filters", "filters", "U-Net base filters"),
        ("--conv-after", "conv_after", "channels of the convolution after the U-Net"),
        ("--grid", "grid", "output grid step in pixels"),
    ):
        default = getattr(TrainingSettings, field)
        command.add_argument(flag, type=whole, default=default, help=f"{what} (default {default})")
    command.add_argument(
        "--model-dir", type=Path, help="output folder (default: a new dated folder beside the project model)"
    )
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="retrain in place (the project model when --model-dir is not given)",
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Train a StarDist model on well A24 into a new folder (or in place with --overwrite).

    Parameters
    ----------
    args : argparse.Namespace
    """
    from analysis.training.retrain import target_folder, train_into

    model_dir = target_folder(args.model_dir, args.overwrite)
    print(
        train_into(
            model_dir,
            TrainingSettings(
                depth=args.depth,
                filters=args.filters,
                conv_after=args.conv_after,
                grid=args.grid,
                epochs=args.epochs,
                steps_per_epoch=args.steps,
            ),
        )
    )
