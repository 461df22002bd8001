"""Writing results so that a failure never leaves a half-written file or folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis.errors import AnalysisError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Resolution of the figures the command line writes.
FIGURE_FILE_DPI = 150


def check_target(target: str | os.PathLike, folder: bool = False) -> Path:
    """Refuse an output path that cannot be written, before any work is done.

    Parameters
    ----------
    target : path-like
        Where a result will be written.
    folder : bool
        Whether the result is a folder (else a file).

    Returns
    -------
    Path

    Raises
    ------
    AnalysisError
        If a file is expected but ``target`` is a folder (or the other way
        round), or if one of its parents exists as a file.
    """
    target = Path(target)
    if target.exists() and target.is_dir() != folder:
        raise AnalysisError(
            target, "is a folder; give a file name" if not folder else "is a file, not a folder"
        )
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise AnalysisError(parent, "is a file, so nothing can be written below it")
            break
    return target


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary path that replaces ``target`` only if the block succeeds.

    The temporary file lives beside the target (same file system), keeps
    the target's suffix (so writers that look at it still work) and is
    removed when the block raises.

    Parameters
    ----------
    target : str or path-like
        The file to write.

    Yields
    ------
    Path
        The temporary file to write to.
    """
    target = check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=target.suffix)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)  # mkstemp's 0600 would make results private
    try:
        yield Path(name)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(target: str | os.PathLike) -> Iterator[Path]:
    """A path, named as ``target``, whose folder replaces ``target`` only if the block succeeds.

    The block creates the folder at the yielded path, inside a hidden
    temporary folder beside the target (same file system), so that what is
    written there may carry the target's name. On success a folder already
    at ``target`` is removed and the new one renamed into its place; when
    the block raises, only the new one is removed.

    Parameters
    ----------
    target : str or path-like
        The folder to write.

    Yields
    ------
    Path
        Where the block makes the new folder.
    """
    target = check_target(target, folder=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as scratch:
        staged, previous = Path(scratch) / target.name, Path(scratch) / "previous"
        yield staged
        if target.exists():
            os.replace(target, previous)  # removed with the scratch folder
        try:
            os.replace(staged, target)
        except BaseException:
            if previous.exists():
                os.replace(previous, target)
            raise


def write_csv(table: pd.DataFrame, target: str | os.PathLike) -> Path:
    """Write a table as CSV atomically; returns the target path.

    Parameters
    ----------
    table : DataFrame
        Written without its index.
    target : str or path-like

    Returns
    -------
    Path
        ``target``.
    """
    with atomic_path(target) as tmp:
        table.to_csv(tmp, index=False)
    return Path(target)


def write_figure(figure: Figure, target: str | os.PathLike) -> Path:
    """Save a figure as PNG atomically; returns the target path.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    target : str or path-like

    Returns
    -------
    Path
        ``target``.
    """
    with atomic_path(target) as tmp:
        figure.savefig(tmp, dpi=FIGURE_FILE_DPI)
    return Path(target)
