"""Command line: ``python -m analysis COMMAND``.

Every problem with an input ends the run with one line on stderr, naming the
file and the problem, and exit status 1; no output file is left behind.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from .errors import AnalysisError

VALIDATE_METHODS = ["stardist", "stardist-li", "watershed", "otsu", "li"]


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


def _images(args: argparse.Namespace):
    from .data import dataset_pairs
    from .pairing import pair_channels

    if args.images:
        return pair_channels(args.images, args.pattern, args.nuclei_channel, args.actin_channel)
    _refuse_naming_without_images(args)
    return dataset_pairs()


def _refuse_naming_without_images(args: argparse.Namespace) -> None:
    if any(getattr(args, name) != default for name, default in _naming_defaults().items()):
        raise AnalysisError("--pattern", "naming options apply to a folder given with --images")


def _naming_defaults() -> dict[str, str]:
    from .pairing import ACTIN_CHANNEL, BBBC008_PATTERN, NUCLEI_CHANNEL

    return {
        "pattern": BBBC008_PATTERN,
        "nuclei_channel": str(NUCLEI_CHANNEL),
        "actin_channel": str(ACTIN_CHANNEL),
    }


def _add_image_options(command: argparse.ArgumentParser) -> None:
    defaults = _naming_defaults()
    command.add_argument("--images", type=Path, help="folder of TIFF images (default: BBBC008)")
    command.add_argument(
        "--pattern",
        default=defaults["pattern"],
        help="regular expression with named groups channel, well and optionally "
        "field and plate, matched against each file name (default: BBBC008's)",
    )
    for role in ("nuclei", "actin"):
        default = defaults[f"{role}_channel"]
        command.add_argument(
            f"--{role}-channel",
            default=default,
            help=f"channel value of the {role} stain (default {default})",
        )


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:  # 'two', '²', '1.5'
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def _add_diameter_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--nucleus-diameter",
        type=_positive,
        metavar="PIXELS",
        help="typical nucleus diameter of every image; StarDist rescales the images "
        "to the model's reference diameter (default: estimated per image)",
    )


def _check_diameter(args: argparse.Namespace, model) -> None:
    if args.nucleus_diameter and model is not None and model.nucleus_diameter is None:
        raise AnalysisError(
            model.folder,
            "records no reference nucleus diameter (scale.json), so --nucleus-diameter cannot apply",
        )


def cmd_fetch(args: argparse.Namespace) -> None:
    """Verify every data file and keep it in the cache; print the folders.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.
    """
    from .data import fetch_all

    for kind in ("images", "foreground"):
        print(fetch_all(kind))


def cmd_summary(args: argparse.Namespace) -> None:
    """Write per-channel intensity statistics of each pair as CSV.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.
    """
    from .output import check_target, write_csv
    from .pipeline import summarise

    check_target(args.out)
    print(write_csv(summarise(_images(args)), args.out))


def _check_outputs(args: argparse.Namespace, side_table: str) -> Path:
    """Refuse the output files and the ``--figures`` folder (where given) before any work.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options (``out``, ``figures``).
    side_table : str
        What the second table's name adds to ``--out``'s stem, e.g. ``_objects``.

    Returns
    -------
    Path
        The second table's file, beside ``--out``.

    Raises
    ------
    AnalysisError
        If a file cannot be written where named, or ``--figures`` would be
        one of the output files or a folder below one.
    """
    from .output import check_target

    side = args.out.with_name(f"{args.out.stem}{side_table}.csv")
    for table in (args.out, side):
        check_target(table)
    if args.figures:
        check_target(args.figures, folder=True)
        figures = args.figures.resolve()
        for table in (args.out, side):
            if table.resolve() in (figures, *figures.parents):
                raise AnalysisError(args.figures, f"would be made where the table {table} is written")
    return side


def cmd_count(args: argparse.Namespace) -> None:
    """Segment the nuclei of each pair, write per-image and per-object CSVs (and figures).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.
    """
    from .models import load_model
    from .output import write_csv
    from .pipeline import count_nuclei

    objects_out = _check_outputs(args, "_objects")
    pairs = _images(args)
    model = (
        load_model(args.model) if args.method.startswith("stardist") else None
    )  # segment() checks the name
    _check_diameter(args, model)
    counts, objects, labels = count_nuclei(pairs, args.method, model, args.nucleus_diameter)
    if args.figures:
        from . import figures
        from .images import load_image
        from .output import write_figure

        for pair in pairs:
            centres = objects.loc[objects.image == pair.name, ["centroid_row", "centroid_col"]].to_numpy()
            fig = figures.show_segmentation(
                load_image(pair.nuclei),
                labels[pair.name],
                centres,
                title=f"{pair.name}: {len(centres)} nuclei, {counts.method[0]}",
                image_title=f"nuclei (channel {args.nuclei_channel})",
            )
            write_figure(fig, args.figures / f"{pair.well}_f{pair.field}_{args.method}.png")
        write_figure(figures.plot_counts([counts]), args.figures / f"counts_{args.method}.png")
    write_csv(objects, objects_out)
    print(write_csv(counts, args.out))


def cmd_validate(args: argparse.Namespace) -> None:
    """Score methods against the hand-corrected masks; write per-image and per-well CSVs (and a plot).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.
    """
    from .models import load_model
    from .output import write_csv
    from .pairing import matching_files
    from .pipeline import validate_cells, validate_segmentation
    from .validate import summarise_by_well

    by_well_out = _check_outputs(args, "_by_well")
    pairs = _images(args)
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
        _check_diameter(args, model)
        if args.truth:
            truth = matching_files(args.truth, pairs, "actin", args.actin_channel, args.pattern)
        table = validate_cells(pairs, model, truth=truth, diameter=args.nucleus_diameter)
    else:
        model = load_model(args.model) if any(m.startswith("stardist") for m in args.methods) else None
        _check_diameter(args, model)
        table = validate_segmentation(
            pairs, args.methods, model, channel=args.channel, truth=truth, diameter=args.nucleus_diameter
        )
    if args.figures:
        from .figures import plot_scores
        from .output import write_figure

        write_figure(plot_scores(table), args.figures / f"dice_{args.objects}.png")
    write_csv(summarise_by_well(table), by_well_out)
    print(write_csv(table, args.out))


def _stains(args: argparse.Namespace, pairs) -> dict[Path, dict[str, Path]]:
    """Each field's stain files by name (keyed by its nuclei file); checks the stain options."""
    from .pairing import matching_files

    named = {args.nuclei_stain: "nuclei", args.actin_stain: "actin"}
    extra = {}
    for option in args.stain:
        name, _, channel = option.partition("=")
        if not channel:
            raise AnalysisError("--stain", f"{option!r} is not NAME=CHANNEL")
        extra[name] = channel
    names = [args.nuclei_stain, args.actin_stain, *extra]
    for name in names:
        if not name.isidentifier():
            raise AnalysisError("--stain", f"{name!r} is not a stain name (letters, digits, underscores)")
    if len(set(names)) != len(names):
        raise AnalysisError("--stain", f"stain names must differ: {', '.join(names)}")
    if args.mitotic_stain and args.mitotic_stain not in names:
        raise AnalysisError(
            "--mitotic-stain", f"unknown stain {args.mitotic_stain!r}; stains: {', '.join(names)}"
        )
    if extra and not args.images:
        raise AnalysisError("--stain", "further stains apply to a folder given with --images")
    found = {
        name: matching_files(
            args.images, pairs, "nuclei", channel, args.pattern, what=f"channel {channel} image"
        )
        for name, channel in extra.items()
    }
    files = {}
    for pair in pairs:
        files[pair.nuclei] = {name: getattr(pair, role) for name, role in named.items()}
        files[pair.nuclei] |= {name: found[name][pair.nuclei] for name in extra}
    return files


