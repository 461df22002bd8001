"""``fetch``: verify and cache the 24 images and 24 masks."""

from __future__ import annotations

import argparse


def add_arguments(command: argparse.ArgumentParser) -> None:
    """Add the command's options and what runs it to its parser.

    Parameters
    ----------
    command : argparse.ArgumentParser
        The sub-command's parser.
    """
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Verify every data file and keep it in the cache; print the folders.

    Parameters
    ----------
    args : argparse.Namespace
    """
    from analysis.io.registry import fetch_all

    for kind in ("images", "foreground"):
        print(fetch_all(kind))
