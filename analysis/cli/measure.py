"""``measure``: nuclei, cells and cytoplasm of every field measured on dask, as Parquet parts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.batch.per_field import Settings
from analysis.cli.options import (
    MODEL_HELP,
    add_diameter_option,
    add_features_option,
    add_image_options,
    check_diameter,
    image_pairs,
    positive,
    whole,
)
from analysis.errors import AnalysisError
from analysis.io.pairing import ChannelPath

QC_FEATURE = "Cells_AreaShape_Area"


def add_arguments(command: argparse.ArgumentParser) -> None:
    """Add the command's options and what runs it to its parser.

    Parameters
    ----------
    command : argparse.ArgumentParser
        The sub-command's parser.
    """
    add_image_options(command)
    command.add_argument("--out", type=Path, required=True, help="output folder")
    for role in ("nuclei", "actin"):
        default = getattr(Settings, f"{role}_stain")
        command.add_argument(
            f"--{role}-stain",
            help=f"name of the {role} stain (default {default}, or the channel's name where "
            f"--{role}-channel names a channel of multi-channel files)",
        )
    command.add_argument(
        "--stain",
        action="append",
        default=[],
        metavar="NAME=CHANNEL",
        help="a further stain measured in every object, e.g. PH3=1 (repeatable; needs --images)",
    )
    command.add_argument(
        "--mitotic-stain", metavar="NAME", help="stain marking mitotic nuclei (a mitotic index)"
    )
    command.add_argument(
        "--method", default=Settings.method, help=f"nuclei method (default {Settings.method})"
    )
    command.add_argument("--model", help=MODEL_HELP)
    add_diameter_option(command)
    add_features_option(command, Settings.features)
    command.add_argument(
        "--regularization",
        type=positive,
        default=Settings.regularization,
        help=f"propagation's lambda (default {Settings.regularization})",
    )
    command.add_argument(
        "--qc-feature",
        default=QC_FEATURE,
        metavar="OBJECTS_FEATURE",
        help=f"feature of the second plate map of qc.html, its well median (default {QC_FEATURE})",
    )
    command.add_argument("--workers", type=whole, help="workers of the local cluster (default: one per core)")
    command.add_argument("--scheduler", help="address of a running dask scheduler, e.g. tcp://host:8786")
    command.add_argument("--force", action="store_true", help="recompute fields that are up to date")
    command.set_defaults(run=run)


def further_stains(options: list[str]) -> dict[str, str]:
    """``--stain NAME=CHANNEL`` options as stain name to channel.

    Parameters
    ----------
    options : list of str

    Returns
    -------
    dict
    """
    further = {}
    for option in options:
        name, _, channel = option.partition("=")
        if not channel:
            raise AnalysisError("--stain", f"{option!r} is not NAME=CHANNEL")
        further[name] = channel
    return further


def stain_name(pairs, role: str) -> str:
    """A stain's default name: the channel's, where it names a channel inside each file.

    Parameters
    ----------
    pairs : list of ImagePair
    role : {"nuclei", "actin"}

    Returns
    -------
    str
        The channel's name (``"DNA"`` chosen with ``--nuclei-channel DNA``);
        else :class:`Settings`' default.
    """
    path = getattr(pairs[0], role) if pairs else None
    if isinstance(path, ChannelPath) and not path.channel.isdecimal():
        return path.channel
    return getattr(Settings, f"{role}_stain")


def run(args: argparse.Namespace) -> None:
    """Measure nuclei, cells and cytoplasm of every field on dask; write Parquet parts.

    Parameters
    ----------
    args : argparse.Namespace
    """
    from analysis.batch.per_field import check_stains, fields_from_pairs
    from analysis.batch.screen import run_screen
    from analysis.io.output import check_target
    from analysis.io.pairing import stain_files
    from analysis.methods import get_method

    check_target(args.out, folder=True)
    pairs = image_pairs(args)
    settings = Settings(
        nuclei_stain=args.nuclei_stain or stain_name(pairs, "nuclei"),
        actin_stain=args.actin_stain or stain_name(pairs, "actin"),
        method=get_method(args.method).name,
        diameter=args.nucleus_diameter,
        regularization=args.regularization,
        mitotic_stain=args.mitotic_stain,
        features=args.features,
    )
    further = further_stains(args.stain)
    check_stains(settings, list(further))
    if get_method(settings.method).needs_model:
        from analysis.models.stardist_model import locate_model

        check_diameter(args, locate_model(args.model)[0])
    if further and not args.images:
        raise AnalysisError("--stain", "further stains apply to a folder given with --images")
    files = {
        name: stain_files(args.images, pairs, channel, args.pattern) for name, channel in further.items()
    }
    fields = fields_from_pairs(pairs, settings, files)
    result = run_screen(fields, settings, args.out, args.model, args.workers, args.scheduler, args.force)
    write_qc_page(args.out, result["failures"], fields, settings.nuclei_stain, args.qc_feature)
    objects = ", ".join(f"{count:,} {table.lower()}" for table, count in result["objects"].items())
    screen_size = f"{result['fields']} field{'' if result['fields'] == 1 else 's'}"
    why = ", ".join(f"{count} {reason}" for reason, count in sorted(result["why_computed"].items()))
    summary = (
        f"{screen_size} ({result['computed']} computed, {result['reused']} reused, "
        f"{result['failed']} failed): {objects}; {result['seconds']:.1f} s, "
        f"{result['fields_per_second']:.2f} fields/s" + (f"; computed: {why}" if why else "")
    )
    if result["failed"]:
        raise AnalysisError(args.out / "failures.csv", f"{result['failed']} of {summary}")
    print(args.out)
    print(f"measured {summary}", file=sys.stderr)


def write_qc_page(out: Path, failures, fields, nuclei_stain: str, feature: str) -> Path | None:
    """``OUT/qc.html``: the quality-control page of every field in ``out``.

    Parameters
    ----------
    out : Path
        The run's folder.
    failures : DataFrame
        The fields that failed (:func:`analysis.batch.screen.run_screen`).
    fields : list of FieldImages
    nuclei_stain, feature : str
        As for :func:`analysis.plots.qc_page.qc_page`.

    Returns
    -------
    Path or None
        None where no field was measured (no page is written).
    """
    from analysis.batch.screen import read_tables
    from analysis.io.output import atomic_path
    from analysis.plots.qc_page import columns_needed, qc_page

    if not any((out / "Image").glob("*.parquet")):
        return None  # no field was measured: failures.csv says why
    files = {images.image_number: images.stains[nuclei_stain] for images in fields}
    tables = read_tables(out, columns_needed(nuclei_stain, feature))
    page = qc_page(tables, failures, files, nuclei_stain, feature)
    with atomic_path(out / "qc.html") as target:
        target.write_text(page, encoding="utf-8")
    return out / "qc.html"
