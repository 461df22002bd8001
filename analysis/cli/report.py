"""``report``: the lesson website, notebooks and PDF, executed and rendered."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.cli.options import add_image_options, image_pairs, refuse_naming_without_images
from analysis.errors import AnalysisError


def add_arguments(command: argparse.ArgumentParser) -> None:
    """Add the command's options and what runs it to its parser.

    Parameters
    ----------
    command : argparse.ArgumentParser
        The sub-command's parser.
    """
    command.add_argument("--project", type=Path, help="folder of _quarto.yml (default: this project)")
    command.add_argument(
        "--out", type=Path, help="output folder (default: the project's output-dir, _output)"
    )
    command.add_argument("--force", action="store_true", help="re-execute even if the cache is valid")
    add_image_options(command)
    command.add_argument(
        "--truth", type=Path, help="with --images: folder of reference nuclei masks named by the same pattern"
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Render the lesson website, notebooks and PDF; print the paths written.

    With ``--images`` the page for one's own images (its parameters) shows
    that folder instead of BBBC008.

    Parameters
    ----------
    args : argparse.Namespace
    """
    from analysis.io.output import check_target
    from analysis.io.pairing import matching_files

    try:
        from analysis.lesson import render_lesson
    except ModuleNotFoundError as missing:  # a library of the lesson extra, not a module of ours
        if (missing.name or "analysis").split(".")[0] == "analysis":
            raise
        raise AnalysisError(
            missing.name, "not installed: rendering needs pip install 'bbbc008-lesson[lesson]'"
        ) from None

    if args.out:
        check_target(args.out, folder=True)
    params = None
    if args.images:
        pairs = image_pairs(args)  # the naming and the masks are checked before anything runs
        if args.truth:
            matching_files(args.truth, pairs, "nuclei", args.nuclei_channel, args.pattern)
        params = {
            "images": str(args.images.resolve()),
            "pattern": args.pattern,
            "nuclei_channel": args.nuclei_channel,
            "actin_channel": args.actin_channel,
            "truth": str(args.truth.resolve()) if args.truth else "",
        }
    else:
        refuse_naming_without_images(args)
        if args.truth:
            raise AnalysisError("--truth", "reference masks apply to a folder given with --images")
    result = render_lesson(args.out, force=args.force, params=params, root=args.project)
    notebooks = [*result["notebooks"], *result["handouts"]]
    for path in [*result["pages"], *notebooks, result["pdf"], result["tasks_pdf"]]:
        print(path)
    executed = ", ".join(result["executed"]) or "none"
    built = "outputs already up to date" if result["up_to_date"] else "outputs written"
    print(
        f"executed: {executed}; from cache: {', '.join(result['cached']) or 'none'}; {built}; "
        f"{result['seconds']:.1f} s",
        file=sys.stderr,
    )
