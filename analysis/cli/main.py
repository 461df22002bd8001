"""The command line put together: its parser, and how it ends.

Every problem with an input ends the run with one line on stderr, naming the
file and the problem, and exit status 1; no output file is left behind. An
interrupt (Ctrl-C, SIGINT) or SIGTERM ends it with ``interrupted`` and exit
status 130 or 143.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Collection
from importlib import import_module

from analysis.site.errors import SourceError


class Interrupted(KeyboardInterrupt):
    """SIGINT (Ctrl-C) as its own type.

    Python ends a process by SIGINT, whatever the exit status it was given,
    once a plain KeyboardInterrupt has escaped code that some libraries run
    while they are imported; a subclass does not trip that.
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like an interrupt so that temporary files are removed."""


#: The signals received during :func:`main`, latest last.
_RECEIVED: list[int] = []


def _interrupt(signum, frame) -> None:
    _RECEIVED.append(signum)
    raise Interrupted


def _terminate(signum, frame) -> None:
    _RECEIVED.append(signum)
    raise Terminated


class _Parser(argparse.ArgumentParser):
    """Usage mistakes end like input errors: one line on stderr, exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def _as_option(error: SourceError, args: argparse.Namespace | None) -> str:
    """The error's message, a parameter named as the option that set it (``pattern`` as ``--pattern``)."""
    if args is not None and error.source in vars(args) and error.source.isidentifier():
        return f"--{error.source.replace('_', '-')}: {error.problem}"
    return str(error)


#: Each command, named after its module in :mod:`analysis.cli`, with its line in ``--help``.
COMMANDS = {
    "fetch": "verify (and cache) the 24 images and 24 masks",
    "summary": "per-channel intensity statistics as CSV",
    "count": "segment the nuclei channel and count nuclei per image",
    "validate": "Dice and IoU against the hand-corrected masks, counts against instances derived from them",
    "measure": "nuclei, cells and cytoplasm measured per object on dask, as Parquet tables",
    "train": "train the project's StarDist model on well A24",
    "export": "export a model's network to ONNX, so that predicting needs no TensorFlow",
    "report": "execute and render the lesson website, notebooks and PDF",
}


def build_parser(detailed: Collection[str] = tuple(COMMANDS)) -> argparse.ArgumentParser:
    """The command line's parser, one sub-command per module of :mod:`analysis.cli`.

    Parameters
    ----------
    detailed : collection of str
        The commands whose modules are imported (and the analysis modules
        they need with them) and whose options are added: by default all;
        :func:`main` names only the command about to run. The others keep
        their name and line in ``--help``.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(
        prog="python -m analysis",
        description="Nuclei and cells in fluorescence images: BBBC008 by default, or your own "
        "folder of images (--images, --pattern).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, summary in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        if name in detailed:
            import_module(f"analysis.cli.{name}").add_arguments(sub)
    return parser


def _named(argv: list[str]) -> list[str]:
    """The command named in ``argv`` (its first word that is not an option), or none."""
    return [word for word in argv if not word.startswith("-")][:1]


def main(argv: list[str] | None = None) -> int:
    """Run one command; a problem with an input ends it with one line on stderr.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0; 1 after an input error; 130 after an interrupt
        (Ctrl-C, SIGINT) and 143 after SIGTERM, with the previous outputs
        left as they were.
    """
    _RECEIVED.clear()
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _terminate)
    args = None
    try:  # the parser imports the analysis modules: an interrupt may come during that too
        argv = sys.argv[1:] if argv is None else argv
        args = build_parser(_named(argv)).parse_args(argv)
        args.run(args)
    except SourceError as error:
        print(f"error: {_as_option(error, args)}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SystemError) as stop:  # temporary files were removed while unwinding
        # StarDist's non-maximum suppression checks for signals itself and
        # raises a plain KeyboardInterrupt in place of the handler's, or
        # returns over it, which Python reports as a SystemError caused by
        # it: the signal received, not the exception's type, sets the status.
        interrupt = stop if isinstance(stop, KeyboardInterrupt) else stop.__cause__
        if not isinstance(interrupt, KeyboardInterrupt):
            raise
        print("interrupted", file=sys.stderr)
        if _RECEIVED:
            return 128 + _RECEIVED[-1]
        return 128 + (signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT)
    return 0
