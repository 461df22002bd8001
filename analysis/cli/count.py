"""``count``: the nuclei of every field found and counted, serially."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.batch.per_field import BASIC
from analysis.cli.options import (
    MODEL_HELP,
    add_diameter_option,
    add_features_option,
    add_image_options,
    check_diameter,
    check_outputs,
    image_pairs,
)
from analysis.methods import METHODS


def add_arguments(command: argparse.ArgumentParser) -> None:
    """Add the command's options and what runs it to its parser.

    Parameters
    ----------
    command : argparse.ArgumentParser
        The sub-command's parser.
    """
    add_image_options(command)
    command.add_argument("--method", default="stardist", help=f"{', '.join(METHODS)} (default stardist)")
    command.add_argument("--model", help=MODEL_HELP)
    command.add_argument(
        "--out",
        type=Path,
        required=True,
        help="per-image CSV; the per-object table (measure's Nuclei columns) goes to <out>_objects.csv",
    )
    command.add_argument("--figures", type=Path, help="folder for overlay and bar-plot PNGs")
    add_diameter_option(command)
    add_features_option(command, (BASIC,))
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Segment the nuclei of each pair, write per-image and per-object CSVs (and figures).

    Parameters
    ----------
    args : argparse.Namespace
    """
    from analysis.batch.per_field import Settings, check_stains
    from analysis.batch.serial import count_nuclei
    from analysis.io.output import write_csv
    from analysis.methods import needs_model
    from analysis.models.stardist_model import load_model

    check_stains(Settings(features=args.features))
    objects_out = check_outputs(args, "_objects")
    pairs = image_pairs(args)
    model = load_model(args.model) if needs_model(args.method) else None
    check_diameter(args, model.folder if model else None)
    counts, objects, labels = count_nuclei(pairs, args.method, model, args.nucleus_diameter, args.features)
    if args.figures:
        from analysis.plots.run_figures import write_count_figures

        write_count_figures(
            pairs,
            counts,
            objects,
            labels,
            args.figures,
            args.method,
            f"nuclei (channel {args.nuclei_channel})",
        )
    write_csv(objects, objects_out)
    print(write_csv(counts, args.out))
