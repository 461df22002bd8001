"""``export``: a model's network written to ONNX, so that predicting needs no TensorFlow."""

from __future__ import annotations

import argparse


def add_arguments(command: argparse.ArgumentParser) -> None:
    """Add the command's options and what runs it to its parser.

    Parameters
    ----------
    command : argparse.ArgumentParser
        The sub-command's parser.
    """
    command.add_argument("model", nargs="?", default="project", help="project (default) or a model folder")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Export a model folder's network to ONNX beside its weights; print the file written.

    Parameters
    ----------
    args : argparse.Namespace
    """
    from analysis.models.stardist_model import export_model

    print(export_model(args.model))