def cmd_measure(args: argparse.Namespace) -> None:
    """Measure nuclei, cells and cytoplasm of every field on dask; write Parquet parts.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.
    """
    from .measure import FieldImages, Settings
    from .output import check_target
    from .screen import run_screen

    check_target(args.out, folder=True)
    pairs = _images(args)
    files = _stains(args, pairs)
    fields = [
        FieldImages(number, pair.plate, pair.well, pair.field, files[pair.nuclei])
        for number, pair in enumerate(pairs, start=1)
    ]
    settings = Settings(
        nuclei_stain=args.nuclei_stain,
        actin_stain=args.actin_stain,
        method=args.method,
        diameter=args.nucleus_diameter,
        regularization=args.regularization,
        mitotic_stain=args.mitotic_stain,
    )
    result = run_screen(fields, settings, args.out, args.model, args.workers, args.scheduler, args.force)
    objects = ", ".join(f"{count:,} {table.lower()}" for table, count in result["objects"].items())
    screen_size = f"{result['fields']} field{'' if result['fields'] == 1 else 's'}"
    summary = (
        f"{screen_size} ({result['computed']} computed, {result['reused']} reused, "
        f"{result['failed']} failed): {objects}; {result['seconds']:.1f} s, "
        f"{result['fields_per_second']:.2f} fields/s"
    )
    if result["failed"]:
        raise AnalysisError(args.out / "failures.csv", f"{result['failed']} of {summary}")
    print(args.out)
    print(f"measured {summary}", file=sys.stderr)


