"""``summary``: per-channel intensity statistics of each field."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.cli.options import add_image_options, image_pairs


def add_arguments(command: argparse.ArgumentParser) -> None:
    """Add the command's options and what runs it to its parser.

    Parameters
    ----------
    command : argparse.ArgumentParser
        The sub-command's parser.
    """
    add_image_options(command)
    command.add_argument("--out", type=Path, required=True, help="CSV file to write")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Write per-channel intensity statistics of each pair as CSV.

    Parameters
    ----------
    args : argparse.Namespace
    """
    from analysis.batch.serial import summarise
    from analysis.io.output import check_target, write_csv

    check_target(args.out)
    print(write_csv(summarise(image_pairs(args)), args.out))
