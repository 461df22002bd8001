"""Command line: ``python -m analysis COMMAND``.

Every problem with an input ends the run with one line on stderr, naming the
file and the problem, and exit status 1; no output file is left behind.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import AnalysisError


def _images(args: argparse.Namespace):
    from .data import dataset_pairs, pair_channels

    return pair_channels(args.images) if args.images else dataset_pairs()


def cmd_fetch(args: argparse.Namespace) -> None:
    from .data import fetch_all

    for kind in ("images", "foreground"):
        print(fetch_all(kind))


def cmd_summary(args: argparse.Namespace) -> None:
    from .output import write_csv
    from .pipeline import summarise

    print(write_csv(summarise(_images(args)), args.out))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser("fetch", help="verify (and cache) the 24 images and 24 masks")
    fetch.set_defaults(run=cmd_fetch)

    summary = commands.add_parser("summary", help="per-channel intensity statistics as CSV")
    summary.add_argument("--images", type=Path, help="folder of *_channel1/3.tif (default: BBBC008)")
    summary.add_argument("--out", type=Path, required=True, help="CSV file to write")
    summary.set_defaults(run=cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
