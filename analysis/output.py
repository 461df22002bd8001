"""Writing results so that a failure never leaves a half-written file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary path that replaces ``target`` only if the block succeeds.

    The temporary file lives beside the target (same file system), keeps
    the target's suffix (so writers that look at it still work) and is
    removed when the block raises.
    """
    target = Path(target)
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


def write_csv(table: pd.DataFrame, target: str | os.PathLike) -> Path:
    """Write a table as CSV atomically; returns the target path."""
    with atomic_path(target) as tmp:
        table.to_csv(tmp, index=False)
    return Path(target)