def cmd_train(args: argparse.Namespace) -> None:
    """Train a StarDist model on well A24 into a new folder (or in place with --overwrite).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.
    """
    import shutil
    import time

    from .models import PROJECT_MODEL, export_model
    from .output import atomic_folder
    from .train import CARD_FILE, TrainingSettings, train_model, write_model_card

    if args.model_dir:
        model_dir = args.model_dir
    elif args.overwrite:
        model_dir = PROJECT_MODEL
    else:
        model_dir = PROJECT_MODEL.with_name(f"{PROJECT_MODEL.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    trained = (model_dir / "weights_best.h5").exists()
    if trained and not args.overwrite:
        raise AnalysisError(model_dir, "already holds a trained model; pass --overwrite to retrain it")
    if not trained and model_dir.is_dir() and any(model_dir.iterdir()):  # the new model replaces it whole
        raise AnalysisError(model_dir, "holds other files and no trained model; give a new or empty folder")
    settings = TrainingSettings(epochs=args.epochs, steps_per_epoch=args.steps)
    # Trained beside the target and moved into place once its card is written:
    # an interrupted or failed run leaves the folder as it was.
    with atomic_folder(model_dir) as staged:
        record = train_model(settings, staged)
        export_model(staged)  # the card's validation then runs the network as users will
        if (model_dir / CARD_FILE).is_file():  # its History is carried on
            shutil.copy2(model_dir / CARD_FILE, staged / CARD_FILE)
        entry = (
            f"{time.strftime('%Y-%m-%d')}: trained with `python -m analysis train` "
            f"({settings.epochs} epochs x {settings.steps_per_epoch} steps, {record['train_seconds']:.0f} s)."
        )
        write_model_card(staged, entry)
    print(model_dir / CARD_FILE)


def cmd_export(args: argparse.Namespace) -> None:
    """Export a model folder's network to ONNX beside its weights; print the file written.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.
    """
    from .models import export_model

    print(export_model(args.model))


def cmd_report(args: argparse.Namespace) -> None:
    """Render the lesson website, notebooks and PDF; print the paths written.

    With ``--images`` the page for one's own images (its parameters) shows
    that folder instead of BBBC008.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.
    """
    from .data import PROJECT_ROOT
    from .output import check_target
    from .pairing import matching_files
    from .render import render

    if args.out:
        check_target(args.out, folder=True)
    params = None
    if args.images:
        pairs = _images(args)  # the naming and the masks are checked before anything runs
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
        _refuse_naming_without_images(args)
        if args.truth:
            raise AnalysisError("--truth", "reference masks apply to a folder given with --images")
    result = render(args.project or PROJECT_ROOT, args.out, force=args.force, params=params)
    for path in [*result["pages"], *result["notebooks"], result["pdf"]]:
        print(path)
    executed = ", ".join(result["executed"]) or "none"
    built = "outputs already up to date" if result["up_to_date"] else "outputs written"
    print(
        f"executed: {executed}; from cache: {', '.join(result['cached']) or 'none'}; {built}; "
        f"{result['seconds']:.1f} s",
        file=sys.stderr,
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, one sub-command per job.

    Returns
    -------
    argparse.ArgumentParser
    """
    from .measure import Settings
    from .train import TrainingSettings

    parser = _Parser(
        prog="python -m analysis",
        description="Nuclei and cells in fluorescence images: BBBC008 by default, or your own "
        "folder of images (--images, --pattern).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser("fetch", help="verify (and cache) the 24 images and 24 masks")
    fetch.set_defaults(run=cmd_fetch)

    summary = commands.add_parser("summary", help="per-channel intensity statistics as CSV")
    _add_image_options(summary)
    summary.add_argument("--out", type=Path, required=True, help="CSV file to write")
    summary.set_defaults(run=cmd_summary)

    count = commands.add_parser("count", help="segment the nuclei channel and count nuclei per image")
    _add_image_options(count)
    count.add_argument(
        "--method", default="stardist", help="stardist (default), stardist-li, watershed, otsu or li"
    )
    count.add_argument("--model", help="project (default), 2D_versatile_fluo or a model folder")
    count.add_argument(
        "--out",
        type=Path,
        required=True,
        help="per-image CSV; the per-object table goes to <out>_objects.csv",
    )
    count.add_argument("--figures", type=Path, help="folder for overlay and bar-plot PNGs")
    _add_diameter_option(count)
    count.set_defaults(run=cmd_count)

    validate = commands.add_parser(
        "validate",
        help="Dice and IoU against the hand-corrected masks, counts against instances derived from them",
    )
    _add_image_options(validate)
    validate.add_argument(
        "--methods",
        nargs="+",
        default=VALIDATE_METHODS,
        metavar="METHOD",
        help=f"nuclei methods to compare (default: {' '.join(VALIDATE_METHODS)})",
    )
    validate.add_argument(
        "--objects",
        choices=("nuclei", "cells"),
        default="nuclei",
        help="nuclei (default) against the nuclei masks, or cells grown from them against the actin masks",
    )
    validate.add_argument("--model", help="project (default), 2D_versatile_fluo or a model folder")
    validate.add_argument(
        "--channel",
        choices=("nuclei", "actin"),
        default="nuclei",
        help="stain the nuclei methods are run on (default nuclei; actin is Exercise 9)",
    )
    _add_diameter_option(validate)
    validate.add_argument(
        "--truth", type=Path, help="folder of reference masks named by the same pattern (default: BBBC008's)"
    )
    validate.add_argument(
        "--out",
        type=Path,
        required=True,
        help="per-image CSV; the per-well summary goes to <out>_by_well.csv",
    )
    validate.add_argument(
        "--figures", type=Path, help="folder for a plot of the Dice per field and method (dice_<objects>.png)"
    )
    validate.set_defaults(run=cmd_validate)

    measure = commands.add_parser(
        "measure", help="nuclei, cells and cytoplasm measured per object on dask, as Parquet tables"
    )
    _add_image_options(measure)
    measure.add_argument("--out", type=Path, required=True, help="output folder")
    for role in ("nuclei", "actin"):
        default = getattr(Settings, f"{role}_stain")
        measure.add_argument(
            f"--{role}-stain", default=default, help=f"name of the {role} stain (default {default})"
        )
    measure.add_argument(
        "--stain",
        action="append",
        default=[],
        metavar="NAME=CHANNEL",
        help="a further stain measured in every object, e.g. PH3=1 (repeatable; needs --images)",
    )
    measure.add_argument(
        "--mitotic-stain", metavar="NAME", help="stain marking mitotic nuclei (a mitotic index)"
    )
    measure.add_argument(
        "--method", default=Settings.method, help=f"nuclei method (default {Settings.method})"
    )
    measure.add_argument("--model", help="project (default), 2D_versatile_fluo or a model folder")
    _add_diameter_option(measure)
    measure.add_argument(
        "--regularization",
        type=_positive,
        default=Settings.regularization,
        help=f"propagation's lambda (default {Settings.regularization})",
    )
    measure.add_argument(
        "--workers", type=_count, help="workers of the local cluster (default: one per core)"
    )
    measure.add_argument("--scheduler", help="address of a running dask scheduler, e.g. tcp://host:8786")
    measure.add_argument("--force", action="store_true", help="recompute fields that are up to date")
    measure.set_defaults(run=cmd_measure)

    train = commands.add_parser("train", help="train the project's StarDist model on well A24")
    train.add_argument(
        "--epochs",
        type=_count,
        default=TrainingSettings.epochs,
        help=f"training epochs (default {TrainingSettings.epochs})",
    )
    train.add_argument(
        "--steps",
        type=_count,
        default=TrainingSettings.steps_per_epoch,
        help=f"steps per epoch (default {TrainingSettings.steps_per_epoch})",
    )
    train.add_argument(
        "--model-dir", type=Path, help="output folder (default: a new dated folder beside the project model)"
    )
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="retrain in place (the project model when --model-dir is not given)",
    )
    train.set_defaults(run=cmd_train)

    export = commands.add_parser(
        "export", help="export a model's network to ONNX, so that predicting needs no TensorFlow"
    )
    export.add_argument("model", nargs="?", default="project", help="project (default) or a model folder")
    export.set_defaults(run=cmd_export)

    report = commands.add_parser("report", help="execute and render the lesson website, notebooks and PDF")
    report.add_argument("--project", type=Path, help="folder of _quarto.yml (default: this project)")
    report.add_argument("--out", type=Path, help="output folder (default: the project's output-dir, _output)")
    report.add_argument("--force", action="store_true", help="re-execute even if the cache is valid")
    _add_image_options(report)
    report.add_argument(
        "--truth", type=Path, help="with --images: folder of reference nuclei masks named by the same pattern"
    )
    report.set_defaults(run=cmd_report)
    return parser


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
    try:  # the parser imports the analysis modules: an interrupt may come during that too
        args = build_parser().parse_args(argv)
        args.run(args)
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
